"""Tokens and money: prices per model and cost from real usage.

* :mod:`.pricing`  the bundled, dated price table and cost of one usage record
"""

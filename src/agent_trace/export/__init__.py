"""Exporters: the log in other systems' formats (OTLP traces ...)."""

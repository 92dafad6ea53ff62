"""Counts in English: ``1 call``, ``2 calls``, ``1 phase``, ``3 batches``.

Every report that prints "N things" goes through :func:`count`, so no line
reads "1 calls" or "3 file(s)".
"""

from __future__ import annotations

_IRREGULAR = {"batch": "batches", "match": "matches", "entry": "entries", "summary": "summaries"}


def plural(word: str) -> str:
    last = word.rsplit(" ", 1)[-1]
    if last in _IRREGULAR:
        return word[: len(word) - len(last)] + _IRREGULAR[last]
    return word + "s"


def count(n, word: str, many: str | None = None) -> str:
    """``count(1, "call") == "1 call"``; ``count(2, "tool call") == "2 tool calls"``."""
    return f"{n} {word if n == 1 else (many or plural(word))}"

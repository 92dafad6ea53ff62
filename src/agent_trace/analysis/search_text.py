"""What full-text search sees in an event, and how a query matches it.

One definition for every backend: the collector's PostgreSQL index
(``to_tsvector('simple', ...)`` over :func:`words` of :func:`event_text`) and
the scan over session files give the same hits.

* Searchable text: the tool name, the prompt, the tool's input, its result
  and the error message; every string (and number) inside them, keys left
  out, capped at :data:`MAX_CHARS`.
* Words: lower-cased runs of letters and digits; everything else
  (punctuation, ``/``, ``-``, ``_``, ``.``) separates words, so
  ``task-management.tsx`` is the words ``task management tsx``.
* A query is terms separated by spaces, all of which must match; a term is a
  phrase of its words in order (``rm -rf`` is two terms, ``"rm -rf"`` one
  phrase; ``app.py`` is the phrase ``app py``).
"""

from __future__ import annotations

import re

MAX_CHARS = 32_768  # text indexed per event
SNIPPET = 160

_SPLIT = re.compile(r"[\W_]+")
_TERMS = re.compile(r'"([^"]*)"|(\S+)')
_SOURCES = ("prompt", "tool_input", "arguments", "tool_response", "result", "output", "error")


def _strings(value, out: list, budget: list) -> None:
    """Append the strings and numbers inside ``value`` (depth-first)."""
    stack = [value]
    while stack and budget[0] > 0:
        v = stack.pop()
        if isinstance(v, str):
            if v:
                out.append(v[: budget[0]])
                budget[0] -= len(out[-1]) + 1
        elif isinstance(v, dict):
            stack.extend(reversed(list(v.values())))
        elif isinstance(v, (list, tuple)):
            stack.extend(reversed(v))
        elif isinstance(v, (int, float)) and not isinstance(v, bool):
            out.append(str(v))
            budget[0] -= len(out[-1]) + 1


def event_text(e: dict) -> str:
    """The searchable text of one event ('' when it has none)."""
    out: list[str] = []
    budget = [MAX_CHARS]
    tool = e.get("tool")
    if isinstance(tool, str) and tool:
        out.append(tool)
    data = e.get("data")
    if isinstance(data, dict):
        for key in _SOURCES:
            if key in data:
                _strings(data[key], out, budget)
        params = data.get("params")
        if isinstance(params, dict) and "arguments" in params:
            _strings(params["arguments"], out, budget)
    err = e.get("error")
    if err is not None:
        _strings(err.get("message") if isinstance(err, dict) else err, out, budget)
    return "\n".join(out)[:MAX_CHARS]


def words(text: str) -> list[str]:
    return [w for w in _SPLIT.split(text.lower()) if w]


def parse_query(q: str) -> list[list[str]]:
    """Terms (each a phrase: a list of words) of a query; empty terms dropped."""
    terms = []
    for m in _TERMS.finditer(q or ""):
        ws = words(m.group(1) if m.group(1) is not None else m.group(2))
        if ws:
            terms.append(ws)
    return terms


def tsquery(terms: list[list[str]]) -> str:
    """The PostgreSQL ``to_tsquery('simple', ...)`` text for ``terms`` (words
    hold only letters and digits, so quoting them is enough)."""
    return " & ".join("(" + " <-> ".join("'" + w + "'" for w in t) + ")" for t in terms)


def matches(text_words: list[str], terms: list[list[str]]) -> bool:
    """Every term's words occur consecutively in ``text_words``."""
    if not terms:
        return False
    joined = " " + " ".join(text_words) + " "
    return all((" " + " ".join(t) + " ") in joined for t in terms)


def snippet(text: str, terms: list[list[str]], width: int = SNIPPET) -> str:
    """About ``width`` characters of ``text`` around the first term's first
    word, on one line."""
    flat = " ".join(text.split())
    low = flat.lower()
    at = -1
    for t in terms:
        m = re.search(r"(?<![^\W_])" + re.escape(t[0]), low)  # the word's start
        if m is not None:
            at = m.start()
            break
    start = max(0, at - width // 3) if at >= 0 else 0
    piece = flat[start:start + width]
    return ("..." if start else "") + piece + ("..." if start + width < len(flat) else "")

"""Glob matching for rules, without the ``re`` module (it costs a hook 5 ms).

* :func:`match_path`: ``*`` and ``?`` stay within one path segment, ``**``
  spans any number of segments, a pattern without ``/`` matches the file name
  anywhere (``.env`` matches ``config/.env``).
* :func:`match_text`: ``*`` and ``?`` match any characters (shell commands).
"""

from __future__ import annotations


def match_text(pattern: str, text: str) -> bool:
    """Wildcard match: ``*`` any run of characters, ``?`` one character."""
    p = t = 0
    star = mark = -1
    while t < len(text):
        if p < len(pattern) and (pattern[p] == "?" or pattern[p] == text[t]):
            p += 1
            t += 1
        elif p < len(pattern) and pattern[p] == "*":
            star, mark = p, t
            p += 1
        elif star != -1:
            p = star + 1
            mark += 1
            t = mark
        else:
            return False
    while p < len(pattern) and pattern[p] == "*":
        p += 1
    return p == len(pattern)


def _segments(path: str) -> list[str]:
    return [s for s in path.replace("\\", "/").split("/") if s not in ("", ".")]


def _match_segs(pat: list[str], segs: list[str]) -> bool:
    if not pat:
        return not segs
    if pat[0] == "**":
        return any(_match_segs(pat[1:], segs[i:]) for i in range(len(segs) + 1))
    if not segs:
        return False
    return match_text(pat[0], segs[0]) and _match_segs(pat[1:], segs[1:])


def match_path(pattern: str, path: str) -> bool:
    """``path`` is relative to the project root (or absolute outside it)."""
    pat = _segments(pattern)
    segs = _segments(path)
    if "/" not in pattern.strip("/"):
        return bool(segs) and match_text(pattern.strip("/"), segs[-1]) or _match_segs(pat, segs)
    if pattern.endswith("/"):
        pat.append("**")
    return _match_segs(pat, segs)

"""Small, careful edits of a TOML file's text (Codex's ``config.toml``):
set or remove one key of one table, keeping every other byte (comments,
order, formatting) as it was.

Only tables written as ``[a."b c"]`` headers are edited in place; a table
that exists some other way (dotted keys, inline tables) is not touched: the
edit returns ``None`` and the caller asks the user to do it by hand.  Every
result is parsed again before it is returned, so a write never leaves a file
Codex cannot read.
"""

from __future__ import annotations

import json
import tomllib

_BARE = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_-")


def quote(part: str) -> str:
    if part and _BARE.issuperset(part):
        return part
    return json.dumps(part, ensure_ascii=False)  # a JSON string is a TOML basic string


def header(table: tuple[str, ...]) -> str:
    return "[" + ".".join(quote(p) for p in table) + "]"


def value(v) -> str:
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, int):
        return str(v)
    return json.dumps(str(v), ensure_ascii=False)


def lookup(data: dict, table: tuple[str, ...]):
    cur = data
    for p in table:
        if not isinstance(cur, dict) or p not in cur:
            return None
        cur = cur[p]
    return cur


def _header_path(line: str) -> tuple[str, ...] | None:
    s = line.strip()
    if not s.startswith("[") or s.startswith("[["):
        return None
    try:
        parsed = tomllib.loads(s)
    except tomllib.TOMLDecodeError:
        return None
    path = []
    while isinstance(parsed, dict) and len(parsed) == 1:
        (k, parsed), = parsed.items()
        path.append(k)
    return tuple(path) if path else None


def _section(lines: list[str], table: tuple[str, ...]) -> tuple[int, int] | None:
    """(header index, end index) of the table's ``[header]`` section."""
    start = None
    for i, line in enumerate(lines):
        if line.lstrip().startswith("["):
            if start is not None:
                return start, i
            if _header_path(line) == table:
                start = i
    return (start, len(lines)) if start is not None else None


def _key_line(line: str, key: str) -> bool:
    s = line.strip()
    if not s or s.startswith("#") or "=" not in s:
        return False
    try:
        return key in tomllib.loads(s)
    except tomllib.TOMLDecodeError:
        return False


def _checked(text: str) -> str | None:
    try:
        tomllib.loads(text)
    except tomllib.TOMLDecodeError:
        return None
    return text


def set_key(text: str, table: tuple[str, ...], key: str, v) -> str | None:
    """``text`` with ``table.key = v`` (None: cannot be done safely)."""
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError:
        return None
    if isinstance(lookup(data, table), dict) and lookup(data, table).get(key) == v:
        return text
    lines = text.splitlines(keepends=True)
    line = f"{quote(key)} = {value(v)}\n"
    sec = _section(lines, table)
    if sec is None:
        if lookup(data, table) is not None:
            return None  # defined inline or by dotted keys: not ours to rewrite
        sep = "" if not text or text.endswith("\n") else "\n"
        blank = "\n" if text.strip() else ""
        return _checked(text + sep + blank + header(table) + "\n" + line)
    start, end = sec
    for i in range(start + 1, end):
        if _key_line(lines[i], key):
            lines[i] = line
            return _checked("".join(lines))
    at = end
    while at > start + 1 and not lines[at - 1].strip():
        at -= 1  # keep the blank lines that separate it from the next table
    if not lines[at - 1].endswith("\n"):
        lines[at - 1] += "\n"
    lines.insert(at, line)
    return _checked("".join(lines))


def remove_key(text: str, table: tuple[str, ...], key: str) -> str:
    """``text`` without ``table.key``; the table's header goes too when the
    table is left empty.  Unchanged when the key is not there as a header
    table's line."""
    lines = text.splitlines(keepends=True)
    sec = _section(lines, table)
    if sec is None:
        return text
    start, end = sec
    body = [i for i in range(start + 1, end) if _key_line(lines[i], key)]
    if not body:
        return text
    del lines[body[0]]
    end -= 1
    rest = [ln for ln in lines[start + 1:end] if ln.strip()]
    if not rest:
        del lines[start:end]  # the header and the blank lines after it
        if start == len(lines) and start and not lines[start - 1].strip():
            del lines[start - 1]  # the blank line an appended table brought
    out = "".join(lines)
    return out if _checked(out) is not None else text

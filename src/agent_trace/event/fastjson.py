"""JSON for the hook hot path without importing the ``json`` package.

``import json`` costs about 5 ms because ``json.decoder`` compiles regular
expressions (importing ``re`` and ``enum``); that is half of a Python start.
The C accelerator ``_json`` that ``json`` itself uses has no such cost, so the
hook path parses and serialises through it directly.  Output is byte-for-byte
what ``json.dumps(obj, ensure_ascii=False, separators=(",", ":"),
allow_nan=False)`` gives: a non-finite float raises ``ValueError`` (it is not
JSON; :mod:`.sanitize` turns it into something that is).  Parsing accepts
what ``json.loads`` accepts, except that the non-JSON constants ``NaN``,
``Infinity`` and ``-Infinity`` read as ``null``, so they never travel on.
If ``_json`` is missing (an unusual Python build) this falls back to the
``json`` package.
"""

from __future__ import annotations

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

try:
    import _json
except ImportError:  # pragma: no cover - every CPython build we support has it
    _json = None  # type: ignore[assignment]  # checked as `_json is None` below

    def scanner(text: str, index: int) -> tuple[Any, int]:  # noqa: D103 - same contract as the C scanner
        import json

        return json.JSONDecoder().raw_decode(text, index)


def _constant(name: str) -> None:
    return None  # NaN, Infinity, -Infinity: not JSON, never passed on


class _Ctx:
    strict = True
    object_hook = None
    object_pairs_hook = None
    parse_float = float
    parse_int = int
    parse_constant = staticmethod(_constant)
    memo: dict[str, str] = {}


_WS = " \t\n\r"

if _json is not None:
    _scan = _json.make_scanner(_Ctx())  # type: ignore[arg-type]  # any object with these attributes
    scanner = _scan  # type: ignore[assignment]  # (text, index) -> (value, end); raises StopIteration on bad input
    _encode = _json.make_encoder(
        None, None, _json.encode_basestring, None, ":", ",", False, False, False  # type: ignore[arg-type]
    )  # (no `default`: an object JSON cannot hold raises TypeError, as json.dumps does)


def loads(s: str | bytes) -> Any:
    if _json is None:
        import json

        return json.loads(s, parse_constant=_constant)
    if isinstance(s, (bytes, bytearray)):
        s = s.decode("utf-8")
    # Stored lines start with "{" and end at the object: check before copying.
    start = 0 if s[:1] not in _WS else len(s) - len(s.lstrip(_WS))
    try:
        obj, end = _scan(s, start)
        if end == len(s) or not s[end:].strip(_WS):
            return obj
    except Exception:
        pass  # the error path may import json; let json word the error
    import json

    return json.loads(s, parse_constant=_constant)


def dumps(obj: Any) -> str:
    """Compact JSON, non-ASCII kept as is (like ``separators=(",", ":")``)."""
    if _json is None:
        import json

        return json.dumps(obj, ensure_ascii=False, separators=(",", ":"), allow_nan=False)
    return "".join(_encode(obj, 0))


def loads_deep(s: str) -> Any:
    """Parse JSON nested deeper than the C scanner's recursion allows (a
    hostile hook payload 100,000 levels deep): containers are walked with an
    explicit stack, scalars still go through the C scanner.  Same result and
    same errors (``ValueError``) as :func:`loads`; slower, so only used when
    :func:`loads` raised ``RecursionError``."""
    n = len(s)

    def skip(i: int) -> int:
        while i < n and s[i] in _WS:
            i += 1
        return i

    def key_at(i: int) -> tuple[str, int]:
        if i >= n or s[i] != '"':
            raise ValueError(f"expected a property name at {i}")
        k, j = _scanstring(s, i + 1, True)
        j = skip(j)
        if j >= n or s[j] != ":":
            raise ValueError(f"expected ':' at {j}")
        return k, j + 1

    stack: list[list[Any]] = []  # [container, pending key]
    i = 0
    while True:
        i = skip(i)
        if i >= n:
            raise ValueError("unexpected end of JSON")
        c = s[i]
        if c == "{" or c == "[":
            container: Any = {} if c == "{" else []
            j = skip(i + 1)
            if j < n and s[j] == ("}" if c == "{" else "]"):
                value, i = container, j + 1
            else:
                key = None
                if c == "{":
                    key, j = key_at(j)
                stack.append([container, key])
                i = j
                continue
        else:
            try:
                value, i = scanner(s, i)
            except StopIteration:
                raise ValueError(f"expected a value at {i}") from None
        while True:  # attach the value, closing every container it completes
            if not stack:
                if skip(i) != n:
                    raise ValueError(f"extra data at {skip(i)}")
                return value
            top = stack[-1]
            container = top[0]
            if type(container) is dict:
                container[top[1]] = value
            else:
                container.append(value)
            i = skip(i)
            if i >= n:
                raise ValueError("unexpected end of JSON")
            if s[i] == ",":
                i += 1
                if type(container) is dict:
                    top[1], i = key_at(skip(i))
                break
            if s[i] != ("}" if type(container) is dict else "]"):
                raise ValueError(f"expected ',' or a closing bracket at {i}")
            i += 1
            value = container
            stack.pop()


def _scanstring(s: str, end: int, strict: bool) -> tuple[str, int]:
    if _json is not None:
        return _json.scanstring(s, end, strict)
    from json.decoder import scanstring  # type: ignore[attr-defined]  # pragma: no cover

    return scanstring(s, end, strict)

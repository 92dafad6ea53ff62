"""The cassette file: plain, diffable JSON.

    {"agent_strace_cassette": 1, "created": "...",
     "workspace": {"root": "/abs/project", "home": "/abs/home"},     (optional)
     "entries": [
      {"kind": "http", "request": {"method", "path", "query", "host", "headers", "body"},
       "response": {"status", "headers", "body"} | {"status", "headers", "stream": [chunk, ...]}
                   | {"exception": {"type", "message"}}},
      {"kind": "function", "request": {"name", "arguments"},
       "response": {"result"} | {"stream": [item, ...]} | {"exception": {...}}},
      {"kind": "mcp", "request": {"method", "params"}, "response": {"result"} | {"error"}}
    ]}

Bodies are stored as JSON when they parse, as text when they are UTF-8, else
as ``{"b64": ...}``; stream chunks likewise (text, or ``{"b64": ...}``).
``workspace`` names the folder the recorded agent worked in and its home, so
replay can move recorded paths to where the replaying agent works
(:mod:`.workspace`); a file without it replays its paths unchanged.
"""

from __future__ import annotations

import base64
import json
import os
import tempfile

VERSION = 1


class CassetteFileError(Exception):
    pass


def load(path: str) -> list[dict]:
    return load_file(path)[0]


def load_file(path: str) -> tuple[list[dict], dict]:
    """(entries, header): the header holds ``workspace`` when the file has one."""
    try:
        with open(path, encoding="utf-8") as f:
            data = json.load(f)
    except FileNotFoundError:
        raise
    except (OSError, ValueError) as e:
        raise CassetteFileError(f"{path}: not a cassette ({e})") from None
    if not isinstance(data, dict) or not isinstance(data.get("entries"), list):
        raise CassetteFileError(f"{path}: not a cassette (no \"entries\" list)")
    if data.get("agent_strace_cassette", 0) > VERSION:
        raise CassetteFileError(f"{path}: written by a newer agent-strace (format {data['agent_strace_cassette']})")
    entries = [e for e in data["entries"] if isinstance(e, dict) and isinstance(e.get("request"), dict)]
    ws = data.get("workspace")
    header = {"workspace": {k: v for k, v in ws.items() if k in ("root", "home") and isinstance(v, str) and v}}\
        if isinstance(ws, dict) else {}
    return entries, header


def save(path: str, entries: list[dict], workspace: dict | None = None) -> None:
    from ..event import now_iso

    d = os.path.dirname(os.path.abspath(path))
    os.makedirs(d, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=".cassette.", dir=d)
    with os.fdopen(fd, "w", encoding="utf-8") as f:
        doc = {"agent_strace_cassette": VERSION, "created": now_iso()}
        ws = {k: v for k, v in (workspace or {}).items() if k in ("root", "home") and v}
        if ws:
            doc["workspace"] = ws
        doc["entries"] = entries
        json.dump(doc, f, indent=1, ensure_ascii=False)
        f.write("\n")
    os.replace(tmp, path)


def encode_body(raw: bytes):
    if not raw:
        return None
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        return {"b64": base64.b64encode(raw).decode()}
    try:
        return {"json": json.loads(text)}
    except ValueError:
        return {"text": text}


def decode_body(body) -> bytes:
    if body is None:
        return b""
    if "json" in body:
        return json.dumps(body["json"], ensure_ascii=False, separators=(",", ":")).encode("utf-8")
    if "text" in body:
        return body["text"].encode("utf-8")
    return base64.b64decode(body.get("b64", ""))


def body_value(body):
    """What matching compares: the parsed JSON, or the text / base64."""
    if body is None:
        return None
    for k in ("json", "text", "b64"):
        if k in body:
            return body[k]
    return None


def encode_chunk(raw: bytes):
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError:
        return {"b64": base64.b64encode(raw).decode()}


def decode_chunk(chunk) -> bytes:
    if isinstance(chunk, str):
        return chunk.encode("utf-8")
    return base64.b64decode(chunk.get("b64", ""))


# -- exceptions -----------------------------------------------------------------
# A call that raised is recorded as {"exception": {"type": "module.Qualname",
# "message": ...}} (HTTP transport errors and traced functions alike) and
# raised again on replay as the same class when it can be imported.

def exception_spec(e: BaseException) -> dict:
    cls = type(e)
    return {"type": f"{cls.__module__}.{cls.__qualname__}", "message": str(e)}


def rebuild_exception(spec: dict, request=None) -> BaseException:
    import importlib

    name = spec.get("type") or ""
    message = spec.get("message") or ""
    mod_name, _, qual = name.rpartition(".")
    mod_name = mod_name or "builtins"
    try:
        cls = importlib.import_module(mod_name)
        for part in qual.split("."):
            cls = getattr(cls, part)
        if isinstance(cls, type) and issubclass(cls, BaseException):
            try:
                return cls(message, request=request) if request is not None else cls(message)
            except TypeError:
                return cls(message)
    except (ImportError, AttributeError, ValueError):
        pass
    from .core import CassetteError

    return CassetteError(f"recorded {name}: {message}")

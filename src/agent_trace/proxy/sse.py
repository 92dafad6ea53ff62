"""Incremental Server-Sent Events parsing (the WHATWG event-stream format)."""

from __future__ import annotations


class SSEParser:
    """Feed bytes, get complete events as dicts ``{"event", "data", "id", "retry"}``.

    ``data`` joins multiple ``data:`` lines with ``\\n``; ``event`` defaults to
    ``"message"``.  Lines may end in ``\\n``, ``\\r\\n`` or ``\\r``.
    """

    def __init__(self):
        self._buf = b""
        self._fields: dict = {}
        self._data: list[str] = []

    def feed(self, chunk: bytes) -> list[dict]:
        self._buf += chunk
        out = []
        while True:
            idx = -1
            for sep in (b"\n", b"\r"):
                i = self._buf.find(sep)
                if i != -1 and (idx == -1 or i < idx):
                    idx = i
            if idx == -1:
                break
            line = self._buf[:idx]
            step = 2 if self._buf[idx:idx + 2] == b"\r\n" else 1
            if self._buf[idx:idx + 1] == b"\r" and idx + 1 == len(self._buf):
                break  # a lone \r at the end may be the first half of \r\n
            self._buf = self._buf[idx + step:]
            event = self._line(line.decode("utf-8", "replace"))
            if event is not None:
                out.append(event)
        return out

    def _line(self, line: str):
        if line == "":
            if not self._data and not self._fields:
                return None
            event = {"event": self._fields.get("event") or "message", "data": "\n".join(self._data)}
            for k in ("id", "retry"):
                if k in self._fields:
                    event[k] = self._fields[k]
            self._fields, self._data = {}, []
            return event
        if line.startswith(":"):
            return None
        name, _, value = line.partition(":")
        if value.startswith(" "):
            value = value[1:]
        if name == "data":
            self._data.append(value)
        elif name in ("event", "id", "retry"):
            self._fields[name] = value
        return None

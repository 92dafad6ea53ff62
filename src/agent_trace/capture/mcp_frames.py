"""Splitting one direction of an MCP stdio byte stream into messages, for the log.

This never sits on the forwarding path: the proxy forwards bytes as they
arrive and feeds a copy here.  Two framings are understood:

* newline-delimited JSON (the MCP stdio transport);
* LSP-style ``Content-Length: N\\r\\n\\r\\n<N bytes>`` used by some servers.

Whatever is not a parseable JSON message is still returned, as raw bytes, so
nothing is dropped from the log.
"""

from __future__ import annotations

import json

MAX_BUFFER = 256 * 1024 * 1024  # a single message larger than this is logged raw in pieces


class FrameSplitter:
    def __init__(self):
        self.buf = bytearray()

    def feed(self, data: bytes) -> list[tuple[bytes, object]]:
        """Return ``(raw, parsed)`` per complete message; ``parsed`` is the JSON
        value or ``None`` when the bytes are not JSON."""
        self.buf += data
        out = []
        while self.buf:
            if self.buf[:15].lower().startswith(b"content-length:"):
                head_end = self.buf.find(b"\r\n\r\n")
                if head_end < 0:
                    break
                try:
                    length = int(bytes(self.buf[15:head_end].split(b"\r\n")[0]).strip())
                except ValueError:
                    length = -1
                if length < 0:
                    raw = bytes(self.buf[: head_end + 4])
                    del self.buf[: head_end + 4]
                    out.append((raw, None))
                    continue
                end = head_end + 4 + length
                if len(self.buf) < end:
                    break
                body = bytes(self.buf[head_end + 4:end])
                del self.buf[:end]
                out.append((body, _parse(body)))
                continue
            nl = self.buf.find(b"\n")
            if nl < 0:
                if len(self.buf) > MAX_BUFFER:
                    out.append((bytes(self.buf), None))
                    self.buf.clear()
                break
            line = bytes(self.buf[:nl])
            del self.buf[: nl + 1]
            if not line.strip():
                continue
            out.append((line, _parse(line)))
        return out

    def flush(self) -> list[tuple[bytes, object]]:
        """Whatever is left at end of stream (a message without its newline)."""
        if not self.buf.strip():
            return []
        raw = bytes(self.buf)
        self.buf.clear()
        return [(raw, _parse(raw))]


def _parse(raw: bytes):
    try:
        return json.loads(raw)
    except ValueError:
        return None

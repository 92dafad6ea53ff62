"""Splitting one direction of an MCP stdio byte stream into messages, for the log.

This never sits on the forwarding path: the proxy forwards bytes as they
arrive and feeds a copy here.  Two framings are understood:

* newline-delimited JSON (the MCP stdio transport);
* LSP-style ``Content-Length: N`` headers, ended by ``\\r\\n\\r\\n`` or ``\\n\\n``,
  then N bytes.

Whatever is not a parseable JSON message is still returned, as raw bytes, so
nothing forwarded is missing from the log.  A header cannot blind the log:

* a header block that does not end within ``MAX_HEAD`` bytes, or whose
  length is not a number, is logged raw and splitting goes on;
* a declared length longer than what follows is detected as soon as the
  next message shows up inside the supposed body (another ``Content-Length:``
  header, or a complete JSON line followed by more bytes), and the frame is
  cut there;
* a frame still incomplete ``STALE_S`` seconds after its last byte (a length
  that lied at the end of a burst) is handed over raw by :meth:`stale`;
* a body larger than ``MAX_BUFFER`` is logged raw in pieces.
"""

from __future__ import annotations

import json
import time

MAX_BUFFER = 256 * 1024 * 1024  # a single message larger than this is logged raw in pieces
MAX_HEAD = 1024
STALE_S = 2.0
_HEADER = b"content-length:"


class FrameSplitter:
    def __init__(self):
        self.buf = bytearray()
        self.last_feed = time.monotonic()
        self._reset()

    def _reset(self) -> None:
        self._checked = 0  # body bytes of the pending frame already searched for a next header
        self._line_from = 0  # body bytes already searched for the end of its first line
        self._line_done = False

    def feed(self, data: bytes) -> list[tuple[bytes, object]]:
        """Return ``(raw, parsed)`` per complete message; ``parsed`` is the JSON
        value or ``None`` when the bytes are not JSON."""
        self.buf += data
        self.last_feed = time.monotonic()
        out: list = []
        while self.buf:
            if self.buf[:15].lower() == _HEADER:
                if not self._framed(out):
                    break
                continue
            if len(self.buf) < 15 and _HEADER.startswith(bytes(self.buf).lower()):
                break  # maybe the start of a header: wait for more
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

    def _framed(self, out: list) -> bool:
        """One ``Content-Length`` frame at the start of the buffer; False to wait for more bytes."""
        buf = self.buf
        ends = [(i, len(sep)) for sep in (b"\r\n\r\n", b"\n\n") for i in (buf.find(sep, 0, MAX_HEAD),) if i >= 0]
        if not ends:
            if len(buf) < MAX_HEAD:
                return False
            nl = buf.find(b"\n")  # no end of headers where one must be: log the line raw
            cut = nl + 1 if 0 <= nl else len(buf)
            out.append((bytes(buf[:cut]), None))
            del buf[:cut]
            return True
        head_end, sep_len = min(ends)
        body_start = head_end + sep_len
        try:
            length = int(bytes(buf[15:head_end].split(b"\n")[0]).strip())
        except ValueError:
            length = -1
        if length < 0:
            out.append((bytes(buf[:body_start]), None))
            del buf[:body_start]
            return True
        end = body_start + length
        if len(buf) >= end:
            self._take(out, body_start, end)
            return True
        cut = self._lie(body_start)
        if cut is not None:  # the length promised more than the message has: cut at the next one
            self._take(out, body_start, cut, honest=False)
            return True
        if len(buf) - body_start > MAX_BUFFER:
            self._take(out, body_start, len(buf), honest=False)
            return True
        return False

    def _take(self, out: list, start: int, end: int, honest: bool = True) -> None:
        body = bytes(self.buf[start:end])
        if not honest:
            out.append((bytes(self.buf[:start]), None))  # the header that lied, as it was
        del self.buf[:end]
        self._reset()
        if body.strip():
            out.append((body, _parse(body)))

    def _lie(self, body_start: int):
        """Where the next message starts inside a frame still waiting for
        bytes, when one visibly does; else None.  Searches each byte once."""
        buf = self.buf
        start = body_start + max(0, self._checked - 16)
        for h in (b"Content-Length:", b"content-length:", b"CONTENT-LENGTH:"):
            i = buf.find(h, start)
            while i >= 0:  # a header right after a complete JSON body: the next frame
                if _parse(bytes(buf[body_start:i])) is not None:
                    return i
                i = buf.find(h, i + 1)
        if not self._line_done:  # once per frame: a whole JSON line followed by more bytes
            nl = buf.find(b"\n", body_start + self._line_from)
            if nl < 0:
                self._line_from = len(buf) - body_start
            elif nl < len(buf) - 1:
                self._line_done = True
                if _parse(bytes(buf[body_start:nl])) is not None:
                    return nl + 1
        self._checked = len(buf) - body_start
        return None

    def stale(self, now: float | None = None) -> list[tuple[bytes, object]]:
        """A pending frame that has waited ``STALE_S`` since the last byte:
        handed over raw, so a length that lied at the end of a burst does not
        hide what was forwarded."""
        now = time.monotonic() if now is None else now
        if not self.buf or now - self.last_feed < STALE_S:
            return []
        out: list = []
        if self.buf[:15].lower() == _HEADER:  # the header that promised more, raw; then what followed it
            ends = [i + len(sep) for sep in (b"\r\n\r\n", b"\n\n") for i in (self.buf.find(sep, 0, MAX_HEAD),)
                    if i >= 0]
            cut = min(ends) if ends else len(self.buf)
            out.append((bytes(self.buf[:cut]), None))
            rest = bytes(self.buf[cut:])
            self.buf.clear()
            self._reset()
            inner = FrameSplitter()
            return out + inner.feed(rest) + inner.flush()
        return self.flush()

    def flush(self) -> list[tuple[bytes, object]]:
        """Whatever is left at end of stream (a message without its newline)."""
        if not self.buf.strip():
            self.buf.clear()
            return []
        raw = bytes(self.buf)
        self.buf.clear()
        self._reset()
        return [(raw, _parse(raw))]


def _parse(raw: bytes):
    try:
        return json.loads(raw)
    except (ValueError, RecursionError):
        return None

"""One patch where the LLM SDKs' calls really go: ``Client.send`` and
``AsyncClient.send`` of httpx (and of httpx2, which current ``openai`` and
``anthropic`` releases use).  Every SDK resource (``client.chat.completions``,
``client.messages`` ...) is a per-client property whose methods end in
``self._client.send(request, stream=...)``; patching the class method catches
every client, created before or after, sync and async, streaming or not.

Handlers (the tracer, cassettes) register here; requests whose path is not an
LLM API path go straight through.  The patch is removed when the last handler
unregisters.
"""

from __future__ import annotations

import importlib
import threading

from ..capture.llm_wire import api_kind

_lock = threading.Lock()
_handlers: list = []  # sorted by .priority: the outermost first
_originals: dict = {}  # (module name, class name) -> original send


def _modules():
    for name in ("httpx2", "httpx"):
        try:
            yield importlib.import_module(name)
        except ImportError:
            continue


def is_llm_request(request) -> bool:
    return api_kind(request.url.path) is not None


def _chain(request):
    return [h for h in list(_handlers) if h.handles(request)]


def _patch() -> None:
    for mod in _modules():
        for cls_name, is_async in (("Client", False), ("AsyncClient", True)):
            cls = getattr(mod, cls_name)
            key = (mod.__name__, cls_name)
            if key in _originals:
                continue
            orig = cls.send
            _originals[key] = orig
            cls.send = _make_async(orig, mod) if is_async else _make_sync(orig, mod)


def _make_sync(orig, mod):
    def send(self, request, *, stream=False, **kwargs):
        chain = _chain(request) if _handlers else ()
        if not chain:
            return orig(self, request, stream=stream, **kwargs)

        def call(i, req):
            if i == len(chain):
                return orig(self, req, stream=stream, **kwargs)
            return chain[i].send(lambda r: call(i + 1, r), req, stream, mod)

        return call(0, request)

    send.__agent_strace__ = True
    return send


def _make_async(orig, mod):
    async def send(self, request, *, stream=False, **kwargs):
        chain = _chain(request) if _handlers else ()
        if not chain:
            return await orig(self, request, stream=stream, **kwargs)

        async def call(i, req):
            if i == len(chain):
                return await orig(self, req, stream=stream, **kwargs)
            return await chain[i].asend(lambda r: call(i + 1, r), req, stream, mod)

        return await call(0, request)

    send.__agent_strace__ = True
    return send


def _unpatch() -> None:
    for (mod_name, cls_name), orig in list(_originals.items()):
        cls = getattr(importlib.import_module(mod_name), cls_name)
        cls.send = orig
        del _originals[(mod_name, cls_name)]


def register(handler) -> None:
    with _lock:
        if handler in _handlers:
            return
        _handlers.append(handler)
        _handlers.sort(key=lambda h: h.priority)
        _patch()


def unregister(handler) -> None:
    with _lock:
        if handler in _handlers:
            _handlers.remove(handler)
        if not _handlers:
            _unpatch()


def patched() -> bool:
    return bool(_originals)


# -- streams ------------------------------------------------------------------

class TeeStream:
    """Wraps a response's byte stream: each raw chunk goes to ``on_chunk``;
    ``on_close(error)`` runs once, when the stream ends, fails or is closed
    early."""

    def __init__(self, inner, on_chunk, on_close):
        self.inner, self.on_chunk, self.on_close = inner, on_chunk, on_close
        self._closed = False

    def _finish(self, error=None):
        if not self._closed:
            self._closed = True
            self.on_close(error)

    def __iter__(self):
        try:
            for chunk in self.inner:
                self.on_chunk(chunk)
                yield chunk
        except BaseException as e:
            self._finish(f"{type(e).__name__}: {e}")
            raise
        self._finish()

    def close(self):
        try:
            self.inner.close()
        finally:
            self._finish("client disconnected: the stream was closed before its end")

    async def __aiter__(self):
        try:
            async for chunk in self.inner:
                self.on_chunk(chunk)
                yield chunk
        except BaseException as e:
            self._finish(f"{type(e).__name__}: {e}")
            raise
        self._finish()

    async def aclose(self):
        try:
            await self.inner.aclose()
        finally:
            self._finish("client disconnected: the stream was closed before its end")


def tee(mod, inner, on_chunk, on_close, is_async: bool):
    """A stream object of the right httpx base class around ``inner``."""
    base = mod.AsyncByteStream if is_async else mod.SyncByteStream
    cls = type("AgentStraceTee", (TeeStream, base), {})
    return cls(inner, on_chunk, on_close)

"""Cassettes for LLM API calls made over httpx/httpx2 (the openai and
anthropic SDKs, and any client using httpx against an LLM API path).

Recording keeps the decoded response: a JSON body as JSON, a stream as its
chunks exactly as they arrived (after content decoding), so replay hands the
SDK the same bytes and the SDK builds its own types and streams from them.
A transport error is recorded and raised again on replay, as the same
exception class."""

from __future__ import annotations

import datetime
import urllib.parse
import zlib

from ..sdk import http_intercept
from . import active
from . import format as fmt
from .secrets import safe_headers, scrub, scrub_text

DROP_RESPONSE_HEADERS = ("content-encoding", "content-length", "transfer-encoding", "connection")


def live_call(request) -> dict:
    try:
        raw = request.content
    except Exception:
        raw = b""
    u = request.url
    return {"method": request.method, "host": u.host, "path": u.path,
            "query": dict(urllib.parse.parse_qsl(u.query.decode() if isinstance(u.query, bytes) else u.query)),
            "headers": safe_headers(request.headers.items()), "body": scrub(fmt.encode_body(raw))}


def _response_headers(resp) -> dict:
    return safe_headers((k, v) for k, v in resp.headers.items() if k.lower() not in DROP_RESPONSE_HEADERS)


def _stream_class(mod, is_async: bool):
    base = mod.AsyncByteStream if is_async else mod.SyncByteStream

    class Replayed(base):  # type: ignore[misc, valid-type]  # a base class picked at import (the SDK's own transport)
        def __init__(self, chunks):
            self.chunks = chunks

        def __iter__(self):
            yield from self.chunks

        async def __aiter__(self):
            for c in self.chunks:
                yield c

        def close(self):
            pass

        async def aclose(self):
            pass

    return Replayed


def _replayed(mod, spec: dict, request, is_async: bool):
    if "exception" in spec:
        raise fmt.rebuild_exception(spec["exception"], request)
    headers = dict(spec.get("headers") or {})
    status = spec.get("status") or 200
    if "stream" in spec:
        chunks = [fmt.decode_chunk(c) for c in spec["stream"]]
        resp = mod.Response(status, headers=headers, stream=_stream_class(mod, is_async)(chunks), request=request)
    else:
        resp = mod.Response(status, headers=headers, content=fmt.decode_body(spec.get("body")), request=request)
    try:
        resp.elapsed = datetime.timedelta(0)
    except AttributeError:
        pass
    return resp


class _Decoder:
    def __init__(self, encoding: str):
        enc = encoding.lower()
        self.d = zlib.decompressobj(16 + zlib.MAX_WBITS) if enc in ("gzip", "x-gzip") else \
            zlib.decompressobj() if enc == "deflate" else None

    def __call__(self, data: bytes) -> bytes:
        return self.d.decompress(data) if self.d is not None else data


class CassetteHttp:
    priority = 10  # inside the tracer: a replayed call is still traced

    def handles(self, request) -> bool:
        return active.current() is not None and http_intercept.is_llm_request(request)

    def _record_stream(self, cas, mod, call, resp, is_async):
        entry = cas.add("http", call, {"status": resp.status_code, "headers": _response_headers(resp), "stream": []})
        decode = _Decoder(resp.headers.get("content-encoding") or "")
        chunks = entry["response"]["stream"]

        def on_chunk(raw):
            data = decode(raw)
            if data:
                chunks.append(fmt.encode_chunk(data))

        def on_close(error):
            # merge into whole chunks as they arrived; scrub secrets in text chunks
            entry["response"]["stream"] = [scrub_text(c) if isinstance(c, str) else c for c in chunks]
            if error and not error.startswith("client disconnected"):
                entry["response"]["error"] = error

        resp.stream = http_intercept.tee(mod, resp.stream, on_chunk, on_close, is_async)
        return resp

    def _record_body(self, cas, call, resp):
        cas.add("http", call, {"status": resp.status_code, "headers": _response_headers(resp),
                               "body": scrub(fmt.encode_body(resp.content))})
        return resp

    def send(self, call_next, request, stream, mod):
        cas = active.current()
        call = live_call(request)
        entry = cas.lookup("http", call)
        if entry is not None:
            resp = _replayed(mod, cas.response(entry), request, False)
            if not stream:
                resp.read()
            return resp
        try:
            resp = call_next(request)
        except Exception as e:
            cas.add("http", call, {"exception": fmt.exception_spec(e)})
            raise
        return self._record_stream(cas, mod, call, resp, False) if stream else self._record_body(cas, call, resp)

    async def asend(self, call_next, request, stream, mod):
        cas = active.current()
        call = live_call(request)
        entry = cas.lookup("http", call)
        if entry is not None:
            resp = _replayed(mod, cas.response(entry), request, True)
            if not stream:
                await resp.aread()
            return resp
        try:
            resp = await call_next(request)
        except Exception as e:
            cas.add("http", call, {"exception": fmt.exception_spec(e)})
            raise
        return self._record_stream(cas, mod, call, resp, True) if stream else self._record_body(cas, call, resp)


INTERCEPTOR = CassetteHttp()

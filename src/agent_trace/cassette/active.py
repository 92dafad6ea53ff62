"""Which cassette is in use: a process-wide stack (HTTP calls may come from
any thread).  Registering the first cassette installs the HTTP interceptor
and the traced-function hook; removing the last one removes them."""

from __future__ import annotations

import threading

_lock = threading.Lock()
_stack: list = []


def push(cassette) -> None:
    from ..sdk import http_intercept, tracing
    from . import functions
    from .http import INTERCEPTOR

    with _lock:
        _stack.append(cassette)
        tracing._player = functions  # type: ignore[assignment]  # None until a cassette is active
        tracing._cassettes[:] = _stack
        if len(_stack) == 1:
            http_intercept.register(INTERCEPTOR)


def pop(cassette) -> None:
    from ..sdk import http_intercept, tracing
    from .http import INTERCEPTOR

    with _lock:
        if cassette in _stack:
            _stack.remove(cassette)
        tracing._cassettes[:] = _stack
        if not _stack:
            http_intercept.unregister(INTERCEPTOR)


def current():
    return _stack[-1] if _stack else None

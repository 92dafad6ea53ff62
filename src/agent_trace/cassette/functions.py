"""Traced functions under a cassette: replay the recorded result (the
function does not run) or run it and record.

:mod:`agent_trace.cassette.active` installs this module as the player of
:mod:`agent_trace.sdk.tracing`; results replay as their JSON form (see
``to_json``) and a recorded exception is raised again as its own class when
that class can be imported.
"""

from __future__ import annotations

from ..sdk.tracing import bind_arguments, to_json
from .format import exception_spec, rebuild_exception


def _replayed(entry: dict):
    """A recorded call's result, or its recorded exception raised again."""
    resp = entry["response"]
    if "exception" in resp:
        raise rebuild_exception(resp["exception"])
    return resp.get("result")


def _raise_recorded(spec: dict):
    raise rebuild_exception(spec)


def _lookup(cas, label, fn, args, kwargs):
    request = {"name": label, "arguments": bind_arguments(fn, args, kwargs)}
    return request, cas.lookup("function", request)


def call(cas, label, fn, args, kwargs, run):
    request, entry = _lookup(cas, label, fn, args, kwargs)
    if entry is not None:
        return _replayed(entry)
    try:
        result = run()
    except Exception as e:
        cas.add("function", request, {"exception": exception_spec(e)})
        raise
    cas.add("function", request, {"result": to_json(result)})
    return result


async def acall(cas, label, fn, args, kwargs, run):
    request, entry = _lookup(cas, label, fn, args, kwargs)
    if entry is not None:
        return _replayed(entry)
    try:
        result = await run()
    except Exception as e:
        cas.add("function", request, {"exception": exception_spec(e)})
        raise
    cas.add("function", request, {"result": to_json(result)})
    return result


def stream(cas, label, fn, args, kwargs, run):
    request, entry = _lookup(cas, label, fn, args, kwargs)
    if entry is not None:
        resp = entry["response"]
        yield from resp.get("stream") or []
        if "exception" in resp:
            _raise_recorded(resp["exception"])
        return
    items: list = []
    rec = cas.add("function", request, {"stream": items})
    try:
        for item in run():
            items.append(to_json(item))
            yield item
    except Exception as e:
        rec["response"]["exception"] = exception_spec(e)
        raise


async def astream(cas, label, fn, args, kwargs, run):
    request, entry = _lookup(cas, label, fn, args, kwargs)
    if entry is not None:
        resp = entry["response"]
        for item in resp.get("stream") or []:
            yield item
        if "exception" in resp:
            _raise_recorded(resp["exception"])
        return
    items: list = []
    rec = cas.add("function", request, {"stream": items})
    try:
        async for item in run():
            items.append(to_json(item))
            yield item
    except Exception as e:
        rec["response"]["exception"] = exception_spec(e)
        raise



"""Pairing Gemini CLI tool calls and results, which its hooks send without
a call id.

Each BeforeTool is the ``N``-th call of its tool in the session: its key is
``NAME#N`` (:func:`.gemini_chat.call_key`, the key the chat-log parser uses
too), set as ``tool_use_id`` and turned into the event id, so the call is
counted once and readers pair it like any other.  An AfterTool takes the
oldest open call of the same tool with the same input (calls that run in
parallel may finish in any order), else the oldest open call of that tool.
A call the rules denied is closed at once: no AfterTool comes for it.

State: ``state/gemini/<session>.json`` (per-tool counts and open calls),
locked while a hook updates it.  Hook path: standard library, cheap modules.
"""

from __future__ import annotations

import fcntl
import os
import zlib

from .. import event as ev
from ..event.fastjson import dumps, loads
from ..store.paths import Store, file_stem
from .gemini_chat import call_key

TOOL_EVENTS = (ev.TOOL_CALL, ev.TOOL_RESULT, ev.TOOL_ERROR)


def _input_hash(event: dict) -> int:
    # type-checker: narrowed by isinstance() on the same .get()
    data: dict = event.get("data") if isinstance(event.get("data"), dict) else {}  # type: ignore[assignment]
    return zlib.crc32(dumps(data.get("tool_input")).encode("utf-8", "surrogatepass"))


def _update(store: Store, session: str, change):
    folder = store.subdir(os.path.join("state", "gemini"))
    os.makedirs(folder, exist_ok=True)
    path = os.path.join(folder, file_stem(session) + ".json")
    fd = os.open(path + ".lock", os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o600)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        try:
            with open(path, "rb") as f:
                st = loads(f.read())
        except (OSError, ValueError):
            st = None
        if not isinstance(st, dict) or not isinstance(st.get("n"), dict) or not isinstance(st.get("open"), list):
            st = {"n": {}, "open": []}
        result = change(st)
        tmp = f"{path}.{os.getpid()}.tmp"
        with open(tmp, "w", encoding="utf-8") as f:
            f.write(dumps(st))
        os.replace(tmp, path)
        return result
    finally:
        os.close(fd)


def assign(store: Store, event: dict) -> None:
    """Give a Gemini tool event its key (``tool_use_id``) and derived id."""
    tool = event.get("tool")
    if event.get("type") not in TOOL_EVENTS or not tool or event.get("tool_use_id"):
        return
    h = _input_hash(event)

    def change(st):
        if event["type"] == ev.TOOL_CALL:
            return _open(st, tool, h)
        pick = next((o for o in st["open"] if o[0] == tool and o[1] == h), None) or \
            next((o for o in st["open"] if o[0] == tool), None)
        if pick is None:  # a result whose call we did not see (hooks installed mid-call)
            _open(st, tool, h)
            pick = st["open"][-1]
        st["open"].remove(pick)
        return pick[2]

    key = _update(store, event["session"], change)
    event["tool_use_id"] = key
    event["id"] = ev.derived_id(event["session"], "tool.call" if event["type"] == ev.TOOL_CALL else "tool.result",
                                key)


def _open(st: dict, tool: str, h: int) -> str:
    n = st["n"].get(tool, 0) + 1
    st["n"][tool] = n
    key = call_key(tool, n)
    st["open"].append([tool, h, key])
    return key


def close(store: Store, call: dict) -> None:
    """A call that will get no AfterTool (denied by a rule)."""
    key = call.get("tool_use_id")
    if call.get("source") != "gemini" or not key:
        return

    def change(st):
        st["open"] = [o for o in st["open"] if o[2] != key]

    _update(store, call["session"], change)

import json
import os

from agent_trace import event as ev
from agent_trace.store.sink import FileSink
from agent_trace.store import Store
from agent_trace.analysis.session_index import list_sessions


def emit(store, session, etype, **kw):
    FileSink(store).emit(ev.make_event(etype, session, "claude-code", **kw))


def test_list_index_updates_incrementally_and_rebuilds(trace_dir):
    store = Store(str(trace_dir))
    emit(store, "a", ev.USER_PROMPT, data={"prompt": "fix the bug"})
    emit(store, "a", ev.TOOL_CALL, tool="Bash", tool_use_id="t1")
    rows = list_sessions(store)
    assert rows[0]["title"] == "fix the bug" and rows[0]["tool_calls"] == 1
    emit(store, "a", ev.TOOL_ERROR, tool="Bash", tool_use_id="t1", status="error",
         error={"message": "exit 1"})
    emit(store, "b", ev.SESSION_START, data={"cwd": "/x"})
    rows = {r["session"]: r for r in list_sessions(store)}
    assert rows["a"]["tool_calls"] == 1 and rows["a"]["tool_errors"] == 1
    assert rows["a"]["events"] == 3 and rows["b"]["cwd"] == "/x"
    # the cache is disposable
    os.unlink(os.path.join(store.subdir("index"), "sessions.json"))
    assert {r["session"]: r["events"] for r in list_sessions(store)} == {"a": 3, "b": 1}
    # a corrupt cache is ignored, not trusted
    with open(os.path.join(store.subdir("index"), "sessions.json"), "w") as f:
        f.write("{garbage")
    assert {r["session"]: r["events"] for r in list_sessions(store)} == {"a": 3, "b": 1}


def test_rewritten_file_is_reread_not_resumed(trace_dir):
    store = Store(str(trace_dir))
    for _ in range(3):
        emit(store, "a", ev.ANNOTATION)
    assert list_sessions(store)[0]["events"] == 3
    path = store.path_for("a")
    with open(path, "rb") as f:
        first = f.readline()
    tmp = path + ".new"
    with open(tmp, "wb") as f:
        f.write(first)
    os.replace(tmp, path)
    assert list_sessions(store)[0]["events"] == 1


def test_torn_tail_is_not_counted_until_complete(trace_dir):
    store = Store(str(trace_dir))
    emit(store, "a", ev.ANNOTATION)
    line = json.dumps(ev.make_event(ev.ANNOTATION, "a", "test")).encode()
    with open(store.path_for("a"), "ab") as f:
        f.write(line[:20])
    assert list_sessions(store)[0]["events"] == 1
    with open(store.path_for("a"), "ab") as f:
        f.write(line[20:] + b"\n")
    assert list_sessions(store)[0]["events"] == 2

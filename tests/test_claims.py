"""A hook and an import never write one event twice, whichever runs first
(capture/claims.py): real fixture transcripts and hook payloads."""

from __future__ import annotations

import json
import os

from agent_trace import event as ev
from agent_trace.capture.claims import Claim, claim_path, emit_live
from agent_trace.capture.hooks import events_from_hook
from agent_trace.capture.log_import import import_log, import_session
from agent_trace.store import Store
from agent_trace.store.sink import FileSink

from conftest import fixture_payloads
from test_hooks import SESSION, copy_transcripts


def raw_ids(store: Store) -> list[str]:
    return [json.loads(x)["id"] for x in open(store.path_for(SESSION), encoding="utf-8")]


def hook_events() -> list[list[dict]]:
    """The real payloads as the hook maps them, in their order."""
    return [events_from_hook(p, None, "claude-code") for p in fixture_payloads()]


def test_a_hook_after_an_import_writes_nothing_the_import_wrote(trace_dir, tmp_path):
    """Claude Code goes on without waiting for PostToolUse: an import (at
    another agent's Stop) can write a tool's result before its hook does."""
    main = copy_transcripts(tmp_path)
    store = Store(str(trace_dir))
    assert import_session(store, FileSink(store), str(main), SESSION, final=False) > 0
    assert os.path.getsize(claim_path(store, SESSION)) > 0  # the import listed what a hook may still write
    late = [e for batch in hook_events() for e in batch if e["type"] in (ev.TOOL_RESULT, ev.TOOL_ERROR)]
    assert len(late) >= 8
    for e in late:
        assert emit_live(store, FileSink(store), [e], "test")
    ids = raw_ids(store)
    assert len(ids) == len(set(ids))


def test_hooks_then_import_then_hooks_again_each_once(trace_dir, tmp_path):
    main = copy_transcripts(tmp_path)
    store = Store(str(trace_dir))
    batches = hook_events()
    half = len(batches) // 2
    for b in batches[:half]:
        emit_live(store, FileSink(store), b, "test")
    import_session(store, FileSink(store), str(main), SESSION, final=False)
    for b in batches[half:]:
        emit_live(store, FileSink(store), b, "test")
    ids = raw_ids(store)
    assert len(ids) == len(set(ids))
    # the session ends: a final import adds nothing and the claim goes away
    assert import_session(store, FileSink(store), str(main), SESSION, final=True) == 0
    assert not os.path.exists(claim_path(store, SESSION))


def test_an_import_reads_what_a_hook_appended_after_its_scan(trace_dir, tmp_path):
    """``known`` holds the scan of an earlier log of the session (as
    ``import --all`` keeps it); a hook writes in between: the import reads the
    appended bytes under the claim before it writes."""
    main = copy_transcripts(tmp_path)
    store = Store(str(trace_dir))
    batches = hook_events()
    emit_live(store, FileSink(store), batches[0], "test")
    known: dict = {}
    empty = tmp_path / "nothing.jsonl"
    empty.write_bytes(b"")
    from agent_trace.capture.log_import import present_in

    known[store.path_for(SESSION)] = present_in(store.path_for(SESSION))  # a scan taken now
    for b in batches[1:]:
        emit_live(store, FileSink(store), b, "test")  # ... and the hooks go on
    import_log(store, FileSink(store), str(main), SESSION, known=known)
    ids = raw_ids(store)
    assert len(ids) == len(set(ids))


def test_a_budget_import_after_a_whole_import_repeats_no_llm_turn(trace_dir, tmp_path):
    """The LLM-only import (PreToolUse with a budget rule) trusts its cursor;
    a whole import (Stop) in between moves that cursor on."""
    src = copy_transcripts(tmp_path)
    lines = src.read_bytes().splitlines(keepends=True)
    src.write_bytes(b"".join(lines[: len(lines) // 3]))
    store = Store(str(trace_dir))
    import_log(store, FileSink(store), str(src), SESSION, llm_only=True)
    src.write_bytes(b"".join(lines[: 2 * len(lines) // 3]))
    import_log(store, FileSink(store), str(src), SESSION)  # Stop
    src.write_bytes(b"".join(lines))
    import_log(store, FileSink(store), str(src), SESSION, llm_only=True)
    ids = raw_ids(store)
    assert len(ids) == len(set(ids))
    llm = [json.loads(x) for x in open(store.path_for(SESSION), encoding="utf-8")]
    assert sum(e["type"] == ev.LLM_RESPONSE and not e.get("agent_id") for e in llm) == 9


def test_a_claim_that_cannot_be_taken_never_stops_the_hook(trace_dir, tmp_path, capfd):
    store = Store(str(trace_dir))
    store.ensure()
    os.makedirs(os.path.join(store.root, "state"), exist_ok=True)
    with open(os.path.join(store.root, "state", "claims"), "w") as f:
        f.write("not a folder")
    (call,) = hook_events()[2]
    assert emit_live(store, FileSink(store), [call], "agent-strace hook")
    assert raw_ids(store) == [call["id"]]
    assert capfd.readouterr().err.count("\n") <= 1


def test_a_removed_claim_is_taken_anew(trace_dir):
    store = Store(str(trace_dir))
    with Claim(store, SESSION) as c:
        c.add([{"id": "a" * 32, "type": ev.TOOL_RESULT}, {"id": "b" * 32, "type": ev.SESSION_START}])
        assert c.taken() == {"a" * 32}
        c.remove()
    with Claim(store, SESSION, create=False) as c:
        assert not c.held
    with Claim(store, SESSION) as c:
        assert c.held and c.taken() == set()


def test_a_damaged_or_oversized_list_costs_no_event(trace_dir, monkeypatch):
    """The list is ours but lives in a folder the agent can write: garbage
    in it is ignored, and a list past the size bound is not read at all."""
    from agent_trace.capture import claims

    store = Store(str(trace_dir))
    (call,) = hook_events()[2]
    path = claim_path(store, SESSION)
    os.makedirs(os.path.dirname(path))
    with open(path, "wb") as f:
        f.write(os.urandom(4096) + b"\xff\n\x00")
    assert emit_live(store, FileSink(store), [call], "test")
    (result,) = hook_events()[3]
    with open(path, "ab") as f:
        f.write(b"\n" + (result["id"] + "\n").encode())
    with Claim(store, SESSION) as c:
        assert result["id"] in c.taken_of([result])  # listed ...
    monkeypatch.setattr(claims, "MAX_BYTES", 64)  # ... but past the bound, so not read
    assert emit_live(store, FileSink(store), [result], "test")
    assert raw_ids(store) == [call["id"], result["id"]]


def test_a_fifo_where_the_claim_goes_blocks_no_write(trace_dir, tmp_path):
    """A hostile agent puts a FIFO where the claim file goes: the hook and
    the import record anyway (one line on stderr at most), neither blocks."""
    main = copy_transcripts(tmp_path)
    store = Store(str(trace_dir))
    path = claim_path(store, SESSION)
    os.makedirs(os.path.dirname(path))
    os.mkfifo(path)
    batches = hook_events()
    assert emit_live(store, FileSink(store), batches[0], "test")
    assert import_session(store, FileSink(store), str(main), SESSION, final=False) > 0
    import_session(store, FileSink(store), str(main), SESSION, final=True)  # what only a final import adds
    ids = raw_ids(store)
    assert len(ids) == len(set(ids)) and batches[0][0]["id"] in ids and len(ids) > 30

import json
import os
import signal
import subprocess
import sys
import textwrap
import threading
import time

from agent_trace import event as ev
from agent_trace.store.sink import FileSink
from agent_trace.store import Store
from agent_trace.store.reader import ReadStats, iter_events
from agent_trace.store.writer import append_lines

WRITER = textwrap.dedent("""
    import sys
    from agent_trace import event as ev
    from agent_trace.store.sink import FileSink
    from agent_trace.store import Store
    root, worker, n = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
    sink = FileSink(Store(root))
    for i in range(n):
        # sizes vary up to 64 KiB, well past PIPE_BUF, to expose interleaving
        pad = "x" * ((worker * 7919 + i * 104729) % 65536)
        sink.emit(ev.make_event(ev.ANNOTATION, "shared", "test", data={"w": worker, "i": i, "pad": pad}))
""")


def test_50_processes_x_200_events_never_interleave_tear_or_lose(trace_dir):
    procs = [
        subprocess.Popen([sys.executable, "-c", WRITER, str(trace_dir), str(w), "200"])
        for w in range(50)
    ]
    for p in procs:
        assert p.wait(timeout=300) == 0
    stats = ReadStats()
    seen = set()
    for e in iter_events(Store(str(trace_dir)).path_for("shared"), stats):
        d = e["data"]
        assert len(d["pad"]) == (d["w"] * 7919 + d["i"] * 104729) % 65536
        seen.add((d["w"], d["i"]))
    assert stats.corrupt == 0 and stats.torn == 0
    assert len(seen) == 50 * 200 == stats.events


def test_torn_last_line_from_killed_writer_is_skipped_and_later_lines_survive(trace_dir):
    store = Store(str(trace_dir))
    store.ensure()
    path = store.path_for("s")
    sink = FileSink(store)
    sink.emit(ev.make_event(ev.ANNOTATION, "s", "test", data={"n": 1}))
    # A writer that dies (kill -9) in the middle of a line.
    code = textwrap.dedent(f"""
        import os, time
        fd = os.open({path!r}, os.O_WRONLY | os.O_APPEND)
        os.write(fd, b'{{"v":1,"id":"torn","ts":"2026-01-01T00:00:00Z","session":"s","type":"annot')
        print("written", flush=True)
        time.sleep(60)
    """)
    p = subprocess.Popen([sys.executable, "-c", code], stdout=subprocess.PIPE)
    assert p.stdout.readline().strip() == b"written"
    os.kill(p.pid, signal.SIGKILL)
    p.wait()
    stats = ReadStats()
    assert [e["data"]["n"] for e in iter_events(path, stats)] == [1]
    assert stats.torn == 1 and stats.corrupt == 0
    # The next append starts a fresh line; the fragment stays one corrupt line.
    sink.emit(ev.make_event(ev.ANNOTATION, "s", "test", data={"n": 2}))
    stats = ReadStats()
    assert [e["data"]["n"] for e in iter_events(path, stats)] == [1, 2]
    assert stats.torn == 0 and stats.corrupt == 1


def test_kill_9_during_heavy_appends_leaves_a_readable_session(trace_dir):
    code = textwrap.dedent(f"""
        from agent_trace import event as ev
        from agent_trace.store.sink import FileSink
        from agent_trace.store import Store
        sink = FileSink(Store({str(trace_dir)!r}))
        i = 0
        while True:
            sink.emit(ev.make_event(ev.ANNOTATION, "big", "test", data={{"i": i, "pad": "y" * 3_000_000}}))
            i += 1
    """)
    p = subprocess.Popen([sys.executable, "-c", code])
    path = Store(str(trace_dir)).path_for("big")
    deadline = time.time() + 60  # a loaded machine starts Python slowly: wait for real appends
    while time.time() < deadline and (not os.path.exists(path) or os.path.getsize(path) < 7_000_000):
        time.sleep(0.05)
    time.sleep(0.2)  # and kill it in the middle of more
    os.kill(p.pid, signal.SIGKILL)
    p.wait()
    stats = ReadStats()
    got = [e["data"]["i"] for e in iter_events(Store(str(trace_dir)).path_for("big"), stats)]
    assert got == list(range(len(got))) and len(got) > 0
    assert stats.corrupt == 0 and stats.torn <= 1


def test_corrupt_future_and_unknown_lines_are_skipped_and_counted(trace_dir):
    store = Store(str(trace_dir))
    store.ensure()
    path = store.path_for("s")
    good = ev.make_event(ev.ANNOTATION, "s", "test", data={"ok": True})
    lines = [
        json.dumps(good),
        "not json at all",
        "[1, 2, 3]",
        "\x00\xff binary",
        json.dumps({**good, "v": 99, "id": "future"}),
        json.dumps({**good, "type": "brand.new.type", "id": "unknown"}),
        json.dumps({"type": "annotation", "session": "s", "ts": "2026-01-01T00:00:00Z"}),  # v0
        "",
    ]
    with open(path, "w", encoding="utf-8") as f:
        f.write("\n".join(lines) + "\n")
    stats = ReadStats()
    events = list(iter_events(path, stats))
    assert len(events) == 2 and events[1]["v"] == 1
    assert (stats.corrupt, stats.future, stats.unknown_type, stats.torn) == (3, 1, 1, 0)
    note = stats.note()
    assert "3 corrupt" in note and "newer agent-strace" in note and "unknown type" in note
    assert len(list(iter_events(path, ReadStats(), unknown=True))) == 3


def test_follow_sees_new_events_quickly(trace_dir):
    store = Store(str(trace_dir))
    sink = FileSink(store)
    sink.emit(ev.make_event(ev.ANNOTATION, "live", "test", data={"n": 0}))
    got, stop = [], threading.Event()

    def reader():
        for e in iter_events(store.path_for("live"), follow=True, stop=stop.is_set, poll=0.02):
            got.append((time.monotonic(), e["data"]["n"]))

    t = threading.Thread(target=reader)
    t.start()
    lags = []
    for n in range(1, 6):
        time.sleep(0.05)
        sent = time.monotonic()
        sink.emit(ev.make_event(ev.ANNOTATION, "live", "test", data={"n": n}))
        while len(got) <= n and time.monotonic() - sent < 5:
            time.sleep(0.005)
        lags.append(got[n][0] - sent)
    stop.set()
    t.join(5)
    assert [n for _, n in got] == [0, 1, 2, 3, 4, 5]
    assert len(lags) == 5  # each read while following (typically ~20 ms later: no timing threshold here)


def test_append_lines_adds_newline_after_fragment(tmp_path):
    p = tmp_path / "f.jsonl"
    p.write_bytes(b'{"partial')
    append_lines(str(p), b'{"a":1}\n')
    assert p.read_bytes() == b'{"partial\n{"a":1}\n'


def test_store_ignores_itself_in_git(trace_dir):
    Store(str(trace_dir)).ensure()
    assert (trace_dir / ".gitignore").read_text().splitlines()[-1] == "*"


def test_unsafe_session_ids_map_to_safe_distinct_files(trace_dir):
    store = Store(str(trace_dir))
    a, b = store.path_for("../../etc/passwd"), store.path_for("../../etc/passwd2")
    assert os.path.dirname(a) == store.sessions_dir and a != b
    assert store.path_for("e8f720b7-94ae-4a8c-bae2-3ba0f907bf8b").endswith("e8f720b7-94ae-4a8c-bae2-3ba0f907bf8b.jsonl")


def test_a_session_id_holding_a_secret_is_filed_under_its_stored_form(trace_dir):
    # the encoder redacts an event's session like any text: the file is named
    # after what is stored, so no secret reaches a file name and a hook's
    # events and an import's meet in one file
    from agent_trace.store.paths import file_stem, stored_id

    secret = "sk-ant-api03-" + "aB3dE5fG7h" * 6
    store = Store(str(trace_dir))
    assert stored_id(secret) == "[REDACTED]" and secret not in store.path_for(secret)
    assert store.path_for(secret) == store.path_for(stored_id(secret))
    uuid = "e8f720b7-94ae-4a8c-bae2-3ba0f907bf8b"
    assert stored_id(uuid) == uuid and file_stem("s1") == "s1"
    FileSink(store).emit(ev.make_event(ev.USER_PROMPT, secret, "test", data={"prompt": "hi"}))
    assert os.listdir(store.sessions_dir) == [os.path.basename(store.path_for(secret))]


def test_state_files_keep_odd_text_and_leave_no_temporary_file(tmp_path):
    from agent_trace.event.fastjson import loads
    from agent_trace.store.writer import write_json

    path = tmp_path / "state.json"
    obj = {"log\udcfe.jsonl": ["\ud800", "a\\\udc00", "é"]}  # lone surrogates: a log's undecodable name, escapes
    write_json(str(path), obj)
    assert loads(path.read_bytes()) == obj
    try:
        write_json(str(tmp_path / "missing" / "state.json"), obj)
    except OSError:
        pass
    else:
        raise AssertionError("no folder: OSError expected")
    assert sorted(os.listdir(tmp_path)) == ["state.json"]

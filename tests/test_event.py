import json
import re

import pytest

from agent_trace import event as ev
from agent_trace.event.encode import encode_event
from agent_trace.event.upgrade import upgrade


def test_make_event_stamps_version_id_time_and_drops_none():
    e = ev.make_event(ev.TOOL_CALL, "s1", "test", tool="Bash", agent_id=None)
    assert e["v"] == ev.SCHEMA_VERSION
    assert re.fullmatch(r"[0-9a-f]{32}", e["id"])
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z", e["ts"])
    assert e["tool"] == "Bash" and "agent_id" not in e


def test_make_event_refuses_unknown_field():
    with pytest.raises(TypeError, match="unknown event field 'tol'"):
        ev.make_event(ev.TOOL_CALL, "s1", "test", tol="Bash")


def test_now_iso_rounding_never_gives_a_million_micros():
    assert ev.now_iso(1.9999999) == "1970-01-01T00:00:02.000000Z"


def test_usage_normalises_and_is_none_when_empty():
    assert ev.usage() is None
    assert ev.usage(input=3, cache_write=2) == {"input": 3, "cache_write": 2}


def test_v0_lines_upgrade_step_by_step_with_a_stable_id():
    old = {"type": "tool.call", "session": "s", "ts": "2026-01-01T00:00:00Z", "tool": "Bash"}
    a, b = upgrade(old), upgrade(dict(old))
    assert a["v"] == 1 and a["id"] == b["id"] and a["source"] == "unknown"


def test_bad_version_is_refused():
    with pytest.raises(ValueError):
        upgrade({"v": -1, "type": "x"})


def test_lone_surrogates_round_trip_through_a_valid_utf8_line():
    text = b"ok \xff\xfe end".decode("utf-8", "surrogateescape")
    e = ev.make_event(ev.ANNOTATION, "s", "test", data={"text": text, "path": "C:\\x"})
    line = encode_event(e)
    line.decode("utf-8")  # strictly valid UTF-8
    back = json.loads(line)
    assert back["data"]["text"] == text and back["data"]["path"] == "C:\\x"


def test_schema_file_matches_event_module():
    from importlib import resources

    schema = json.loads(resources.files("agent_trace").joinpath("schema/event.schema.json").read_text())
    assert set(schema["properties"]["type"]["enum"]) == set(ev.TYPES)
    assert set(schema["properties"]) == set(ev.FIELDS)

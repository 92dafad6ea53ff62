"""The OpenAI Agents SDK, LangGraph/LangChain and Pydantic AI, for real
(pinned in tests/frameworks/requirements.txt), each running a small agent
from tests/frameworks/ offline against the scripted OpenAI endpoint: the
session has the agent tree, every tool call with its JSON arguments and
result or error, every model call once with its usage; a deny rule keeps a
tool from running; a cassette replays the same run with the endpoint gone.

The frameworks take seconds to import, so each framework's runs happen in
one process (``--plan``), once per module, and the tests read what they left."""

from __future__ import annotations

import contextlib
import json

import pytest
from support.frameworks import run_app
from support.openai_scripted import ScriptedOpenAI
from support.processes import free_port

from agent_trace import event as ev
from agent_trace.analysis.summary import summarize
from agent_trace.store.reader import iter_events

pytestmark = pytest.mark.e2e

PROMPT_AGENTS = "What's the weather in Paris?"
PROMPT_PLAN = "Plan my day in Paris"
QUESTION = "Paris weather report"
WEATHER_CALLS = [{"tool": "get_weather", "input": {"city": "Paris"}},
                 {"tool": "get_forecast", "input": {"city": "Paris", "days": 2}}]
SCRIPTS = {
    "agents_app": {PROMPT_AGENTS: [[{"tool": "transfer_to_weather_agent", "input": {}}], WEATHER_CALLS,
                                   [{"text": "It is 21C and sunny in Paris; no forecast today."}]]},
    "langgraph_app": {PROMPT_PLAN: [[{"tool": "ask_weather_agent", "input": {"question": QUESTION}}],
                                    [{"text": "Take sunglasses: 21C and sunny."}]],
                      QUESTION: [WEATHER_CALLS, [{"text": "21C and sunny; no forecast."}]]},
}
SCRIPTS["pydantic_ai_app"] = SCRIPTS["langgraph_app"]
APPS = list(SCRIPTS)
# app -> (the agent tree as (child, parent, via), the framework's name)
TREES = {"agents_app": ([("triage", None, None), ("weather_agent", "triage", "handoff")], "openai-agents"),
         "langgraph_app": ([("planner", None, None), ("weather_agent", "planner", "tool")], "langchain"),
         "pydantic_ai_app": ([("planner", None, None), ("weather_agent", "planner", "tool")], "pydantic-ai")}
VARIANTS = {"agents_app": [["--api", "responses"], ["--api", "responses", "--stream"],
                           ["--api", "chat_completions"], ["--api", "chat_completions", "--stream"]],
            "langgraph_app": [[], ["--async", "--stream"]],
            "pydantic_ai_app": [["--api", "chat"], ["--api", "responses", "--stream"]]}
CASSETTE_ARGS = {"agents_app": ["--api", "chat_completions", "--stream"], "langgraph_app": ["--stream"],
                 "pydantic_ai_app": ["--api", "responses"]}
RULES_ARGS = {"agents_app": ["--guard"], "langgraph_app": [], "pydantic_ai_app": ["--rules"]}  # how rules go on


class Run:
    """One run of a framework agent: its arguments, store, endpoint and answer."""

    def __init__(self, name, args, trace_dir, stub=None, env=None):
        self.name, self.args, self.trace_dir, self.stub, self.env = name, args, trace_dir, stub, env or {}
        self.out: dict = {}

    def events(self) -> list[dict]:
        files = sorted((self.trace_dir / "sessions").glob("*.jsonl"))
        assert len(files) == 1, files
        return list(iter_events(str(files[0])))


@pytest.fixture(scope="module", params=APPS)
def framework(request, tmp_path_factory):
    """Every run of one framework's agent, in one process."""
    app = request.param
    base = tmp_path_factory.mktemp(app)
    rules = base / "rules.toml"
    rules.write_text('[[deny]]\ntools = ["get_weather"]\nreason = "weather is off limits"\n')
    cassette = base / "run.json"
    with contextlib.ExitStack() as stack:
        def stub():
            return stack.enter_context(ScriptedOpenAI(SCRIPTS[app]))

        runs = [Run(f"tree{i}", ["--trace", *a], base / f"tree{i}", stub()) for i, a in enumerate(VARIANTS[app])]
        runs.append(Run("twice", ["--trace", "--twice", *VARIANTS[app][0]], base / "twice", stub()))
        runs.append(Run("removed", ["--trace", "--removed", *VARIANTS[app][0]], base / "removed", stub()))
        runs.append(Run("http", ["--trace", "--sdk-session", "mine"], base / "http", stub()))
        runs.append(Run("deny", ["--trace", *RULES_ARGS[app]], base / "deny", stub(),
                        {"AGENT_STRACE_RULES": str(rules), "AGENT_APP_RAN": str(base / "ran.txt")}))
        runs.append(Run("record", ["--trace", "--cassette", str(cassette), "--cassette-mode", "all",
                                   *CASSETTE_ARGS[app]], base / "record", stub()))
        dead = f"http://127.0.0.1:{free_port()}/v1"  # nothing listens: only the cassette can answer
        runs.append(Run("replay", ["--trace", "--cassette", str(cassette), "--cassette-mode", "none",
                                   *CASSETTE_ARGS[app]], base / "replay"))
        plan = [{"args": ["--base-url", r.stub.url if r.stub else dead, *r.args],
                 "env": {"AGENT_TRACE_DIR": str(r.trace_dir), **r.env}} for r in runs]
        (base / "plan.json").write_text(json.dumps(plan))
        outs = run_app(app, "--plan", str(base / "plan.json"))
    for r, o in zip(runs, outs):
        r.out = o
    yield app, {r.name: r for r in runs}, base


def tool_story(events) -> list[tuple]:
    """(tool, arguments, result or error message) of every tool call, in call order."""
    calls = {e["tool_use_id"]: e for e in events if e["type"] == ev.TOOL_CALL}
    out = []
    for e in events:
        if e["type"] in (ev.TOOL_RESULT, ev.TOOL_ERROR):
            c = calls[e["tool_use_id"]]
            end = e["error"]["message"] if e["type"] == ev.TOOL_ERROR else e["data"]["tool_response"]
            out.append((c["tool"], c["data"]["tool_input"], e["type"], end))
    return sorted(out, key=lambda t: t[0])


def check_tree(events, app):
    tree, framework = TREES[app]
    starts = [e for e in events if e["type"] == ev.SUBAGENT_START]
    by_id = {e["agent_id"]: e for e in starts}
    got = []
    for e in starts:
        parent = by_id.get(e["data"].get("parent_agent_id"))
        got.append((e["agent_type"], parent["agent_type"] if parent else None, e["data"].get("via")))
    assert sorted(got, key=str) == sorted(tree, key=str)
    assert {e["source"] for e in starts} == {framework}
    stops = {e["agent_id"] for e in events if e["type"] == ev.SUBAGENT_STOP}
    assert stops == set(by_id)
    return by_id


def test_agent_tree_tools_and_model_calls(framework):
    app, runs, _ = framework
    for r in (runs[k] for k in runs if k.startswith("tree")):
        assert "error" not in r.out, (r.args, r.out)
        check_run(app, r)


def check_run(app, r):
    events, stub = r.events(), r.stub
    agents = check_tree(events, app)
    # every tool call: JSON arguments in, JSON result or the error out, under the agent that called it
    story = tool_story(events)
    assert [s[:3] for s in story if s[0] != "ask_weather_agent"] == [
        ("get_forecast", {"city": "Paris", "days": 2}, ev.TOOL_ERROR),
        ("get_weather", {"city": "Paris"}, ev.TOOL_RESULT)], r.args
    ends = {s[0]: s[3] for s in story}
    assert "forecast service down for Paris" in ends["get_forecast"]
    assert ends["get_weather"] == {"city": "Paris", "temp_c": 21, "sky": "sunny"}
    calls = [e for e in events if e["type"] == ev.TOOL_CALL]
    weather = next(a for a in agents.values() if a["agent_type"] == "weather_agent")
    for c in calls:
        assert c["tool_use_id"].startswith("call_")  # the model's own call id
        if c["tool"] in ("get_weather", "get_forecast"):
            assert c["agent_id"] == weather["agent_id"] and c["parent"] == weather["id"]
    if app != "agents_app":  # the subagent ran inside the planner's tool call
        ask = next(c for c in calls if c["tool"] == "ask_weather_agent")
        assert weather["parent"] == ask["id"]
        assert ask["data"]["tool_input"] == {"question": QUESTION}
    else:
        handoff = [e for e in events if e["type"] == ev.GENERIC and e["name"] == "handoff"]
        assert [(h["data"]["from_agent"], h["data"]["to_agent"]) for h in handoff] == [("triage", "weather_agent")]
        guard = [e for e in events if e["type"] == ev.GENERIC and e["name"] == "guardrail"]
        assert [(g["data"]["guardrail"], g["data"]["triggered"], g["agent_type"]) for g in guard] == [
            ("on_topic", False, "triage")]
    # every model call once, with the usage the endpoint reported
    s = summarize(events)
    assert s.llm_calls == len(stub.requests) == len(stub.usages), r.args
    assert s.tokens["input"] == sum(i - c for i, _, c in stub.usages)
    assert s.tokens["output"] == sum(o for _, o, _ in stub.usages)
    assert s.tokens["cache_read"] == sum(c for _, _, c in stub.usages)
    assert all(e.get("agent_id") for e in events if e["type"] == ev.LLM_RESPONSE)
    assert s.tool_calls == len(calls) and s.tool_errors == 1


def test_instrumenting_is_idempotent_and_remove_undoes_it(framework):
    app, runs, _ = framework
    twice, removed = runs["twice"], runs["removed"]
    assert "error" not in twice.out and "error" not in removed.out, (twice.out, removed.out)
    check_run(app, twice)  # every event once
    assert removed.out["final"] == twice.out["final"]  # the agent ran as ever
    assert not list(removed.trace_dir.glob("sessions/*.jsonl"))  # and nothing was recorded


def test_with_the_http_instrumentation_each_model_call_counts_once(framework):
    """Inside an SDK session with instrument() on, the HTTP capture and the
    framework both see each model call: one event stands, with the agent."""
    app, runs, _ = framework
    r = runs["http"]
    assert "error" not in r.out, r.out
    events = r.events()
    assert events[0]["session"].startswith("py-mine-")
    responses = [e for e in events if e["type"] == ev.LLM_RESPONSE]
    assert len(responses) == len(r.stub.requests)
    assert {e["source"] for e in responses} == {"python-sdk"}  # the HTTP capture's, full bodies and all
    assert all(e.get("agent_id") for e in responses)  # stamped with the agent that made the call
    assert summarize(events).llm_calls == len(r.stub.requests)
    check_tree(events, app)


def test_a_deny_rule_keeps_the_tool_from_running(framework):
    app, runs, base = framework
    r = runs["deny"]
    assert "error" not in r.out, r.out
    assert (base / "ran.txt").read_text().split() == ["get_forecast"]  # the denied tool never ran
    events = r.events()
    decisions = [e for e in events if e["type"] == ev.RULE_DECISION]
    assert [(d["tool"], d["status"], d["name"]) for d in decisions] == [("get_weather", ev.DENIED, "deny.tools")]
    denied = next(e for e in events if e["type"] == ev.TOOL_ERROR and e["tool"] == "get_weather")
    assert denied["error"]["type"] == "denied" and "weather is off limits" in denied["error"]["message"]
    assert decisions[0]["parent"] == next(e["id"] for e in events if e["type"] == ev.TOOL_CALL
                                          and e["tool"] == "get_weather")
    assert "weather is off limits" in json.dumps([q["body"] for q in r.stub.requests])  # the model was told


def test_a_cassette_replays_the_same_run_with_the_endpoint_gone(framework):
    app, runs, base = framework
    live, again = runs["record"], runs["replay"]
    assert "error" not in live.out, live.out
    assert again.out.get("final") == live.out["final"], again.out
    assert "sk-test-not-a-real-key" not in (base / "run.json").read_text()
    a, b = live.events(), again.events()
    assert tool_story(b) == tool_story(a)
    sa, sb = summarize(a), summarize(b)
    assert (sb.llm_calls, sb.tokens) == (sa.llm_calls, sa.tokens) and sa.llm_calls == len(live.stub.requests)
    assert [e["agent_type"] for e in b if e["type"] == ev.SUBAGENT_START] == \
        [e["agent_type"] for e in a if e["type"] == ev.SUBAGENT_START]


@pytest.fixture(scope="module")
def phoenix(tmp_path_factory):
    pytest.importorskip("opentelemetry.proto", reason="protobuf export needs the otlp extra")
    from support.phoenix import Phoenix

    phx = Phoenix(tmp_path_factory.mktemp("phoenix"))
    yield phx
    phx.stop()


def test_explain_and_phoenix_show_the_agent_tree(framework, phoenix):
    import time

    from conftest import run_cli

    from agent_trace.export.otlp_spans import trace_id

    app, runs, _ = framework
    r = runs["tree0"]
    session = r.events()[0]["session"]
    (root, _, _), (child, parent, via) = TREES[app][0]
    text = run_cli("--trace-dir", str(r.trace_dir), "explain", session).stdout.decode()
    assert f"Agents:\n  {root}: " in text and f"\n    {child} (via {via}): 2 tool call(s) (1 failed)" in text, text
    out = run_cli("--trace-dir", str(r.trace_dir), "export", session, "--format", "otlp", "--endpoint", phoenix.url,
                  "--protocol", "http/protobuf")
    assert out.returncode == 0, out.stderr
    want = len(r.events())  # more than enough to wait for
    tid = trace_id(session)
    need = {f"invoke_agent {root}", f"invoke_agent {child}", f"invoke_agent {TREES[app][1]}",
            "execute_tool get_weather", "execute_tool get_forecast"}
    llm_calls = summarize(r.events()).llm_calls
    deadline = time.monotonic() + 90  # Phoenix ingests asynchronously, in batches: wait for what is checked below
    while True:
        spans = [s for s in phoenix.get("/v1/projects/default/spans?limit=1000")["data"]
                 if s["context"]["trace_id"] == tid]
        ready = need <= {s["name"] for s in spans} and len([s for s in spans if s["span_kind"] == "LLM"]) >= llm_calls
        if (ready and len(spans) < want) or time.monotonic() > deadline:
            break
        time.sleep(0.25)
    by_name = {s["name"]: s for s in spans}
    ids = {s["context"]["span_id"]: s for s in spans}
    top, sub = by_name[f"invoke_agent {root}"], by_name[f"invoke_agent {child}"]
    assert ids[top["parent_id"]]["name"] == f"invoke_agent {TREES[app][1]}"  # the session's root span
    assert sub["parent_id"] == top["context"]["span_id"]  # the subagent under its agent
    for tool in ("get_weather", "get_forecast"):
        assert by_name[f"execute_tool {tool}"]["parent_id"] == sub["context"]["span_id"]
    assert by_name["execute_tool get_forecast"]["status_code"] == "ERROR"
    llm = [s for s in spans if s["span_kind"] == "LLM"]
    assert len(llm) == llm_calls

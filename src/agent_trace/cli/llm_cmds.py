"""``proxy`` (LLM wire capture) and ``run`` (an agent behind it, or a task corpus)."""

from __future__ import annotations

import os
import subprocess
import sys
import time

from agent_trace.render import words

from . import EXIT_ERROR, EXIT_OK, EXIT_USAGE
from .parsing import open_store, parser

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

ANTHROPIC_DEFAULT = "https://api.anthropic.com"
OPENAI_DEFAULT = "https://api.openai.com/v1"


def run(name: str, argv: list[str]) -> int:
    if name == "proxy":
        p = parser("proxy", "An OpenAI/Anthropic-compatible capture proxy: every call is logged "
                            "(request, response or SSE stream, usage, latency) and passed through unchanged.")
        p.add_argument("--upstream", required=True, help="the real API base URL (https://api.openai.com/v1 ...)")
        p.add_argument("--port", type=int, default=0)
        p.add_argument("--host", default="127.0.0.1")
        p.add_argument("--session", help="log every call into this session (else the x-agent-strace-session "
                                         "header, the agent's own session header, or a new id)")
        return _proxy(p.parse_args(argv))
    p = parser("run", "Run an agent with its LLM calls captured: run [--name N] -- CMD ...; "
                      "or a task corpus: run --agent claude --tasks tasks.txt [--turns N]")
    p.add_argument("--name", help="a label for the session")
    p.add_argument("--session", help="session id for the wire capture (default: the agent's own, else new)")
    p.add_argument("--upstream", help="override the API the agent would have used")
    p.add_argument("--agent", choices=("claude", "codex", "gemini"), help="corpus mode: which agent CLI")
    p.add_argument("--tasks", metavar="FILE", help="corpus mode: one prompt per line, # comments")
    p.add_argument("--turns", type=int, default=1, help="corpus mode: turns per task (follow-ups continue it)")
    p.add_argument("--followup", default="continue", metavar="continue|FILE",
                   help="corpus mode: follow-up prompt: 'continue', or a file of templates ({task}, {turn})")
    p.add_argument("--agent-args", default="", help="corpus mode: extra arguments for the agent CLI")
    command: list[str] = []
    if "--" in argv:
        cut = argv.index("--")
        argv, command = argv[:cut], argv[cut + 1:]
    args = p.parse_args(argv)
    args.command = command
    if bool(args.command) == bool(args.tasks):
        sys.stderr.write("agent-strace run: give either -- CMD or --agent AGENT --tasks FILE\n")
        return EXIT_USAGE
    if args.tasks and not args.agent:
        sys.stderr.write("agent-strace run: --tasks needs --agent\n")
        return EXIT_USAGE
    return _run(args)


def start_proxy(store, upstream: str, session: str, forced: str | None, context: dict):
    from agent_trace.capture.llm_wire import LlmObserver
    from agent_trace.proxy.http_forward import ReverseProxy
    from agent_trace.capture.sink import open_sink

    observer = LlmObserver(open_sink(store), session, forced, upstream, context)
    return ReverseProxy(upstream, observer, prefix_base=True).start()


def _new_session(label: str) -> str:
    from agent_trace.event import new_id

    return f"llm-{label}-{time.strftime('%Y%m%dT%H%M%S', time.gmtime())}-{new_id()[:8]}"


def _proxy(args) -> int:
    from agent_trace.capture.llm_wire import LlmObserver
    from agent_trace.proxy.http_forward import ReverseProxy
    from agent_trace.capture.sink import open_sink

    store = open_store(args)
    observer = LlmObserver(open_sink(store), args.session or _new_session("proxy"), args.session, args.upstream)
    try:
        proxy = ReverseProxy(args.upstream, observer, host=args.host, port=args.port, prefix_base=True)
    except (ValueError, OSError) as e:
        sys.stderr.write(f"agent-strace proxy: {e}\n")
        return EXIT_USAGE
    sys.stderr.write(f"agent-strace: proxying {args.upstream} at {proxy.url}\n")
    sys.stderr.flush()
    proxy.serve_until_signal()
    return EXIT_OK


def _agent_env(args, store, context: dict) -> tuple[dict, list]:
    """Proxies for both vendors, and the environment pointing the agent at them."""
    env = dict(os.environ)
    label = args.name or (args.agent or os.path.basename(args.command[0]))
    session = args.session or _new_session(label)
    proxies = []
    anth = args.upstream or env.get("ANTHROPIC_BASE_URL") or ANTHROPIC_DEFAULT
    oai = args.upstream or env.get("OPENAI_BASE_URL") or env.get("OPENAI_API_BASE") or OPENAI_DEFAULT
    pa = start_proxy(store, anth, session, args.session, context)
    po = start_proxy(store, oai, session, args.session, context)
    proxies += [pa, po]
    env["ANTHROPIC_BASE_URL"] = pa.url
    oai_path = oai.split("://", 1)[1].split("/", 1)[1] if "/" in oai.split("://", 1)[1] else ""
    env["OPENAI_BASE_URL"] = env["OPENAI_API_BASE"] = po.url + ("/" + oai_path if oai_path else "")
    env["AGENT_TRACE_DIR"] = store.root
    if args.session:  # else MCP proxies and hooks keep the agent's own session id
        env["AGENT_STRACE_SESSION"] = args.session
    return env, proxies


def _run(args) -> int:
    store = open_store(args)
    store.ensure()
    # where the agent works: stamped on every LLM request (portable cassettes, grade, compare)
    context: dict = {"cwd": os.getcwd(), "home": os.environ.get("HOME") or os.path.expanduser("~")}
    env, proxies = _agent_env(args, store, context)
    try:
        if args.command:
            try:
                return subprocess.call(args.command, env=env)
            except OSError as e:
                sys.stderr.write(f"agent-strace run: cannot start {args.command[0]}: {e.strerror}\n")
                return EXIT_ERROR
        return _corpus(args, env, context)
    finally:
        for p in proxies:
            p.stop()


def _tasks(path: str) -> list[str]:
    with open(path, encoding="utf-8") as f:
        return [line.strip() for line in f if line.strip() and not line.lstrip().startswith("#")]


def _followups(spec: str) -> list[str] | None:
    if spec == "continue":
        return None
    with open(spec, encoding="utf-8") as f:
        return [line.rstrip("\n") for line in f if line.strip() and not line.lstrip().startswith("#")]


def _agent_cmd(agent: str, prompt: str, resume: str | None, extra: list[str]) -> list[str]:
    if agent == "claude":
        cmd = ["claude", "-p", prompt, "--output-format", "json"]
        if resume:
            cmd += ["--resume", resume]
        return cmd + extra
    if agent == "codex":
        return (["codex", "exec", "resume", resume, prompt] if resume else ["codex", "exec", prompt]) + extra
    return ["gemini", "-p", prompt] + (["--resume", resume] if resume else []) + extra


def _corpus(args, env: dict, context: dict) -> int:
    import json
    import shlex

    tasks = _tasks(args.tasks)
    templates = _followups(args.followup)
    extra = shlex.split(args.agent_args)
    summary = []
    worst = 0
    for n, task in enumerate(tasks, 1):
        row: dict[str, Any] = {"task": n, "prompt": task[:80], "session": None, "turns": 0, "exit_codes": [],
                               "seconds": 0.0}
        resume = None
        for turn in range(1, args.turns + 1):
            if turn == 1:
                prompt = task
            elif templates is None:
                prompt = "continue"
            else:
                prompt = templates[(turn - 2) % len(templates)].format(task=task, turn=turn)
            context.update(task=n, turn=turn)
            t0 = time.perf_counter()
            p = subprocess.run(_agent_cmd(args.agent, prompt, resume, extra), env=env, capture_output=True,
                               text=True)
            row["seconds"] += time.perf_counter() - t0
            row["exit_codes"].append(p.returncode)
            if args.agent == "claude":
                try:
                    resume = json.loads(p.stdout).get("session_id") or resume
                except ValueError:
                    pass
            row["session"] = resume or row["session"]
            if p.returncode != 0:
                worst = worst or p.returncode
                break
            row["turns"] = turn
        row["seconds"] = round(row["seconds"], 2)
        summary.append(row)
        print(f"task {n}: {row['turns']}/{words.count(args.turns, 'turn')}, exit {row['exit_codes']}, "
              f"{row['seconds']}s, session {row['session']}", flush=True)
    print(json.dumps({"tasks": summary}, indent=2))
    return EXIT_OK if not worst else EXIT_ERROR

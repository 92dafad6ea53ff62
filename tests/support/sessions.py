"""Sessions for report and CI tests, recorded through the hook's own mapping."""

from __future__ import annotations

from agent_trace import event as ev
from agent_trace.capture.hooks import events_from_hook
from agent_trace.store import Store
from agent_trace.store.sink import FileSink


def record_session(store_root, session, *, failures=0, llm_calls=2, secret=None):
    """A session as hooks record it (Claude Code payloads through the hook's
    own mapping, in this process: fast): a prompt, tool calls (some failing
    the same way: a lint finding), LLM responses with real usage."""
    base = {"session_id": session, "cwd": "/work/proj", "transcript_path": "/nonexistent"}
    sink = FileSink(Store(str(store_root)))

    def hook(p):
        sink.emit_many(events_from_hook({**base, **p}, None, "claude-code"))

    hook({"hook_event_name": "UserPromptSubmit", "prompt": "fix the build @octocat <b>now</b>",
          "prompt_id": "p1"})
    for i in range(failures):
        hook({"hook_event_name": "PreToolUse", "tool_name": "Bash", "tool_use_id": f"f{i}",
              "tool_input": {"command": "make test"}})
        hook({"hook_event_name": "PostToolUseFailure", "tool_name": "Bash", "tool_use_id": f"f{i}",
              "tool_input": {"command": "make test"}, "error": "Exit code 2\nmake: *** [test] Error 2"})
    hook({"hook_event_name": "PreToolUse", "tool_name": "Edit", "tool_use_id": "e1",
          "tool_input": {"file_path": "/work/proj/src/app.py", "old_string": "a",
                         "new_string": secret or "b"}})
    hook({"hook_event_name": "PostToolUse", "tool_name": "Edit", "tool_use_id": "e1",
          "tool_input": {"file_path": "/work/proj/src/app.py"}, "tool_response": {}})
    sink.emit_many([ev.make_event(ev.LLM_RESPONSE, session, "claude-code", model="claude-sonnet-4-5-20250929",
                                  usage=ev.usage(input=2000, output=300, cache_read=100, cache_write=50))
                    for _ in range(llm_calls)])

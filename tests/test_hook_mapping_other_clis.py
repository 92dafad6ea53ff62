"""Codex and Gemini CLI payloads map onto the same events as Claude Code's."""

from agent_trace import event as ev
from agent_trace.capture.hooks import events_from_hook


def one(payload, source, name=None):
    (e,) = events_from_hook(payload, name, source)
    return e


def test_codex_pre_and_post_tool_use():
    base = {"session_id": "cx-1", "turn_id": "t1", "cwd": "/p", "model": "gpt-5-codex",
            "transcript_path": "/p/rollout.jsonl"}
    call = one({**base, "hook_event_name": "PreToolUse", "tool_name": "Bash",
                "tool_use_id": "call_1", "tool_input": {"command": "ls"}}, "codex")
    assert (call["type"], call["source"], call["tool"], call["tool_use_id"]) == (
        ev.TOOL_CALL, "codex", "Bash", "call_1")
    res = one({**base, "hook_event_name": "PostToolUse", "tool_name": "Bash", "tool_use_id": "call_1",
               "tool_input": {"command": "ls"}, "tool_response": {"exit_code": 0, "output": "a\n"}}, "codex")
    assert res["type"] == ev.TOOL_RESULT and res["data"]["tool_response"]["output"] == "a\n"
    stop = one({**base, "hook_event_name": "Stop", "last_assistant_message": "done"}, "codex")
    assert stop["type"] == ev.TURN_END


def test_gemini_tool_events_and_failures():
    base = {"session_id": "gm-1", "cwd": "/p", "timestamp": "2026-11-21T10:00:00Z"}
    call = one({**base, "hook_event_name": "BeforeTool", "tool_name": "run_shell_command",
                "tool_input": {"command": "ls"}}, "gemini")
    assert call["type"] == ev.TOOL_CALL and call["name"] == "PreToolUse"
    ok = one({**base, "hook_event_name": "AfterTool", "tool_name": "read_file",
              "tool_input": {"file_path": "a"}, "tool_response": {"llmContent": "x"}}, "gemini")
    assert ok["type"] == ev.TOOL_RESULT and ok["status"] == "ok"
    bad = one({**base, "hook_event_name": "AfterTool", "tool_name": "read_file",
               "tool_input": {"file_path": "a"}, "tool_response": {"error": "ENOENT: no such file"}}, "gemini")
    assert bad["type"] == ev.TOOL_ERROR and bad["error"]["message"] == "ENOENT: no such file"
    assert one({**base, "hook_event_name": "AfterAgent"}, "gemini")["type"] == ev.TURN_END
    assert one({**base, "hook_event_name": "BeforeAgent", "prompt": "hi"}, "gemini")["type"] == ev.USER_PROMPT


def test_gemini_model_usage_only_on_the_final_chunk():
    req = {"model": "gemini-2.5-pro", "messages": []}
    chunk = {"session_id": "g", "hook_event_name": "AfterModel", "llm_request": req,
             "llm_response": {"candidates": [{"content": {"parts": [{"text": "par"}]}}],
                              "usageMetadata": {"promptTokenCount": 10, "candidatesTokenCount": 1}}}
    final = {**chunk, "llm_response": {"candidates": [{"finishReason": "STOP"}],
                                       "usageMetadata": {"promptTokenCount": 10, "candidatesTokenCount": 5,
                                                         "cachedContentTokenCount": 4}}}
    e1, e2 = one(chunk, "gemini"), one(final, "gemini")
    assert e1["type"] == e2["type"] == ev.LLM_RESPONSE and e1["model"] == "gemini-2.5-pro"
    assert "usage" not in e1
    assert e2["usage"] == {"input": 10, "output": 5, "cache_read": 4}
    assert one({"session_id": "g", "hook_event_name": "BeforeModel", "llm_request": req},
               "gemini")["type"] == ev.LLM_REQUEST


def test_gemini_names_are_claude_only_aliases():
    # a Claude Code payload never gets Gemini's model mapping
    e = one({"session_id": "c", "hook_event_name": "AfterModel"}, "claude-code")
    assert e["type"] == ev.GENERIC and e["name"] == "AfterModel"

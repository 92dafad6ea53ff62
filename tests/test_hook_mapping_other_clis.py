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


def test_gemini_model_hooks_are_not_llm_turns():
    """AfterModel fires per streamed chunk and drops cached tokens: LLM turns
    come from the chat log.  A final chunk is kept as a generic event, the
    others are not events at all; PreCompress is a check, not a compaction."""
    req = {"model": "gemini-2.5-pro", "messages": []}
    chunk = {"session_id": "g", "hook_event_name": "AfterModel", "llm_request": req,
             "llm_response": {"candidates": [{"content": {"parts": [{"text": "par"}]}}],
                              "usageMetadata": {"promptTokenCount": 10, "candidatesTokenCount": 1}}}
    final = {**chunk, "llm_response": {"candidates": [{"finishReason": "STOP"}],
                                       "usageMetadata": {"promptTokenCount": 10, "candidatesTokenCount": 5}}}
    assert events_from_hook(chunk, None, "gemini") == []
    e = one(final, "gemini")
    assert e["type"] == ev.GENERIC and e["name"] == "AfterModel" and "usage" not in e
    assert one({"session_id": "g", "hook_event_name": "BeforeModel", "llm_request": req},
               "gemini")["type"] == ev.GENERIC
    pre = one({"session_id": "g", "hook_event_name": "PreCompress", "trigger": "auto"}, "gemini")
    assert pre["type"] == ev.GENERIC and pre["name"] == "PreCompress"


def test_gemini_failed_shell_command_is_an_error():
    e = one({"session_id": "g", "hook_event_name": "AfterTool", "tool_name": "run_shell_command",
             "tool_input": {"command": "cat x"},
             "tool_response": {"llmContent": "Output: cat: x: No such file\nExit Code: 1\nProcess Group PGID: 7",
                               "returnDisplay": "cat: x"}}, "gemini")
    assert e["type"] == ev.TOOL_ERROR and e["error"] == {"message": "exit code 1", "exit_code": 1}


def test_codex_model_request_hooks_are_llm_turns_with_usage():
    from agent_trace.capture.transcript import llm_event_id

    base = {"session_id": "cx", "turn_id": "t", "cwd": "/p", "model": "gpt-5.5", "kind": "sampling",
            "request_id": "r1", "attempt_number": 1}
    req = one({**base, "hook_event_name": "PreModelRequest"}, "codex")
    assert req["type"] == ev.LLM_REQUEST and req["model"] == "gpt-5.5"
    resp = one({**base, "hook_event_name": "PostModelRequest", "status": "completed", "error": None,
                "response_id": "resp_9", "token_usage": {"input_tokens": 1200, "cached_input_tokens": 300,
                                                         "cache_write_input_tokens": 0, "output_tokens": 40}},
               "codex")
    assert resp["type"] == ev.LLM_RESPONSE and resp["id"] == llm_event_id("cx", "resp_9")
    assert resp["usage"] == {"input": 900, "output": 40, "cache_read": 300} and resp["status"] == "ok"
    intr = one({**base, "hook_event_name": "Interrupt"}, "codex")
    assert intr["type"] == ev.TURN_END and intr["status"] == "error"


def test_codex_truncated_output_is_noted():
    e = one({"session_id": "cx", "hook_event_name": "PostToolUse", "tool_name": "Bash", "tool_use_id": "c",
             "tool_response": "Warning: truncated output (original token count: 322224)\n"
                              "... 240319 bytes omitted ...\n\n1\n2\n"}, "codex")
    assert e["truncated"] == [{"path": "data.tool_response", "by": "codex", "original_tokens": 322224,
                               "omitted_bytes": 240319}]


def test_gemini_names_are_claude_only_aliases():
    # a Claude Code payload never gets Gemini's model mapping
    e = one({"session_id": "c", "hook_event_name": "AfterModel"}, "claude-code")
    assert e["type"] == ev.GENERIC and e["name"] == "AfterModel"

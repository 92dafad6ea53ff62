"""What a tool call did, in agent-neutral terms: files read, files changed,
shell commands run.  Shared by explain, lint, the rules engine and the
VS Code marks, so they agree on what "touched a file" means.

Covers Claude Code, Codex, Gemini CLI and OpenCode tool names; MCP filesystem tools
(``mcp__*__read_file`` ...) are recognised by their last name part.
"""

from __future__ import annotations

READ_TOOLS = frozenset({"Read", "Grep", "Glob", "LS", "NotebookRead", "read_file", "read_many_files",
                        "list_directory", "glob", "search_file_content", "read_text_file",
                        "read_multiple_files", "list_directory_with_sizes", "directory_tree",
                        "search_files", "get_file_info", "read_media_file", "read", "grep", "list"})
WRITE_TOOLS = frozenset({"Write", "Edit", "MultiEdit", "NotebookEdit", "write_file", "replace", "edit",
                         "edit_file", "apply_patch", "create_directory", "move_file", "write", "multiedit",
                         "patch"})
SHELL_TOOLS = frozenset({"Bash", "run_shell_command", "shell", "exec_command", "local_shell", "BashOutput", "bash"})

PATH_KEYS = ("file_path", "path", "notebook_path", "absolute_path", "filePath", "source", "destination")


def base_name(tool: str | None) -> str:
    """``mcp__fs__read_file`` -> ``read_file``; other names unchanged."""
    if not tool:
        return ""
    if type(tool) is not str:  # a hostile line: a name of another type
        tool = str(tool)
    return tool.rsplit("__", 1)[-1] if tool.startswith("mcp__") else tool


def tool_input(event: dict) -> dict:
    data = event.get("data")
    if not isinstance(data, dict):
        return {}
    inp = data.get("tool_input")
    if inp is None:
        inp = data.get("arguments")
    return inp if isinstance(inp, dict) else {}


_PATH_KEY_SET = frozenset(PATH_KEYS)


def _paths(inp: dict) -> list[str]:
    out = [v for k, v in inp.items() if k in _PATH_KEY_SET and isinstance(v, str) and v]
    paths = inp.get("paths")
    if isinstance(paths, list):
        out += [p for p in paths if isinstance(p, str)]
    return out


_KINDS: dict = {}


def kind(tool: str | None) -> str | None:
    """``read``, ``write``, ``shell`` or ``None``."""
    k = _KINDS.get(tool, "?")
    if k != "?":
        return k
    name = base_name(tool)
    k = "write" if name in WRITE_TOOLS else "read" if name in READ_TOOLS else \
        "shell" if name in SHELL_TOOLS else None
    if len(_KINDS) < 10_000:
        _KINDS[tool] = k
    return k


def paths(event: dict) -> list[str]:
    """The file paths a call's input names (whatever the tool's kind)."""
    return _paths(tool_input(event))


def files_read(event: dict) -> list[str]:
    return _paths(tool_input(event)) if kind(event.get("tool")) == "read" else []


def files_written(event: dict) -> list[str]:
    """Files a call writes; for Codex's ``apply_patch`` (and a patch fed to
    it through the shell) the paths in the patch's headers."""
    k = kind(event.get("tool"))
    if k == "write":
        inp = tool_input(event)
        if base_name(event.get("tool")) == "apply_patch":
            from .patch_paths import patch_paths

            return patch_paths(inp.get("command") or inp.get("input") or inp.get("patch"))
        return _paths(inp)
    if k == "shell":
        cmd = command(event)
        if cmd and "*** Begin Patch" in cmd:
            from .patch_paths import patch_paths

            return patch_paths(cmd)
    return []


def command(event: dict) -> str | None:
    if kind(event.get("tool")) != "shell":
        return None
    inp = tool_input(event)
    cmd = inp.get("command") or inp.get("cmd")
    if isinstance(cmd, list):
        cmd = " ".join(str(c) for c in cmd)
    return cmd if isinstance(cmd, str) else None


def relative(path: str, cwd: str | None) -> str:
    if cwd and path.startswith(cwd.rstrip("/") + "/"):
        return path[len(cwd.rstrip("/")) + 1:]
    return path


def wire_calls(event: dict) -> list[dict]:
    """The tool calls an ``llm.response`` asked for, shaped like ``tool.call``
    events (``tool``, ``tool_use_id``, ``data.tool_input``): what a session
    captured on the wire alone (``run``, ``proxy``) knows of its tool calls."""
    data = event.get("data")
    if not isinstance(data, dict):
        return []
    msg = data.get("message") if isinstance(data.get("message"), dict) else data.get("body")
    if not isinstance(msg, dict):
        return []
    out = []
    for b in _list(msg.get("content")):  # Anthropic
        if isinstance(b, dict) and b.get("type") == "tool_use":
            out.append({"tool": b.get("name"), "tool_use_id": b.get("id"), "data": {"tool_input": b.get("input")}})
    for choice in _list(msg.get("choices")):  # OpenAI chat
        m = choice.get("message") if isinstance(choice, dict) else None
        for tc in _list(m.get("tool_calls") if isinstance(m, dict) else None):
            fn = tc.get("function") if isinstance(tc, dict) else None
            if isinstance(fn, dict):
                out.append({"tool": fn.get("name"), "tool_use_id": tc.get("id"),
                            "data": {"tool_input": _json_args(fn.get("arguments"))}})
    for item in _list(msg.get("output")):  # OpenAI Responses
        if isinstance(item, dict) and item.get("type") == "function_call":
            out.append({"tool": item.get("name"), "tool_use_id": item.get("call_id"),
                        "data": {"tool_input": _json_args(item.get("arguments"))}})
    return out


def _list(v) -> list:
    return v if isinstance(v, list) else []


def _json_args(raw):
    if isinstance(raw, str):
        import json

        try:
            return json.loads(raw)
        except ValueError:
            return {}
    return raw

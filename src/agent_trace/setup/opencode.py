"""OpenCode (1.18): a plugin that hands each event to ``agent-strace hook``.

``setup --cli opencode`` writes ``agent-strace.js`` into the project's
``.opencode/plugin/`` (or ``~/.config/opencode/plugin/`` for ``--scope
user``); OpenCode loads every file there.  The plugin translates OpenCode's
plugin hooks and bus events into the Claude Code hook vocabulary, so the
same event model and rules apply:

=====================================  ================================
OpenCode                               hook event (-> event type)
=====================================  ================================
``session.created`` (no parent)        SessionStart
``session.created`` (a child session)  SubagentStart (agent id = child)
``chat.message``                       UserPromptSubmit
``tool.execute.before``                PreToolUse: rules; a deny throws
``tool.execute.after``                 PostToolUse (successful calls)
``message.part.updated``, tool error   PostToolUseFailure
``message.updated``, finished reply    ModelResponse -> ``llm.response``
                                       (usage, once per message)
``session.compacted``                  PostCompact
``session.error``                      StopFailure
``session.idle``                       Stop (a child: SubagentStop)
plugin ``dispose``                     SessionEnd
=====================================  ================================

What a rule can do there: block a tool call before it runs (the plugin
throws; OpenCode reports the call as failed with the reason), stop (block,
then abort the session), kill (SIGTERM to OpenCode).  It cannot block a
prompt or a model call, and a call OpenCode's own permission system denies
never reaches ``tool.execute.before``.

Each event runs the hook command synchronously (``spawnSync``), in order:
nothing is lost when ``opencode run`` exits, at the cost of one short
process per event (OpenCode streams text deltas as events too; only the ones
above are forwarded).  The commands come from :mod:`.hook_command`, as for
every agent (a PATH lookup in project scope, so the file can be committed).
"""

from __future__ import annotations

import json
import os

from .hook_command import hook_command, kebab

FILE_NAME = "agent-strace.js"
MARKER = "// agent-strace plugin for OpenCode"
EVENTS = ("SessionStart", "SessionEnd", "UserPromptSubmit", "PreToolUse", "PostToolUse", "PostToolUseFailure",
          "SubagentStart", "SubagentStop", "Stop", "StopFailure", "PostCompact", "ModelResponse")


def config_dir() -> str:
    base = os.environ.get("XDG_CONFIG_HOME") or os.path.join(os.path.expanduser("~"), ".config")
    return os.path.join(base, "opencode")


def plugin_path(scope: str, project: str) -> str:
    base = config_dir() if scope == "user" else os.path.join(project, ".opencode")
    return os.path.join(base, "plugin", FILE_NAME)


def plugin_source(python: str | None = None, portable: bool = False) -> str:
    commands = {e: hook_command(kebab(e), "opencode", python, portable) for e in EVENTS}
    return PLUGIN.replace("__COMMANDS__", json.dumps(commands, indent=2, ensure_ascii=False))


def is_ours(text: str | None) -> bool:
    return isinstance(text, str) and text.startswith(MARKER)


PLUGIN = MARKER + """ (written by `agent-strace setup --cli opencode`;
// `agent-strace setup --cli opencode --uninstall` removes it).  Each event goes to
// `agent-strace hook --cli opencode EVENT` as JSON on stdin, synchronously and in order.
import { spawnSync } from "node:child_process";

const COMMANDS = __COMMANDS__;

export const AgentStrace = async ({ client, directory }) => {
  const parents = new Map();  // child session -> parent session
  const usageSent = new Set();  // assistant messages whose usage was recorded
  const failed = new Set();  // tool calls recorded as failed
  const sessions = new Set();
  const root = (id) => { let s = id; for (let i = 0; i < 32 && parents.has(s); i++) s = parents.get(s); return s; };

  function send(event, sessionID, fields) {
    const cmd = COMMANDS[event];
    if (!cmd || !sessionID) return null;
    const top = root(sessionID);
    const payload = { ...fields, hook_event_name: event, session_id: top, cwd: directory,
                      timestamp: new Date().toISOString() };
    if (top !== sessionID && payload.agent_id === undefined) payload.agent_id = sessionID;
    const r = spawnSync("/bin/sh", ["-c", cmd], { input: JSON.stringify(payload), encoding: "utf8",
                                                  timeout: 30000, maxBuffer: 1 << 20 });
    if (r.stderr) process.stderr.write(r.stderr);
    return r;
  }

  function decision(r) {
    if (!r) return null;
    const denied = (why) => ({ deny: true, reason: "agent-strace: " + why + ": call denied" });
    if (r.error || r.status === null) return denied("the hook did not run (" + (r.error || r.signal) + ")");
    if (r.status === 2) return { deny: true, reason: (r.stderr || "").trim() || "agent-strace: call denied" };
    const text = (r.stdout || "").trim();
    if (!text) return null;
    let out;
    try { out = JSON.parse(text); } catch (e) { return denied("unreadable answer"); }
    const spec = out.hookSpecificOutput || {};
    if (out.systemMessage) process.stderr.write(out.systemMessage + "\\n");
    if (spec.permissionDecision === "deny") {
      return { deny: true, stop: out.continue === false, reason: spec.permissionDecisionReason };
    }
    return null;
  }

  return {
    event: async ({ event }) => {
      const p = event.properties || {};
      switch (event.type) {
        case "session.created": {
          const info = p.info || {};
          sessions.add(info.id);
          if (info.parentID) {
            parents.set(info.id, info.parentID);
            send("SubagentStart", info.id, { agent_id: info.id, agent_type: info.title, session: info });
          } else {
            send("SessionStart", info.id, { source: "startup", session: info });
          }
          break;
        }
        case "session.idle":
          if (parents.has(p.sessionID)) send("SubagentStop", p.sessionID, { agent_id: p.sessionID });
          else send("Stop", p.sessionID, {});
          break;
        case "session.compacted":
          send("PostCompact", p.sessionID, { trigger: "auto" });
          break;
        case "session.error":
          if (p.sessionID) send("StopFailure", p.sessionID, { error: p.error });
          break;
        case "message.updated": {
          const m = p.info || {};
          if (m.role === "assistant" && m.time && m.time.completed && m.tokens && !usageSent.has(m.id)) {
            usageSent.add(m.id);
            send("ModelResponse", m.sessionID, { message: m });
          }
          break;
        }
        case "message.part.updated": {
          const part = p.part || {};
          if (part.type === "tool" && part.state && part.state.status === "error" && !failed.has(part.callID)) {
            failed.add(part.callID);
            send("PostToolUseFailure", part.sessionID, { tool_name: part.tool, tool_use_id: part.callID,
                                                        tool_input: part.state.input, error: part.state.error });
          }
          break;
        }
      }
    },
    "chat.message": async (input, output) => {
      const text = (output.parts || []).filter((x) => x.type === "text" && !x.synthetic).map((x) => x.text).join("\\n");
      send("UserPromptSubmit", input.sessionID, { prompt: text, prompt_id: input.messageID || (output.message || {}).id,
                                                  agent: input.agent, model: input.model });
    },
    "tool.execute.before": async (input, output) => {
      const d = decision(send("PreToolUse", input.sessionID, { tool_name: input.tool, tool_use_id: input.callID,
                                                               tool_input: output.args }));
      if (d && d.deny) {
        if (d.stop) {
          try {
            await client.session.abort({ path: { id: root(input.sessionID) } });
          } catch (e) { /* the throw below still blocks the call */ }
        }
        throw new Error(d.reason);
      }
    },
    "tool.execute.after": async (input, output) => {
      send("PostToolUse", input.sessionID, { tool_name: input.tool, tool_use_id: input.callID, tool_input: input.args,
                                             tool_response: { title: output.title, output: output.output,
                                                              metadata: output.metadata } });
    },
    dispose: async () => {
      for (const s of sessions) if (!parents.has(s)) send("SessionEnd", s, { reason: "exit" });
    },
  };
};
"""

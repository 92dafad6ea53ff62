// Text for the status bar, the tree and the event list; the event line
// follows `agent-strace replay` (strace style).

import { AgentEvent } from "./events";
import { Totals } from "./live";

const ARG_KEYS = ["file_path", "path", "command", "pattern", "url", "query", "prompt", "description",
  "notebook_path", "text", "name", "uri"];

export function cut(text: string, n: number): string {
  const t = String(text).replace(/\s+/g, " ").trim();
  return t.length <= n ? t : t.slice(0, n - 3) + "...";
}

export function toolArg(e: AgentEvent, cwd?: string): string {
  const d = e.data || {};
  const inp = d.tool_input ?? d.arguments ?? d.params?.arguments;
  if (inp && typeof inp === "object") {
    for (const k of ARG_KEYS) {
      let v = inp[k];
      if (typeof v === "string" && v) {
        if (cwd && k.endsWith("path") && v.startsWith(cwd.replace(/\/$/, "") + "/")) v = v.slice(cwd.replace(/\/$/, "").length + 1);
        return cut(v, 60);
      }
    }
    const ks = Object.keys(inp);
    if (ks.length) {
      const v = inp[ks[0]];
      return cut(`${ks[0]}=${typeof v === "string" ? v : JSON.stringify(v)}`, 60);
    }
  }
  return "";
}

export function errorText(e: AgentEvent): string {
  const err = e.error;
  const msg = err && typeof err === "object" ? err.message || "" : String(err || "");
  const lines = msg.split("\n").filter((x) => x.trim());
  if (lines.length && lines[0].startsWith("Exit code ")) {
    const code = lines[0].slice(10).trim();
    let detail = lines.length > 1 ? lines[lines.length - 1] : "";
    if (detail.includes(": ")) detail = detail.split(": ").pop()!;
    return detail ? `exit ${code}: ${cut(detail, 80)}` : `exit ${code}`;
  }
  return cut(lines[0] || "error", 100);
}

export type EventClass = "tool" | "error" | "decision" | "llm" | "prompt" | "other";

export interface EventLine { id: string; ts: string; at: string; cls: EventClass; text: string; type: string; agent?: string; }

/** One line per event, the text `agent-strace replay` prints for it (the
 *  CLI's render/strace.py; tests/test_vscode_extension.py checks they agree).
 *  ``call`` is the tool call a result or decision answers.  A tool call
 *  itself has no line: it is shown with its result, as in replay. */
export function eventLine(e: AgentEvent, cwd?: string, call?: AgentEvent): EventLine | null {
  const base = { id: e.id, ts: (e.ts || "").slice(11, 23), at: e.ts || "", type: e.type, agent: e.agent_id };
  const ms = typeof e.duration_ms === "number" ? ` ${humanDuration(e.duration_ms / 1000)}` : "";
  const d = e.data || {};
  switch (e.type) {
    case "tool.call":
      return e.tool_use_id ? null : { ...base, cls: "tool", text: `${e.tool || "?"}(${toolArg(e, cwd)}) = ?` };
    case "tool.result":
    case "tool.error": {
      const failed = e.type === "tool.error" || e.status === "error";
      const arg = (call ? toolArg(call, cwd) : "") || toolArg(e, cwd);
      return { ...base, cls: failed ? "error" : "tool",
        text: `${e.tool || call?.tool || "?"}(${arg}) = ${failed ? `ERROR (${errorText(e)})` : "ok"}${ms}` };
    }
    case "rule.decision": {
      const reason = d.reason ? ` (${cut(d.reason, 80)})` : "";
      const status = String(e.status || "?").toUpperCase();
      if (call && status !== "WARNED") {
        return { ...base, cls: "decision", text: `${call.tool || "?"}(${toolArg(call, cwd)}) = ${status} by ${e.name}${reason}` };
      }
      return { ...base, cls: "decision", text: `rule(${e.name}) = ${status}${reason}` };
    }
    case "postmortem":
      return { ...base, cls: "decision", text: `postmortem(${e.name}) = ${d.action || "?"}` };
    case "llm.response": {
      const u = e.usage || {};
      return { ...base, cls: e.status === "error" ? "error" : "llm",
        text: `llm(${e.model || "?"}) = ${d.stop_reason || e.status || "ok"} [in=${u.input || 0} out=${u.output || 0} cache_r=${u.cache_read || 0}]` };
    }
    case "user.prompt":
      return { ...base, cls: "prompt", text: `prompt("${cut(typeof d.prompt === "string" ? d.prompt : "", 60)}")` };
    case "subagent.start":
    case "subagent.stop":
      return { ...base, cls: "other",
        text: `subagent_${e.type === "subagent.start" ? "start" : "stop"}(${e.agent_type || ""}) = ${e.agent_id || "?"}` };
    case "session.start":
      return { ...base, cls: "other", text: `session_start(${e.session})` };
    case "session.end":
      return { ...base, cls: "other", text: `session_end(${d.reason || ""})` };
    case "turn.end":
      return { ...base, cls: "other", text: `turn_end() = ${e.status || "ok"}` };
    case "mcp.message":
      return { ...base, cls: "other", text: `mcp ${e.direction || ""} ${e.method || ""} id=${e.rpc_id}` };
    default:
      return { ...base, cls: "other", text: `${e.type}(${e.name || ""})` };
  }
}

export function money(c: number | null | undefined): string {
  if (c === null || c === undefined) return "$?";
  return "$" + c.toFixed(c >= 1 ? 2 : 4);
}

export function compact(n: number): string {
  if (n >= 1e6) return (n / 1e6).toFixed(1) + "M";
  if (n >= 1e4) return Math.round(n / 1e3) + "k";
  if (n >= 1e3) return (n / 1e3).toFixed(1) + "k";
  return String(n);
}

export function statusText(t: Totals, current: string | null, paused: boolean): string {
  const tok = t.tokens.input + t.tokens.output + t.tokens.cache_read + t.tokens.cache_write;
  const parts = [`$(pulse) ${money(t.cost_usd)}`, `${compact(tok)} tok`, `${t.tool_calls} tools`];
  if (t.tool_errors) parts.push(`${t.tool_errors} err`);
  if (paused) parts.push("$(debug-pause) paused");
  else if (current) parts.push(`$(sync~spin) ${current}`);
  return parts.join(" · ");
}

export function statusTooltip(session: string | null, t: Totals, current: string | null, lastRule: AgentEvent | null): string {
  const lines = [`agent-strace: session ${session || "-"}`,
    `${t.tool_calls} tool calls, ${t.tool_errors} errors, ${t.llm_calls} LLM calls`,
    `tokens: in ${t.tokens.input}, out ${t.tokens.output}, cache read ${t.tokens.cache_read}, cache write ${t.tokens.cache_write}`,
    `cost: ${money(t.cost_usd)} (from real usage, as \`agent-strace inspect\` shows)`];
  if (current) lines.push(`running now: ${current}`);
  if (t.live?.budget?.usd != null) lines.push(`budget: ${money(t.live.budget.spent_usd)} of ${money(t.live.budget.usd)} (live, from the agent-strace daemon)`);
  if (t.live?.recovered) lines.push(`${t.live.recovered} events recovered from the transcript after the daemon missed them`);
  if (lastRule) lines.push(`rule fired: ${lastRule.name} = ${lastRule.status}${lastRule.data?.reason ? ` (${lastRule.data.reason})` : ""}`);
  lines.push("Click to open the event stream.");
  return lines.join("\n");
}

/** The one duration format (the CLI's event/timefmt.py human_duration and the
 * dashboard's fmtDur are the same, checked against tests/fixtures/durations.json). */
export function humanDuration(s: number | null | undefined): string {
  if (s === null || s === undefined) return "-";
  if (s < 0) s = 0;
  const ms = Math.floor(s * 1000 + 0.5);
  if (ms < 1000) return ms + "ms";
  const tenths = Math.floor(s * 10 + 0.5);
  if (tenths < 600) return Math.floor(tenths / 10) + "." + (tenths % 10) + "s";
  const whole = Math.max(Math.floor(s), 60), m = Math.floor(whole / 60), sec = whole % 60;
  if (m < 60) return m + "m" + String(sec).padStart(2, "0") + "s";
  return Math.floor(m / 60) + "h" + String(m % 60).padStart(2, "0") + "m";
}

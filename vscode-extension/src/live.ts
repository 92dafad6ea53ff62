// What the extension keeps about the live session, updated one event at a
// time (never by re-reading the file): the tool running now, rule decisions,
// recent events for the panel, and file marks.  Totals (tool calls, tokens,
// cost) come from the CLI's shared summary so they equal `agent-strace
// inspect`; `counts` here are the fallback when the CLI is missing.

import { AgentEvent } from "./events";
import { FileMarks } from "./marks";

export const RECENT = 2000;

export interface Totals {
  tool_calls: number;
  tool_errors: number;
  llm_calls: number;
  tokens: { input: number; output: number; cache_read: number; cache_write: number };
  cost_usd: number | null;
  decisions: Record<string, number>;
  // from the agent-strace daemon, when it runs (`inspect --json` "live")
  live?: { hooks: number; budget?: { usd: number | null; spent_usd: number }; recovered?: number };
}

export class LiveState {
  session: string | null = null;
  cwd: string | undefined;
  running = new Map<string, string>(); // tool_use_id -> tool
  lastDecision: AgentEvent | null = null;
  recent: AgentEvent[] = [];
  marks = new FileMarks();
  counts: Totals = emptyTotals();
  seen = 0;
  private llmIds = new Set<string>(); // the same response seen twice (wire + transcript) counts once

  add(e: AgentEvent): void {
    if (e.type === "llm.response") {
      if (this.llmIds.has(e.id)) return;
      this.llmIds.add(e.id);
      if (this.llmIds.size > 4096) this.llmIds.delete(this.llmIds.values().next().value as string);
    }
    this.seen++;
    if (!this.session) this.session = e.session;
    if (e.type === "session.start" && e.data && typeof e.data.cwd === "string") this.cwd = e.data.cwd;
    this.recent.push(e);
    if (this.recent.length > RECENT * 1.5) this.recent = this.recent.slice(-RECENT);
    switch (e.type) {
      case "tool.call":
        this.counts.tool_calls++;
        if (e.tool_use_id) this.running.set(e.tool_use_id, e.tool || "?");
        break;
      case "tool.result":
      case "tool.error":
        if (e.tool_use_id) this.running.delete(e.tool_use_id);
        if (e.type === "tool.error" || e.status === "error") this.counts.tool_errors++;
        break;
      case "rule.decision":
        if (e.tool_use_id && e.status !== "warned") this.running.delete(e.tool_use_id);
        if (e.status && e.status !== "allowed") {
          this.lastDecision = e;
          this.counts.decisions[e.status] = (this.counts.decisions[e.status] || 0) + 1;
        }
        break;
      case "llm.response":
        this.counts.llm_calls++;
        for (const k of ["input", "output", "cache_read", "cache_write"] as const) {
          const n = e.usage?.[k];
          if (typeof n === "number") this.counts.tokens[k] += n;
        }
        break;
      case "session.end":
      case "turn.end":
        this.running.clear();
        break;
    }
    this.marks.add(e, this.cwd);
  }

  /** The tool running now (the most recent call without a result). */
  get current(): string | null {
    let last: string | null = null;
    for (const t of this.running.values()) last = t;
    return last;
  }

  get ruleFired(): boolean { return this.lastDecision !== null; }
}

export function emptyTotals(): Totals {
  return { tool_calls: 0, tool_errors: 0, llm_calls: 0, tokens: { input: 0, output: 0, cache_read: 0, cache_write: 0 },
    cost_usd: null, decisions: {} };
}

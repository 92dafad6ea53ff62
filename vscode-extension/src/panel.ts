// The event stream: a webview listing events live, filterable by kind and
// text; a click shows the event's inputs, result, error or usage.

import * as vscode from "vscode";
import { AgentEvent } from "./events";
import { eventLine, EventLine } from "./format";

const DETAIL_CAP = 8000;

function detail(e: AgentEvent): string {
  const d = e.data || {};
  const parts: Record<string, unknown> = {};
  if (d.tool_input !== undefined) parts.input = d.tool_input;
  if (d.tool_response !== undefined) parts.result = d.tool_response;
  if (e.error) parts.error = e.error;
  if (e.usage) parts.usage = e.usage;
  if (e.type === "rule.decision") parts.decision = d;
  const text = JSON.stringify(Object.keys(parts).length ? parts : e, null, 2);
  return text.length > DETAIL_CAP ? text.slice(0, DETAIL_CAP) + `\n... (${text.length - DETAIL_CAP} more characters)` : text;
}

export class EventPanel {
  private panel: vscode.WebviewPanel | null = null;
  private session: string | null = null;
  private calls = new Map<string, AgentEvent>(); // tool_use_id -> call, to name a result's argument

  constructor(private onDispose?: () => void) {}

  get visible(): boolean { return this.panel !== null; }
  get sessionId(): string | null { return this.session; }

  show(session: string, events: AgentEvent[], cwd?: string): void {
    if (!this.panel) {
      this.panel = vscode.window.createWebviewPanel("agentStrace.events", "agent-strace: events",
        { viewColumn: vscode.ViewColumn.Beside, preserveFocus: true }, { enableScripts: true, retainContextWhenHidden: true });
      this.panel.webview.html = html(this.panel.webview.cspSource);
      this.panel.onDidDispose(() => { this.panel = null; this.onDispose?.(); });
    }
    this.session = session;
    this.panel.title = `agent-strace: ${session.slice(0, 12)}`;
    this.panel.reveal(undefined, true);
    this.post({ type: "reset", session }, events, cwd);
  }

  append(events: AgentEvent[], cwd?: string): void {
    if (this.panel) this.post({ type: "append" }, events, cwd);
  }

  private post(head: Record<string, unknown>, events: AgentEvent[], cwd?: string): void {
    const lines: (EventLine & { detail: string })[] = [];
    if (head.type === "reset") this.calls.clear();
    for (const e of events) {
      if (e.type === "tool.call" && e.tool_use_id) {
        this.calls.set(e.tool_use_id, e);
        if (this.calls.size > 5000) this.calls.delete(this.calls.keys().next().value as string);
      }
      const l = eventLine(e, cwd, e.tool_use_id ? this.calls.get(e.tool_use_id) : undefined);
      if (l) lines.push({ ...l, detail: detail(e) });
    }
    void this.panel?.webview.postMessage({ ...head, lines });
  }

  dispose(): void { this.panel?.dispose(); }
}

function html(csp: string): string {
  const nonce = Math.random().toString(36).slice(2) + Date.now().toString(36);
  return `<!doctype html><html><head><meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src ${csp} 'unsafe-inline'; script-src 'nonce-${nonce}';">
<style>
body { font-family: var(--vscode-editor-font-family); font-size: var(--vscode-editor-font-size); padding: 0 .5rem; }
.bar { position: sticky; top: 0; z-index: 1; background-color: var(--vscode-editor-background, #fff); padding: .4rem 0; display: flex; gap: .3rem; flex-wrap: wrap; }
button { background: var(--vscode-button-secondaryBackground); color: var(--vscode-button-secondaryForeground); border: 0; padding: .15rem .5rem; cursor: pointer; }
button.on { background: var(--vscode-button-background); color: var(--vscode-button-foreground); }
input { background: var(--vscode-input-background); color: var(--vscode-input-foreground); border: 1px solid var(--vscode-input-border, transparent); }
.ev { white-space: pre-wrap; word-break: break-all; padding: 1px 2px; cursor: pointer; }
.ev .t { opacity: .6; margin-right: .5rem; }
.ev.sub { padding-left: 1.5rem; }
.ev.error { color: var(--vscode-errorForeground); }
.ev.decision { color: var(--vscode-editorWarning-foreground); font-weight: bold; }
.ev.llm { opacity: .85; }
pre { margin: 2px 0 6px 1.5rem; padding: 4px; background: var(--vscode-textCodeBlock-background); white-space: pre-wrap; word-break: break-all; }
#count { opacity: .7; margin-left: auto; }
</style></head><body>
<div class="bar"><button data-f="all" class="on">all</button><button data-f="tool">tools</button><button data-f="error">errors</button>
<button data-f="decision">decisions</button><button data-f="llm">LLM</button><input id="q" placeholder="filter" size="18"><span id="count"></span></div>
<div id="list"></div>
<script nonce="${nonce}">
const list = document.getElementById("list");
let filter = "all", q = "", total = 0;
function visible(row) {
  const okCls = filter === "all" || row.dataset.cls === filter || (filter === "tool" && row.dataset.cls === "error" && row.dataset.type.startsWith("tool"));
  return okCls && (!q || row.textContent.toLowerCase().includes(q));
}
function apply() { for (const r of list.children) if (r.classList.contains("ev")) { r.hidden = !visible(r); if (r.hidden && r.nextSibling && r.nextSibling.tagName === "PRE") r.nextSibling.remove(); } }
// In the order events happened (by ts, arrival order breaking ties): LLM
// turns imported at the end of a turn slot in before the calls they caused.
function place(row) {
  let before = null;
  for (let n = list.lastElementChild; n; n = n.previousElementSibling) {
    if (!n.classList.contains("ev")) continue;
    if (!(n.dataset.at > row.dataset.at)) break;
    before = n;
  }
  if (before) list.insertBefore(row, before); else list.append(row);
}
function add(lines) {
  for (const l of lines) {
    const row = document.createElement("div");
    row.className = "ev " + l.cls + (l.agent ? " sub" : "");
    row.dataset.cls = l.cls; row.dataset.type = l.type; row.dataset.at = l.at;
    const t = document.createElement("span"); t.className = "t"; t.textContent = l.ts;
    row.append(t, (l.agent ? "[" + l.agent.slice(0, 8) + "] " : "") + l.text);
    row.addEventListener("click", () => {
      const next = row.nextSibling;
      if (next && next.tagName === "PRE") { next.remove(); return; }
      const pre = document.createElement("pre"); pre.textContent = l.detail; row.after(pre);
    });
    row.hidden = !visible(row);
    place(row);
  }
  total += lines.length;
  document.getElementById("count").textContent = total + " events";
}
window.addEventListener("message", (m) => {
  const msg = m.data;
  if (msg.type === "reset") { list.replaceChildren(); total = 0; }
  add(msg.lines);
  if (msg.type === "append") window.scrollTo(0, document.body.scrollHeight);
});
for (const b of document.querySelectorAll("button[data-f]")) b.addEventListener("click", () => {
  filter = b.dataset.f; for (const x of document.querySelectorAll("button[data-f]")) x.classList.toggle("on", x === b); apply();
});
document.getElementById("q").addEventListener("input", (e) => { q = e.target.value.toLowerCase(); apply(); });
</script></body></html>`;
}

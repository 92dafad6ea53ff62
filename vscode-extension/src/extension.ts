// agent-strace for VS Code: wiring.  The store is followed by one FileTail
// on the live session (fs.watch: no work when nothing changes); totals come
// from the CLI's shared summary (`inspect --json`, incremental, throttled);
// pause/resume go through the CLI (the flag files the PreToolUse hook honours).

import * as fs from "fs";
import * as path from "path";
import * as vscode from "vscode";
import { Cli } from "./cli";
import { AgentEvent, parseLine, ReadCounts } from "./events";
import { emptyTotals, LiveState, Totals } from "./live";
import { decorationRanges, hoverText, Mark } from "./marks";
import { statusText, statusTooltip } from "./format";
import { EventPanel } from "./panel";
import { SessionsProvider } from "./sessions";
import { FileTail, newestSession } from "./tail";

const STATUS_MS = 200;
const TOTALS_MS = 1000;

export class Controller implements vscode.Disposable {
  status: vscode.StatusBarItem;
  live = new LiveState();
  counts: ReadCounts = { events: 0, corrupt: 0, newer: 0 };
  totals: Totals | null = null;
  totalsError: string | null = null;
  tail: FileTail | null = null;
  livePath: string | null = null;
  paused = false;
  panel: EventPanel;
  sessions: SessionsProvider;
  private decoRead: vscode.TextEditorDecorationType;
  private decoChanged: vscode.TextEditorDecorationType;
  private dirWatcher: fs.FSWatcher | null = null;
  private statusTimer: NodeJS.Timeout | null = null;
  private totalsTimer: NodeJS.Timeout | null = null;
  private disposables: vscode.Disposable[] = [];
  private treeRefreshed = 0;

  constructor(private context: vscode.ExtensionContext) {
    this.status = vscode.window.createStatusBarItem("agentStrace.status", vscode.StatusBarAlignment.Left, 100);
    this.status.name = "agent-strace";
    this.status.command = "agentStrace.showEvents";
    const media = (n: string) => vscode.Uri.file(context.asAbsolutePath(path.join("media", n)));
    this.decoRead = vscode.window.createTextEditorDecorationType({
      gutterIconPath: media("read.svg"), gutterIconSize: "70%", overviewRulerColor: "#3b82f6",
      overviewRulerLane: vscode.OverviewRulerLane.Left,
      after: { color: new vscode.ThemeColor("editorCodeLens.foreground"), margin: "0 0 0 2em" },
    });
    this.decoChanged = vscode.window.createTextEditorDecorationType({
      gutterIconPath: media("changed.svg"), gutterIconSize: "70%", overviewRulerColor: "#f59e0b",
      overviewRulerLane: vscode.OverviewRulerLane.Left, isWholeLine: true,
      backgroundColor: "rgba(245, 158, 11, 0.08)",
      after: { color: new vscode.ThemeColor("editorCodeLens.foreground"), margin: "0 0 0 2em" },
    });
    this.panel = new EventPanel();
    this.sessions = new SessionsProvider(() => this.cli());
  }

  // -- configuration ------------------------------------------------------
  storeRoot(): string | null {
    const configured = vscode.workspace.getConfiguration("agentStrace").get<string>("traceDir");
    if (configured) return configured;
    const folder = vscode.workspace.workspaceFolders?.[0];
    return folder ? path.join(folder.uri.fsPath, ".agent-traces") : null;
  }

  cli(): Cli | null {
    const root = this.storeRoot();
    if (!root) return null;
    return new Cli(vscode.workspace.getConfiguration("agentStrace").get<string>("cli") || "agent-strace", root);
  }

  // -- lifecycle ----------------------------------------------------------
  start(): void {
    const reg = (id: string, fn: (...a: any[]) => any) => this.disposables.push(vscode.commands.registerCommand(id, fn));
    reg("agentStrace.showEvents", () => this.showEvents());
    reg("agentStrace.openSession", (id: string) => this.openSession(id));
    reg("agentStrace.pause", () => this.setPaused(true));
    reg("agentStrace.resume", () => this.setPaused(false));
    reg("agentStrace.refresh", () => this.sessions.refresh());
    this.disposables.push(vscode.window.registerTreeDataProvider("agentStrace.sessions", this.sessions));
    this.disposables.push(vscode.window.onDidChangeVisibleTextEditors(() => this.decorate()));
    this.disposables.push(vscode.workspace.onDidChangeConfiguration((e) => {
      if (e.affectsConfiguration("agentStrace")) this.watchStore();
    }));
    this.watchStore();
  }

  private watchStore(): void {
    this.dirWatcher?.close();
    this.dirWatcher = null;
    const root = this.storeRoot();
    const dir = root ? path.join(root, "sessions") : null;
    if (!dir || !fs.existsSync(dir)) {
      this.status.text = "$(pulse) agent-strace: no sessions";
      this.status.tooltip = `No agent-strace store at ${root ?? "(no workspace)"}: run \`agent-strace setup\` and start your agent.`;
      this.status.show();
      return;
    }
    try {
      this.dirWatcher = fs.watch(dir, { persistent: false }, (_evt, name) => this.onDirChange(dir, name ? String(name) : null));
    } catch { /* the tail still works on the current file */ }
    const newest = newestSession(dir);
    if (newest) void this.follow(newest);
    void this.sessions.refresh();
  }

  private onDirChange(dir: string, name: string | null): void {
    if (!name || !name.endsWith(".jsonl")) return;
    const full = path.join(dir, name);
    if (full === this.livePath) { void this.tail?.poll(); return; }
    // another session was written to: it is the live one now
    if (fs.existsSync(full)) { void this.follow(full); void this.sessions.refresh(); }
  }

  async follow(file: string): Promise<void> {
    if (file === this.livePath) return;
    this.tail?.close();
    this.livePath = file;
    this.live = new LiveState();
    this.totals = null;
    const tail = new FileTail(file, (lines) => this.onLines(lines));
    this.tail = tail;
    await tail.start(true);
    this.scheduleTotals(0);
    this.scheduleStatus();
    if (this.panel.visible) this.panel.show(this.live.session || path.basename(file, ".jsonl"), this.live.recent, this.live.cwd);
  }

  private onLines(lines: string[]): void {
    const fresh: AgentEvent[] = [];
    for (const line of lines) {
      const e = parseLine(line, this.counts);
      if (!e) continue;
      this.live.add(e);
      fresh.push(e);
    }
    if (!fresh.length) return;
    if (this.panel.visible && this.panel.sessionId === this.live.session) this.panel.append(fresh, this.live.cwd);
    this.scheduleStatus();
    this.scheduleTotals(TOTALS_MS);
  }

  // -- status bar ---------------------------------------------------------
  private scheduleStatus(): void {
    if (this.statusTimer) return;
    this.statusTimer = setTimeout(() => {
      this.statusTimer = null;
      this.updateStatus();
      this.decorate();
    }, STATUS_MS);
  }

  private scheduleTotals(delay: number): void {
    if (this.totalsTimer) return;
    this.totalsTimer = setTimeout(async () => {
      this.totalsTimer = null;
      const cli = this.cli();
      const session = this.live.session;
      if (!cli || !session) return;
      try {
        const s = await cli.inspect(session);
        this.totals = { tool_calls: s.tool_calls, tool_errors: s.tool_errors, llm_calls: s.llm_calls,
          tokens: s.tokens, cost_usd: s.cost_usd, decisions: s.decisions || {}, live: s.live };
        this.totalsError = null;
        if (Date.now() - this.treeRefreshed > 5000) { // the tree's row for the live session, too
          this.treeRefreshed = Date.now();
          void this.sessions.refresh();
        }
      } catch (e) {
        this.totalsError = (e as Error).message;
      }
      this.updateStatus();
    }, delay);
  }

  isPaused(): boolean {
    const root = this.storeRoot();
    const s = this.live.session;
    if (!root) return false;
    const d = path.join(root, "control");
    return fs.existsSync(path.join(d, "paused")) || (!!s && fs.existsSync(path.join(d, `paused-${s}`)));
  }

  updateStatus(): void {
    this.paused = this.isPaused();
    void vscode.commands.executeCommand("setContext", "agentStrace.paused", this.paused);
    const t = this.totals ?? { ...this.live.counts, cost_usd: null };
    this.status.text = statusText(t, this.live.current, this.paused);
    let tip = statusTooltip(this.live.session, t, this.live.current, this.live.lastDecision);
    if (!this.totals && this.totalsError) tip += `\n(summary from the CLI unavailable: ${this.totalsError})`;
    this.status.tooltip = tip;
    const stopped = t.decisions && (t.decisions.stopped || t.decisions.killed);
    this.status.backgroundColor = stopped ? new vscode.ThemeColor("statusBarItem.errorBackground")
      : this.live.ruleFired || this.paused ? new vscode.ThemeColor("statusBarItem.warningBackground") : undefined;
    this.status.show();
  }

  // -- gutter and inline marks -------------------------------------------
  decorate(): void {
    for (const editor of vscode.window.visibleTextEditors) {
      const marks = this.live.marks.get(editor.document.uri.fsPath);
      const text = editor.document.getText();
      const read: vscode.DecorationOptions[] = [];
      const changed: vscode.DecorationOptions[] = [];
      const hover = new vscode.MarkdownString(hoverText(marks).replace(/\n\n/g, "  \n"));
      const lastOf = (kind: string) => [...marks].reverse().find((m) => m.access === kind);
      for (const [kind, out] of [["read", read], ["changed", changed]] as [string, vscode.DecorationOptions[]][]) {
        const last: Mark | undefined = lastOf(kind);
        if (!last) continue;
        const ranges = kind === "changed"
          ? marks.filter((m) => m.access === "changed").flatMap((m) => decorationRanges(text, m))
          : [{ start: 0, end: 0 }];
        ranges.forEach((r, i) => {
          const end = Math.min(r.end, Math.max(0, editor.document.lineCount - 1));
          const range = new vscode.Range(r.start, 0, end, editor.document.lineAt(end).text.length);
          const opt: vscode.DecorationOptions = { range, hoverMessage: hover };
          if (i === 0 && r.start === 0 || (i === 0 && kind === "changed")) {
            opt.renderOptions = { after: { contentText: `  ${kind} by ${last.tool} ${last.ts.slice(11, 19)}` } };
          }
          out.push(opt);
        });
      }
      editor.setDecorations(this.decoRead, read);
      editor.setDecorations(this.decoChanged, changed);
    }
  }

  // -- commands -----------------------------------------------------------
  showEvents(): void {
    if (!this.live.session) {
      void vscode.window.showInformationMessage("agent-strace: no session recorded in this workspace yet.");
      return;
    }
    this.panel.show(this.live.session, this.live.recent, this.live.cwd);
  }

  async openSession(id: string): Promise<void> {
    if (id === this.live.session) return this.showEvents();
    const root = this.storeRoot();
    if (!root) return;
    const file = path.join(root, "sessions", `${id}.jsonl`);
    const state = new LiveState();
    const tail = new FileTail(file, (lines) => { for (const l of lines) { const e = parseLine(l); if (e) state.add(e); } });
    await tail.start(false);
    tail.close();
    this.panel.show(id, state.recent, state.cwd);
  }

  async setPaused(paused: boolean): Promise<void> {
    const cli = this.cli();
    const session = this.live.session;
    if (!cli || !session) return;
    try {
      await (paused ? cli.pause(session) : cli.resume(session));
    } catch (e) {
      void vscode.window.showErrorMessage(`agent-strace: ${(e as Error).message}`);
      return;
    }
    this.updateStatus();
    void vscode.window.showInformationMessage(paused
      ? "agent-strace: the agent will wait at its next tool call."
      : "agent-strace: the agent may go on.");
  }

  /** For integration tests and other extensions. */
  snapshot() {
    return { session: this.live.session, file: this.livePath, events: this.live.seen, statusText: this.status.text,
      totals: this.totals, paused: this.paused, marks: [...this.live.marks.byPath.keys()] };
  }

  dispose(): void {
    this.tail?.close();
    this.dirWatcher?.close();
    if (this.statusTimer) clearTimeout(this.statusTimer);
    if (this.totalsTimer) clearTimeout(this.totalsTimer);
    this.panel.dispose();
    this.status.dispose();
    this.decoRead.dispose();
    this.decoChanged.dispose();
    for (const d of this.disposables) d.dispose();
  }
}

export function activate(context: vscode.ExtensionContext) {
  const controller = new Controller(context);
  context.subscriptions.push(controller);
  controller.start();
  return { snapshot: () => controller.snapshot() };
}

export function deactivate(): void { /* disposed through the context */ }

export { emptyTotals };

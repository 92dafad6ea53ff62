// The session browser: past and current sessions with their summaries (from
// `agent-strace list --json`), subagents as children.

import * as vscode from "vscode";
import { Cli } from "./cli";
import { money } from "./format";

type Node = { kind: "session"; row: any } | { kind: "subagent"; id: string; session: string };

export class SessionsProvider implements vscode.TreeDataProvider<Node> {
  private changed = new vscode.EventEmitter<Node | undefined>();
  readonly onDidChangeTreeData = this.changed.event;
  rows: any[] = [];
  error: string | null = null;

  constructor(private cli: () => Cli | null) {}

  async refresh(): Promise<void> {
    const cli = this.cli();
    if (!cli) return;
    try {
      this.rows = await cli.list();
      this.error = null;
    } catch (e) {
      this.error = (e as Error).message;
    }
    this.changed.fire(undefined);
  }

  getTreeItem(n: Node): vscode.TreeItem {
    if (n.kind === "subagent") {
      const item = new vscode.TreeItem(`subagent ${n.id.slice(0, 12)}`);
      item.iconPath = new vscode.ThemeIcon("person");
      return item;
    }
    const r = n.row;
    const item = new vscode.TreeItem(r.title ? String(r.title).slice(0, 60) : r.session,
      (r.subagents || []).length ? vscode.TreeItemCollapsibleState.Collapsed : vscode.TreeItemCollapsibleState.None);
    item.description = `${r.tool_calls} tools · ${r.tool_errors} err · ${money(r.cost_usd)}`;
    item.tooltip = `${r.session}\n${r.agent || "?"} · ${r.events} events · ${r.llm_calls} LLM calls\n` +
      `started ${r.started || "-"}${r.ended ? "" : " (still open)"}${r.last_error ? `\nlast error: ${r.last_error}` : ""}`;
    item.iconPath = new vscode.ThemeIcon(r.tool_errors ? "warning" : r.ended ? "pass" : "pulse");
    item.contextValue = "session";
    item.command = { command: "agentStrace.openSession", title: "Open", arguments: [r.session] };
    return item;
  }

  getChildren(n?: Node): Node[] {
    if (!n) {
      if (this.error) return [];
      return this.rows.map((row) => ({ kind: "session", row }));
    }
    if (n.kind === "session") return (n.row.subagents || []).map((id: string) => ({ kind: "subagent", id, session: n.row.session }));
    return [];
  }
}

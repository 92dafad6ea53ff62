// Which files the agent read or changed, and where to draw the marks.

import { AgentEvent } from "./events";

export type Access = "read" | "changed";

export interface Mark {
  path: string;
  access: Access;
  tool: string;
  toolUseId?: string;
  ts: string;
  snippet?: string; // for edits: the new text, to find the changed lines
}

const READ_TOOLS = new Set(["Read", "Grep", "Glob", "NotebookRead", "read_file", "read_many_files", "list_directory", "view"]);
const WRITE_TOOLS = new Set(["Write", "Edit", "MultiEdit", "NotebookEdit", "write_file", "replace", "edit_file", "apply_patch"]);

export function toolPath(e: AgentEvent): string | null {
  const inp = e.data && typeof e.data === "object" ? (e.data.tool_input ?? e.data.arguments) : null;
  if (!inp || typeof inp !== "object") return null;
  for (const k of ["file_path", "notebook_path", "path", "absolute_path"]) {
    if (typeof inp[k] === "string" && inp[k]) return inp[k];
  }
  return null;
}

export function accessOf(tool: string | undefined): Access | null {
  if (!tool) return null;
  const base = tool.includes("__") ? tool.split("__").pop()! : tool;
  if (WRITE_TOOLS.has(base)) return "changed";
  if (READ_TOOLS.has(base)) return "read";
  return null;
}

function snippetOf(e: AgentEvent): string | undefined {
  const inp = e.data?.tool_input;
  if (!inp || typeof inp !== "object") return undefined;
  if (typeof inp.new_string === "string") return inp.new_string;
  if (Array.isArray(inp.edits)) return inp.edits.map((x: any) => x?.new_string).filter((x: any) => typeof x === "string").join("\n\n");
  return undefined;
}

/** Marks by absolute path (the last 20 accesses per file). */
export class FileMarks {
  readonly byPath = new Map<string, Mark[]>();

  add(e: AgentEvent, cwd?: string): Mark | null {
    if (e.type !== "tool.call" && e.type !== "tool.result") return null;
    const access = accessOf(e.tool);
    let path = toolPath(e);
    if (!access || !path) return null;
    if (!path.startsWith("/") && cwd) path = cwd.replace(/\/$/, "") + "/" + path;
    if (e.type === "tool.result") {
      // the call already marked it: only confirm the time
      return null;
    }
    const mark: Mark = { path, access, tool: e.tool!, toolUseId: e.tool_use_id, ts: e.ts, snippet: snippetOf(e) };
    const list = this.byPath.get(path) || [];
    list.push(mark);
    this.byPath.set(path, list.slice(-20));
    return mark;
  }

  get(path: string): Mark[] { return this.byPath.get(path) || []; }
}

export interface LineRange { start: number; end: number; }

/** The lines to decorate in a document for one mark (0-based, inclusive):
 *  an edit marks the lines holding its new text when they can be found,
 *  anything else marks the first line (a whole-file mark in the gutter). */
export function decorationRanges(text: string, mark: Mark): LineRange[] {
  if (mark.access === "changed" && mark.snippet) {
    const out: LineRange[] = [];
    for (const piece of mark.snippet.split("\n\n").filter((p) => p.trim())) {
      const at = text.indexOf(piece);
      if (at < 0) continue;
      const start = text.slice(0, at).split("\n").length - 1;
      const end = start + piece.replace(/\n$/, "").split("\n").length - 1;
      out.push({ start, end });
    }
    if (out.length) return out;
  }
  return [{ start: 0, end: 0 }];
}

export function hoverText(marks: Mark[]): string {
  return marks.map((m) => `agent-strace: ${m.access === "changed" ? "changed" : "read"} by ${m.tool}` +
    `${m.toolUseId ? ` (call ${m.toolUseId})` : ""} at ${m.ts.replace("T", " ").replace(/\.\d+Z$/, "Z")}`).join("\n\n");
}

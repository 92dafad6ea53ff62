// Reading the store's JSONL (docs/event-schema.md) incrementally and
// tolerantly: a torn or corrupt line is counted and skipped, a line from a
// newer schema version is skipped, unknown event types are kept.

export const SCHEMA_VERSION = 1;

export interface AgentEvent {
  v: number;
  id: string;
  ts: string;
  session: string;
  type: string;
  source?: string;
  name?: string;
  agent_id?: string;
  agent_type?: string;
  parent?: string;
  tool?: string;
  tool_use_id?: string;
  rpc_id?: string | number;
  method?: string;
  direction?: string;
  model?: string;
  usage?: { input?: number; output?: number; cache_read?: number; cache_write?: number };
  duration_ms?: number;
  status?: string;
  error?: { message?: string; type?: string } | string;
  data?: any;
  truncated?: unknown[];
}

export interface ReadCounts { events: number; corrupt: number; newer: number; }

/** Splits appended bytes into complete lines, keeping an unfinished tail. */
export class LineSplitter {
  private rest: Buffer = Buffer.alloc(0);

  feed(chunk: Buffer): string[] {
    const data = this.rest.length ? Buffer.concat([this.rest, chunk]) : chunk;
    const out: string[] = [];
    let start = 0;
    for (;;) {
      const nl = data.indexOf(10, start);
      if (nl < 0) break;
      out.push(data.subarray(start, nl).toString("utf8"));
      start = nl + 1;
    }
    this.rest = Buffer.from(data.subarray(start));
    return out;
  }

  get pending(): number { return this.rest.length; }
}

export function parseLine(line: string, counts?: ReadCounts): AgentEvent | null {
  const text = line.trim();
  if (!text) return null;
  let obj: any;
  try {
    obj = JSON.parse(text);
  } catch {
    if (counts) counts.corrupt++;
    return null;
  }
  if (!obj || typeof obj !== "object" || Array.isArray(obj) || typeof obj.type !== "string" || typeof obj.session !== "string") {
    if (counts) counts.corrupt++;
    return null;
  }
  if (typeof obj.v === "number" && obj.v > SCHEMA_VERSION) {
    if (counts) counts.newer++;
    return null;
  }
  if (counts) counts.events++;
  return obj as AgentEvent;
}

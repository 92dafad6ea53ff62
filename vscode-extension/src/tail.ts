// Following a session file: read what was appended since the last read,
// only when the file changes (fs.watch), never the whole file again.  The
// first read streams the existing file in chunks, yielding between chunks so
// a huge session does not block the extension host.

import * as fs from "fs";
import { LineSplitter } from "./events";

const CHUNK = 4 * 1024 * 1024;

export class FileTail {
  offset = 0;
  private splitter = new LineSplitter();
  private watcher: fs.FSWatcher | null = null;
  private reading = false;
  private again = false;
  closed = false;

  constructor(readonly path: string, private onLines: (lines: string[]) => void, private onError?: (e: Error) => void) {}

  async start(watch = true): Promise<void> {
    await this.poll();
    if (watch && !this.closed) {
      try {
        this.watcher = fs.watch(this.path, { persistent: false }, () => { void this.poll(); });
      } catch (e) {
        this.onError?.(e as Error);
      }
    }
  }

  /** Read whatever was appended; safe to call at any time (coalesced). */
  async poll(): Promise<void> {
    if (this.reading) { this.again = true; return; }
    this.reading = true;
    try {
      do {
        this.again = false;
        await this.readNew();
      } while (this.again && !this.closed);
    } catch (e) {
      this.onError?.(e as Error);
    } finally {
      this.reading = false;
    }
  }

  private async readNew(): Promise<void> {
    let st: fs.Stats;
    try {
      st = await fs.promises.stat(this.path);
    } catch {
      return;
    }
    if (st.size < this.offset) { // replaced or truncated: start over
      this.offset = 0;
      this.splitter = new LineSplitter();
    }
    if (st.size === this.offset) return;
    const fh = await fs.promises.open(this.path, "r");
    try {
      while (this.offset < st.size && !this.closed) {
        const len = Math.min(CHUNK, st.size - this.offset);
        const buf = Buffer.alloc(len);
        const { bytesRead } = await fh.read(buf, 0, len, this.offset);
        if (!bytesRead) break;
        this.offset += bytesRead;
        const lines = this.splitter.feed(buf.subarray(0, bytesRead));
        if (lines.length) this.onLines(lines);
        if (this.offset < st.size) await new Promise((r) => setImmediate(r));
      }
    } finally {
      await fh.close();
    }
  }

  close(): void {
    this.closed = true;
    this.watcher?.close();
    this.watcher = null;
  }
}

/** The most recently written session file in a sessions folder. */
export function newestSession(dir: string): string | null {
  let best: string | null = null;
  let bestT = -1;
  let names: string[];
  try {
    names = fs.readdirSync(dir);
  } catch {
    return null;
  }
  for (const n of names) {
    if (!n.endsWith(".jsonl")) continue;
    try {
      const t = fs.statSync(`${dir}/${n}`).mtimeMs;
      if (t > bestT || (t === bestT && best !== null && n > best)) { best = n; bestT = t; }
    } catch { /* vanished */ }
  }
  return best ? `${dir}/${best}` : null;
}

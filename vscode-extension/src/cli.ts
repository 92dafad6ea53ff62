// The agent-strace CLI as the source of truth for summaries (the same shared
// summary every report uses) and for pause/resume.

import { execFile } from "child_process";

export class Cli {
  constructor(public command: string, public storeRoot: string) {}

  run(args: string[], timeoutMs = 20000): Promise<string> {
    return new Promise((resolve, reject) => {
      execFile(this.command, ["--trace-dir", this.storeRoot, ...args], { timeout: timeoutMs, maxBuffer: 64 * 1024 * 1024 },
        (err, stdout, stderr) => {
          if (err) reject(new Error(`${this.command} ${args[0]}: ${(stderr || err.message).trim().split("\n").pop()}`));
          else resolve(stdout);
        });
    });
  }

  async json(args: string[]): Promise<any> {
    return JSON.parse(await this.run([...args, "--json"]));
  }

  inspect(session: string): Promise<any> { return this.json(["inspect", session]); }
  list(): Promise<any[]> { return this.json(["list", "-n", "200"]); }
  pause(session: string): Promise<string> { return this.run(["pause", session]); }
  resume(session: string): Promise<string> { return this.run(["resume", session]); }
}

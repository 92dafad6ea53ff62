"use strict";
// The extension wired to a stubbed `vscode` module and the real CLI
// (AGENT_STRACE_CLI): the status bar shows the CLI's numbers and follows
// appends; pause and resume go through the CLI's flag files.
const test = require("node:test");
const assert = require("node:assert");
const fs = require("fs");
const os = require("os");
const path = require("path");
const { execFileSync } = require("child_process");
const { vscodeStub, withVscode } = require("./helpers");

const CLI = process.env.AGENT_STRACE_CLI;

async function until(fn, ms = 10000) {
  const end = Date.now() + ms;
  for (;;) {
    const v = fn();
    if (v) return v;
    if (Date.now() > end) throw new Error("timed out waiting");
    await new Promise((r) => setTimeout(r, 25));
  }
}

test("status bar from the CLI's summary, live appends, pause/resume", { skip: !CLI && "AGENT_STRACE_CLI is not set" }, async () => {
  const ws = fs.mkdtempSync(path.join(os.tmpdir(), "as-ext-"));
  execFileSync(CLI, ["demo", "--dir", ws], { stdio: "ignore" });
  const store = path.join(ws, ".agent-traces");
  const inspect = JSON.parse(execFileSync(CLI, ["--trace-dir", store, "inspect", "latest", "--json"]).toString());
  const stub = vscodeStub({ cli: CLI }, ws);
  const api = withVscode(stub, (ext) => ext.activate({ subscriptions: [], asAbsolutePath: (p) => path.join(__dirname, "..", p) }));
  const status = stub.statusItems[0];
  await until(() => status.text.includes("$0.0842"));
  assert.match(status.text, new RegExp(`${inspect.tool_calls} tools · ${inspect.tool_errors} err`));
  assert.strictEqual(api.snapshot().totals.cost_usd, inspect.cost_usd);
  assert.ok(api.snapshot().marks.some((p) => p.endsWith("notes.txt")));

  const file = path.join(store, "sessions", inspect.session + ".jsonl");
  const ev = (type, extra) => JSON.stringify({ v: 1, id: Math.random().toString(16).slice(2), ts: new Date().toISOString().replace("Z", "000Z"),
    session: inspect.session, type, source: "test", ...extra }) + "\n";
  fs.appendFileSync(file, ev("tool.call", { tool: "LiveTool", tool_use_id: "live1", data: { tool_input: { command: "sleep 1" } } }));
  await until(() => status.text.includes("LiveTool") && status.text.includes(`${inspect.tool_calls + 1} tools`));
  fs.appendFileSync(file, ev("rule.decision", { name: "budget", status: "warned", data: { reason: "80% of budget" } }));
  await until(() => status.backgroundColor && status.backgroundColor.id === "statusBarItem.warningBackground");

  await stub.registered.get("agentStrace.pause")();
  assert.ok(fs.existsSync(path.join(store, "control", `paused-${inspect.session}`)));
  assert.match(status.text, /paused/);
  await stub.registered.get("agentStrace.resume")();
  assert.ok(!fs.existsSync(path.join(store, "control", `paused-${inspect.session}`)));
  assert.doesNotMatch(status.text, /paused/);
  for (const d of stub.decorations) d.dispose();
});

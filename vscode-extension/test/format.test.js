"use strict";
const test = require("node:test");
const assert = require("node:assert");
const { out } = require("./helpers");
const { eventLine, statusText, statusTooltip, money, humanDuration } = out("format.js");
const { LiveState, emptyTotals } = out("live.js");

test("event lines read like agent-strace replay", () => {
  const err = { v: 1, id: "1", ts: "2026-11-21T10:00:01.123456Z", session: "s", type: "tool.error", tool: "Bash",
    duration_ms: 23, status: "error", data: { tool_input: { command: "ls WS" } },
    error: { message: "Exit code 2\nls: cannot access 'WS': No such file or directory" } };
  const line = eventLine(err, "/w");
  assert.strictEqual(line.text, "Bash(ls WS) = ERROR (exit 2: No such file or directory) 23ms");
  assert.strictEqual(line.cls, "error");
  assert.strictEqual(line.ts, "10:00:01.123");
  const rule = eventLine({ v: 1, id: "2", ts: "", session: "s", type: "rule.decision", name: "no-secrets", status: "denied",
    data: { reason: "path secrets/key matches deny" } });
  assert.strictEqual(rule.text, "rule(no-secrets) = DENIED (path secrets/key matches deny)");
  assert.strictEqual(eventLine({ type: "llm.request", session: "s" }).text, "llm.request()");
  assert.strictEqual(eventLine({ type: "tool.call", tool_use_id: "t", session: "s", tool: "Read" }), null);
  const call = { type: "tool.call", tool: "Read", tool_use_id: "r", session: "s", ts: "", data: { tool_input: { file_path: "/w/a.py" } } };
  const res = { type: "tool.result", tool_use_id: "r", session: "s", ts: "", status: "ok" };
  assert.strictEqual(eventLine(res, "/w", call).text, "Read(a.py) = ok");
});

test("status text: cost, tokens, tools, errors, the running tool, paused", () => {
  const t = { ...emptyTotals(), tool_calls: 8, tool_errors: 3, cost_usd: 0.08415,
    tokens: { input: 13200, output: 660, cache_read: 3300, cache_write: 0 } };
  assert.strictEqual(statusText(t, "Bash", false), "$(pulse) $0.0842 · 17k tok · 8 tools · 3 err · $(sync~spin) Bash");
  assert.match(statusText(t, "Bash", true), /\$\(debug-pause\) paused$/);
  assert.strictEqual(money(null), "$?");
});

test("live state: running tool, rule decisions, de-duplicated LLM responses", () => {
  const s = new LiveState();
  const ev = (type, extra) => ({ v: 1, id: Math.random().toString(), ts: "2026-11-21T10:00:00.000000Z", session: "s", type, ...extra });
  s.add(ev("tool.call", { tool: "Bash", tool_use_id: "a" }));
  assert.strictEqual(s.current, "Bash");
  s.add(ev("tool.result", { tool: "Bash", tool_use_id: "a", status: "ok" }));
  assert.strictEqual(s.current, null);
  const llm = ev("llm.response", { usage: { input: 10, output: 2 } });
  s.add(llm);
  s.add({ ...llm });
  assert.strictEqual(s.counts.llm_calls, 1);
  assert.strictEqual(s.counts.tokens.input, 10);
  s.add(ev("tool.call", { tool: "Write", tool_use_id: "b" }));
  s.add(ev("rule.decision", { name: "no-secrets", status: "denied", tool_use_id: "b" }));
  assert.strictEqual(s.current, null);
  assert.ok(s.ruleFired);
  assert.deepStrictEqual(s.counts.decisions, { denied: 1 });
});

test("tooltip: the daemon's live budget and recovered events, when it runs", () => {
  const t = { ...emptyTotals(), cost_usd: 0.5, live: { hooks: 12, budget: { usd: 2, spent_usd: 0.5 }, recovered: 3 } };
  const tip = statusTooltip("s", t, null, null);
  assert.match(tip, /budget: \$0\.50\d* of \$2\.00 \(live, from the agent-strace daemon\)/);
  assert.match(tip, /3 events recovered from the transcript/);
  assert.doesNotMatch(statusTooltip("s", emptyTotals(), null, null), /budget|recovered/);
});

test("durations read the same as in the CLI and the dashboard", () => {
  const path = require("path");
  const fs = require("fs");
  const file = path.join(__dirname, "..", "..", "tests", "fixtures", "durations.json");
  for (const [seconds, text] of JSON.parse(fs.readFileSync(file, "utf8")).cases) {
    assert.strictEqual(humanDuration(seconds), text, String(seconds));
  }
  const slow = eventLine({ v: 1, id: "3", ts: "", session: "s", type: "tool.result", tool: "Bash", duration_ms: 90000,
    status: "ok", data: { tool_input: { command: "make" } } }, "/w");
  assert.ok(slow.text.endsWith("= ok 1m30s"), slow.text);
});

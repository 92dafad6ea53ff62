"use strict";
const test = require("node:test");
const assert = require("node:assert");
const fs = require("fs");
const os = require("os");
const path = require("path");
const { out } = require("./helpers");
const { FileTail, newestSession } = out("tail.js");

test("reads only what was appended, holds an unfinished line, restarts on truncation", async () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "as-tail-"));
  const file = path.join(dir, "s.jsonl");
  fs.writeFileSync(file, "one\ntwo\nthr");
  const got = [];
  const tail = new FileTail(file, (lines) => got.push(...lines));
  await tail.start(false);
  assert.deepStrictEqual(got, ["one", "two"]);
  await tail.poll();
  assert.deepStrictEqual(got, ["one", "two"]); // nothing changed: nothing read
  fs.appendFileSync(file, "ee\nfour\n");
  await tail.poll();
  assert.deepStrictEqual(got, ["one", "two", "three", "four"]);
  assert.strictEqual(tail.offset, fs.statSync(file).size);
  fs.writeFileSync(file, "new\n");
  await tail.poll();
  assert.deepStrictEqual(got.slice(-1), ["new"]);
  tail.close();
});

test("fs.watch delivers appends without polling", async () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "as-tail-"));
  const file = path.join(dir, "s.jsonl");
  fs.writeFileSync(file, "");
  const got = [];
  const tail = new FileTail(file, (lines) => got.push(...lines));
  await tail.start(true);
  fs.appendFileSync(file, "live\n");
  for (let i = 0; i < 100 && !got.length; i++) await new Promise((r) => setTimeout(r, 20));
  assert.deepStrictEqual(got, ["live"]);
  tail.close();
});

test("a big session streams in chunks", async () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "as-tail-"));
  const file = path.join(dir, "big.jsonl");
  const line = JSON.stringify({ v: 1, id: "x", ts: "t", session: "s", type: "tool.call", data: { pad: "p".repeat(900) } });
  fs.writeFileSync(file, (line + "\n").repeat(20000)); // ~18 MB
  let n = 0, calls = 0;
  const tail = new FileTail(file, (lines) => { n += lines.length; calls++; });
  await tail.start(false);
  assert.strictEqual(n, 20000);
  assert.ok(calls >= 4, `read in ${calls} chunks`);
  fs.writeFileSync(path.join(dir, "older.jsonl"), "");
  fs.utimesSync(path.join(dir, "older.jsonl"), new Date(1000), new Date(1000));
  assert.strictEqual(newestSession(dir), file);
});

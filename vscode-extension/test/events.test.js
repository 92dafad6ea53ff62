"use strict";
const test = require("node:test");
const assert = require("node:assert");
const { out } = require("./helpers");
const { LineSplitter, parseLine } = out("events.js");

test("lines split across chunks, multibyte characters included", () => {
  const s = new LineSplitter();
  const text = Buffer.from('{"a":"é"}\n{"b":"日本"}\n{"c":');
  const lines = [];
  for (let i = 0; i < text.length; i++) lines.push(...s.feed(text.subarray(i, i + 1)));
  assert.deepStrictEqual(lines, ['{"a":"é"}', '{"b":"日本"}']);
  assert.strictEqual(s.pending, 5);
  assert.deepStrictEqual(s.feed(Buffer.from("1}\n")), ['{"c":1}']);
});

test("torn, binary and newer-version lines are counted and skipped; unknown types kept", () => {
  const counts = { events: 0, corrupt: 0, newer: 0 };
  assert.strictEqual(parseLine('{"v":1,"id":"x","ts":"t","session":"s","type":"tool.ca', counts), null);
  assert.strictEqual(parseLine("\u0000\u00ff garbage", counts), null);
  assert.strictEqual(parseLine("[1,2]", counts), null);
  assert.strictEqual(parseLine('{"v":99,"id":"x","session":"s","type":"tool.call"}', counts), null);
  const e = parseLine('{"v":1,"id":"x","ts":"t","session":"s","type":"brand.new"}', counts);
  assert.strictEqual(e.type, "brand.new");
  assert.strictEqual(parseLine("   ", counts), null);
  assert.deepStrictEqual(counts, { events: 1, corrupt: 3, newer: 1 });
});

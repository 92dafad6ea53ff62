"use strict";
const test = require("node:test");
const assert = require("node:assert");
const { out } = require("./helpers");
const { FileMarks, decorationRanges, accessOf, hoverText } = out("marks.js");

const call = (tool, input, extra = {}) => ({ v: 1, id: "i" + Math.random(), ts: "2026-11-21T10:00:01.500000Z",
  session: "s", type: "tool.call", tool, tool_use_id: "toolu_" + tool, data: { tool_input: input }, ...extra });

test("reads and changes are told apart, MCP and Gemini names included", () => {
  assert.strictEqual(accessOf("Read"), "read");
  assert.strictEqual(accessOf("Edit"), "changed");
  assert.strictEqual(accessOf("mcp__filesystem__read_file"), "read");
  assert.strictEqual(accessOf("write_file"), "changed");
  assert.strictEqual(accessOf("Bash"), null);
});

test("marks resolve relative paths against the session's folder and keep who and when", () => {
  const m = new FileMarks();
  m.add(call("Read", { file_path: "/w/a.py" }));
  m.add(call("Edit", { file_path: "b.py", old_string: "x", new_string: "y = 2\nz = 3" }), "/w");
  m.add(call("Bash", { command: "ls" }));
  assert.deepStrictEqual([...m.byPath.keys()], ["/w/a.py", "/w/b.py"]);
  const [edit] = m.get("/w/b.py");
  assert.strictEqual(edit.access, "changed");
  assert.match(hoverText(m.get("/w/b.py")), /changed by Edit \(call toolu_Edit\) at 2026-11-21 10:00:01Z/);
});

test("decoration ranges: an edit marks the lines of its new text, other accesses the first line", () => {
  const doc = "import os\n\ny = 2\nz = 3\nprint(y)\n";
  const m = new FileMarks();
  const edit = m.add(call("Edit", { file_path: "/w/b.py", new_string: "y = 2\nz = 3" }));
  assert.deepStrictEqual(decorationRanges(doc, edit), [{ start: 2, end: 3 }]);
  const multi = m.add(call("MultiEdit", { file_path: "/w/b.py", edits: [{ new_string: "import os" }, { new_string: "print(y)" }] }));
  assert.deepStrictEqual(decorationRanges(doc, multi), [{ start: 0, end: 0 }, { start: 4, end: 4 }]);
  const gone = m.add(call("Edit", { file_path: "/w/b.py", new_string: "not in the file any more" }));
  assert.deepStrictEqual(decorationRanges(doc, gone), [{ start: 0, end: 0 }]);
  const read = m.add(call("Read", { file_path: "/w/b.py" }));
  assert.deepStrictEqual(decorationRanges(doc, read), [{ start: 0, end: 0 }]);
});

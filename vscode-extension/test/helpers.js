// Shared by the unit tests: the compiled modules, and a stub of the `vscode`
// module (the extension's pure logic never imports it; extension.js does).
"use strict";
const Module = require("module");
const path = require("path");

const OUT = path.join(__dirname, "..", "out");

function vscodeStub(settings = {}, workspace = null) {
  const registered = new Map();
  const statusItems = [];
  const decorations = [];
  class EventEmitter { constructor() { this.listeners = []; this.event = (l) => { this.listeners.push(l); return { dispose() {} }; }; } fire(x) { for (const l of this.listeners) l(x); } }
  const stub = {
    registered, statusItems, decorations, messages: [],
    StatusBarAlignment: { Left: 1, Right: 2 },
    OverviewRulerLane: { Left: 1 },
    ViewColumn: { Beside: -2 },
    TreeItemCollapsibleState: { None: 0, Collapsed: 1 },
    ThemeColor: class { constructor(id) { this.id = id; } },
    ThemeIcon: class { constructor(id) { this.id = id; } },
    MarkdownString: class { constructor(v) { this.value = v; } },
    TreeItem: class { constructor(label, state) { this.label = label; this.collapsibleState = state; } },
    Range: class { constructor(a, b, c, d) { this.start = { line: a, character: b }; this.end = { line: c, character: d }; } },
    Uri: { file: (p) => ({ fsPath: p, scheme: "file" }) },
    EventEmitter,
    window: {
      createStatusBarItem() { const item = { text: "", tooltip: "", show() { this.visible = true; }, dispose() {} }; statusItems.push(item); return item; },
      createTextEditorDecorationType(opts) { const d = { opts, dispose() {} }; decorations.push(d); return d; },
      registerTreeDataProvider() { return { dispose() {} }; },
      onDidChangeVisibleTextEditors() { return { dispose() {} }; },
      showInformationMessage(m) { stub.messages.push(m); },
      showErrorMessage(m) { stub.messages.push("ERROR " + m); },
      visibleTextEditors: [],
      createWebviewPanel() { throw new Error("no webviews in unit tests"); },
    },
    commands: {
      registerCommand(id, fn) { registered.set(id, fn); return { dispose() {} }; },
      executeCommand() { return Promise.resolve(); },
    },
    workspace: {
      workspaceFolders: workspace ? [{ uri: { fsPath: workspace } }] : undefined,
      getConfiguration() { return { get: (k) => settings[k] }; },
      onDidChangeConfiguration() { return { dispose() {} }; },
    },
  };
  return stub;
}

function withVscode(stub, fn) {
  const orig = Module._load;
  Module._load = function (request, parent, isMain) {
    if (request === "vscode") return stub;
    return orig.call(this, request, parent, isMain);
  };
  try {
    for (const k of Object.keys(require.cache)) if (k.startsWith(OUT)) delete require.cache[k];
    return fn(require(path.join(OUT, "extension.js")));
  } finally {
    Module._load = orig;
  }
}

const out = (name) => require(path.join(OUT, name));
module.exports = { out, vscodeStub, withVscode, OUT };

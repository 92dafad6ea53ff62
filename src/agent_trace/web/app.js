// agent-strace dashboard: the sessions list and a session page, live over SSE
// (search, trends and compare: team.js).
// No dependencies and no network beyond this server; every value from the
// store is put in the page as text (never as HTML).
"use strict";

const EMBEDDED = (() => {
  const node = document.getElementById("agent-strace-data");
  return node ? JSON.parse(node.textContent) : null;
})();

// ---------------------------------------------------------------- helpers --
function el(tag, attrs, ...kids) {
  const n = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) {
    if (v === null || v === undefined || v === false) continue;
    if (k === "class") n.className = v;
    else if (k.startsWith("on")) n.addEventListener(k.slice(2), v);
    else n.setAttribute(k, v === true ? "" : v);
  }
  for (const kid of kids.flat()) {
    if (kid === null || kid === undefined || kid === false) continue;
    n.append(kid instanceof Node ? kid : document.createTextNode(String(kid)));
  }
  return n;
}
const $ = (sel) => document.querySelector(sel);
const fmtInt = (n) => (n || 0).toLocaleString("en-US");
const fmtCost = (c) => "$" + (c || 0).toFixed(c >= 1 ? 2 : 4);
// The one duration format (event/timefmt.py human_duration; VS Code has the same).
function fmtDur(s) {
  if (s === null || s === undefined) return "-";
  if (s < 0) s = 0;
  const ms = Math.floor(s * 1000 + 0.5);
  if (ms < 1000) return ms + "ms";
  const tenths = Math.floor(s * 10 + 0.5);
  if (tenths < 600) return Math.floor(tenths / 10) + "." + (tenths % 10) + "s";
  const whole = Math.max(Math.floor(s), 60), m = Math.floor(whole / 60), sec = whole % 60;
  if (m < 60) return m + "m" + String(sec).padStart(2, "0") + "s";
  return Math.floor(m / 60) + "h" + String(m % 60).padStart(2, "0") + "m";
}
const clock = (ts) => (ts && ts.length >= 23 ? ts.slice(11, 23) : ts || "");
const day = (ts) => (ts ? ts.slice(0, 16).replace("T", " ") : "");
function cut(text, n) {
  text = String(text).replace(/\s+/g, " ").trim();
  return text.length <= n ? text : text.slice(0, n - 3) + "...";
}
const ARG_KEYS = ["file_path", "path", "command", "pattern", "url", "query", "prompt", "description",
  "notebook_path", "text", "name", "uri"];
function toolInput(e) {
  const d = e.data || {};
  return d.tool_input || d.arguments || (d.params && d.params.arguments) || null;
}
function toolArg(e, cwd) {
  const inp = toolInput(e);
  if (inp && typeof inp === "object") {
    for (const k of ARG_KEYS) {
      let v = inp[k];
      if (typeof v === "string" && v) {
        if (cwd && k.endsWith("path") && v.startsWith(cwd.replace(/\/$/, "") + "/")) v = v.slice(cwd.replace(/\/$/, "").length + 1);
        return cut(v, 60);
      }
    }
    const ks = Object.keys(inp);
    if (ks.length) return cut(ks[0] + "=" + JSON.stringify(inp[ks[0]]), 60);
  }
  return "";
}
function errorText(e) {
  const err = e.error;
  const msg = err && typeof err === "object" ? err.message || "" : String(err || "");
  const lines = msg.split("\n").filter((x) => x.trim());
  if (lines.length && lines[0].startsWith("Exit code ")) {
    const code = lines[0].slice(10).trim();
    let detail = lines.length > 1 ? lines[lines.length - 1] : "";
    if (detail.includes(": ")) detail = detail.split(": ").pop();
    return detail ? `exit ${code}: ${cut(detail, 80)}` : `exit ${code}`;
  }
  return cut(lines[0] || "error", 100);
}
const pretty = (v) => (typeof v === "string" ? v : JSON.stringify(v, null, 2));
const sha = (c) => (typeof c === "string" ? c.slice(0, 7) : "–");
function gitCell(g) {
  if (!g) return "";
  return `${g.branch || "(detached)"}@${sha(g.end)}${g.dirty ? "*" : ""}`;
}
function gitLine(g) {
  if (!g) return null;
  const span = g.start && g.start !== g.end ? `${sha(g.start)}..${sha(g.end)}` : sha(g.end);
  const parts = [`branch ${g.branch || "(detached)"}`, span];
  if (g.commits && g.commits.length) parts.push(`${g.commits.length} commit(s): ` + g.commits.slice(0, 5).map(sha).join(" "));
  if (g.dirty) parts.push("dirty");
  if (g.project) parts.push(g.project);
  return parts.join(" · ");
}

// ---------------------------------------------------------------- backend --
const api = {
  async get(path) {
    const r = await fetch(path, { credentials: "same-origin" });
    if (!r.ok) throw new Error((await r.json().catch(() => ({}))).error || r.statusText);
    return r.json();
  },
  sessions: (q) => api.get("/api/sessions?" + new URLSearchParams(q)),
  session: (id) => api.get("/api/sessions/" + encodeURIComponent(id)),
  events: (id, from) => api.get(`/api/sessions/${encodeURIComponent(id)}/events?from=${from}&limit=2000`),
};

let live = null; // the open EventSource
function closeLive() {
  if (live) live.close();
  live = null;
  $("#live-dot").hidden = true;
}

// ------------------------------------------------------------ list page ----
const listState = { q: "", agent: "", user: "", project: "", status: "", min_cost: "", since: "" };

async function showList() {
  closeLive();
  $("#where").textContent = "sessions";
  const app = $("#app");
  const filters = el("form", { class: "filters", id: "filters", onsubmit: (ev) => ev.preventDefault() },
    el("label", {}, "search", el("input", { id: "f-q", type: "search", placeholder: "id, title, folder, error", value: listState.q })),
    el("label", {}, "agent", el("select", { id: "f-agent" }, el("option", { value: "" }, "any"))),
    el("label", {}, "user", el("select", { id: "f-user" }, el("option", { value: "" }, "any"))),
    el("label", {}, "project", el("select", { id: "f-project" }, el("option", { value: "" }, "any"))),
    el("label", {}, "status", el("select", { id: "f-status" },
      ["", "running", "ended", "stopped", "idle"].map((s) => el("option", { value: s, selected: s === listState.status }, s || "any")))),
    el("label", {}, "min cost $", el("input", { id: "f-cost", type: "number", step: "0.01", min: "0", value: listState.min_cost, style: "width:6rem" })),
    el("label", {}, "since", el("input", { id: "f-since", type: "date", value: listState.since })));
  const table = el("table", { id: "sessions" },
    el("thead", {}, el("tr", {}, ["session", "title", "agent", "user", "git", "status", "last event", "duration", "tool calls", "errors", "tokens", "cost"]
      .map((h, i) => el("th", { class: i >= 7 ? "num" : null }, h)))),
    el("tbody", { id: "session-rows" }));
  const count = el("p", { class: "muted", id: "list-count" });
  app.replaceChildren(filters, count, table);
  for (const [id, key] of [["f-q", "q"], ["f-agent", "agent"], ["f-user", "user"], ["f-project", "project"], ["f-status", "status"], ["f-cost", "min_cost"], ["f-since", "since"]]) {
    $("#" + id).addEventListener("input", (ev) => { listState[key] = ev.target.value; loadList(); });
  }
  await loadList();
  if (!EMBEDDED) {
    live = new EventSource("/api/live");
    live.addEventListener("changed", () => loadList());
    live.onopen = () => { $("#live-dot").hidden = false; };
  }
}

let listSeq = 0;
async function loadList() {
  const seq = ++listSeq;
  const q = Object.assign({}, listState);
  if (q.since) q.since = q.since + "T00:00:00";
  const data = await api.sessions(q);
  if (seq !== listSeq || !$("#session-rows")) return;
  for (const [id, key, values] of [["f-agent", "agent", data.agents], ["f-user", "user", data.users || []], ["f-project", "project", data.projects || []]]) {
    const sel = $("#" + id);
    if (sel && sel.options.length === 1) {
      for (const a of values) sel.append(el("option", { value: a, selected: a === listState[key] }, a));
    }
  }
  $("#list-count").textContent = `${data.matched} of ${data.total} sessions`;
  $("#session-rows").replaceChildren(...data.sessions.map((s) => {
    const tokens = s.tokens ? (s.tokens.input || 0) + (s.tokens.output || 0) + (s.tokens.cache_read || 0) + (s.tokens.cache_write || 0) : 0;
    return el("tr", { class: "session-row", "data-session": s.session, onclick: () => { location.hash = "#/s/" + encodeURIComponent(s.session); } },
      el("td", {}, el("a", { href: "#/s/" + encodeURIComponent(s.session) }, s.session.slice(0, 12))),
      el("td", { class: "title" }, cut(s.title || s.cwd || "", 80)),
      el("td", {}, s.agent || "?"),
      el("td", {}, s.user || "–"),
      el("td", { class: "git" }, gitCell(s.git)),
      el("td", {}, el("span", { class: "badge " + s.status }, s.status)),
      el("td", {}, day(s.last)),
      el("td", { class: "num" }, fmtDur(s.duration_s)),
      el("td", { class: "num" }, fmtInt(s.tool_calls)),
      el("td", { class: "num" }, fmtInt(s.tool_errors)),
      el("td", { class: "num" }, fmtInt(tokens)),
      el("td", { class: "num" }, fmtCost(s.cost_usd)));
  }));
}

// --------------------------------------------------------- session page ----
function cards(s) {
  const t = s.tokens || {};
  const c = (k, v, bad) => el("div", { class: "card" + (bad ? " bad" : ""), "data-card": k }, el("div", { class: "k" }, k), el("div", { class: "v" }, v));
  const denied = (s.decisions && (s.decisions.denied || 0) + (s.decisions.stopped || 0) + (s.decisions.killed || 0)) || 0;
  return [
    c("status", s.status || (s.ended ? "ended" : "running")), c("agent", s.agent || "?"),
    c("duration", fmtDur(s.duration_s)), c("events", fmtInt(s.events)),
    c("tool calls", fmtInt(s.tool_calls)), c("tool errors", fmtInt(s.tool_errors), s.tool_errors > 0),
    c("LLM calls", fmtInt(s.llm_calls)), c("input tokens", fmtInt(t.input)), c("output tokens", fmtInt(t.output)),
    c("cache read", fmtInt(t.cache_read)), c("cost", fmtCost(s.cost_usd) + (s.unpriced && s.unpriced.length ? "*" : "")),
    c("rule decisions", fmtInt(denied), denied > 0),
  ];
}

function chart(points) {
  const W = 600, H = 140, P = 4;
  const svg = document.createElementNS("http://www.w3.org/2000/svg", "svg");
  svg.setAttribute("viewBox", `0 0 ${W} ${H}`);
  svg.setAttribute("class", "chart");
  svg.setAttribute("preserveAspectRatio", "none");
  svg.setAttribute("id", "tokens-chart");
  if (!points.length) return svg;
  const tot = points.map((p) => p.input + p.output + p.cache_read + p.cache_write);
  const max = Math.max(1, ...tot);
  const bw = (W - 2 * P) / points.length;
  const colors = { cache_read: "#93c5fd", cache_write: "#c4b5fd", input: "#1d4ed8", output: "#f59e0b" };
  points.forEach((p, i) => {
    let y = H - P;
    for (const k of ["cache_read", "cache_write", "input", "output"]) {
      const h = ((p[k] || 0) / max) * (H - 2 * P);
      if (h <= 0) continue;
      const r = document.createElementNS(svg.namespaceURI, "rect");
      r.setAttribute("x", P + i * bw); r.setAttribute("width", Math.max(1, bw - 1));
      r.setAttribute("y", y - h); r.setAttribute("height", h); r.setAttribute("fill", colors[k]);
      const title = document.createElementNS(svg.namespaceURI, "title");
      title.textContent = `${p.model || "?"} ${clock(p.ts)} in=${p.input} out=${p.output} cache_r=${p.cache_read} cache_w=${p.cache_write}` + (p.cost_usd != null ? ` $${p.cost_usd.toFixed(4)}` : "");
      r.append(title);
      svg.append(r);
      y -= h;
    }
  });
  // cumulative cost line
  let acc = 0;
  const costs = points.map((p) => (acc += p.cost_usd || 0));
  if (acc > 0) {
    const pts = costs.map((c, i) => `${P + (i + 0.5) * bw},${H - P - (c / acc) * (H - 2 * P)}`).join(" ");
    const line = document.createElementNS(svg.namespaceURI, "polyline");
    line.setAttribute("points", pts); line.setAttribute("fill", "none"); line.setAttribute("stroke", "#b91c1c"); line.setAttribute("stroke-width", "1.5");
    svg.append(line);
  }
  return svg;
}

function tree(view) {
  const s = view.summary;
  const subs = view.subagents || [];
  return el("ul", { class: "tree", id: "agent-tree" },
    el("li", {}, `${s.agent || "agent"} (main) ${s.tool_calls} calls, ${s.tool_errors} errors, ${s.llm_calls} LLM calls`,
      subs.length ? el("ul", { class: "tree" }, subs.map((a) => el("li", { "data-agent": a.agent_id },
        `└ ${a.agent_type || "subagent"} ${a.agent_id.slice(0, 8)}: ${a.tool_calls} calls, ${a.tool_errors} errors, ${a.llm_calls} LLM calls, ${fmtCost(a.cost_usd)}`))) : null));
}

// Timeline: one row per tool call (updated in place when its result comes),
// LLM call, prompt, decision and lifecycle event, in the order they happened
// (by ts, arrival order breaking ties): LLM turns imported at the end of a
// turn slot in before the tool calls they caused, also while live.
class Timeline {
  constructor(root, cwd) {
    this.root = root; this.cwd = cwd; this.calls = new Map(); this.filter = "all"; this.text = "";
  }
  add(events) { for (const e of events) this.one(e); this.apply(); }
  row(kind, e, text, res, resClass) {
    const details = el("div", { class: "details" });
    const r = el("div", { class: `ev ev-${kind}` + (e.agent_id ? " sub" : ""), "data-type": e.type, "data-id": e.id },
      el("span", { class: "t" }, clock(e.ts)), e.agent_id ? `[${e.agent_id.slice(0, 8)}] ` : "", text,
      res !== undefined ? [" = ", el("span", { class: "res " + (resClass || "") }, res)] : null);
    r._events = [e];
    r._ts = String(e.ts || "");
    r.addEventListener("click", () => { if (!details.classList.contains("open")) this.fill(details, r._events); details.classList.toggle("open"); });
    this.place(r, details);
    return r;
  }
  place(r, details) {
    // Rows and their details alternate; walk back from the end past rows
    // that happened later (usually none: events mostly arrive in order).
    let before = null;
    for (let d = this.root.lastElementChild; d;) {
      const row = d.previousElementSibling;
      if (!row || !(row._ts > r._ts)) break;
      before = row;
      d = row.previousElementSibling;
    }
    if (before) { this.root.insertBefore(r, before); this.root.insertBefore(details, before); }
    else this.root.append(r, details);
  }
  fill(box, events) {
    box.replaceChildren();
    for (const e of events) {
      const d = e.data || {};
      const parts = [];
      if (e.type === "tool.call" || toolInput(e)) parts.push(["input", toolInput(e)]);
      if (d.tool_response !== undefined) parts.push(["result", d.tool_response]);
      if (d.result !== undefined) parts.push(["result", d.result]);
      if (e.error) parts.push(["error", e.error]);
      if (e.usage) parts.push(["usage", e.usage]);
      if (e.type === "rule.decision" || e.type === "postmortem") parts.push(["decision", d]);
      if (!parts.length) parts.push([e.type, e]);
      box.append(el("div", { class: "k" }, `${e.type} · ${e.source} · ${e.ts}` + (e.duration_ms != null ? ` · ${fmtDur(e.duration_ms / 1000)}` : "")));
      for (const [k, v] of parts) box.append(el("div", { class: "k" }, k), el("pre", {}, pretty(v)));
      if (e.truncated) box.append(el("div", { class: "cut" }, "cut for display: " + e.truncated.map((t) => `${t.path} (${fmtInt(t.chars)} chars, ${fmtInt(t.kept)} kept)`).join("; ")));
    }
  }
  one(e) {
    const t = e.type;
    if (t === "tool.call") {
      const r = this.row("running", e, `${e.tool || "?"}(${toolArg(e, this.cwd)})`, "…");
      r.dataset.tool = e.tool || "";
      if (e.tool_use_id) this.calls.set(e.tool_use_id, r);
      return;
    }
    if (t === "tool.result" || t === "tool.error") {
      const r = e.tool_use_id && this.calls.get(e.tool_use_id);
      const failed = t === "tool.error" || e.status === "error";
      const res = failed ? `ERROR (${errorText(e)})` : "ok";
      const ms = e.duration_ms != null ? ` ${fmtDur(e.duration_ms / 1000)}` : "";
      if (r) {
        r._events.push(e);
        r.className = r.className.replace(/ev-running/, failed ? "ev-error" : "ev-tool");
        r.querySelector(".res").textContent = res + ms;
        r.querySelector(".res").className = "res " + (failed ? "" : "ok");
        r.dataset.failed = failed ? "1" : "";
      } else {
        const row = this.row(failed ? "error" : "tool", e, `${e.tool || "?"}(${toolArg(e, this.cwd)})`, res + ms, failed ? "" : "ok");
        row.dataset.tool = e.tool || "";
      }
      return;
    }
    if (t === "rule.decision") {
      const d = e.data || {};
      const status = String(e.status || "?").toUpperCase();
      const r = e.tool_use_id && status !== "WARNED" && this.calls.get(e.tool_use_id);
      const why = `${status} by ${e.name}` + (d.reason ? ` (${cut(d.reason, 80)})` : "");
      if (r) {
        r._events.push(e);
        r.className = r.className.replace(/ev-(running|tool)/, "ev-decision");
        r.querySelector(".res").textContent = why;
        r.querySelector(".res").className = "res";
      } else this.row("decision", e, `rule(${e.name})`, why);
      return;
    }
    if (t === "llm.response") {
      const u = e.usage || {};
      const stop = (e.data || {}).stop_reason;
      this.row(e.status === "error" ? "error" : "llm", e, `llm(${e.model || "?"})`,
        e.status === "error" ? `ERROR (${errorText(e)})` : `${stop || "ok"} [in=${u.input || 0} out=${u.output || 0} cache_r=${u.cache_read || 0}]`);
      return;
    }
    if (t === "user.prompt") { this.row("prompt", e, `prompt("${cut((e.data || {}).prompt || "", 80)}")`); return; }
    if (t === "postmortem") { this.row("decision", e, `postmortem(${e.name})`, (e.data || {}).action || "?"); return; }
    if (t === "annotation" && e.name === "grade") { // agent-strace grade --verify CMD
      const d = e.data || {};
      const res = d.passed ? "PASS" : d.timed_out ? "FAIL (timed out)" : `FAIL (exit ${d.exit_code})`;
      this.row(d.passed ? "tool" : "error", e, `grade(${cut(d.command || "", 80)})`, res, d.passed ? "ok" : ""); return;
    }
    if (t === "subagent.start" || t === "subagent.stop") {
      this.row("life", e, `subagent_${t.endsWith("start") ? "start" : "stop"}(${e.agent_type || ""})`, e.agent_id || "?"); return;
    }
    if (t === "session.start") { this.row("life", e, `session_start(${e.session})`); return; }
    if (t === "session.end") { this.row("life", e, `session_end(${(e.data || {}).reason || ""})`); return; }
    if (t === "turn.end") { this.row("life", e, "turn_end()", e.status || "ok"); return; }
    if (t === "mcp.message") { this.row("mcp", e, `mcp ${e.direction || ""} ${e.method || ""} id=${e.rpc_id}`); return; }
    if (t === "llm.request" || t === "assistant.message") return; // shown through their responses
    this.row("other", e, `${t}(${e.name || ""})`);
  }
  apply() {
    const f = this.filter, q = this.text.toLowerCase();
    for (const r of this.root.querySelectorAll(".ev")) {
      const k = r.className;
      let show = f === "all" || (f === "tools" && (k.includes("ev-tool") || k.includes("ev-running") || (k.includes("ev-error") && r.dataset.type.startsWith("tool"))))
        || (f === "errors" && k.includes("ev-error")) || (f === "llm" && k.includes("ev-llm")) || (f === "decisions" && k.includes("ev-decision"));
      if (show && q) show = r.textContent.toLowerCase().includes(q);
      r.hidden = !show;
      if (!show) r.nextSibling.classList.remove("open");
    }
  }
}

async function showSession(id) {
  closeLive();
  $("#where").textContent = id;
  const app = $("#app");
  let view;
  try {
    view = EMBEDDED ? EMBEDDED.view : await api.session(id);
  } catch (err) {
    app.replaceChildren(el("p", { class: "notice" }, String(err.message || err)));
    return;
  }
  const s = view.summary;
  const tl = el("div", { class: "timeline", id: "timeline" });
  const timeline = new Timeline(tl, s.cwd);
  const buttons = ["all", "tools", "errors", "llm", "decisions"].map((f) => el("button", {
    type: "button", "data-filter": f, class: f === "all" ? "on" : "",
    onclick: (ev) => { timeline.filter = f; for (const b of ev.target.parentNode.querySelectorAll("button")) b.classList.toggle("on", b === ev.target); timeline.apply(); },
  }, f));
  const search = el("input", { type: "search", id: "tl-q", placeholder: "filter lines", oninput: (ev) => { timeline.text = ev.target.value; timeline.apply(); } });
  const notes = [];
  if (EMBEDDED && EMBEDDED.note) notes.push(el("p", { class: "notice", id: "share-note" }, EMBEDDED.note));
  app.replaceChildren(
    el("h1", { style: "font-size:18px;margin:.2rem 0" }, s.title || s.session),
    el("div", { class: "muted", style: "font-family:var(--mono);font-size:12px" }, `${s.session} · ${s.cwd || ""} · ${day(s.started)} → ${day(s.last)}`,
      EMBEDDED ? null : [" · ", el("a", { href: "#/compare?a=" + encodeURIComponent(s.session), id: "compare-link" }, "compare with…")]),
    s.git ? el("div", { class: "muted", id: "git-line", style: "font-family:var(--mono);font-size:12px" }, gitLine(s.git)) : null,
    ...notes,
    el("div", { class: "cards", id: "cards" }, cards(s)),
    el("div", { class: "grid2" },
      el("section", {}, el("h2", {}, "tokens per LLM call · cumulative cost"), chart(view.llm_series || []),
        el("div", { class: "legend" }, el("i", { style: "background:#1d4ed8" }), "input", el("i", { style: "background:#f59e0b" }), "output",
          el("i", { style: "background:#93c5fd" }), "cache read", el("i", { style: "background:#c4b5fd" }), "cache write",
          el("i", { style: "background:#b91c1c;height:2px" }), "cost")),
      el("section", {}, el("h2", {}, "agents"), tree(view))),
    el("section", {}, el("h2", {}, "timeline"), el("div", { class: "tl-filters" }, buttons, search), tl));
  if (EMBEDDED) { timeline.add(EMBEDDED.events); return; }
  let from = 0;
  for (;;) {
    const page = await api.events(id, from);
    timeline.add(page.events);
    from = page.next;
    if (page.done || !page.events.length) break;
  }
  let refresh = null;
  live = new EventSource(`/api/sessions/${encodeURIComponent(id)}/live?from=${from}`);
  live.onopen = () => { $("#live-dot").hidden = false; };
  live.addEventListener("events", (msg) => {
    const page = JSON.parse(msg.data);
    timeline.add(page.events);
    if (!refresh) refresh = setTimeout(async () => {
      refresh = null;
      const v = await api.session(id).catch(() => null);
      if (v && $("#cards")) {
        v.summary.status = v.summary.status || "running";
        $("#cards").replaceChildren(...cards(v.summary));
        const old = $("#tokens-chart"); if (old) old.replaceWith(chart(v.llm_series || []));
        const t = $("#agent-tree"); if (t) t.replaceWith(tree(v));
      }
    }, 300);
  });
}

// ----------------------------------------------------------------- router --
function route() {
  const h = location.hash || "#/";
  if (EMBEDDED) return showSession(EMBEDDED.view.summary.session);
  if (h.startsWith("#/s/")) return showSession(decodeURIComponent(h.slice(4)));
  const team = typeof TEAM_PAGES !== "undefined" && TEAM_PAGES[h.split("?")[0]]; // search, trends, compare (team.js)
  if (team) return team();
  return showList();
}
window.addEventListener("hashchange", route);
route();

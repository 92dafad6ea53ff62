// agent-strace dashboard, team pages: search, trends and compare.  Loaded
// before app.js, which owns the helpers (el, api, fmt*) and the router; these
// functions run only once app.js has loaded.  Every value from the server is
// put in the page as text, never as HTML.
"use strict";

const TEAM_PAGES = {
  "#/search": showSearch,
  "#/trends": showTrends,
  "#/compare": showCompare,
};

function hashParams() {
  const h = location.hash || "";
  const i = h.indexOf("?");
  return new URLSearchParams(i >= 0 ? h.slice(i + 1) : "");
}
function setHashParams(page, params) {
  const q = new URLSearchParams();
  for (const [k, v] of Object.entries(params)) if (v !== "" && v !== null && v !== undefined) q.set(k, v);
  const next = page + (q.toString() ? "?" + q : "");
  if (location.hash !== next) history.replaceState(null, "", next);
}
const fmtPct = (p) => (p === null || p === undefined ? "–" : (p > 0 ? "+" : "") + p.toFixed(0) + "%");
function fmtNum(v) {
  if (typeof v !== "number") return v === null || v === undefined ? "–" : String(v);
  return Number.isInteger(v) ? fmtInt(v) : v.toFixed(Math.abs(v) >= 1 ? 2 : 4);
}
async function facets() {
  // the filters' choices: users, agents, projects seen in the sessions
  const data = await api.get("/api/sessions?limit=1");
  return { users: data.users || [], agents: data.agents || [], projects: data.projects || [] };
}
function choice(id, label, values, current) {
  return el("label", {}, label, el("select", { id }, el("option", { value: "" }, "any"),
    values.map((v) => el("option", { value: v, selected: v === current }, v))));
}

// ----------------------------------------------------------------- search --
async function showSearch() {
  closeLive();
  $("#where").textContent = "search";
  const p = hashParams();
  const f = await facets();
  const state = { q: p.get("q") || "", user: p.get("user") || "", agent: p.get("agent") || "",
    project: p.get("project") || "", type: p.get("type") || "", since: p.get("since") || "" };
  const form = el("form", { class: "filters", id: "search-form", onsubmit: (ev) => { ev.preventDefault(); run(); } },
    el("label", {}, "find (all words; \"quotes\" for a phrase)",
      el("input", { id: "s-q", type: "search", value: state.q, style: "width:28rem", placeholder: "rm -rf, \"permission denied\", app.py" })),
    choice("s-user", "user", f.users, state.user), choice("s-agent", "agent", f.agents, state.agent),
    choice("s-project", "project", f.projects, state.project),
    el("label", {}, "kind", el("select", { id: "s-type" }, ["", "user.prompt", "tool.call", "tool.result", "tool.error"]
      .map((t) => el("option", { value: t, selected: t === state.type }, t || "any")))),
    el("label", {}, "since", el("input", { id: "s-since", type: "date", value: state.since })),
    el("button", { type: "submit", id: "s-go" }, "search"));
  const out = el("div", { id: "search-results" });
  $("#app").replaceChildren(form, out);
  let seq = 0;
  async function run() {
    for (const [id, k] of [["s-q", "q"], ["s-user", "user"], ["s-agent", "agent"], ["s-project", "project"], ["s-type", "type"], ["s-since", "since"]]) state[k] = $("#" + id).value;
    setHashParams("#/search", state);
    if (!state.q.trim()) { out.replaceChildren(el("p", { class: "muted" }, "Search prompts, tool inputs, results and errors of every session.")); return; }
    const mine = ++seq;
    out.replaceChildren(el("p", { class: "muted" }, "searching…"));
    let data;
    try {
      data = await api.get("/api/search?" + new URLSearchParams(Object.assign({}, state, { limit: 100 })));
    } catch (err) { out.replaceChildren(el("p", { class: "notice" }, String(err.message || err))); return; }
    if (mine !== seq) return;
    const words = (data.terms || []).flat();
    out.replaceChildren(
      el("p", { class: "muted", id: "search-count" }, `${data.hits.length}${data.more ? "+" : ""} matching event${data.hits.length === 1 ? "" : "s"}, newest first`),
      el("table", { id: "hits" },
        el("thead", {}, el("tr", {}, ["time", "session", "user", "project", "event", "text"].map((h) => el("th", {}, h)))),
        el("tbody", {}, data.hits.map((h) => el("tr", { class: "hit-row", "data-session": h.session,
          onclick: () => { location.hash = "#/s/" + encodeURIComponent(h.session); } },
          el("td", {}, day(h.ts)),
          el("td", {}, el("a", { href: "#/s/" + encodeURIComponent(h.session) }, String(h.session).slice(0, 12)),
            el("div", { class: "muted small" }, cut(h.title || "", 50))),
          el("td", {}, h.sender || "–"), el("td", {}, h.project || "–"),
          el("td", {}, h.type + (h.tool ? " " + h.tool : "")),
          el("td", { class: "snippet" }, marked(h.snippet || "", words)))))));
  }
  await run();
}

// the snippet as text nodes, with the query's words in <mark>
function marked(text, words) {
  const out = [];
  if (!words.length) return text;
  const re = new RegExp("(?<![\\p{L}\\p{N}])(" + words.map((w) => w.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")).join("|") + ")", "giu");
  let last = 0;
  for (const m of text.matchAll(re)) {
    out.push(text.slice(last, m.index), el("mark", {}, m[0]));
    last = m.index + m[0].length;
  }
  out.push(text.slice(last));
  return out;
}

// ----------------------------------------------------------------- trends --
const PALETTE = ["#1d4ed8", "#f59e0b", "#059669", "#b91c1c", "#7c3aed", "#0891b2", "#9ca3af"];

async function showTrends() {
  closeLive();
  $("#where").textContent = "trends";
  const p = hashParams();
  const f = await facets();
  const state = { days: p.get("days") || "30", by: p.get("by") || "user",
    tz: p.get("tz") || Intl.DateTimeFormat().resolvedOptions().timeZone || "UTC",
    user: p.get("user") || "", project: p.get("project") || "", agent: p.get("agent") || "" };
  const form = el("form", { class: "filters", id: "trends-form", onsubmit: (ev) => ev.preventDefault() },
    el("label", {}, "days", el("select", { id: "t-days" }, ["7", "30", "90", "180"].map((d) => el("option", { value: d, selected: d === state.days }, d)))),
    el("label", {}, "by", el("select", { id: "t-by" }, ["user", "project", "model", "agent"].map((d) => el("option", { value: d, selected: d === state.by }, d)))),
    choice("t-user", "user", f.users, state.user), choice("t-project", "project", f.projects, state.project),
    choice("t-agent", "agent", f.agents, state.agent),
    el("label", {}, "time zone", el("input", { id: "t-tz", value: state.tz, style: "width:12rem" })));
  const out = el("div", { id: "trends-out" });
  $("#app").replaceChildren(form, out);
  for (const [id, k] of [["t-days", "days"], ["t-by", "by"], ["t-user", "user"], ["t-project", "project"], ["t-agent", "agent"], ["t-tz", "tz"]]) {
    $("#" + id).addEventListener("change", (ev) => { state[k] = ev.target.value; load(); });
  }
  let seq = 0;
  async function load() {
    setHashParams("#/trends", state);
    const mine = ++seq;
    let t;
    try {
      t = await api.get("/api/trends?" + new URLSearchParams(state));
    } catch (err) { out.replaceChildren(el("p", { class: "notice" }, String(err.message || err))); return; }
    if (mine !== seq) return;
    const top = t.groups.slice(0, PALETTE.length - 1).map((g) => g.key);
    const color = (k) => PALETTE[top.includes(k) ? top.indexOf(k) : PALETTE.length - 1];
    const tt = t.totals;
    const card = (k, v, bad) => el("div", { class: "card" + (bad ? " bad" : ""), "data-card": k }, el("div", { class: "k" }, k), el("div", { class: "v" }, v));
    out.replaceChildren(
      el("div", { class: "cards", id: "trend-cards" },
        card("cost", fmtCost(tt.cost_usd) + (t.unpriced.length ? "*" : "")), card("LLM calls", fmtInt(tt.llm_calls)),
        card("input tokens", fmtInt(tt.input)), card("output tokens", fmtInt(tt.output)),
        card("cache read", fmtInt(tt.cache_read)), card("tool calls", fmtInt(tt.tool_calls)),
        card("tool errors", fmtInt(tt.tool_errors), tt.tool_errors > 0)),
      t.unpriced.length ? el("p", { class: "notice", id: "unpriced" }, "* not priced (no price known): " + t.unpriced.join(", ")) : null,
      el("div", { class: "grid2even" },
        el("section", {}, el("h2", {}, `cost per day by ${t.by} (${t.tz})`), stacked(t, "cost_usd", color, "cost-chart", (v) => "$" + v.toFixed(4))),
        el("section", {}, el("h2", {}, `tool errors per day by ${t.by}`), stacked(t, "tool_errors", color, "errors-chart", (v) => String(v)))),
      el("div", { class: "legend", id: "trend-legend" }, top.map((k) => [el("i", { style: "background:" + color(k) }), k]).flat(),
        t.groups.length > top.length ? [el("i", { style: "background:" + PALETTE[PALETTE.length - 1] }), "other"] : null),
      el("section", {}, el("h2", {}, `by ${t.by}`), el("table", { id: "groups" },
        el("thead", {}, el("tr", {}, [t.by, "cost", "LLM calls", "input", "output", "cache read", "tool calls", "tool errors", "error rate"]
          .map((h, i) => el("th", { class: i ? "num" : null }, h)))),
        el("tbody", {}, t.groups.map((g) => el("tr", { class: "group-row", "data-key": g.key },
          el("td", {}, el("i", { class: "swatch", style: "background:" + color(g.key) }), g.key),
          el("td", { class: "num" }, fmtCost(g.cost_usd)), el("td", { class: "num" }, fmtInt(g.llm_calls)),
          el("td", { class: "num" }, fmtInt(g.input)), el("td", { class: "num" }, fmtInt(g.output)),
          el("td", { class: "num" }, fmtInt(g.cache_read)), el("td", { class: "num" }, fmtInt(g.tool_calls)),
          el("td", { class: "num" }, fmtInt(g.tool_errors)),
          el("td", { class: "num" }, g.tool_calls ? (100 * g.tool_errors / g.tool_calls).toFixed(1) + "%" : "–")))))));
  }
  await load();
}

// one bar per day, stacked by group; a <title> on each piece says what it is
function stacked(t, field, color, id, fmt) {
  const W = 700, H = 180, P = 18;
  const svg = document.createElementNS("http://www.w3.org/2000/svg", "svg");
  svg.setAttribute("viewBox", `0 0 ${W} ${H}`);
  svg.setAttribute("class", "chart trend");
  svg.setAttribute("preserveAspectRatio", "none");
  svg.setAttribute("id", id);
  const days = t.daily;
  const max = Math.max(1e-9, ...days.map((d) => d[field]));
  const bw = (W - 2 * P) / Math.max(1, days.length);
  days.forEach((d, i) => {
    let y = H - P;
    const parts = Object.entries(d.groups).filter(([, g]) => g[field] > 0).sort((a, b) => b[1][field] - a[1][field]);
    for (const [k, g] of parts) {
      const h = (g[field] / max) * (H - 2 * P);
      const r = document.createElementNS(svg.namespaceURI, "rect");
      r.setAttribute("x", P + i * bw); r.setAttribute("width", Math.max(1, bw - 2));
      r.setAttribute("y", y - h); r.setAttribute("height", Math.max(h, 0.5)); r.setAttribute("fill", color(k));
      r.setAttribute("data-day", d.date); r.setAttribute("data-key", k);
      const title = document.createElementNS(svg.namespaceURI, "title");
      title.textContent = `${d.date} ${k}: ${fmt(g[field])}`;
      r.append(title);
      svg.append(r);
      y -= h;
    }
    if (i === 0 || i === days.length - 1 || days.length <= 10) {
      const label = document.createElementNS(svg.namespaceURI, "text");
      label.setAttribute("x", P + i * bw + bw / 2); label.setAttribute("y", H - 4);
      label.setAttribute("text-anchor", "middle"); label.setAttribute("class", "axis");
      label.textContent = d.date.slice(5);
      svg.append(label);
    }
  });
  const top = document.createElementNS(svg.namespaceURI, "text");
  top.setAttribute("x", 2); top.setAttribute("y", 11); top.setAttribute("class", "axis");
  top.textContent = "max " + fmt(max);
  svg.append(top);
  return svg;
}

// ---------------------------------------------------------------- compare --
const COMPARE_SHOWN = new Set(["a", "b", "metrics", "verdict", "reasons", "same_tool_sequence", "sequence_diff", "files"]);

async function showCompare() {
  closeLive();
  $("#where").textContent = "compare";
  const p = hashParams();
  const recent = await api.get("/api/sessions?limit=200");
  const options = el("datalist", { id: "recent-sessions" }, recent.sessions.map((s) => el("option", { value: s.session }, cut(s.title || s.cwd || "", 60))));
  const form = el("form", { class: "filters", id: "compare-form", onsubmit: (ev) => { ev.preventDefault(); run(); } },
    el("label", {}, "A (before)", el("input", { id: "c-a", list: "recent-sessions", value: p.get("a") || "", style: "width:20rem" })),
    el("label", {}, "B (after)", el("input", { id: "c-b", list: "recent-sessions", value: p.get("b") || "", style: "width:20rem" })),
    el("label", {}, "tolerance %", el("input", { id: "c-tol", type: "number", min: "0", value: p.get("tolerance") || "20", style: "width:5rem" })),
    el("button", { type: "submit", id: "c-go" }, "compare"), options);
  const out = el("div", { id: "compare-out" });
  $("#app").replaceChildren(form, out);
  async function run() {
    const a = $("#c-a").value.trim(), b = $("#c-b").value.trim(), tolerance = $("#c-tol").value;
    setHashParams("#/compare", { a, b, tolerance });
    if (!a || !b) { out.replaceChildren(el("p", { class: "muted" }, "Pick two sessions (an id or a unique prefix).")); return; }
    let r;
    try {
      r = await api.get("/api/compare?" + new URLSearchParams({ a, b, tolerance }));
    } catch (err) { out.replaceChildren(el("p", { class: "notice" }, String(err.message || err))); return; }
    out.replaceChildren(...compareView(r));
  }
  if (p.get("a") && p.get("b")) await run();
}

// The CLI's compare result, rendered from its shape: metrics as a table,
// then every other field generically (side by side when it has a and b).
function compareView(r) {
  const link = (id) => el("a", { href: "#/s/" + encodeURIComponent(id) }, String(id).slice(0, 16));
  const nodes = [
    el("p", { id: "verdict-line" }, "B ", link(r.b), " against A ", link(r.a), ": ",
      el("span", { class: "badge verdict " + String(r.verdict), id: "verdict" }, String(r.verdict)),
      r.reasons && r.reasons.length ? el("span", { id: "reasons" }, " (" + r.reasons.join("; ") + ")") : null),
  ];
  if (r.metrics) {
    nodes.push(el("table", { id: "metrics" },
      el("thead", {}, el("tr", {}, ["", "A", "B", "change", ""].map((h, i) => el("th", { class: i && i < 4 ? "num" : null }, h)))),
      el("tbody", {}, Object.entries(r.metrics).map(([k, m]) => el("tr", { "data-metric": k },
        el("td", {}, k), el("td", { class: "num" }, fmtNum(m.a)), el("td", { class: "num" }, fmtNum(m.b)),
        el("td", { class: "num" }, fmtNum(m.delta)), el("td", { class: "num muted" }, fmtPct(m.pct)))))));
  }
  for (const [k, v] of Object.entries(r)) {
    if (COMPARE_SHOWN.has(k)) continue;
    nodes.push(el("section", { "data-extra": k }, el("h2", {}, k.replace(/_/g, " ")), generic(v)));
  }
  if (r.sequence_diff) {
    nodes.push(el("section", {}, el("h2", {}, "tool sequence " + (r.same_tool_sequence ? "(same)" : "(diff)")),
      el("pre", { class: "diff", id: "sequence-diff" }, r.sequence_diff.map((line) =>
        el("span", { class: line.startsWith("+") && !line.startsWith("+++") ? "add" : line.startsWith("-") && !line.startsWith("---") ? "del" : "" }, line + "\n")))));
  }
  if (r.files) {
    nodes.push(el("section", {}, el("h2", {}, "files"), generic(r.files)));
  }
  return nodes;
}

function generic(v) {
  if (v && typeof v === "object" && !Array.isArray(v) && "a" in v && "b" in v) {
    return el("div", { class: "grid2even" }, el("div", {}, el("div", { class: "k muted" }, "A"), generic(v.a)),
      el("div", {}, el("div", { class: "k muted" }, "B"), generic(v.b)));
  }
  if (Array.isArray(v)) return v.length ? el("ul", {}, v.map((x) => el("li", {}, typeof x === "object" ? JSON.stringify(x) : String(x)))) : el("span", { class: "muted" }, "none");
  if (v && typeof v === "object") {
    return el("table", { class: "kv" }, el("tbody", {}, Object.entries(v).map(([k, x]) =>
      el("tr", {}, el("td", { class: "muted" }, k), el("td", {}, typeof x === "object" && x !== null ? generic(x) : fmtNum(x))))));
  }
  return el("span", {}, fmtNum(v));
}

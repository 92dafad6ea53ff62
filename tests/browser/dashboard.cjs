// The dashboard against a running server: the list shows the recorded
// session, filters work, the session page shows its tool calls (errors
// highlighted, details on click), and a live session updates without reload.
// Usage: node dashboard.cjs BASE_URL SESSION LIVE_SESSION
const { launch, shot, check, main } = require("./common.cjs");
const readline = require("readline");

main(async () => {
  const [base, session, liveSession] = process.argv.slice(2);
  const browser = await launch();
  const page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
  const foreign = [];
  page.on("request", (r) => { if (!r.url().startsWith(base)) foreign.push(r.url()); });
  const consoleErrors = [];
  page.on("pageerror", (e) => consoleErrors.push(String(e)));
  const result = {};

  // -- list
  await page.goto(base + "/#/");
  const row = page.locator(`tr.session-row[data-session="${session}"]`);
  await row.waitFor({ timeout: 15000 });
  result.list_rows = await page.locator("tr.session-row").count();
  result.row_text = await row.innerText();
  await shot(page, "dashboard-list.png");
  // filters: a search that matches nothing, then the agent filter
  await page.fill("#f-q", "no-such-session-zzz");
  await page.waitForFunction(() => document.querySelectorAll("tr.session-row").length === 0);
  await page.fill("#f-q", "");
  await row.waitFor();
  await page.selectOption("#f-status", "ended");
  await page.waitForFunction((s) => [...document.querySelectorAll("tr.session-row")].every((r) => r.dataset.session === s) &&
    document.querySelectorAll("tr.session-row").length === 1, session);
  result.filtered_ended = await page.locator("tr.session-row").count();
  await page.selectOption("#f-status", "");

  // -- session page
  await row.click();
  await page.locator("#timeline .ev").first().waitFor();
  await page.waitForFunction(() => document.querySelectorAll("#timeline .ev").length > 5);
  result.timeline_rows = await page.locator("#timeline .ev").count();
  result.tool_rows = await page.locator('#timeline .ev[data-type="tool.call"]').allInnerTexts();
  result.error_rows = await page.locator("#timeline .ev.ev-error").count();
  result.cards = await page.locator("#cards").innerText();
  result.git_line = (await page.locator("#git-line").count()) ? await page.locator("#git-line").innerText() : null;
  result.tree = await page.locator("#agent-tree").innerText();
  result.chart_bars = await page.locator("#tokens-chart rect").count();
  const firstTool = page.locator('#timeline .ev[data-type="tool.call"]').first();
  await firstTool.click();
  result.details = await page.locator("#timeline .details.open").first().innerText();
  await page.click('button[data-filter="errors"]');
  result.visible_when_errors = await page.locator("#timeline .ev:visible").count();
  await page.click('button[data-filter="all"]');
  await shot(page, "dashboard-session.png");

  // -- live: open the live session, say so, and wait for the test to append
  await page.goto(base + "/#/s/" + encodeURIComponent(liveSession));
  await page.locator("#timeline .ev").first().waitFor();
  await page.locator("#live-dot:not([hidden])").waitFor({ timeout: 10000 });
  result.live_before = await page.locator("#timeline .ev").count();
  result.live_cards_before = await page.locator('[data-card="tool calls"] .v').innerText();
  console.log(JSON.stringify({ ready: true }));
  const t0 = Date.now();
  await page.locator('#timeline .ev[data-tool="LiveTool"] .res.ok').waitFor({ timeout: 20000 });
  result.live_update_ms = Date.now() - t0;
  const decision = page.locator("#timeline .ev.ev-decision").first();
  await decision.waitFor({ timeout: 10000 });
  result.decision_row = await decision.innerText();
  await page.waitForFunction((before) => document.querySelector('[data-card="tool calls"] .v').textContent !== before,
    result.live_cards_before, { timeout: 10000 });
  result.live_after = await page.locator("#timeline .ev").count();
  result.live_cards_after = await page.locator('[data-card="tool calls"] .v').innerText();
  await shot(page, "dashboard-live.png");
  result.foreign_requests = foreign;
  result.page_errors = consoleErrors;
  await browser.close();
  return result;
});

// The team pages against a running collector: trends (charts by user, then
// by model), search (hits with the words marked; a hit opens its session),
// compare (the verdict and metrics of two sessions) and the sessions list
// filtered by user.
// Usage: node team.cjs BASE_URL TOKEN  (a per-user token: the first visit
// trades it for a cookie)
const { launch, shot, check, main } = require("./common.cjs");

main(async () => {
  const [base, token] = process.argv.slice(2);
  const browser = await launch();
  const page = await browser.newPage({ viewport: { width: 1280, height: 1000 } });
  const foreign = [];
  page.on("request", (r) => { if (!r.url().startsWith(base)) foreign.push(r.url()); });
  const pageErrors = [];
  page.on("pageerror", (e) => pageErrors.push(String(e)));
  const result = {};

  await page.goto(base + "/?token=" + encodeURIComponent(token));
  await page.locator("tr.session-row").first().waitFor({ timeout: 20000 });

  // -- trends
  await page.goto(base + "/#/trends?days=7&by=user&tz=UTC");
  await page.locator("#groups tr.group-row").first().waitFor({ timeout: 20000 });
  result.trend_groups = await page.locator("#groups tr.group-row").evaluateAll((rows) => rows.map((r) => r.dataset.key));
  result.cost_bars = await page.locator("#cost-chart rect").count();
  result.error_bars = await page.locator("#errors-chart rect").count();
  result.error_bar_titles = await page.locator("#errors-chart rect title").allTextContents();
  result.trend_cards = await page.locator("#trend-cards").innerText();
  result.unpriced = await page.locator("#unpriced").innerText();
  result.legend = await page.locator("#trend-legend").innerText();
  await shot(page, "team-trends.png");
  await page.selectOption("#t-by", "model");
  await page.waitForFunction(() => [...document.querySelectorAll("#groups tr.group-row")].some((r) => r.dataset.key.startsWith("claude-")));
  result.model_groups = await page.locator("#groups tr.group-row").evaluateAll((rows) => rows.map((r) => r.dataset.key));
  result.trends_hash = await page.evaluate(() => location.hash);

  // -- search
  await page.click('#nav a[href="#/search"]');
  await page.locator("#s-q").waitFor();
  await page.fill("#s-q", '"rm -rf"');
  await page.click("#s-go");
  await page.locator("#hits tr.hit-row").first().waitFor({ timeout: 20000 });
  result.hit_sessions = await page.locator("#hits tr.hit-row").evaluateAll((rows) => rows.map((r) => r.dataset.session));
  result.marks = await page.locator("#hits mark").allTextContents();
  result.search_count = await page.locator("#search-count").innerText();
  await shot(page, "team-search.png");
  await page.selectOption("#s-user", "bob");
  await page.click("#s-go");
  await page.waitForFunction(() => {
    const rows = [...document.querySelectorAll("#hits tr.hit-row")];
    return rows.length > 0 && rows.every((r) => r.dataset.session === "bob-api-1");
  });
  result.hits_for_bob = await page.locator("#hits tr.hit-row").count();
  await page.locator("#hits tr.hit-row").first().click();
  await page.locator("#timeline .ev").first().waitFor({ timeout: 20000 });
  result.opened = await page.evaluate(() => location.hash);

  // -- compare (from the session page's link, then the second session)
  await page.goto(base + "/#/s/alice-shop-1");
  // (a hash change re-renders asynchronously: click the new page's link, not bob-api-1's)
  await page.locator('#compare-link[href="#/compare?a=alice-shop-1"]').click();
  await page.locator("#c-b").waitFor();
  result.compare_a = await page.locator("#c-a").inputValue();
  await page.fill("#c-b", "alice-shop-2");
  await page.click("#c-go");
  await page.locator("#verdict").waitFor({ timeout: 20000 });
  result.verdict = await page.locator("#verdict").innerText();
  result.reasons = await page.locator("#reasons").innerText();
  result.metrics = await page.locator("#metrics tbody tr").evaluateAll((rows) => rows.map((r) => r.dataset.metric));
  result.tool_errors_row = await page.locator('#metrics tr[data-metric="tool_errors"]').innerText();
  result.diff_lines = await page.locator("#sequence-diff span").count();
  await shot(page, "team-compare.png");

  // -- the sessions list, filtered by user
  await page.click('#nav a[href="#/"]');
  await page.locator("tr.session-row").first().waitFor();
  result.all_rows = await page.locator("tr.session-row").count();
  await page.selectOption("#f-user", "bob");
  await page.waitForFunction(() => document.querySelectorAll("tr.session-row").length === 1);
  result.bob_rows = await page.locator("tr.session-row").evaluateAll((rows) => rows.map((r) => r.dataset.session));
  check(result.bob_rows.length === 1, "one session for bob");

  result.foreign_requests = foreign;
  result.page_errors = pageErrors;
  await browser.close();
  return result;
});

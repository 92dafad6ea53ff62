// A shared HTML page opened from disk with every network request refused:
// it must render the session fully on its own.
// Usage: node share.cjs FILE.html
const { launch, shot, main } = require("./common.cjs");
const path = require("path");

main(async () => {
  const [file] = process.argv.slice(2);
  const browser = await launch();
  const page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
  const requests = [];
  await page.route("**/*", (route) => {
    const url = route.request().url();
    if (url.startsWith("file://")) return route.continue();
    requests.push(url);
    return route.abort();
  });
  const errors = [];
  page.on("pageerror", (e) => errors.push(String(e)));
  await page.goto("file://" + path.resolve(file));
  await page.locator("#timeline .ev").first().waitFor({ timeout: 15000 });
  const result = {
    title: await page.title(),
    rows: await page.locator("#timeline .ev").count(),
    tool_rows: await page.locator('#timeline .ev[data-type="tool.call"]').allInnerTexts(),
    cards: await page.locator("#cards").innerText(),
    note: await page.locator("#share-note").innerText(),
  };
  const big = page.locator('#timeline .ev[data-tool="Write"]').first();
  if (await big.count()) {
    await big.click();
    result.details = await page.locator("#timeline .details.open").first().innerText();
  }
  await shot(page, "share.png");
  result.blocked_requests = requests;
  result.page_errors = errors;
  await browser.close();
  return result;
});

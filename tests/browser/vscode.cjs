// The agent-strace extension in a real VS Code (code-server) driven in
// headless Chromium: status bar, gutter and inline marks, the event panel,
// and a live update while the page is open.
// Usage: node vscode.cjs BASE_URL WORKSPACE TOOL_CALLS COST PAUSE_FLAG_FILE
const fs = require("fs");
const { launch, shot, check, main } = require("./common.cjs");

const STATUS = '[id="agent-strace.agent-strace.agentStrace.status"]';

async function command(page, title) {
  await page.keyboard.press("F1");
  await page.locator(".quick-input-widget input").waitFor();
  await page.keyboard.type(title);
  await page.locator(`.quick-input-list .monaco-list-row:has-text("${title.split(": ").pop()}")`).first().waitFor({ timeout: 15000 });
  await page.keyboard.press("Enter");
}

async function webviewList(page, want) {
  for (let i = 0; i < 80; i++) {
    for (const f of page.frames()) {
      try {
        const t = await f.locator("#list").innerText({ timeout: 200 });
        if (!want || t.includes(want)) return t;
      } catch { /* not this frame */ }
    }
    await page.waitForTimeout(250);
  }
  throw new Error(`event panel never showed ${want || "events"}`);
}

main(async () => {
  const [base, workspace, toolCalls, cost, pauseFlag] = process.argv.slice(2);
  const browser = await launch();
  const page = await browser.newPage({ viewport: { width: 1400, height: 900 } });
  const result = {};
  await page.goto(`${base}/?folder=${encodeURIComponent(workspace)}`);
  const status = page.locator(STATUS);
  await status.waitFor({ timeout: 90000 });
  await page.waitForFunction(([sel, c]) => (document.querySelector(sel) || {}).innerText?.includes(c), [STATUS, cost], { timeout: 60000 });
  result.status = (await status.innerText()).trim();
  result.status_tooltip = await status.getAttribute("aria-label");
  check(result.status.includes(`${toolCalls} tools`), `status bar shows ${toolCalls} tools: ${result.status}`);

  // gutter and inline marks on a file the session read and changed
  await page.keyboard.press("Control+P");
  await page.keyboard.type("notes.txt");
  await page.locator('.quick-input-list .monaco-list-row:has-text("notes.txt")').first().waitFor({ timeout: 20000 });
  await page.keyboard.press("Enter");
  await page.locator(".monaco-editor .view-lines").first().waitFor();
  await page.waitForFunction(() => [...document.querySelectorAll(".view-lines span")].some((s) =>
    getComputedStyle(s, "::after").content.includes("changed by")), null, { timeout: 20000 });
  result.inline = await page.locator(".view-lines span").evaluateAll((els) =>
    els.map((s) => getComputedStyle(s, "::after").content).filter((c) => c && c !== "none" && c.includes(" by ")));
  result.gutter = await page.locator(".monaco-editor .margin [class*='TextEditorDecorationType'], .monaco-editor .glyph-margin-widgets [class*='TextEditorDecorationType']").count();
  await shot(page, "vscode-marks.png");

  // the event stream panel
  await command(page, "agent-strace: Show Event Stream");
  result.panel = await webviewList(page, "Edit(notes.txt)");
  await shot(page, "vscode-panel.png");

  // live: the test appends to the session while the page is open
  console.log(JSON.stringify({ ready: true }));
  const t0 = Date.now();
  const next = String(Number(toolCalls) + 1);
  await page.waitForFunction(([sel, n]) => (document.querySelector(sel) || {}).innerText?.includes(`${n} tools`), [STATUS, next], { timeout: 30000 });
  result.live_status = (await status.innerText()).trim();
  result.live_ms = Date.now() - t0;
  result.live_panel = await webviewList(page, "LiveTool(");
  await shot(page, "vscode-live.png");

  // pause: the flag the PreToolUse hook honours, shown in the status bar
  await command(page, "agent-strace: Pause the Agent at Its Next Tool Call");
  await page.waitForFunction(([sel]) => (document.querySelector(sel) || {}).innerText?.includes("paused"), [STATUS], { timeout: 20000 });
  result.paused_status = (await status.innerText()).trim();
  result.flag_while_paused = fs.existsSync(pauseFlag);
  await command(page, "agent-strace: Resume the Agent");
  await page.waitForFunction(([sel]) => !(document.querySelector(sel) || {}).innerText?.includes("paused"), [STATUS], { timeout: 20000 });
  result.flag_after_resume = fs.existsSync(pauseFlag);

  // the session browser
  await command(page, "agent-strace: Focus on Sessions View");
  const row = page.locator('.monaco-list-row:has-text("do the scripted task")').first();
  await row.waitFor({ timeout: 20000 });
  result.tree_row = await row.innerText();
  await shot(page, "vscode-sessions.png");
  await browser.close();
  return result;
});

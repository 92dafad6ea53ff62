// Shared by the browser scripts: launch Debian's Chromium headless with the
// flags this machine's closed network needs, and fail loudly.
const { chromium } = require(process.env.PLAYWRIGHT_CORE);
const path = require("path");

async function launch() {
  const browser = await chromium.launch({
    executablePath: process.env.CHROMIUM,
    headless: true,
    args: ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
      "--disable-background-networking", "--disable-component-update", "--disable-sync",
      "--disable-dev-shm-usage"],  // playwright gives each launch a new empty profile
  });
  return browser;
}

function shot(page, name) {
  return page.screenshot({ path: path.join(process.env.ARTIFACTS, name), fullPage: true });
}

function check(cond, message) {
  if (!cond) throw new Error("check failed: " + message);
}

function main(fn) {
  fn().then((result) => {
    console.log(JSON.stringify(result));
    process.exit(0);
  }, (err) => {
    console.error(err && err.stack ? err.stack : String(err));
    process.exit(1);
  });
}

module.exports = { launch, shot, check, main };

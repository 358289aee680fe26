// dashboard.test.mjs - the embedded dashboard in headless Chromium (Debian's
// /usr/bin/chromium driven by playwright-core), against a real daemon that
// tests/integration/test_dashboard.sh starts with a known config.
//
// Environment (set by the shell test):
//   YS_DASH_URL      the daemon's base URL, e.g. http://127.0.0.1:PORT/
//   YS_DASH_OUT      folder for the screenshots (their paths are printed)
//   YS_FAIL_CHECK    a check answered 503: must show as down
//   YS_OK_CHECK      a passing check
//   YS_SOON_CHECK    the HTTPS check whose certificate expires in 5 days
//   YS_MISSED_GOAL   a goal id whose target was due in the past and not met
//   YS_MET_GOAL      a goal id that is met
//   YS_SLO           an SLO name
//   CHROMIUM         optional, defaults to /usr/bin/chromium
// Run with `node --test`. Any console error or uncaught page error fails.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { chromium } from "playwright-core";

function env(name) {
  const v = process.env[name];
  assert.ok(v, `${name} must be set`);
  return v;
}

const BASE = env("YS_DASH_URL");
const OUT = env("YS_DASH_OUT");
const FAIL = env("YS_FAIL_CHECK");
const OK = env("YS_OK_CHECK");
const SOON = env("YS_SOON_CHECK");
const MISSED = env("YS_MISSED_GOAL");
const MET = env("YS_MET_GOAL");
const SLO = env("YS_SLO");
const CHROMIUM = process.env.CHROMIUM || "/usr/bin/chromium";

const VIEWPORTS = { desktop: { width: 1280, height: 900 }, phone: { width: 390, height: 844 } };

let browser; /* a persistent context over a fresh, empty profile */
let profile;

before(async () => {
  assert.ok(fs.existsSync(CHROMIUM), `${CHROMIUM} is missing (apt-get install chromium)`);
  profile = fs.mkdtempSync(path.join(os.tmpdir(), "ys-chromium-"));
  // playwright passes the profile folder as --user-data-dir itself.
  browser = await chromium.launchPersistentContext(profile, {
    executablePath: CHROMIUM,
    headless: true,
    viewport: VIEWPORTS.desktop,
    args: [
      "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
      "--disable-background-networking", "--disable-component-update", "--disable-sync",
    ],
  });
});

after(async () => {
  if (browser) await browser.close();
  if (profile) fs.rmSync(profile, { recursive: true, force: true });
});

// Opens a page at route (a hash) in a new tab, recording console
// errors, page errors and failed requests; waits for ready (a selector).
async function open(route, ready, viewport = VIEWPORTS.desktop) {
  const page = await browser.newPage();
  await page.setViewportSize(viewport);
  const ctx = page; /* closing the tab is all the cleanup a test needs */
  const problems = [];
  page.on("console", (m) => { if (m.type() === "error") problems.push(`console: ${m.text()}`); });
  page.on("pageerror", (e) => problems.push(`page error: ${e.message}`));
  page.on("requestfailed", (r) => problems.push(`request failed: ${r.url()} ${r.failure()?.errorText}`));
  page.on("response", (r) => { if (r.status() >= 400) problems.push(`HTTP ${r.status()} for ${r.url()}`); });
  await page.goto(BASE + route, { waitUntil: "load" });
  await page.waitForSelector(ready, { timeout: 15000 });
  // Let the second wave of requests (SLOs, incidents, certificates) land.
  await page.waitForLoadState("networkidle");
  return { ctx, page, problems };
}

async function shoot(page, name) {
  const file = path.join(OUT, `${name}.png`);
  await page.screenshot({ path: file, fullPage: true });
  console.log(`screenshot: ${file}`);
}

const PAGES = [
  ["overview", "#/", "section.area"],
  ["goals", "#/goals", "tr[data-goal]"],
  ["check-failing", `#/check/${encodeURIComponent(FAIL)}`, "#check-status"],
  ["check-ok", `#/check/${encodeURIComponent(OK)}`, "#results"],
  ["check-tls", `#/check/${encodeURIComponent(SOON)}`, "#check-status"],
  ["slo", `#/slo/${encodeURIComponent(SLO)}`, "#burn"],
  ["alerts", "#/alerts", "#alerts-firing li"],
];

for (const [name, route, ready] of PAGES) {
  for (const [vpName, vp] of Object.entries(VIEWPORTS)) {
    test(`${name} (${vpName}) loads with no console errors`, async () => {
      const { ctx, page, problems } = await open(route, ready, vp);
      try {
        // Charts are drawn where the page has one.
        if (name.startsWith("check") || name === "slo") await page.waitForSelector(".chart .uplot canvas");
        await shoot(page, `${name}-${vpName}`);
        assert.deepEqual(problems, []);
        assert.equal(await page.locator("#banner").isHidden(), true, "error banner shown");
        // Nothing may spill sideways at phone width.
        const overflow = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
        assert.ok(overflow <= 1, `page is ${overflow}px wider than the ${vp.width}px viewport`);
      } finally {
        await ctx.close();
      }
    });
  }
}

test("the failing check shows as failing, the passing one as up", async () => {
  const { ctx, page, problems } = await open("#/", "section.area");
  try {
    const bad = page.locator(`a.check-chip[data-check="${FAIL}"]`);
    assert.equal(await bad.getAttribute("data-status"), "down");
    assert.match(await bad.innerText(), /down/);
    assert.equal(await page.locator(`a.check-chip[data-check="${OK}"]`).getAttribute("data-status"), "up");
    await page.click(`a.check-chip[data-check="${FAIL}"]`);
    await page.waitForSelector("#check-status");
    assert.equal((await page.locator("#check-status").innerText()).trim(), "down");
    await page.waitForSelector("#results tbody tr");
    assert.match(await page.locator("#results tbody").innerText(), /503/);
    assert.deepEqual(problems, []);
  } finally {
    await ctx.close();
  }
});

test("the certificate expiring in 5 days stands first in the countdown", async () => {
  const { ctx, page } = await open("#/", "#certs li");
  try {
    const first = page.locator("#certs li").first();
    assert.equal(await first.getAttribute("data-check"), SOON);
    const days = Number(await first.getAttribute("data-days"));
    assert.ok(days >= 4 && days <= 5, `days left ${days}`);
    assert.match(await first.locator(".days").getAttribute("class"), /c-bad/);
    assert.ok((await page.locator("#certs li").count()) >= 2);
  } finally {
    await ctx.close();
  }
});

test("the missed goal shows as missed, the met one as met", async () => {
  const { ctx, page } = await open("#/goals", "tr[data-goal]");
  try {
    const missed = page.locator(`tr[data-goal="${MISSED}"]`);
    assert.equal(await missed.getAttribute("data-status"), "missed");
    assert.equal((await missed.locator(".badge").innerText()).trim(), "missed");
    assert.match(await missed.locator(".badge").getAttribute("class"), /s-bad/);
    assert.equal(await page.locator(`tr[data-goal="${MET}"]`).getAttribute("data-status"), "met");
  } finally {
    await ctx.close();
  }
});

test("the failing check's alert is listed as firing, linked to the check", async () => {
  const { ctx, page, problems } = await open("#/alerts", "#alerts-firing li");
  try {
    const li = page.locator(`#alerts-firing li[data-key="down/${FAIL}"]`);
    assert.equal(await li.count(), 1);
    assert.match(await li.innerText(), /page/);
    assert.equal(await li.locator("a").getAttribute("href"), `#/check/${encodeURIComponent(FAIL)}`);
    assert.equal(await page.locator(`#alerts-firing li[data-key="down/${OK}"]`).count(), 0);
    assert.deepEqual(problems, []);
  } finally {
    await ctx.close();
  }
});

test("the page refreshes itself without reloading", async () => {
  const { ctx, page, problems } = await open("#/", "section.area");
  try {
    await page.evaluate(() => { window.__ysMarker = 42; });
    const first = await page.locator("#updated").innerText();
    await page.waitForFunction((t) => document.getElementById("updated").textContent !== t, first, { timeout: 15000 });
    assert.equal(await page.evaluate(() => window.__ysMarker), 42, "the page was reloaded");
    assert.deepEqual(problems, []);
  } finally {
    await ctx.close();
  }
});

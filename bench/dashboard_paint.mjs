// bench/dashboard_paint.mjs - how soon the dashboard's overview shows its
// checks, measured in headless Chromium (Debian's /usr/bin/chromium driven
// by playwright-core). bench/dashboard_paint.sh starts the daemon and runs
// this from the playwright-core install folder.
//
// Each run uses a fresh browser context (empty cache, no service worker, no
// connection reuse) and loads the overview once. Every figure is in ms from
// the navigation start (performance.timeOrigin) of that page:
//   fcp       first-contentful-paint entry (the header and empty grid)
//   checksApi responseEnd of the page's own GET api/v1/checks (Resource
//             Timing), with its requestStart: the API's share
//   panels    the first `section.area a.check-chip` in the DOM (a
//             MutationObserver installed before any page script runs)
//   painted   the frame after that insertion has been painted (rAF, then a
//             message task: runs once the frame is committed)
//   lcp       the last largest-contentful-paint entry by then
//   filled    the certificate panel no longer says "Loading…": SLOs,
//             incidents and certificates have arrived and been painted in
//   chips     how many check chips the page shows (must be all of them)
//
// Environment: YS_DASH_URL (base URL), YS_RUNS (default 5), CHROMIUM.
// Prints one line per run, then the medians, then a JSON line for tools.
import fs from "node:fs";
import { chromium } from "playwright-core";

const BASE = process.env.YS_DASH_URL;
const RUNS = Number(process.env.YS_RUNS || 5);
const CHROMIUM = process.env.CHROMIUM || "/usr/bin/chromium";
if (!BASE) throw new Error("YS_DASH_URL must be set");
if (!fs.existsSync(CHROMIUM)) throw new Error(`${CHROMIUM} is missing`);

// Runs in the page before app.js: records when the check panels appear,
// when that frame has been painted, and when the second wave is in.
function probe() {
  const m = (window.__ys = { lcp: null });
  new PerformanceObserver((l) => {
    for (const e of l.getEntries()) m.lcp = e.renderTime || e.startTime;
  }).observe({ type: "largest-contentful-paint", buffered: true });
  const afterPaint = (key) => requestAnimationFrame(() => {
    const ch = new MessageChannel();
    ch.port1.onmessage = () => { m[key] = performance.now(); };
    ch.port2.postMessage(0);
  });
  const mo = new MutationObserver(() => {
    if (m.panels === undefined && document.querySelector("section.area a.check-chip")) {
      m.panels = performance.now();
      m.lcpAtPanels = m.lcp;
      afterPaint("painted");
    }
    const certs = document.getElementById("certs");
    if (m.panels !== undefined && m.filledDom === undefined && certs && !/Loading/.test(certs.textContent)) {
      m.filledDom = performance.now();
      afterPaint("filled");
      mo.disconnect();
    }
  });
  mo.observe(document, { childList: true, subtree: true });
}

const median = (xs) => {
  const s = xs.filter((x) => typeof x === "number").sort((a, b) => a - b);
  if (!s.length) return null;
  const h = s.length >> 1;
  return s.length % 2 ? s[h] : (s[h - 1] + s[h]) / 2;
};
const ms = (v) => (typeof v === "number" ? v.toFixed(0).padStart(6) : "     -");

const browser = await chromium.launch({
  executablePath: CHROMIUM,
  headless: true,
  args: ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync"],
});
const runs = [];
try {
  for (let i = 1; i <= RUNS; i++) {
    const ctx = await browser.newContext({ viewport: { width: 1280, height: 900 } });
    const page = await ctx.newPage();
    const errors = [];
    page.on("pageerror", (e) => errors.push(e.message));
    page.on("console", (msg) => { if (msg.type() === "error") errors.push(msg.text()); });
    await page.addInitScript(probe);
    await page.goto(BASE + "#/", { waitUntil: "commit" });
    await page.waitForFunction(() => window.__ys && window.__ys.filled !== undefined && window.__ys.painted !== undefined,
      null, { timeout: 60000, polling: 50 });
    const r = await page.evaluate(() => {
      const m = window.__ys;
      const fcp = performance.getEntriesByName("first-contentful-paint")[0];
      const nav = performance.getEntriesByType("navigation")[0];
      const api = performance.getEntriesByType("resource").find((e) => /\/api\/v1\/checks(\?|$)/.test(e.name));
      return {
        fcp: fcp ? fcp.startTime : null,
        dcl: nav ? nav.domContentLoadedEventEnd : null,
        apiStart: api ? api.requestStart : null,
        apiFirstByte: api ? api.responseStart : null,
        apiEnd: api ? api.responseEnd : null,
        apiBytes: api ? api.encodedBodySize : null,
        panels: m.panels, painted: m.painted, lcp: m.lcpAtPanels ?? m.lcp, filled: m.filled,
        chips: document.querySelectorAll("section.area a.check-chip").length,
      };
    });
    r.errors = errors;
    runs.push(r);
    console.log(`run ${i}: fcp ${ms(r.fcp)}  dcl ${ms(r.dcl)}  checks api ${ms(r.apiStart)} ->${ms(r.apiEnd)} ` +
      `(${r.apiBytes} B)  panels in DOM ${ms(r.panels)}  painted ${ms(r.painted)}  lcp ${ms(r.lcp)}  ` +
      `all filled ${ms(r.filled)}  chips ${r.chips}${errors.length ? "  ERRORS: " + errors.join(" | ") : ""}`);
    await ctx.close();
  }
} finally {
  await browser.close();
}

const keys = ["fcp", "dcl", "apiStart", "apiFirstByte", "apiEnd", "panels", "painted", "lcp", "filled"];
const med = Object.fromEntries(keys.map((k) => [k, median(runs.map((r) => r[k]))]));
med.apiTime = median(runs.map((r) => r.apiEnd - r.apiStart));
med.renderAfterApi = median(runs.map((r) => r.painted - r.apiEnd));
console.log(`median: fcp ${ms(med.fcp)}  checks api ${ms(med.apiStart)} ->${ms(med.apiEnd)} (request ${ms(med.apiTime)})  ` +
  `panels in DOM ${ms(med.panels)}  painted ${ms(med.painted)} (render after api ${ms(med.renderAfterApi)})  ` +
  `lcp ${ms(med.lcp)}  all filled ${ms(med.filled)}`);
console.log("json " + JSON.stringify({ runs, median: med }));
if (runs.some((r) => r.errors.length)) process.exitCode = 1;

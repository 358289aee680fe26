/*
 * yardstick dashboard: a small hash-routed single page over the daemon's
 * read-only JSON API (/api/v1). No framework and no build step: the file is
 * embedded into the binary as written.
 *
 * Routes: #/ overview, #/goals, #/alerts, #/check/<name>, #/slo/<name>. Each view is
 * an object with render() (first paint) and refresh() (every 10 s, same DOM
 * skeleton, charts kept and fed new data with setData). null in the API
 * means "no data" and is shown as such, never as 0.
 */
"use strict";

const API = "api/v1/";
const REFRESH_MS = 10000;
const DAY_MS = 86400000;
const RANGES = { "1h": 3600e3, "24h": DAY_MS, "7d": 7 * DAY_MS, "30d": 30 * DAY_MS, "1y": 365 * DAY_MS };

/* ---------- small helpers ---------- */

/* el("div", {class: "x"}, child, "text") builds DOM; text is never parsed as HTML. */
function el(tag, attrs, ...kids) {
  const n = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) {
    if (v === null || v === undefined || v === false) continue;
    if (k === "class") n.className = v;
    else if (k === "style") n.style.cssText = v;
    else if (k.startsWith("on")) n.addEventListener(k.slice(2), v);
    else n.setAttribute(k, v === true ? "" : v);
  }
  for (const c of kids.flat(Infinity)) {
    if (c === null || c === undefined || c === false) continue;
    n.append(c instanceof Node ? c : document.createTextNode(String(c)));
  }
  return n;
}

const SVGNS = "http://www.w3.org/2000/svg";
function svg(tag, attrs) {
  const n = document.createElementNS(SVGNS, tag);
  for (const [k, v] of Object.entries(attrs || {})) n.setAttribute(k, v);
  return n;
}

async function getJSON(path) {
  const r = await fetch(API + path, { headers: { Accept: "application/json" } });
  let body = null;
  try { body = await r.json(); } catch (e) { body = null; }
  if (!r.ok) {
    const msg = body && body.error ? (body.error.message || body.error) : r.statusText;
    const err = new Error(`${r.status} ${msg}`);
    err.status = r.status;
    throw err;
  }
  return body;
}

const isNum = (v) => typeof v === "number" && Number.isFinite(v);

/* Ratios (0..1) as percentages; tolerate an API that already sends percent. */
function ratio(v) { return !isNum(v) ? null : v > 1.0000001 ? v / 100 : v; }
function pct(v, digits = 2) {
  const r = ratio(v);
  if (r === null) return "no data";
  const p = r * 100;
  return (p === 100 ? "100" : p.toFixed(digits)) + "%";
}
function ms(v) {
  if (!isNum(v)) return "no data";
  if (v < 1) return v.toFixed(2) + " ms";
  if (v < 1000) return v.toFixed(v < 10 ? 1 : 0) + " ms";
  return (v / 1000).toFixed(2) + " s";
}
function dur(s) {
  if (!isNum(s)) return "—";
  if (s < 1) return Math.round(s * 1000) + " ms";
  if (s < 60) return Math.round(s) + " s";
  if (s < 3600) return Math.round(s / 60) + " min";
  if (s < 86400) return (s / 3600).toFixed(1) + " h";
  return (s / 86400).toFixed(1) + " d";
}
function ago(t) {
  if (!isNum(t)) return "never";
  const s = (Date.now() - t) / 1000;
  return s < 5 ? "just now" : dur(s) + " ago";
}
function pad2(n) { return String(n).padStart(2, "0"); }
function when(t) {
  if (!isNum(t)) return "—";
  const d = new Date(t);
  return `${d.getFullYear()}-${pad2(d.getMonth() + 1)}-${pad2(d.getDate())} ${pad2(d.getHours())}:${pad2(d.getMinutes())}:${pad2(d.getSeconds())}`;
}
function tsOf(r) { return isNum(r.ts_ms) ? r.ts_ms : Date.parse(r.ts); }
function dateMs(s) { const t = Date.parse(s); return Number.isNaN(t) ? null : t; }

/* Status words -> colour class. */
function goalClass(s) {
  return { met: "s-ok", "on track": "s-ok", "at risk": "s-warn", missed: "s-bad" }[s] || "s-none";
}
function alertClass(s) { return { ok: "s-ok", ticket: "s-warn", page: "s-bad" }[s] || "s-none"; }
function checkClass(s) { return { up: "s-ok", down: "s-bad" }[s] || "s-none"; }
function daysClass(d) { return !isNum(d) ? "c-none" : d < 7 ? "c-bad" : d < 30 ? "c-warn" : "c-ok"; }
function budgetClass(r) { return r === null ? "" : r < 0.2 ? "bad" : r < 0.5 ? "warn" : ""; }
function badge(text, cls) { return el("span", { class: "badge " + cls }, text); }

function budgetText(b) {
  if (!b || !isNum(b.remaining)) return "no data";
  return b.remaining <= 0 ? "exhausted" : pct(b.remaining, 1) + " left";
}

function budgetBar(remaining) {
  const r = isNum(remaining) ? remaining : null;
  const w = r === null ? 0 : Math.max(0, Math.min(1, r)) * 100;
  return el("div", { class: "bar " + budgetClass(r), role: "meter", "aria-valuenow": r === null ? "" : w.toFixed(0) },
    el("span", { style: `width:${w}%` }));
}

function checkLink(name) { return "#/check/" + encodeURIComponent(name); }
function sloLink(name) { return "#/slo/" + encodeURIComponent(name); }

/* ---------- shared state ---------- */

const main = document.getElementById("main");
let view = null;     /* the current view object */
let timer = null;

function banner(msg) {
  const b = document.getElementById("banner");
  b.hidden = !msg;
  b.textContent = msg || "";
}
function stamp() {
  document.getElementById("updated").textContent = "updated " + new Date().toLocaleTimeString();
}

/* ---------- Overview ---------- */

function areaOf(check) { return (check.labels && check.labels.area) || "other"; }
function sortAreas(names) {
  return names.sort((a, b) => (a === "other") - (b === "other") || a.localeCompare(b));
}

const Overview = {
  title: "Overview",
  async render() {
    main.replaceChildren(el("h1", {}, "Overview"), this.root = el("div", { class: "grid" }));
    await this.refresh();
  },
  async refresh() {
    /* The checks alone give the first paint; the rest fills in after. */
    const checks = (await getJSON("checks")).checks || [];
    this.checks = checks;
    this.paint();
    const now = Date.now();
    const [slos, inc, certs] = await Promise.allSettled([
      getJSON("slos"),
      getJSON(`incidents?from=${now - DAY_MS}&to=${now}`),
      getJSON("certificates"),
    ]);
    this.slos = slos.status === "fulfilled" ? slos.value.slos || [] : null;
    this.incidents = inc.status === "fulfilled" ? inc.value.incidents || [] : null;
    this.certs = certs.status === "fulfilled" ? certs.value.certificates || [] : null;
    this.paint();
    const bad = [slos, inc, certs].find((p) => p.status === "rejected");
    if (bad) throw bad.reason;
  },
  paint() {
    const byArea = new Map();
    for (const c of this.checks) {
      const a = areaOf(c);
      if (!byArea.has(a)) byArea.set(a, []);
      byArea.get(a).push(c);
    }
    const panels = [this.certPanel()];
    for (const a of sortAreas([...byArea.keys()])) panels.push(this.areaPanel(a, byArea.get(a)));
    if (!this.checks.length) panels.push(el("section", { class: "panel" }, el("p", { class: "muted" }, "No checks configured.")));
    this.root.replaceChildren(...panels);
  },
  areaPanel(area, checks) {
    checks.sort((x, y) => (x.status !== "down") - (y.status !== "down") || x.name.localeCompare(y.name));
    const up = checks.filter((c) => c.status === "up").length;
    const down = checks.filter((c) => c.status === "down").length;
    const names = new Set(checks.map((c) => c.name));
    const head = el("div", { class: "panel-head" }, el("h2", {}, area),
      el("span", { class: "num" },
        el("span", { class: "c-ok" }, `${up} up`), " · ",
        el("span", { class: down ? "c-bad" : "muted" }, `${down} down`),
        checks.length - up - down ? el("span", { class: "muted" }, ` · ${checks.length - up - down} unknown`) : null));
    const chips = el("ul", { class: "checks" }, checks.map((c) =>
      el("li", {}, el("a", { class: "check-chip " + c.status, href: checkLink(c.name), "data-check": c.name, "data-status": c.status,
        title: c.last ? (c.last.message || c.last.error || "ok") : "no results yet" },
        el("span", { class: "dot " + c.status }), c.name,
        el("span", { class: "muted num" }, c.status === "down" ? "down" : pct(c.availability && c.availability["24h"], 2))))));
    const parts = [head, chips];
    if (this.slos) {
      const slos = this.slos.filter((s) => (s.checks || []).some((n) => names.has(n)));
      if (slos.length) {
        parts.push(el("h3", {}, "Error budgets"));
        for (const s of slos)
          parts.push(el("div", { class: "budget" },
            el("a", { class: "ellipsis", href: sloLink(s.name) }, s.name),
            el("span", { class: "num" }, budgetText(s.budget), " ",
              badge(s.alert || "no data", alertClass(s.alert))),
            budgetBar(s.budget ? s.budget.remaining : null)));
      }
    }
    if (this.incidents) {
      const inc = this.incidents.filter((i) => names.has(i.check));
      parts.push(el("h3", {}, `Incidents, last 24 h: ${inc.length}`));
      if (inc.length)
        parts.push(el("ul", { class: "plain" }, inc.slice(0, 5).map((i) =>
          el("li", {}, i.open ? badge("open", "s-bad") : badge("closed", "s-none"), " ",
            el("a", { href: checkLink(i.check) }, i.check), " ",
            el("span", { class: "muted" }, when(i.start_ms), " · ", dur(i.duration_s)),
            i.first_error ? el("div", { class: "muted msg" }, i.first_error) : null))));
    }
    return el("section", { class: "panel area", "data-area": area }, parts);
  },
  certPanel() {
    const p = el("section", { class: "panel", id: "certs" }, el("h2", {}, "Certificate expiry"));
    if (this.certs === undefined) p.append(el("p", { class: "muted" }, "Loading…"));
    else if (this.certs === null) p.append(el("p", { class: "muted" }, "no data"));
    else if (!this.certs.length) p.append(el("p", { class: "muted" }, "No TLS certificates seen yet."));
    else {
      const list = [...this.certs].sort((a, b) => (isNum(a.days_left) ? a.days_left : 1e9) - (isNum(b.days_left) ? b.days_left : 1e9));
      p.append(el("ul", { class: "plain certs" }, list.map((c) =>
        el("li", { "data-check": c.check, "data-days": isNum(c.days_left) ? c.days_left : "" },
          el("span", { class: "days num " + daysClass(c.days_left) }, isNum(c.days_left) ? `${Math.floor(c.days_left)} d` : "no data"),
          el("span", { class: "ellipsis", title: `${c.subject || ""} issued by ${c.issuer || ""}` },
            el("a", { href: checkLink(c.check) }, c.check), " ", el("span", { class: "muted" }, c.subject || "")),
          el("span", { class: "muted num hide-phone" }, c.not_after ? String(c.not_after).slice(0, 10) : "")))));
    }
    return p;
  },
};

/* ---------- Goals ---------- */

function sparkline(trend, target) {
  const pts = (trend || []).filter((p) => isNum(p.value) && isNum(p.t_ms));
  const W = 120, H = 28;
  const s = svg("svg", { class: "spark", viewBox: `0 0 ${W} ${H}`, role: "img", "aria-label": "trend" });
  if (!pts.length) return el("span", { class: "muted" }, "no data");
  if (pts.length === 1) { /* one sample so far: a dot, not an empty box */
    s.append(svg("circle", { cx: W - 4, cy: H / 2, r: 2.5, fill: "currentColor" }));
    return s;
  }
  let lo = Math.min(...pts.map((p) => p.value)), hi = Math.max(...pts.map((p) => p.value));
  if (isNum(target) && target >= lo - (hi - lo) && target <= hi + (hi - lo)) { lo = Math.min(lo, target); hi = Math.max(hi, target); }
  if (hi === lo) { hi += 1; lo -= 1; }
  const t0 = pts[0].t_ms, t1 = pts[pts.length - 1].t_ms || t0 + 1;
  const x = (t) => ((t - t0) / Math.max(1, t1 - t0)) * (W - 2) + 1;
  const y = (v) => H - 2 - ((v - lo) / (hi - lo)) * (H - 4);
  if (isNum(target) && target >= lo && target <= hi)
    s.append(svg("path", { class: "target", d: `M1 ${y(target).toFixed(1)}H${W - 1}` }));
  s.append(svg("path", { d: pts.map((p, i) => `${i ? "L" : "M"}${x(p.t_ms).toFixed(1)} ${y(p.value).toFixed(1)}`).join("") }));
  return s;
}

function goalMeasured(g) {
  if (g.measured_text) return g.measured_text;
  return isNum(g.measured) ? String(+g.measured.toFixed(3)) : "no data";
}

const Goals = {
  title: "Goals",
  async render() {
    main.replaceChildren(el("h1", {}, "Goals"), this.root = el("div", { class: "grid" }));
    await this.refresh();
  },
  async refresh() {
    const d = await getJSON("goals");
    const goals = d.goals || [], milestones = d.milestones || [];
    const byArea = new Map();
    for (const g of goals) {
      const a = g.area || "other";
      if (!byArea.has(a)) byArea.set(a, []);
      byArea.get(a).push(g);
    }
    const panels = [];
    const counts = {};
    for (const g of goals) counts[g.status || "no data"] = (counts[g.status || "no data"] || 0) + 1;
    panels.push(el("section", { class: "panel wide" }, el("div", { class: "tiles", style: "margin:0" },
      ["met", "on track", "at risk", "missed", "no data"].map((s) =>
        el("div", { class: "tile" }, el("div", { class: "k" }, s), el("div", { class: "v " + goalClass(s).replace("s-", "c-") }, String(counts[s] || 0)))))));
    if (milestones.length) panels.push(this.milestonePanel(milestones));
    for (const a of sortAreas([...byArea.keys()])) panels.push(this.areaPanel(a, byArea.get(a)));
    if (!goals.length) panels.push(el("section", { class: "panel wide" }, el("p", { class: "muted" }, "No goals configured.")));
    this.root.replaceChildren(...panels);
  },
  areaPanel(area, goals) {
    const rows = goals.map((g) => el("tr", { "data-goal": g.id, "data-status": g.status },
      el("td", {}, el("div", {}, g.title || g.id), el("div", { class: "muted" }, [g.priority, g.id].filter(Boolean).join(" · "))),
      el("td", { class: "h-baseline", "data-label": "baseline" }, g.baseline || "—"),
      el("td", { "data-label": "target" }, g.target || "—"),
      el("td", { class: "num", "data-label": "now" }, goalMeasured(g)),
      el("td", { "data-label": "status" }, badge(g.status || "no data", goalClass(g.status))),
      el("td", { class: "num", "data-label": "due" }, g.due || "—",
        g.projection && g.projection.valid && isNum(g.projection.reach_ms) && g.status !== "met"
          ? el("div", { class: "muted" }, "proj. " + when(g.projection.reach_ms).slice(0, 10)) : null),
      el("td", { class: "h-trend" }, sparkline(g.trend, null))));
    return el("section", { class: "panel wide goal-area", "data-area": area }, el("h2", {}, area),
      el("div", { class: "table-wrap" }, el("table", { class: "goals" },
        el("thead", {}, el("tr", {}, el("th", {}, "Goal"), el("th", { class: "h-baseline" }, "Baseline"), el("th", {}, "Target"),
          el("th", {}, "Now"), el("th", {}, "Status"), el("th", {}, "Due"), el("th", { class: "h-trend" }, "Trend"))),
        el("tbody", {}, rows))));
  },
  milestonePanel(ms) {
    const list = [...ms].sort((a, b) => (dateMs(a.due) || 0) - (dateMs(b.due) || 0));
    const times = list.map((m) => dateMs(m.due)).filter(isNum).concat([Date.now()]);
    const lo = Math.min(...times), hi = Math.max(...times);
    const pos = (t) => (hi === lo ? 50 : 3 + ((t - lo) / (hi - lo)) * 94);
    const line = el("div", { class: "timeline" }, el("div", { class: "today", style: `left:${pos(Date.now())}%` }));
    for (const m of list) {
      const t = dateMs(m.due);
      if (!isNum(t)) continue;
      const cls = goalClass(m.status).replace("s-", "ms-");
      line.append(el("div", { class: "ms " + cls, style: `left:${pos(t)}%`, title: `${m.title} (${m.due})` }),
        el("div", { class: "ms-label", style: `left:${pos(t)}%` }, m.title));
    }
    const items = list.map((m) => {
      const p = ratio(m.progress);
      return el("li", { "data-milestone": m.title },
        el("span", { class: "num muted" }, m.due || "—"),
        el("span", {}, m.title, el("span", { class: "muted" }, ` · ${(m.goals || []).length} goals`)),
        el("div", { class: "bar " + (m.status === "missed" ? "bad" : m.status === "at risk" ? "warn" : ""), title: pct(p, 0) },
          el("span", { style: `width:${p === null ? 0 : p * 100}%` })),
        badge(`${m.status || "no data"}${p === null ? "" : " · " + pct(p, 0)}`, goalClass(m.status)));
    });
    return el("section", { class: "panel wide" }, el("h2", {}, "Milestones"), line, el("ul", { class: "plain milestones" }, items));
  },
};

/* ---------- charts ---------- */

function cssVar(name) { return getComputedStyle(document.documentElement).getPropertyValue(name).trim(); }

/* A uPlot that shades [start, end] intervals (seconds) behind its series. */
function makeChart(container, series, opts = {}) {
  const width = Math.max(280, container.clientWidth || 600);
  const shade = { spans: [] };
  const u = new uPlot({
    width, height: opts.height || 260,
    scales: { x: { time: true }, ...(opts.scales || {}) },
    axes: [
      { stroke: cssVar("--muted"), grid: { stroke: cssVar("--line") }, ticks: { stroke: cssVar("--line") } },
      { scale: opts.yScale || "y", stroke: cssVar("--muted"), grid: { stroke: cssVar("--line") }, ticks: { stroke: cssVar("--line") }, size: 60,
        values: opts.yValues || ((u, vals) => vals.map((v) => ms(v))) },
      ...(opts.extraAxes || []),
    ],
    series: [{}, ...series],
    cursor: { drag: { x: false, y: false } },
    hooks: {
      drawClear: [(u) => {
        const ctx = u.ctx;
        ctx.save();
        ctx.fillStyle = cssVar("--shade");
        for (const [a, b] of shade.spans) {
          const x0 = Math.max(u.bbox.left, u.valToPos(a, "x", true));
          const x1 = Math.min(u.bbox.left + u.bbox.width, u.valToPos(b, "x", true));
          if (x1 > x0) ctx.fillRect(x0, u.bbox.top, Math.max(2, x1 - x0), u.bbox.height);
        }
        ctx.restore();
      }],
    },
  }, [[], ...series.map(() => [])], container);
  u._shade = shade;
  return u;
}

function fitCharts(charts) {
  for (const [u, box] of charts) if (u && box.clientWidth) u.setSize({ width: box.clientWidth, height: u.height });
}

/* ---------- Check detail ---------- */

const CheckView = {
  range: "24h",
  async render(name) {
    this.name = name;
    this.chart = null;
    this.head = el("div");
    this.tiles = el("div", { class: "tiles" });
    this.rangeBtns = el("div", { class: "seg", role: "group", "aria-label": "range" }, Object.keys(RANGES).map((r) =>
      el("button", { type: "button", "data-range": r, class: r === this.range ? "active" : "",
        onclick: () => { this.range = r; this.markRange(); this.loadChart().catch(showError); } }, r)));
    this.chartBox = el("div", { class: "chart" });
    this.chartNote = el("div", { class: "muted" });
    this.phases = el("section", { class: "panel" });
    this.results = el("section", { class: "panel wide" });
    main.replaceChildren(this.head, this.tiles,
      el("section", { class: "panel", style: "margin-bottom:1rem" },
        el("div", { class: "panel-head" }, el("h2", {}, "Latency"), this.rangeBtns), this.chartBox, this.chartNote),
      el("div", { class: "grid" }, this.phases, this.results));
    await this.refresh();
  },
  markRange() {
    for (const b of this.rangeBtns.children) b.classList.toggle("active", b.dataset.range === this.range);
  },
  async refresh() {
    const c = (await getJSON("checks")).checks || [];
    const check = c.find((x) => x.name === this.name);
    if (!check) {
      main.replaceChildren(el("h1", {}, this.name), el("p", {}, "No such check. ", el("a", { href: "#/" }, "Back to the overview")));
      this.chart = null;
      return;
    }
    this.check = check;
    this.paintHead(check);
    this.paintPhases(check.last);
    await Promise.all([this.loadChart(), this.loadResults(check)]);
  },
  paintHead(c) {
    const labels = Object.entries(c.labels || {}).map(([k, v]) => badge(`${k}=${v}`, "s-none"));
    this.head.replaceChildren(
      el("h1", {}, c.name, " ", el("span", { class: "badge " + checkClass(c.status), id: "check-status", "data-status": c.status }, c.status),
        c.incident_open ? [" ", badge("incident open", "s-bad")] : null),
      el("p", { class: "muted" }, `${c.kind} · every ${dur(c.interval_s)} · last result ${c.last ? ago(tsOf(c.last)) : "never"} `, labels));
    const av = c.availability || {};
    const counters = c.counters || {};
    this.tiles.replaceChildren(
      ...["24h", "7d", "30d"].map((k) => el("div", { class: "tile" }, el("div", { class: "k" }, "availability " + k),
        el("div", { class: "v num" }, pct(av[k], 3)))),
      el("div", { class: "tile" }, el("div", { class: "k" }, "last duration"), el("div", { class: "v num" }, c.last ? ms(c.last.duration_ms) : "no data")),
      el("div", { class: "tile" }, el("div", { class: "k" }, "results ok / total"),
        el("div", { class: "v num" }, isNum(counters.total) ? `${counters.ok} / ${counters.total}` : "no data")));
  },
  paintPhases(last) {
    const parts = [el("h2", {}, "Phase timings (last result)")];
    if (!last || !last.phases) {
      parts.push(el("p", { class: "muted" }, "no data"));
    } else {
      const names = [["dns_ms", "DNS", "ph-dns"], ["connect_ms", "connect", "ph-connect"], ["tls_ms", "TLS", "ph-tls"], ["ttfb_ms", "first byte", "ph-ttfb"]];
      const have = names.filter(([k]) => isNum(last.phases[k]) && last.phases[k] >= 0);
      const sum = have.reduce((s, [k]) => s + last.phases[k], 0);
      const total = Math.max(sum, isNum(last.duration_ms) ? last.duration_ms : 0) || 1;
      const rest = Math.max(0, total - sum);
      const segs = have.map(([k, , cls]) => el("span", { class: cls, style: `width:${(last.phases[k] / total) * 100}%`, title: k }));
      if (rest > 0) segs.push(el("span", { class: "ph-rest", style: `width:${(rest / total) * 100}%` }));
      parts.push(el("div", { class: "waterfall" }, segs),
        el("div", { class: "legend" }, have.map(([k, label, cls]) => el("span", {}, el("i", { class: cls }), `${label} ${ms(last.phases[k])}`)),
          rest > 0 ? el("span", {}, el("i", { class: "ph-rest" }), `rest ${ms(rest)}`) : null),
        last.tls ? el("p", { class: "muted" }, `certificate: ${last.tls.subject || ""} · expires ${String(last.tls.not_after || "").slice(0, 10)} (${isNum(last.tls.days_left) ? Math.floor(last.tls.days_left) + " d" : "?"})`) : null);
    }
    this.phases.replaceChildren(...parts.filter(Boolean));
  },
  async loadResults(c) {
    const to = Date.now(), from = to - Math.max(120, (c.interval_s || 10) * 30) * 1000;
    const d = await getJSON(`checks/${encodeURIComponent(this.name)}?from=${from}&to=${to}&resolution=raw`);
    const rows = (d.results || []).slice(-20).reverse();
    this.results.replaceChildren(el("h2", {}, "Last results"),
      rows.length ? el("div", { class: "table-wrap" }, el("table", { id: "results" },
        el("thead", {}, el("tr", {}, el("th", {}, "Time"), el("th", {}, "Result"), el("th", {}, "Duration"), el("th", {}, "Message"))),
        el("tbody", {}, rows.map((r) => el("tr", {},
          el("td", { class: "num" }, when(tsOf(r)).slice(11)),
          el("td", {}, r.ok ? badge("ok", "s-ok") : badge(r.error || "failed", "s-bad"), r.status ? el("span", { class: "muted" }, " " + r.status) : null),
          el("td", { class: "num" }, ms(r.duration_ms)),
          el("td", { class: "msg" }, r.message || (r.ok ? "" : r.error || ""))))))) : el("p", { class: "muted" }, "no data"));
  },
  async loadChart() {
    const name = this.name, range = this.range;
    const to = Date.now(), from = to - RANGES[range];
    const [d, inc] = await Promise.all([
      getJSON(`checks/${encodeURIComponent(name)}?from=${from}&to=${to}&resolution=auto`),
      getJSON(`incidents?check=${encodeURIComponent(name)}&from=${from}&to=${to}`).catch(() => ({ incidents: [] })),
    ]);
    if (name !== this.name || range !== this.range) return; /* the user moved on */
    let x, p50, p95, p99, note;
    if (Array.isArray(d.rollups)) {
      const rs = d.rollups;
      x = rs.map((r) => r.bucket_ms / 1000);
      p50 = rs.map((r) => (isNum(r.p50_ms) ? r.p50_ms : null));
      p95 = rs.map((r) => (isNum(r.p95_ms) ? r.p95_ms : null));
      p99 = rs.map((r) => (isNum(r.p99_ms) ? r.p99_ms : null));
      const tot = rs.reduce((s, r) => s + (r.total || 0), 0), ok = rs.reduce((s, r) => s + (r.ok || 0), 0);
      note = `${d.resolution} buckets · availability over ${range}: ${tot ? pct(ok / tot, 3) : "no data"}`;
    } else {
      /* Raw results: P50/P95/P99 over a sliding window of the last 20 results. */
      const rs = (d.results || []).filter((r) => isNum(r.duration_ms));
      x = rs.map((r) => tsOf(r) / 1000);
      const q = (k) => rs.map((_, i) => quantile(rs.slice(Math.max(0, i - 19), i + 1).map((r) => r.duration_ms), k));
      [p50, p95, p99] = [q(0.5), q(0.95), q(0.99)];
      const ok = rs.filter((r) => r.ok).length;
      note = `raw results (percentiles over the last 20) · availability over ${range}: ${rs.length ? pct(ok / rs.length, 3) : "no data"}`;
    }
    const spans = (inc.incidents || []).map((i) => [i.start_ms / 1000, (isNum(i.end_ms) ? i.end_ms : Date.now()) / 1000]);
    if (!this.chart || !this.chartBox.isConnected || !this.chartBox.contains(this.chart.root)) {
      this.chartBox.replaceChildren();
      this.chart = makeChart(this.chartBox, [
        { label: "P50", stroke: "#2b9bd3", width: 1.5, value: (u, v) => (isNum(v) ? ms(v) : "—") },
        { label: "P95", stroke: "#d39b2b", width: 1.5, value: (u, v) => (isNum(v) ? ms(v) : "—") },
        { label: "P99", stroke: "#c62828", width: 1.5, value: (u, v) => (isNum(v) ? ms(v) : "—") },
      ]);
    }
    this.chart._shade.spans = spans;
    this.chart.setData([x, p50, p95, p99]);
    this.chart.setScale("x", { min: from / 1000, max: to / 1000 });
    this.chartNote.textContent = `${note} · ${spans.length} incident${spans.length === 1 ? "" : "s"} shaded`;
  },
  resize() { if (this.chart) fitCharts([[this.chart, this.chartBox]]); },
};

function quantile(vals, q) {
  if (!vals.length) return null;
  const s = [...vals].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.max(0, Math.ceil(q * s.length) - 1))];
}

/* ---------- SLO detail ---------- */

const BURN_WINDOWS = ["5m", "30m", "1h", "2h", "6h", "1d", "3d"];

function burnClass(b) { return !isNum(b) ? "c-none" : b >= 14.4 ? "c-bad" : b >= 1 ? "c-warn" : "c-ok"; }

const SloView = {
  async render(name) {
    this.name = name;
    this.chart = null;
    this.head = el("div");
    this.tiles = el("div", { class: "tiles" });
    this.chartBox = el("div", { class: "chart" });
    this.chartNote = el("div", { class: "muted" });
    this.burn = el("section", { class: "panel" });
    main.replaceChildren(this.head, this.tiles,
      el("section", { class: "panel", style: "margin-bottom:1rem" }, el("h2", {}, "Error budget burn-down"), this.chartBox, this.chartNote),
      el("div", { class: "grid" }, this.burn));
    await this.refresh();
  },
  async refresh() {
    const s = ((await getJSON("slos")).slos || []).find((x) => x.name === this.name);
    if (!s) {
      main.replaceChildren(el("h1", {}, this.name), el("p", {}, "No such SLO. ", el("a", { href: "#/" }, "Back to the overview")));
      this.chart = null;
      return;
    }
    const obj = ratio(s.objective);
    const b = s.budget || {};
    this.head.replaceChildren(
      el("h1", {}, s.name, " ", el("span", { class: "badge " + alertClass(s.alert), id: "slo-alert" }, s.alert || "no data")),
      el("p", { class: "muted" }, `${s.indicator || "availability"} · objective ${pct(obj, 3)} over ${s.window}`,
        isNum(s.latency_threshold_ms) ? ` · threshold ${ms(s.latency_threshold_ms)}` : "", " · checks: ",
        (s.checks || []).map((c, i) => [i ? ", " : "", el("a", { href: checkLink(c) }, c)])));
    this.tiles.replaceChildren(
      el("div", { class: "tile" }, el("div", { class: "k" }, "SLI"), el("div", { class: "v num" }, pct(s.sli, 3))),
      el("div", { class: "tile" }, el("div", { class: "k" }, "budget left"),
        el("div", { class: "v num " + (isNum(b.remaining) ? (b.remaining < 0.2 ? "c-bad" : b.remaining < 0.5 ? "c-warn" : "c-ok") : "c-none") },
          budgetText(b).replace(" left", "")), budgetBar(b.remaining)),
      el("div", { class: "tile" }, el("div", { class: "k" }, "bad / allowed"),
        el("div", { class: "v num" }, isNum(b.allowed_bad) ? `${fmtCount(b.consumed_bad)} / ${fmtCount(b.allowed_bad)}` : "no data")),
      el("div", { class: "tile" }, el("div", { class: "k" }, "events good / total"),
        el("div", { class: "v num" }, isNum(s.total) ? `${s.good} / ${s.total}` : "no data")),
      el("div", { class: "tile" }, el("div", { class: "k" }, "budget exhausted"),
        el("div", { class: "v num" }, isNum(b.exhausted_at_ms) ? when(b.exhausted_at_ms).slice(0, 16) : isNum(b.remaining) && b.remaining <= 0 ? "yes" : "—")));
    const burn = s.burn || {};
    this.burn.replaceChildren(el("h2", {}, "Burn rates"),
      el("table", { id: "burn" }, el("thead", {}, el("tr", {}, el("th", {}, "Window"), el("th", {}, "Burn rate"))),
        el("tbody", {}, BURN_WINDOWS.map((w) => el("tr", {}, el("td", {}, w),
          el("td", { class: "num " + burnClass(burn[w]) }, isNum(burn[w]) ? burn[w].toFixed(2) + "×" : "no data"))))),
      el("p", { class: "muted" }, "1× spends the budget exactly over the window; ≥ 14.4× over 1 h pages."));
    await this.loadBurnDown(s, obj);
  },
  async loadBurnDown(s, obj) {
    const from = s.window_start_ms, to = s.window_end_ms || Date.now();
    if (!isNum(from) || obj === null) { this.chartNote.textContent = "no data"; return; }
    /* Sum the checks' rollups per bucket; cumulative bad vs the budget those events allow. */
    const per = await Promise.all((s.checks || []).map((c) =>
      getJSON(`checks/${encodeURIComponent(c)}?from=${from}&to=${to}&resolution=${to - from > 3 * DAY_MS ? "hour" : "minute"}`)
        .catch(() => ({ rollups: [] }))));
    const buckets = new Map();
    for (const d of per) {
      for (const r of d.rollups || []) {
        const e = buckets.get(r.bucket_ms) || { total: 0, ok: 0 };
        e.total += r.total || 0; e.ok += r.ok || 0;
        buckets.set(r.bucket_ms, e);
      }
      for (const r of d.results || []) { /* a server that answers raw for short windows */
        const k = Math.floor(tsOf(r) / 60000) * 60000, e = buckets.get(k) || { total: 0, ok: 0 };
        e.total += 1; e.ok += r.ok ? 1 : 0;
        buckets.set(k, e);
      }
    }
    const keys = [...buckets.keys()].sort((a, b) => a - b);
    let tot = 0, bad = 0;
    const x = [], cumBad = [], allowed = [], left = [];
    for (const k of keys) {
      const e = buckets.get(k);
      tot += e.total; bad += e.total - e.ok;
      x.push(k / 1000); cumBad.push(bad); allowed.push((1 - obj) * tot);
      left.push((1 - obj) * tot > 0 ? (1 - bad / ((1 - obj) * tot)) * 100 : null);
    }
    if (!this.chart || !this.chartBox.contains(this.chart.root)) {
      this.chartBox.replaceChildren();
      this.chart = makeChart(this.chartBox, [
        { label: "bad events (cumulative)", stroke: "#c62828", width: 2, scale: "n", value: (u, v) => fmtCount(v) },
        { label: "allowed bad", stroke: "#3aa876", width: 2, dash: [6, 4], scale: "n", value: (u, v) => fmtCount(v) },
        { label: "budget left", stroke: "#2b9bd3", width: 1.5, scale: "%", value: (u, v) => (isNum(v) ? v.toFixed(1) + "%" : "—") },
      ], {
        scales: { n: { auto: true }, "%": { auto: true } },
        yScale: "n",
        yValues: (u, vals) => vals.map(fmtCount),
        extraAxes: [{ scale: "%", side: 1, stroke: cssVar("--muted"), grid: { show: false }, size: 64, values: (u, vals) => vals.map((v) => v + "%") }],
      });
    }
    this.chart.setData([x, cumBad, allowed, left]);
    this.chart.setScale("x", { min: from / 1000, max: to / 1000 });
    this.chartNote.textContent = keys.length
      ? `${fmtCount(bad)} bad of ${fmtCount(tot)} events since ${when(from).slice(0, 16)}` +
        (s.indicator === "latency" ? " (from availability rollups; the latency SLI above is the server's)" : "")
      : "no data in the window yet";
  },
  resize() { if (this.chart) fitCharts([[this.chart, this.chartBox]]); },
};

function fmtCount(v) {
  if (!isNum(v)) return "—";
  if (Math.abs(v) >= 1e6) return (v / 1e6).toFixed(1) + "M";
  if (Math.abs(v) >= 1e4) return (v / 1e3).toFixed(1) + "k";
  return Number.isInteger(v) ? String(v) : v.toFixed(1);
}

/* ---------- Alerts ---------- */

function sevClass(s) { return { page: "s-bad", critical: "s-bad", ticket: "s-warn", warning: "s-warn" }[s] || "s-none"; }
function noteClass(s) { return { delivered: "s-ok", pending: "s-warn", given_up: "s-bad" }[s] || "s-none"; }

const AlertsView = {
  title: "Alerts",
  async render() {
    main.replaceChildren(el("h1", {}, "Alerts"), el("div", { class: "stack" },
      this.firing = el("section", { class: "panel", id: "alerts-firing" }),
      this.resolved = el("section", { class: "panel", id: "alerts-resolved" }),
      this.log = el("section", { class: "panel", id: "notifications" })));
    await this.refresh();
  },
  async refresh() {
    const [a, n] = await Promise.all([getJSON("alerts"), getJSON("notifications?limit=50")]);
    const alerts = a.alerts || [];
    const row = (x) => {
      const l = x.labels || {};
      const an = x.annotations || {};
      return el("li", { "data-key": x.key },
        badge(l.severity || "warning", sevClass(l.severity)), " ",
        l.check ? el("a", { href: checkLink(l.check) }, x.key) : el("span", {}, x.key), " ",
        el("span", { class: "muted" }, x.firing ? `since ${when(x.firing_ms)}` : `${when(x.firing_ms)} – ${when(x.resolved_ms)}`),
        x.maintenance ? [" ", badge(`quiet: ${x.maintenance}`, "s-none")] : null,
        an.summary ? el("div", { class: "muted msg" }, an.summary) : null);
    };
    const firing = alerts.filter((x) => x.firing);
    const resolved = alerts.filter((x) => !x.firing).reverse();
    this.firing.replaceChildren(el("h2", {}, `Firing: ${firing.length}`),
      firing.length ? el("ul", { class: "plain" }, firing.map(row)) : el("p", { class: "muted" }, "Nothing is firing."));
    this.resolved.replaceChildren(el("h2", {}, "Resolved in the last 24 h"),
      resolved.length ? el("ul", { class: "plain" }, resolved.map(row)) : el("p", { class: "muted" }, "None."));
    const notes = n.notifications || [];
    this.log.replaceChildren(el("h2", {}, "Notification log"),
      notes.length ? el("div", { class: "table-wrap" }, el("table", {},
        el("thead", {}, el("tr", {}, ["when", "alert", "event", "notifier", "delivery", "tries", "last error"].map((h) => el("th", {}, h)))),
        el("tbody", {}, notes.map((x) => el("tr", { "data-state": x.state },
          el("td", { class: "num" }, when(x.created_ms)), el("td", {}, x.alert_key), el("td", {}, x.status || ""),
          el("td", {}, x.notifier), el("td", {}, badge(x.state.replace("_", " "), noteClass(x.state))),
          el("td", { class: "num" }, String(x.attempts)), el("td", { class: "muted msg" }, x.last_error || ""))))))
        : el("p", { class: "muted" }, "No notifications yet."));
  },
};

/* ---------- router and refresh loop ---------- */

function showError(e) {
  banner(`Could not load data: ${e && e.message ? e.message : e}. Retrying every ${REFRESH_MS / 1000} s.`);
}

function route() {
  const h = location.hash.replace(/^#\/?/, "");
  const [page, ...rest] = h.split("/");
  const arg = rest.length ? decodeURIComponent(rest.join("/")) : "";
  if (page === "goals") return [Goals, null, "goals"];
  if (page === "alerts") return [AlertsView, null, "alerts"];
  if (page === "check" && arg) return [CheckView, arg, "overview"];
  if (page === "slo" && arg) return [SloView, arg, "overview"];
  return [Overview, null, "overview"];
}

async function navigate() {
  const [v, arg, nav] = route();
  view = v;
  for (const a of document.querySelectorAll("[data-nav]")) a.classList.toggle("active", a.dataset.nav === nav);
  document.title = (arg || v.title) + " · yardstick";
  clearTimeout(timer);
  try {
    await v.render(arg);
    banner(null);
    stamp();
  } catch (e) {
    showError(e);
  }
  schedule();
}

function schedule() {
  clearTimeout(timer);
  timer = setTimeout(async () => {
    /* A hidden tab does not need fresh numbers; catch up when shown. */
    if (!document.hidden) {
      try { await view.refresh(); banner(null); stamp(); } catch (e) { showError(e); }
    }
    schedule();
  }, REFRESH_MS);
}

window.addEventListener("hashchange", navigate);
let resizeTimer = null;
window.addEventListener("resize", () => {
  clearTimeout(resizeTimer);
  resizeTimer = setTimeout(() => view && view.resize && view.resize(), 100);
});
navigate();

// gittrack ui: plain JavaScript, no build step. Pages by URL hash:
//   #/                      runs table (sort, filter, select to compare)
//   #/run/<id>              one run: a chart per metric, config, summary, metadata
//   #/compare/<id>,<id>...  the runs' metrics overlaid
// Everything comes from this server's JSON API (/api/...); user data is only ever set as text.
"use strict";

const POLL_MS = 5000;
const COLORS = ["#2563eb", "#dc2626", "#059669", "#d97706", "#7c3aed", "#db2777", "#0891b2",
                "#65a30d", "#9333ea", "#475569"];
const X_AXES = { _step: "step", _runtime: "relative time (s)", _timestamp: "wall time" };
const KEYS_PER_REQUEST = 50;

let timer = null;       // the page's polling timer
let charts = [];        // uPlot instances of the page, destroyed on leaving it
const state = { sort: { key: "created", dir: -1 }, filter: "", selected: new Set(),
                smoothing: 0, x: "_step", log: false, columns: null, groupBy: "", limit: 500 };
const DEFAULT_METRICS = 8;

function h(tag, attrs, ...children) {
  const el = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) {
    if (v === undefined || v === null || v === false) continue;
    if (k === "class") el.className = v;
    else if (k.startsWith("on")) el.addEventListener(k.slice(2), v);
    else if (k in el && typeof v !== "string") el[k] = v;
    else el.setAttribute(k, v);
  }
  for (const c of children.flat(Infinity)) {
    if (c === undefined || c === null) continue;
    el.append(c instanceof Node ? c : document.createTextNode(String(c)));
  }
  return el;
}

// A static export (`gittrack ui --export`) sets GITTRACK_EXPORT and has each API answer as a
// script under data/ (file:// pages cannot fetch): loaded on first use. Its media rows name
// their file under media/ (`file`) or hold their text (`text`); what it left out (a private
// project's content no key opened, or --public-only) is an answer with `left_out`.
const EXPORT = Boolean(window.GITTRACK_EXPORT);

function exportedName(path) {
  const url = new URL(path, location.href);
  const p = url.pathname;
  let m;
  if (p === "/api/runs") return "runs";
  if (p === "/api/artifacts") return "artifacts";
  if ((m = p.match(/^\/api\/artifacts\/([^/]+)\/([^/]+)\/lineage$/))) {
    return `graph-version-${decodeURIComponent(m[1])}-${decodeURIComponent(m[2])}`;
  }
  if ((m = p.match(/^\/api\/runs\/([^/]+)\/lineage$/))) return `graph-run-${decodeURIComponent(m[1])}`;
  if ((m = p.match(/^\/api\/artifacts\/([^/]+)\/([^/]+)$/))) {
    return `version-${decodeURIComponent(m[1])}-${decodeURIComponent(m[2])}`;
  }
  if ((m = p.match(/^\/api\/artifacts\/([^/]+)$/))) return `artifact-${decodeURIComponent(m[1])}`;
  if ((m = p.match(/^\/api\/runs\/([^/]+)\/history$/))) {
    const kind = url.searchParams.get("stream") === "system" ? "system" : "history";
    return `${kind}-${decodeURIComponent(m[1])}-${url.searchParams.get("x") || "_step"}`;
  }
  if ((m = p.match(/^\/api\/runs\/([^/]+)\/(histograms|panels|media|console|code)$/))) {
    return `${m[2]}-${decodeURIComponent(m[1])}`;
  }
  if ((m = p.match(/^\/api\/runs\/([^/]+)$/))) return `run-${decodeURIComponent(m[1])}`;
  return null;
}

function loadExported(name) {
  const store = (window.GITTRACK_DATA = window.GITTRACK_DATA || {});
  if (Object.hasOwn(store, name)) return Promise.resolve(store[name]);
  return new Promise((resolve, reject) => {
    const tag = document.createElement("script");
    tag.src = `data/${encodeURIComponent(name)}.js`;
    tag.onload = () => (Object.hasOwn(store, name) ? resolve(store[name]) : reject(new Error("not in this export")));
    tag.onerror = () => reject(new Error("not in this export"));
    document.head.append(tag);
  });
}

async function exported(path) {
  const name = exportedName(path);
  if (!name) throw new Error("not in this export");
  let body;
  try {
    body = await loadExported(name);
  } catch (err) {
    if (/^(history|system)-/.test(name)) return { series: {} };  // not exported: no points
    throw err;
  }
  // content a private project keeps encrypted, left out of this export: say why
  // (saved code's answer keeps its commit and branch, which are git data: loadCode says why)
  if (body && body.left_out && !/^code-/.test(name)) throw new Error(`not in this export: ${body.left_out}`);
  if (/^panels-/.test(name) && new URL(path, location.href).searchParams.has("key")) {
    // a step slider: the exported entry of that key at that step
    const q = new URL(path, location.href).searchParams;
    const key = q.get("key"), step = +q.get("step");
    const all = body.charts.concat(body.tables, body.more || []);
    const entry = all.find((e) => e.key === key && e.step === step);
    if (!entry) throw new Error("this step is not in the export");
    return { ...body, charts: entry.kind === "chart" ? [entry] : [],
             tables: entry.kind === "chart" ? [] : [entry] };
  }
  if (!/^(history|system)-/.test(name)) return body;
  // the export holds every key at the default resolution: keep those asked, in the range asked
  const url = new URL(path, location.href);
  const keys = url.searchParams.getAll("key");
  const start = url.searchParams.has("start") ? +url.searchParams.get("start") : -Infinity;
  const end = url.searchParams.has("end") ? +url.searchParams.get("end") : Infinity;
  const series = Object.create(null);
  for (const k of keys) {
    const s = own(body.series, k);
    if (!s) continue;
    const xs = [], ys = [];
    s.x.forEach((x, i) => { if (x >= start && x <= end) { xs.push(x); ys.push(s.y[i]); } });
    series[k] = { ...s, x: xs, y: ys, count: start === -Infinity && end === Infinity ? s.count : xs.length };
  }
  return { ...body, series };
}

async function api(path) {
  if (EXPORT) return exported(path);
  const answer = await fetch(path, { headers: { Accept: "application/json" },
                                     credentials: "same-origin" });
  const body = await answer.json().catch(() => ({ error: answer.statusText }));
  if (!answer.ok) throw new Error(body.error || answer.statusText);
  return body;
}

function status(text, cls) {
  const el = document.getElementById("status");
  el.textContent = text || "";
  el.className = cls || "muted";
}

function fmt(v) {
  if (v === null || v === undefined) return "";
  if (typeof v === "number") {
    if (Number.isInteger(v)) return String(v);
    const a = Math.abs(v);
    return a !== 0 && (a < 1e-3 || a >= 1e6) ? v.toExponential(3) : String(+v.toPrecision(5));
  }
  if (typeof v === "object" && v._type) return `(${v._type})`;  // a summary histogram, a table...
  if (typeof v === "object") return JSON.stringify(v);
  return String(v);
}

function when(iso) {
  if (!iso) return "";
  const d = new Date(iso);
  return isNaN(d) ? String(iso) : d.toLocaleString();
}

function stateCell(run) {
  const label = run.stale ? `${run.state} (stale)` : run.state;
  return h("td", { class: `state state-${run.state}`,
                   title: run.stale ? "its process died; `gittrack recover` folds its log" : null },
           label);
}

function leave() {
  if (timer) clearTimeout(timer);
  timer = null;
  for (const c of charts) c.destroy();
  charts = [];
}

function poll(fn, live) {
  if (timer) clearTimeout(timer);
  timer = live && !EXPORT ? setTimeout(fn, POLL_MS) : null;  // an export never changes
}

// ---------------------------------------------------------------- runs table

// user keys (config, summary, metrics) may be named like Object.prototype's members
// (constructor, toString, __proto__): they go in maps without a prototype, read with own()
function own(obj, key) {
  return obj !== null && obj !== undefined && Object.hasOwn(obj, key) ? obj[key] : undefined;
}

function flat(prefix, obj, out = Object.create(null)) {
  for (const [k, v] of Object.entries(obj || {})) {
    if (v && typeof v === "object" && !Array.isArray(v) && !v._type) flat(`${prefix}${k}.`, v, out);
    else out[prefix + k] = v;
  }
  return out;
}

function runColumns(runs) {
  const base = [
    { key: "name", label: "name" }, { key: "state", label: "state" },
    { key: "created", label: "created" }, { key: "duration", label: "duration (s)" },
    { key: "tags", label: "tags" }, { key: "group", label: "group" },
    { key: "branch", label: "branch" }, { key: "commit", label: "commit" },
  ];
  const counts = Object.create(null);
  for (const run of runs) {
    for (const [k, v] of Object.entries(flat("", run.summary))) {
      if (typeof v === "number" && !k.startsWith("_")) counts[k] = (counts[k] || 0) + 1;
    }
  }
  const metrics = Object.keys(counts).sort((a, b) => counts[b] - counts[a]);
  const configKeys = new Set();
  for (const run of runs) for (const k of Object.keys(flat("", run.config))) configKeys.add(k);
  return base.map((c) => ({ ...c, shown: true }))
    .concat(metrics.map((k, i) => ({ key: `summary.${k}`, label: k, metric: k, shown: i < DEFAULT_METRICS })))
    .concat([...configKeys].sort().map((k) => ({ key: `config.${k}`, label: `config.${k}`, config: k, shown: false })));
}

function cellValue(run, col) {
  if (col.metric) return own(flat("", run.summary), col.metric);
  if (col.config) return own(flat("", run.config), col.config);
  return own(run, col.key);
}

function searchable(run) {
  return [run.id, run.name, run.state, run.group, run.branch, run.commit, ...(run.tags || []),
          JSON.stringify(run.config), JSON.stringify(run.summary)].join(" ").toLowerCase();
}

function matches(run, filter) {
  // words: each must match; "key=value" tests a config or summary value or a field
  for (const raw of filter.split(/\s+/).filter(Boolean)) {
    const word = raw.toLowerCase(), eq = word.indexOf("=");
    if (eq > 0) {
      const want = word.slice(eq + 1);
      // a bare key: a config key, else a field, else a summary metric (acc=0.9)
      const values = Object.assign(flat("", run.summary),
                                   flat("", { ...run, config: undefined, summary: undefined }),
                                   flat("", run.config), flat("config.", run.config),
                                   flat("summary.", run.summary));
      // the key as written (toString=...), else one that differs only by case
      let key = raw.slice(0, eq);
      if (!Object.hasOwn(values, key)) {
        key = Object.keys(values).find((k) => k.toLowerCase() === key.toLowerCase()) || key;
      }
      const got = own(values, key);
      if (got === undefined || got === null) return false;
      const many = Array.isArray(got) ? got : [got];  // tags=a: one of the run's tags
      if (!many.some((v) => valueMatches(v, want))) return false;
    } else if (!searchable(run).includes(word)) {
      return false;
    }
  }
  return true;
}

// key=value: a number equals the number written (lr=1e-3 and lr=0.001 match 0.001), or the
// text the table shows; a commit-like hex value (7 to 64 hex digits) starts with the hex
// written (commit=1d6c7aed, as git users abbreviate); anything else: the same text
function valueMatches(v, want) {
  const text = fmt(v).toLowerCase();
  if (text === want) return true;
  if (typeof v === "number" && want.trim() !== "" && Number(want) === v) return true;
  return typeof v === "string" && /^[0-9a-f]{4,}$/.test(want) && /^[0-9a-f]{7,64}$/.test(text)
    && text.startsWith(want);
}

function compare(a, b) {
  if (a === b) return 0;
  if (a === undefined || a === null) return 1;
  if (b === undefined || b === null) return -1;
  if (typeof a === "number" && typeof b === "number") return a - b;
  return String(a).localeCompare(String(b));
}

async function showRuns() {
  const main = document.getElementById("main");
  let data;
  try {
    data = await api("/api/runs");
  } catch (err) {
    main.replaceChildren(h("p", { class: "error" }, `Cannot list runs: ${err.message}`));
    return;
  }
  document.getElementById("repo-path").textContent = data.path || "";
  const runs = data.runs;
  const allCols = runColumns(runs);
  if (state.columns === null) state.columns = new Set(allCols.filter((c) => c.shown).map((c) => c.key));
  const picker = h("details", { id: "columns" }, h("summary", {}, "Columns"),
    h("div", { class: "picker" }, allCols.map((c) => h("label", {},
      h("input", { type: "checkbox", checked: state.columns.has(c.key), "data-key": c.key,
                   onchange: (e) => {
                     if (e.target.checked) state.columns.add(c.key); else state.columns.delete(c.key);
                     render();
                   } }), ` ${c.label}`))));
  const groupKeys = ["state", "group", "branch", "job_type", "project"]
    .concat(allCols.filter((c) => c.config).map((c) => c.key));
  const groupBy = h("select", { id: "group-by", onchange: (e) => { state.groupBy = e.target.value; render(); } },
    h("option", { value: "" }, "no grouping"),
    groupKeys.map((k) => h("option", { value: k, selected: k === state.groupBy }, `group by ${k}`)));
  const filterBox = h("input", { type: "search", id: "filter", value: state.filter,
                                 placeholder: "filter: words, or key=value (lr=0.1, state=running)" });
  const compareButton = h("button", { id: "compare", type: "button" });
  const count = h("span", { class: "muted", id: "count" });
  const table = h("table", { id: "runs" });
  const warnings = (data.warnings || []).map((w) => h("p", { class: "warning" }, w));

  function render() {
    const cols = allCols.filter((c) => state.columns.has(c.key));
    for (const id of [...state.selected]) if (!runs.some((r) => r.id === id)) state.selected.delete(id);
    const shown = runs.filter((r) => matches(r, state.filter));
    const { key, dir } = state.sort;
    const col = allCols.find((c) => c.key === key) || allCols[2];
    shown.sort((a, b) => {
      const va = cellValue(a, col), vb = cellValue(b, col);
      if (va === undefined || va === null) return vb === undefined || vb === null ? 0 : 1;
      if (vb === undefined || vb === null) return -1;
      return dir * compare(va, vb);
    });
    count.textContent = `${shown.length} of ${runs.length} runs`;
    compareButton.textContent = `Compare (${state.selected.size})`;
    compareButton.disabled = state.selected.size < 1;
    const head = h("tr", {}, h("th", {}, ""), cols.map((c) => h("th", {
      class: `sortable${c.key === key ? (dir > 0 ? " sorted-asc" : " sorted-desc") : ""}`,
      "data-key": c.key,
      onclick: () => {
        // first click: ascending (A to Z, smallest first), but "created" newest first (the
        // table's own order); a second click reverses
        state.sort = { key: c.key, dir: c.key === key ? -dir : (c.key === "created" ? -1 : 1) };
        render();
      },
    }, c.label)));
    const groupCol = allCols.find((c) => c.key === state.groupBy) || { key: state.groupBy };
    const groups = new Map();
    if (state.groupBy) {
      for (const run of shown) {
        const label = fmt(cellValue(run, groupCol)) || "(none)";
        if (!groups.has(label)) groups.set(label, []);
        groups.get(label).push(run);
      }
    } else {
      groups.set("", shown);
    }
    let budget = state.limit;
    const rows = [];
    for (const [label, members] of [...groups].sort((a, b) => compare(a[0], b[0]))) {
      if (state.groupBy) {
        rows.push(h("tr", { class: "group-row" }, h("td", { colspan: String(cols.length + 1) },
          `${state.groupBy} = ${label}`, h("span", { class: "muted" }, ` (${members.length} runs)`))));
      }
      for (const run of members) {
        if (budget-- <= 0) break;
        rows.push(runRow(run));
      }
    }
    if (shown.length > state.limit) {
      rows.push(h("tr", {}, h("td", { colspan: String(cols.length + 1) },
        h("button", { type: "button", id: "show-all",
                      onclick: () => { state.limit = Infinity; render(); } },
          `show all ${shown.length} runs (${state.limit} shown)`))));
    }
    table.replaceChildren(h("thead", {}, head), h("tbody", {}, rows));

    function runRow(run) { return h("tr", { "data-id": run.id },
      h("td", {}, h("input", { type: "checkbox", checked: state.selected.has(run.id),
                               "aria-label": `select ${run.name}`,
                               onchange: (e) => {
                                 if (e.target.checked) state.selected.add(run.id);
                                 else state.selected.delete(run.id);
                                 render();
                               } })),
      cols.map((c) => {
        const v = cellValue(run, c);
        if (c.key === "name") return h("td", {}, h("a", { href: `#/run/${run.id}` }, run.name));
        if (c.key === "state") return stateCell(run);
        if (c.key === "created") return h("td", { title: run.created }, when(run.created));
        if (c.key === "tags") return h("td", {}, (run.tags || []).map((t) => h("span", { class: "tag" }, t)));
        if (c.key === "commit") return h("td", { title: v || "" }, v ? v.slice(0, 8) : "");
        return h("td", { class: typeof v === "number" ? "num" : null }, fmt(v));
      }));
    }
  }

  filterBox.addEventListener("input", () => { state.filter = filterBox.value; render(); });
  compareButton.addEventListener("click", () => {
    location.hash = `#/compare/${[...state.selected].join(",")}`;
  });
  main.replaceChildren(h("h1", {}, "Runs"), ...warnings,
                       h("div", { class: "toolbar" }, filterBox, groupBy, compareButton, count),
                       picker, table);
  render();
  status(runs.some((r) => r.state === "running") ? "live: refreshing" : "");
  poll(() => refreshRuns(runs, render), runs.some((r) => r.state === "running"));
}

async function refreshRuns(runs, render) {
  try {
    const data = await api("/api/runs");
    runs.splice(0, runs.length, ...data.runs);
    render();
  } catch (err) {
    status(`refresh failed: ${err.message}`, "error");
  }
  poll(() => refreshRuns(runs, render), runs.some((r) => r.state === "running"));
}

// ---------------------------------------------------------------- charts

function smooth(ys, weight) {
  // TensorBoard's debiased exponential moving average; gaps (null) stay gaps
  if (!weight) return ys;
  const out = new Array(ys.length);
  let last = 0, n = 0;
  for (let i = 0; i < ys.length; i++) {
    const y = ys[i];
    if (y === null || y === undefined) { out[i] = null; continue; }
    last = last * weight + (1 - weight) * y;
    n++;
    out[i] = last / (1 - Math.pow(weight, n));
  }
  return out;
}

// system metrics are sampled in time, as W&B draws them: against relative time unless wall
// time is chosen (their rows' _step is only the run's step when sampled)
function xFor(stream) {
  return stream === "system" && state.x !== "_timestamp" ? "_runtime" : state.x;
}

async function fetchSeries(runId, keys, extra) {
  const series = Object.create(null);
  const stream = extra && extra.stream || "default";
  const x = xFor(stream);
  for (let i = 0; i < keys.length; i += KEYS_PER_REQUEST) {
    const q = new URLSearchParams();
    for (const k of keys.slice(i, i + KEYS_PER_REQUEST)) q.append("key", k);
    q.set("x", x);
    if (stream !== "default") q.set("stream", stream);
    q.set("points", String(extra && extra.points || 1000));
    if (extra && extra.start !== undefined) q.set("start", String(extra.start));
    if (extra && extra.end !== undefined) q.set("end", String(extra.end));
    const body = await api(`/api/runs/${encodeURIComponent(runId)}/history?${q}`);
    Object.assign(series, body.series);
  }
  return series;
}

// one chart: lines = [{label, color, x: [...], y: [...]}]; onZoom(min, max) refetches
function drawChart(box, title, lines, onZoom) {
  const width = Math.max(320, box.clientWidth - 12);
  const positive = (ys) => ys.map((y) => (y !== null && y > 0 ? y : null));
  const tables = lines.map((l) => [l.x, state.log ? positive(smooth(l.y, state.smoothing))
                                                   : smooth(l.y, state.smoothing)]);
  const data = tables.length === 1 ? tables[0] : uPlot.join(tables);
  const opts = {
    width, height: 240, title: undefined,
    scales: { x: { time: (lines[0].xKey || state.x) === "_timestamp" },
              y: state.log ? { distr: 3 } : {} },
    series: [{ label: X_AXES[lines[0].xKey || state.x] || lines[0].xKey || state.x },
             ...lines.map((l) => ({ label: l.label, stroke: l.color, width: 1.5, spanGaps: true,
                                    points: { show: l.x.length < 60, size: 4, fill: l.color } }))],
    axes: [{}, { size: 60 }],
    legend: { show: lines.length > 1 },
    cursor: { drag: { x: true, y: false } },
    hooks: {
      setSelect: [(u) => {
        if (u.select.width < 2) return;
        const min = u.posToVal(u.select.left, "x"), max = u.posToVal(u.select.left + u.select.width, "x");
        u.setSelect({ left: 0, width: 0 }, false);
        onZoom(min, max);
      }],
    },
  };
  const chart = new uPlot(opts, data, box);
  chart.root.addEventListener("dblclick", () => onZoom(undefined, undefined));
  charts.push(chart);
  return chart;
}

function chartBox(key, note) {
  const canvasHolder = h("div", { class: "plot" });
  const box = h("div", { class: "chart", "data-key": key }, h("h3", { title: key }, key),
                canvasHolder, h("div", { class: "note" }, note || ""));
  return { box, holder: canvasHolder, note: box.lastChild };
}

function chartControls(onChange, metricKeys) {
  // an export holds each run's history against the built-in axes only (data/history-<id>-<x>.js)
  const asX = EXPORT ? [] : (metricKeys || []);
  if (!Object.hasOwn(X_AXES, state.x) && !asX.includes(state.x)) state.x = "_step";
  const options = Object.entries(X_AXES).concat(asX.map((k) => [k, k]));
  const xs = h("select", { id: "x-axis", onchange: (e) => { state.x = e.target.value; onChange(); } },
               options.map(([v, label]) => h("option", { value: v, selected: v === state.x }, label)));
  const log = h("input", { type: "checkbox", id: "log-scale", checked: state.log,
                           onchange: (e) => { state.log = e.target.checked; onChange(); } });
  const slider = h("input", { type: "range", id: "smoothing", min: "0", max: "0.99", step: "0.01",
                              value: String(state.smoothing) });
  const shown = h("span", { class: "muted" }, String(state.smoothing));
  slider.addEventListener("change", () => { state.smoothing = +slider.value; shown.textContent = slider.value; onChange(); });
  return h("div", { class: "toolbar" }, h("label", {}, "x axis ", xs),
           h("label", {}, "smoothing ", slider), shown, h("label", {}, log, " log scale"),
           h("span", { class: "muted" }, "drag to zoom (refetched at full resolution), double-click to reset"));
}

function noteFor(series) {
  if (!series) return "no points";
  return series.sampled ? `${series.x.length} of ${series.count} points (min/max kept)`
                        : `${series.count} points`;
}

// ---------------------------------------------------------------- run page

function kvTable(obj) {
  const rows = Object.entries(flat("", obj)).map(([k, v]) =>
    h("tr", {}, h("td", {}, k), h("td", { class: typeof v === "number" ? "num" : null }, fmt(v))));
  return rows.length ? h("table", { class: "kv" }, h("tbody", {}, rows)) : h("p", { class: "muted" }, "none");
}

async function showRun(id) {
  const main = document.getElementById("main");
  let run;
  try {
    run = await api(`/api/runs/${encodeURIComponent(id)}`);
  } catch (err) {
    main.replaceChildren(h("p", { class: "error" }, `Run ${id}: ${err.message}`),
                         h("a", { href: "#/" }, "All runs"));
    return;
  }
  const grid = h("div", { class: "charts", id: "charts" });
  const header = h("div", {},
    h("h1", {}, run.name, " ", h("span", { class: `state state-${run.state}` },
      run.stale ? `${run.state} (stale)` : run.state)),
    h("p", { class: "muted" }, `${run.id} · created ${when(run.created)}`,
      run.branch ? ` · branch ${run.branch}` : "", run.commit ? ` · commit ${run.commit.slice(0, 8)}` : "",
      ` · ${run.steps} history rows`, run.group ? ` · group ${run.group}` : ""),
    (run.tags || []).length ? h("p", {}, run.tags.map((t) => h("span", { class: "tag" }, t))) : null,
    run.notes ? h("p", { class: "notes" }, run.notes) : null);
  const systemGrid = h("div", { class: "charts", id: "system-charts" });
  const consoleBox = h("pre", { id: "console", class: "console" }, "…");
  const codeBox = h("div", { id: "code" }, "…");
  const mediaBox = h("div", { id: "media" }, "…");
  const histBox = h("div", { id: "histograms", class: "charts" }, "…");
  const panelBox = h("div", { id: "panels" }, "…");
  const hasLineage = Object.values(run.artifacts || {}).some((specs) => specs.length);
  const lineageBox = hasLineage ? h("div", { class: "graph", id: "lineage-box" }, "…") : null;
  const redraw = async () => {
    await drawRunCharts(run, grid, run.keys, "default");
    await drawRunCharts(run, systemGrid, run.system_keys || [], "system");
  };
  main.replaceChildren(header, ...(run.warnings || []).map((w) => h("p", { class: "warning" }, w)),
    h("h2", {}, "Metrics"), chartControls(redraw, run.keys), grid,
    h("div", { class: "columns" },
      h("div", {}, h("h2", {}, "Config"), kvTable(run.config)),
      h("div", {}, h("h2", {}, "Summary"), kvTable(run.summary)),
      h("div", {}, h("h2", {}, "Artifacts"), artifactList(run.artifacts || {}))),
    ...(lineageBox ? [h("h2", {}, "Lineage"), lineageBox] : []),
    h("h2", {}, "Charts and tables"), panelBox,
    h("h2", {}, "Histograms"), histBox,
    h("h2", {}, "Media"), mediaBox,
    h("h2", {}, "System metrics"), systemGrid,
    h("h2", {}, "Console"), consoleBox,
    h("h2", {}, "Code"), codeBox,
    h("details", {}, h("summary", {}, "Metadata (run.yaml)"), kvTable(run.metadata)));
  await redraw();
  loadConsole(run.id, consoleBox);
  loadMedia(run.id, mediaBox);
  loadHistograms(run.id, histBox);
  loadPanels(run.id, panelBox);
  loadCode(run.id, codeBox);
  if (lineageBox) loadLineage(`/api/runs/${encodeURIComponent(run.id)}/lineage`, lineageBox);
  status(run.state === "running" ? "live: refreshing" : "");
  poll(() => refreshRun(id, run), run.state === "running");
}

async function refreshRun(id, shown) {
  if (!location.hash.startsWith(`#/run/${id}`)) return;
  try {
    const run = await api(`/api/runs/${encodeURIComponent(id)}`);
    if (run.checkpoint !== shown.checkpoint) { leave(); await showRun(id); return; }
  } catch (err) {
    status(`refresh failed: ${err.message}`, "error");
  }
  poll(() => refreshRun(id, shown), true);
}

async function drawRunCharts(run, grid, keys, stream) {
  for (const c of charts.filter((c) => grid.contains(c.root))) c.destroy();
  charts = charts.filter((c) => !grid.contains(c.root));
  grid.replaceChildren();
  if (!keys.length) {
    grid.append(h("p", { class: "muted" }, stream === "system" ? "No system metrics." : "No metrics logged yet."));
    return;
  }
  const boxes = keys.map((key) => { const b = chartBox(key); grid.append(b.box); return [key, b]; });
  const series = await fetchSeries(run.id, keys, { stream });
  for (const [key, b] of boxes) drawOne(run.id, key, b, own(series, key), stream);
}

function drawOne(runId, key, b, s, stream) {
  b.note.textContent = noteFor(s);
  if (!s || !s.x.length) return;
  let chart = null;
  const xKey = xFor(stream);
  const line = (t) => [{ label: key, color: COLORS[0], x: t.x, y: t.y, xKey }];
  const zoom = async (min, max) => {
    const fresh = (await fetchSeries(runId, [key], { start: min, end: max, stream }))[key];
    if (chart) { charts = charts.filter((c) => c !== chart); chart.destroy(); }
    b.holder.replaceChildren();
    b.note.textContent = noteFor(fresh) + (min === undefined ? "" : " (zoomed)");
    if (fresh && fresh.x.length) chart = drawChart(b.holder, key, line(fresh), zoom);
  };
  chart = drawChart(b.holder, key, line(s), zoom);
}

function artifactList(artifacts) {
  const kinds = Object.entries(artifacts).filter(([, specs]) => specs.length);
  if (!kinds.length) return h("p", { class: "muted" }, "none");
  return h("table", { class: "kv" }, h("tbody", {}, kinds.map(([kind, specs]) =>
    h("tr", {}, h("td", {}, kind), h("td", {}, specs.map((spec, i) => [i ? ", " : "", versionLink(spec)]))))));
}

function versionLink(spec) {
  const [name, version] = spec.split(":");
  return h("a", { href: `#/artifact/${encodeURIComponent(name)}/${encodeURIComponent(version || "latest")}` }, spec);
}

function bytes(n) {
  if (typeof n !== "number") return "";
  const units = ["B", "kB", "MB", "GB", "TB"];
  let i = 0;
  while (n >= 1000 && i < units.length - 1) { n /= 1000; i++; }
  return `${i ? n.toFixed(1) : n} ${units[i]}`;
}

// ---------------------------------------------------------------- artifacts

async function showArtifacts() {
  const main = document.getElementById("main");
  const data = await api("/api/artifacts");
  const rows = data.artifacts.map((a) => h("tr", {},
    h("td", {}, h("a", { href: `#/artifact/${encodeURIComponent(a.name)}` }, a.name)),
    h("td", {}, a.type), h("td", {}, `v${a.version}`), h("td", {}, (a.aliases || []).map((x) => h("span", { class: "tag" }, x))),
    h("td", { class: "num" }, String(a.file_count)), h("td", { class: "num" }, bytes(a.size)), h("td", {}, when(a.created))));
  main.replaceChildren(h("h1", {}, "Artifacts"), ...(data.warnings || []).map((w) => h("p", { class: "warning" }, w)),
    rows.length ? h("table", { id: "artifacts" }, h("thead", {}, h("tr", {}, ["name", "type", "latest", "aliases", "files", "size", "created"].map((t) => h("th", {}, t)))),
                    h("tbody", {}, rows))
                : h("p", { class: "muted" }, "No artifacts yet (run.log_artifact)."));
}

async function showArtifact(name) {
  const main = document.getElementById("main");
  const data = await api(`/api/artifacts/${encodeURIComponent(name)}`);
  const rows = data.versions.map((v) => h("tr", {},
    h("td", {}, h("a", { href: `#/artifact/${encodeURIComponent(name)}/v${v.version}` }, `v${v.version}`)),
    h("td", {}, (v.aliases || []).map((x) => h("span", { class: "tag" }, x))),
    h("td", { class: "num" }, String(v.file_count)), h("td", { class: "num" }, bytes(v.size)),
    h("td", {}, when(v.created)),
    h("td", {}, v.producer ? h("a", { href: `#/run/${v.producer}` }, v.producer) : "")));
  main.replaceChildren(h("h1", {}, `${name} `, h("span", { class: "muted" }, data.versions[0] ? data.versions[0].type : "")),
    h("table", { id: "versions" }, h("thead", {}, h("tr", {}, ["version", "aliases", "files", "size", "created", "logged by"].map((t) => h("th", {}, t)))),
      h("tbody", {}, rows)));
}

function runNode(run) {
  if (!run) return h("div", { class: "node muted" }, "no run in this repository");
  return h("div", { class: `node run-node state-${run.state}` },
    h("a", { href: `#/run/${run.id}` }, run.name || run.id), h("div", { class: "muted" }, run.id.slice(0, 10)));
}

// The lineage graph (runs ↔ versions, several hops): layered by longest path along the data
// (version → run that used it, run → version it logged), drawn as SVG with DOM calls only.
const SVG = "http://www.w3.org/2000/svg";
function svg(tag, attrs, text) {
  const el = document.createElementNS(SVG, tag);
  for (const [k, v] of Object.entries(attrs || {})) el.setAttribute(k, String(v));
  if (text !== undefined) el.textContent = text;
  return el;
}

function graphHref(node) {
  if (node.kind === "run") return `#/run/${encodeURIComponent(node.run)}`;
  return `#/artifact/${encodeURIComponent(node.name)}/v${node.version}`;
}

function layers(graph) {
  const layer = new Map(graph.nodes.map((n) => [n.id, 0]));
  for (let i = 0; i < graph.nodes.length; i++) {  // at most |nodes| passes, even with a cycle
    let moved = false;
    for (const e of graph.edges) {
      if (layer.has(e.source) && layer.has(e.target) && layer.get(e.target) < layer.get(e.source) + 1) {
        layer.set(e.target, layer.get(e.source) + 1);
        moved = true;
      }
    }
    if (!moved) break;
  }
  return layer;
}

function drawLineage(graph) {
  const W = 170, H = 40, GX = 60, GY = 16;
  const layer = layers(graph);
  const columns = [];
  for (const n of graph.nodes) (columns[layer.get(n.id)] = columns[layer.get(n.id)] || []).push(n);
  const at = new Map();
  columns.forEach((col, x) => (col || []).forEach((n, y) => at.set(n.id, { x: x * (W + GX), y: y * (H + GY) })));
  const width = Math.max(1, columns.length) * (W + GX) - GX + 2;
  const height = Math.max(1, ...columns.map((c) => (c || []).length)) * (H + GY) - GY + 2;
  const root = svg("svg", { id: "lineage-graph", class: "lineage-graph", width, height,
                            viewBox: `-1 -1 ${width} ${height}`, role: "img" });
  root.append(svg("title", {}, "lineage: runs and artifact versions"));
  const defs = svg("defs");
  const marker = svg("marker", { id: "lineage-arrow", viewBox: "0 0 10 10", refX: 10, refY: 5,
                                 markerWidth: 7, markerHeight: 7, orient: "auto" });
  marker.append(svg("path", { d: "M0,0 L10,5 L0,10 z", class: "edge-head" }));
  defs.append(marker);
  root.append(defs);
  for (const e of graph.edges) {
    const a = at.get(e.source), b = at.get(e.target);
    if (!a || !b) continue;
    const x1 = a.x + W, y1 = a.y + H / 2, x2 = b.x, y2 = b.y + H / 2, mx = (x1 + x2) / 2;
    const path = svg("path", { d: `M${x1},${y1} C${mx},${y1} ${mx},${y2} ${x2},${y2}`,
                               class: `edge edge-${e.role}`, "marker-end": "url(#lineage-arrow)" });
    path.append(svg("title", {}, e.role));
    root.append(path);
  }
  for (const n of graph.nodes) {
    const p = at.get(n.id);
    // a version a run recorded that is gone (removed by `artifact rm`, or not here): no page
    const cls = `gnode gnode-${n.kind}${n.id === graph.root ? " gnode-root" : ""}${n.gone ? " gnode-gone" : ""}`;
    const link = n.gone ? svg("g", { class: cls, "data-id": n.id })
                        : svg("a", { href: graphHref(n), class: cls, "data-id": n.id });
    link.append(svg("rect", { x: p.x, y: p.y, width: W, height: H, rx: 6 }));
    const label = n.kind === "run" ? (n.name || n.run) : n.spec;
    const sub = n.kind === "run" ? `run · ${n.state || "unreadable"}`
      : n.gone ? `version ${n.gone}` : `${n.type}${(n.aliases || []).length ? " · " + n.aliases.join(", ") : ""}`;
    link.append(svg("text", { x: p.x + 8, y: p.y + 16, class: "gnode-label" }, label.length > 24 ? label.slice(0, 23) + "…" : label));
    link.append(svg("text", { x: p.x + 8, y: p.y + 32, class: "gnode-sub" }, sub.length > 28 ? sub.slice(0, 27) + "…" : sub));
    link.append(svg("title", {}, label));
    root.append(link);
  }
  return root;
}

async function loadLineage(path, box) {
  try {
    const graph = await api(path);
    box.replaceChildren(drawLineage(graph), ...(graph.truncated ? [h("p", { class: "muted" },
      `more beyond ${graph.depth} hops or ${graph.nodes.length} nodes (?depth= in the API)`)] : []));
  } catch (err) {
    box.replaceChildren(h("p", { class: "muted" }, `lineage graph: ${err.message}`));
  }
}

async function showVersion(name, version) {
  const main = document.getElementById("main");
  const v = await api(`/api/artifacts/${encodeURIComponent(name)}/${encodeURIComponent(version)}`);
  const lineage = h("div", { class: "lineage", id: "lineage" },
    h("div", { class: "column" }, h("div", { class: "muted" }, "logged by"), runNode(v.logged_by)),
    h("div", { class: "arrow" }, "→"),
    h("div", { class: "column" }, h("div", { class: "muted" }, "version"),
      h("div", { class: "node version-node" }, v.spec, h("div", { class: "muted" }, (v.aliases || []).join(", ")))),
    h("div", { class: "arrow" }, "→"),
    h("div", { class: "column" }, h("div", { class: "muted" }, `used by (${v.used_by.length})`),
      ...(v.used_by.length ? v.used_by.map(runNode) : [h("div", { class: "node muted" }, "no run yet")])));
  const graphBox = h("div", { class: "graph", id: "lineage-box" }, "…");
  loadLineage(`/api/artifacts/${encodeURIComponent(name)}/v${v.version}/lineage`, graphBox);
  const files = v.files.map((f) => h("tr", {}, h("td", {}, f.path), h("td", { class: "num" }, bytes(f.size)),
                                    h("td", { class: "muted" }, f.ref || f.digest.slice(0, 16))));
  main.replaceChildren(...[
    h("h1", {}, h("a", { href: `#/artifact/${encodeURIComponent(name)}` }, name), `:v${v.version} `,
      (v.aliases || []).map((x) => h("span", { class: "tag" }, x))),
    h("p", { class: "muted" }, `${v.type} · ${v.file_count} files · ${bytes(v.size)} · created ${when(v.created)}`),
    v.description ? h("p", {}, v.description) : null,
    h("h2", {}, "Lineage"), lineage, graphBox,
    h("h2", {}, "Files"), h("table", { id: "files" }, h("tbody", {}, files)),
    v.files.length < v.file_count ? h("p", { class: "muted" }, `the first ${v.files.length} of ${v.file_count} files`) : null,
    h("h2", {}, "Metadata"), kvTable(v.metadata)].filter(Boolean));
}

// vega, vega-lite, the CSP-safe expression interpreter and vega-embed: loaded on first use
let vegaReady = null;
function loadVega() {
  if (!vegaReady) {
    vegaReady = ["vega.min.js", "vega-lite.min.js", "vega-interpreter.min.js", "vega-embed.min.js"]
      .reduce((chain, file) => chain.then(() => new Promise((resolve, reject) => {
        const tag = document.createElement("script");
        tag.src = `static/vendor/${file}`;
        tag.onload = resolve;
        tag.onerror = () => reject(new Error(`cannot load ${file}`));
        document.head.append(tag);
      })), Promise.resolve());
  }
  return vegaReady;
}

// A logged chart is a teammate's specification: its data is inline, so it may load no URL
// (another run's data through this server) and link nowhere (an href mark leaking it on click).
function noUrlLoader() {
  const loader = vega.loader();
  loader.sanitize = (uri) => Promise.reject(new Error(`a logged chart cannot load or link to ${uri}`));
  return loader;
}

async function loadPanels(id, box) {
  let body;
  try {
    body = await api(`/api/runs/${encodeURIComponent(id)}/panels`);
  } catch (err) {
    box.textContent = `(${err.message})`;
    return;
  }
  const entries = body.tables.map((t) => ["table", t]).concat(body.charts.map((c) => ["chart", c]));
  if (!entries.length) { box.replaceChildren(h("p", { class: "muted" }, "none")); return; }
  box.replaceChildren(...entries.map(([kind, entry]) => {
    const holder = h("div");
    const note = h("div", { class: "note" });
    const panel = h("div", { class: "panel", [`data-${kind}`]: entry.key }, h("h3", {}, entry.title || entry.key));
    const show = async (e) => {
      note.textContent = `step ${e.step}; ${kind === "chart" ? e.spec.data.values.length : e.rows.length} of ${e.rows_total} rows`;
      if (kind === "table") {
        const head = h("tr", {}, e.columns.map((c) => h("th", {}, c)));
        const rows = e.rows.map((r) => h("tr", {}, r.map((v) => h("td", { class: typeof v === "number" ? "num" : null }, fmt(v)))));
        holder.replaceChildren(h("div", { class: "scroll" }, h("table", {}, h("thead", {}, head), h("tbody", {}, rows))));
      } else {
        const target = h("div", { class: "vega" });
        holder.replaceChildren(target);
        try {
          await loadVega();
          await vegaEmbed(target, e.spec, { actions: false, ast: true, expr: vega.expressionInterpreter,
                                            defaultStyle: false, tooltip: false, renderer: "canvas",
                                            loader: noUrlLoader() });
        } catch (err) {
          holder.replaceChildren(h("p", { class: "error" }, `cannot draw the chart: ${err.message}`));
        }
      }
    };
    if (entry.steps.length > 1) {
      const slider = h("input", { type: "range", class: "panel-step", min: "0", max: String(entry.steps.length - 1),
                                  step: "1", value: String(entry.steps.indexOf(entry.step)), "aria-label": `${entry.key} step` });
      slider.addEventListener("change", async () => {
        const q = new URLSearchParams({ key: entry.key, step: String(entry.steps[+slider.value]) });
        try {
          const one = await api(`/api/runs/${encodeURIComponent(id)}/panels?${q}`);
          await show((kind === "chart" ? one.charts : one.tables)[0]);
        } catch (err) {
          note.textContent = `(${err.message})`;
        }
      });
      panel.append(h("div", { class: "toolbar" }, slider));
    }
    panel.append(holder, note);
    show(entry);
    return panel;
  }));
}

async function loadHistograms(id, box) {
  let hists;
  try {
    hists = (await api(`/api/runs/${encodeURIComponent(id)}/histograms`)).histograms;
  } catch (err) {
    box.textContent = `(${err.message})`;
    return;
  }
  const keys = Object.keys(hists);
  if (!keys.length) { box.replaceChildren(h("p", { class: "muted" }, "none")); return; }
  box.replaceChildren(...keys.map((key) => {
    const hist = own(hists, key);
    const canvas = h("canvas", { width: 440, height: 220, class: "heatmap" });
    const first = hist.steps[0], last = hist.steps[hist.steps.length - 1];
    const note = h("div", { class: "note" });
    const view = h("select", { class: "histogram-view", "aria-label": `${key} view` },
                   h("option", { value: "heatmap" }, "heat map"), h("option", { value: "ridgeline" }, "ridgeline"));
    const draw = () => {
      if (view.value === "ridgeline") {
        drawRidgeline(canvas, hist);
        note.textContent = `steps ${first} … ${last} (${hist.steps.length} of ${hist.total} shown); one curve per step, later ones lower`;
      } else {
        drawHeatmap(canvas, hist);
        note.textContent = `steps ${first} … ${last} (${hist.steps.length} of ${hist.total} shown); value on the vertical axis, darker = more`;
      }
    };
    view.addEventListener("change", draw);
    draw();
    return h("div", { class: "chart", "data-histogram": key }, h("h3", {}, key, " ", view), canvas, note);
  }));
}

// a ridgeline: each step's bins as a filled curve over the value axis, stacked from the
// first step (top) to the last (bottom); at most 40 steps, evenly chosen
function drawRidgeline(canvas, hist) {
  const ctx = canvas.getContext("2d");
  const W = canvas.width, H = canvas.height, left = 50, bottom = 20, top = 10;
  let lo = Infinity, hi = -Infinity;
  for (const edges of hist.edges) for (const e of edges) {
    if (typeof e === "number") { lo = Math.min(lo, e); hi = Math.max(hi, e); }
  }
  if (!(hi > lo)) { hi = lo + 1; lo -= 1; }
  const n = hist.steps.length, shown = Math.min(n, 40);
  const picks = [...new Set(Array.from({ length: shown }, (_, i) => Math.round(i * (n - 1) / Math.max(1, shown - 1))))];
  const gap = (H - bottom - top) / (picks.length + 2), height = gap * 3;
  const x = (v) => left + (W - left - 10) * (v - lo) / (hi - lo);
  ctx.fillStyle = "#fff";
  ctx.fillRect(0, 0, W, H);
  picks.forEach((i, row) => {
    const counts = hist.counts[i], edges = hist.edges[i];
    const peak = Math.max(...counts.filter((c) => typeof c === "number"), 0) || 1;
    const base = top + height + row * gap;
    ctx.beginPath();
    ctx.moveTo(x(edges[0]), base);
    counts.forEach((c, b) => {
      const y = base - height * ((typeof c === "number" ? c : 0) / peak);
      ctx.lineTo(x((edges[b] + edges[b + 1]) / 2), y);
    });
    ctx.lineTo(x(edges[edges.length - 1]), base);
    ctx.closePath();
    ctx.fillStyle = "rgba(37, 99, 235, 0.35)";
    ctx.fill();
    ctx.strokeStyle = "#2563eb";
    ctx.stroke();
  });
  ctx.fillStyle = "#6b7280";
  ctx.font = "11px system-ui, sans-serif";
  ctx.fillText(fmt(lo), left, H - 5);
  const end = fmt(hi);
  ctx.fillText(end, W - ctx.measureText(end).width - 2, H - 5);
  ctx.fillText(`step ${hist.steps[0]}`, 2, top + height);
  ctx.fillText(`step ${hist.steps[n - 1]}`, 2, top + height + (picks.length - 1) * gap);
}

// a heat map: one column per step, each bin shaded by its share of the step's largest count
function drawHeatmap(canvas, hist) {
  const ctx = canvas.getContext("2d");
  const W = canvas.width, H = canvas.height, left = 50, bottom = 20;
  let lo = Infinity, hi = -Infinity;
  for (const edges of hist.edges) for (const e of edges) {
    if (typeof e === "number") { lo = Math.min(lo, e); hi = Math.max(hi, e); }
  }
  if (!(hi > lo)) { hi = lo + 1; lo -= 1; }
  const y = (v) => (H - bottom) * (1 - (v - lo) / (hi - lo));
  const colW = (W - left) / hist.steps.length;
  ctx.fillStyle = "#fff";
  ctx.fillRect(0, 0, W, H);
  hist.counts.forEach((counts, i) => {
    const edges = hist.edges[i];
    const top = Math.max(...counts.filter((c) => typeof c === "number"), 0) || 1;
    counts.forEach((c, b) => {
      if (typeof c !== "number" || c <= 0) return;
      const y0 = y(edges[b + 1]), y1 = y(edges[b]);
      ctx.fillStyle = `rgba(37, 99, 235, ${0.08 + 0.92 * (c / top)})`;
      ctx.fillRect(left + i * colW, y0, Math.max(1, colW), Math.max(1, y1 - y0));
    });
  });
  ctx.fillStyle = "#6b7280";
  ctx.font = "11px system-ui, sans-serif";
  ctx.fillText(fmt(hi), 2, 10);
  ctx.fillText(fmt(lo), 2, H - bottom);
  ctx.fillText(`step ${hist.steps[0]}`, left, H - 5);
  const end = `step ${hist.steps[hist.steps.length - 1]}`;
  ctx.fillText(end, W - ctx.measureText(end).width - 2, H - 5);
}

async function loadMedia(id, box) {
  let rows;
  try {
    rows = (await api(`/api/runs/${encodeURIComponent(id)}/media`)).media
      .filter((r) => r.type !== "chart" && r.type !== "table");  // drawn under "Charts and tables"
  } catch (err) {
    box.textContent = `(${err.message})`;
    return;
  }
  if (!rows.length) { box.replaceChildren(h("p", { class: "muted" }, "none")); return; }
  const byKey = new Map();
  for (const r of rows) {
    if (!byKey.has(r.key)) byKey.set(r.key, []);
    byKey.get(r.key).push(r);
  }
  const panels = [];
  for (const [key, items] of byKey) {
    const steps = [...new Set(items.map((r) => r.step))].sort((a, b) => a - b);
    const shown = h("div", { class: "media-items" });
    const label = h("span", { class: "muted" });
    const slider = h("input", { type: "range", class: "media-step", min: "0",
                                max: String(steps.length - 1), step: "1",
                                value: String(steps.length - 1), "aria-label": `${key} step` });
    const show = () => {
      const step = steps[+slider.value];
      label.textContent = `step ${step} (${+slider.value + 1} of ${steps.length})`;
      shown.replaceChildren(...items.filter((r) => r.step === step).map((r) => mediaItem(id, r)));
    };
    slider.addEventListener("input", show);
    show();
    panels.push(h("div", { class: "media", "data-key": key }, h("h3", {}, key, ` (${items[0].type})`),
                  h("div", { class: "toolbar" }, slider, label), shown));
  }
  box.replaceChildren(...panels);
}

// logged HTML is shown in a sandboxed srcdoc frame after this: parsed by DOMParser (an inert
// document: nothing loads, nothing runs), every reference that would load something from
// elsewhere removed (only data:, blob: and #fragment URLs stay), so the browser never even
// attempts a remote request (a tracking pixel); text and structure stay. Styles go too: the
// frame has the page's CSP, which applies no inline style (and CSS can load URLs)
const URL_ATTRIBUTES = new Set(["src", "srcset", "href", "poster", "data", "action", "formaction",
  "background", "ping", "cite", "longdesc", "lowsrc", "dynsrc", "codebase", "archive", "manifest",
  "icon", "usemap", "imagesrcset", "xlink:href"]);
const REMOTE_ELEMENTS = "script, link, base, object, embed, applet, iframe, frame, frameset, " +
  "portal, meta[http-equiv], noscript, style, x-style";

function inertUrl(url) {
  const u = url.trim().toLowerCase();
  return u.startsWith("data:") || u.startsWith("blob:") || u.startsWith("#");
}

function inertHtml(text) {
  // styles renamed before parsing: a document parsed here has the page's CSP, which logs each
  // inline style it refuses (nothing is applied either way; the pass below removes them)
  const renamed = text.replace(/<(\/?)style\b/gi, "<$1x-style")
    .replace(/<[a-z][^>]*>/gi, (tag) => tag.replace(/(\s)style(\s*=)/gi, "$1x-style$2"));
  const doc = new DOMParser().parseFromString(renamed, "text/html");
  for (const el of doc.querySelectorAll(REMOTE_ELEMENTS)) el.remove();
  for (const el of doc.querySelectorAll("*")) {
    for (const attr of [...el.attributes]) {
      const name = attr.name.toLowerCase();
      if (name.startsWith("on") || name.endsWith("style")) el.removeAttribute(attr.name);
      else if ((URL_ATTRIBUTES.has(name) || name.endsWith(":href"))
               && (name.endsWith("srcset") || !inertUrl(attr.value))) el.removeAttribute(attr.name);
    }
  }
  return `<!doctype html>${doc.documentElement.outerHTML}`;
}

function htmlFrame(r, text) {
  return h("iframe", { srcdoc: inertHtml(text), sandbox: "", class: "html-media",
                       title: r.caption || r.key });
}

function mediaItem(id, r) {
  // an export has each image, audio and video as a file of the site (r.file) and each text
  // or HTML item inline (r.text): a page opened from disk cannot fetch
  const src = EXPORT ? r.file : `/api/runs/${encodeURIComponent(id)}/media/file?path=${encodeURIComponent(r.path)}`;
  let el;
  if (!r.shown) el = h("p", { class: "muted" }, `${r.type} (${r.format}): listed only`);
  else if (EXPORT && r.left_out) el = h("p", { class: "muted" }, `${r.type}: not in this export (${r.left_out})`);
  else if (EXPORT && typeof r.text === "string") {
    // sandboxed, and under the page's CSP (a srcdoc frame inherits it): no script runs
    el = r.type === "html" ? htmlFrame(r, r.text) : h("pre", { class: "code text-media" }, r.text);
  }
  else if (r.type === "audio") el = h("audio", { controls: "", src, preload: "none" });
  // a GIF (Video's default format) is an image to a browser: <video> cannot play it
  else if (r.type === "video" && String(r.format).toLowerCase() !== "gif") {
    el = h("video", { controls: "", src, preload: "none" });
  }
  else if (r.type === "html" || r.type === "text") {
    el = h("div", { class: "text-holder" }, h("pre", { class: "code text-media" }, "…"));
    fetch(src, { credentials: "same-origin" }).then((a) => (a.ok ? a.text() : Promise.reject(new Error(a.statusText))))
      .then((t) => {
        el.replaceChildren(r.type === "html" ? htmlFrame(r, t) : h("pre", { class: "code text-media" }, t));
      }, (err) => { el.firstChild.textContent = `(${err.message})`; });
  }
  else el = h("img", { src, alt: r.caption || r.key, loading: "lazy" });
  return h("figure", {}, el, r.caption ? h("figcaption", {}, r.caption) : null);
}

async function loadConsole(id, box) {
  try {
    const body = await api(`/api/runs/${encodeURIComponent(id)}/console?tail=200000`);
    box.textContent = body.text || "(nothing captured)";
    if (body.truncated) box.prepend(`… (the last ${body.text.length} of ${body.length} characters)\n`);
  } catch (err) {
    box.textContent = `(${err.message})`;
  }
}

async function loadCode(id, box) {
  try {
    const c = await api(`/api/runs/${encodeURIComponent(id)}/code`);
    const parts = [h("p", {}, c.commit ? `commit ${c.commit}` : "no commit recorded",
                     c.branch ? ` on ${c.branch}` : "", c.dirty ? " (uncommitted changes)" : "")];
    if (c.patch) parts.push(h("details", {}, h("summary", {}, "uncommitted changes (patch)"),
                              h("pre", { class: "code" }, c.patch)));
    for (const f of c.files || []) {
      if (f.name === "diff.patch") continue;
      parts.push(h("details", {}, h("summary", {}, `${f.name} (${f.size} bytes)`),
                   h("pre", { class: "code" }, f.text === null ? "(binary or too large to show)" : f.text)));
    }
    if (c.left_out) parts.push(h("p", { class: "muted" }, `saved code: not in this export (${c.left_out})`));
    else if (!c.saved) parts.push(h("p", { class: "muted" }, "no code saved (save_code=True saves it)"));
    box.replaceChildren(...parts);
  } catch (err) {
    box.textContent = `(${err.message})`;
  }
}

// ---------------------------------------------------------------- compare

async function showCompare(ids) {
  const main = document.getElementById("main");
  let runs;
  try {
    runs = await Promise.all(ids.map((id) => api(`/api/runs/${encodeURIComponent(id)}`)));
  } catch (err) {
    main.replaceChildren(h("p", { class: "error" }, err.message), h("a", { href: "#/" }, "All runs"));
    return;
  }
  const grid = h("div", { class: "charts", id: "charts" });
  const legend = h("p", {}, runs.map((r, i) => {
    const swatch = h("span", { class: "swatch" });
    swatch.style.backgroundColor = COLORS[i % COLORS.length];  // CSSOM: allowed by the CSP
    return h("span", { class: "tag", title: r.id }, swatch, h("a", { href: `#/run/${r.id}` }, r.name));
  }));
  const redraw = () => drawCompare(runs, grid);
  main.replaceChildren(h("h1", {}, `Compare ${runs.length} runs`), legend,
                       chartControls(redraw, [...new Set(runs.flatMap((r) => r.keys))]), grid,
                       h("h2", {}, "Config"), configDiff(runs),
                       h("h2", {}, "Parallel coordinates"), parallelCoordinates(runs),
                       h("h2", {}, "Config against summary"), scatterPanel(runs));
  await redraw();
  const live = runs.some((r) => r.state === "running");
  status(live ? "live: refreshing" : "");
  poll(() => { if (location.hash.startsWith("#/compare/")) { leave(); showCompare(ids); } }, live);
}

function numericFields(runs) {
  // numeric config keys that differ between the runs, then numeric summary metrics
  const configs = runs.map((r) => flat("", r.config));
  const summaries = runs.map((r) => flat("", r.summary));
  const pick = (objs, prefix, differ) => {
    const keys = [...new Set(objs.flatMap((o) => Object.keys(o)))].filter((k) => !k.startsWith("_"));
    return keys.filter((k) => objs.some((o) => typeof own(o, k) === "number")
                             && (!differ || new Set(objs.map((o) => own(o, k))).size > 1))
      .sort().map((k) => ({ key: `${prefix}${k}`, get: (i) => (typeof own(objs[i], k) === "number" ? own(objs[i], k) : null) }));
  };
  return { config: pick(configs, "config.", true), summary: pick(summaries, "", false) };
}

function scaled(values, lo, hi) {
  const min = Math.min(...values.filter((v) => v !== null)), max = Math.max(...values.filter((v) => v !== null));
  return values.map((v) => (v === null ? null : (max > min ? lo + (hi - lo) * (v - min) / (max - min) : (lo + hi) / 2)));
}

function parallelCoordinates(runs) {
  const { config, summary } = numericFields(runs);
  const axes = config.concat(summary).slice(0, 12);
  if (axes.length < 2) return h("p", { class: "muted" }, "needs two numeric config keys or metrics");
  const canvas = h("canvas", { width: Math.max(480, 140 * axes.length), height: 300, id: "parallel" });
  const ctx = canvas.getContext("2d");
  const W = canvas.width, H = canvas.height, pad = 30;
  const xs = axes.map((_, i) => pad + i * (W - 2 * pad) / (axes.length - 1));
  const ys = axes.map((a) => scaled(runs.map((_, i) => a.get(i)), H - pad, pad + 10));
  ctx.fillStyle = "#fff";
  ctx.fillRect(0, 0, W, H);
  ctx.strokeStyle = "#9ca3af";
  ctx.fillStyle = "#374151";
  ctx.font = "11px system-ui, sans-serif";
  axes.forEach((a, i) => {
    ctx.beginPath(); ctx.moveTo(xs[i], pad + 10); ctx.lineTo(xs[i], H - pad); ctx.stroke();
    const label = a.key.length > 22 ? `${a.key.slice(0, 21)}…` : a.key;
    ctx.fillText(label, Math.min(W - ctx.measureText(label).width - 2, Math.max(2, xs[i] - ctx.measureText(label).width / 2)), 12);
  });
  runs.forEach((r, i) => {
    ctx.strokeStyle = COLORS[i % COLORS.length];
    ctx.lineWidth = 2;
    ctx.beginPath();
    let started = false;
    axes.forEach((_, j) => {
      const y = ys[j][i];
      if (y === null) { started = false; return; }
      if (started) ctx.lineTo(xs[j], y); else ctx.moveTo(xs[j], y);
      started = true;
    });
    ctx.stroke();
    ctx.fillStyle = COLORS[i % COLORS.length];  // a dot per value: one between gaps shows too
    axes.forEach((_, j) => {
      if (ys[j][i] !== null) { ctx.beginPath(); ctx.arc(xs[j], ys[j][i], 3, 0, 2 * Math.PI); ctx.fill(); }
    });
  });
  return h("div", { class: "chart wide" }, canvas,
           h("div", { class: "note" }, "each run a line, each axis scaled from its smallest to its largest value"));
}

function scatterPanel(runs) {
  const { config, summary } = numericFields(runs);
  if (!config.length || !summary.length) return h("p", { class: "muted" }, "needs a numeric config key that differs and a numeric metric");
  const canvas = h("canvas", { width: 480, height: 300, id: "scatter" });
  const xSel = h("select", { id: "scatter-x" }, config.map((a) => h("option", { value: a.key }, a.key)));
  const ySel = h("select", { id: "scatter-y" }, summary.map((a) => h("option", { value: a.key }, a.key)));
  const draw = () => {
    const xa = config.find((a) => a.key === xSel.value), ya = summary.find((a) => a.key === ySel.value);
    const ctx = canvas.getContext("2d");
    const W = canvas.width, H = canvas.height, pad = 40;
    const xs = scaled(runs.map((_, i) => xa.get(i)), pad, W - pad);
    const ys = scaled(runs.map((_, i) => ya.get(i)), H - pad, pad);
    ctx.fillStyle = "#fff";
    ctx.fillRect(0, 0, W, H);
    ctx.strokeStyle = "#9ca3af";
    ctx.strokeRect(pad, pad, W - 2 * pad, H - 2 * pad);
    ctx.fillStyle = "#374151";
    ctx.font = "11px system-ui, sans-serif";
    ctx.fillText(xa.key, W / 2 - ctx.measureText(xa.key).width / 2, H - 10);
    ctx.fillText(ya.key, 4, 14);
    runs.forEach((r, i) => {
      if (xs[i] === null || ys[i] === null) return;
      ctx.fillStyle = COLORS[i % COLORS.length];
      ctx.beginPath(); ctx.arc(xs[i], ys[i], 6, 0, 2 * Math.PI); ctx.fill();
    });
  };
  xSel.addEventListener("change", draw);
  ySel.addEventListener("change", draw);
  draw();
  return h("div", { class: "chart wide" }, h("div", { class: "toolbar" }, h("label", {}, "x ", xSel), h("label", {}, "y ", ySel)), canvas);
}

function configDiff(runs) {
  const flats = runs.map((r) => flat("", r.config));
  const keys = [...new Set(flats.flatMap((f) => Object.keys(f)))].sort();
  const rows = keys.map((k) => {
    const vals = flats.map((f) => fmt(own(f, k)));
    const differs = new Set(vals).size > 1;
    return h("tr", { class: differs ? "differs" : null }, h("td", {}, differs ? `${k} ≠` : k),
             vals.map((v) => h("td", {}, v)));
  });
  return h("table", { class: "kv" }, h("thead", {}, h("tr", {}, h("th", {}, "key"),
           runs.map((r) => h("th", {}, r.name)))), h("tbody", {}, rows));
}

async function drawCompare(runs, grid) {
  for (const c of charts) c.destroy();
  charts = [];
  grid.replaceChildren();
  const keys = [...new Set(runs.flatMap((r) => r.keys))];
  const boxes = keys.map((key) => { const b = chartBox(key); grid.append(b.box); return [key, b]; });
  // a run without the metric chosen as x axis has nothing to draw against it
  const drawable = (r) => Object.hasOwn(X_AXES, state.x) || r.keys.includes(state.x);
  const all = await Promise.all(runs.map((r) => (drawable(r)
    ? fetchSeries(r.id, keys.filter((k) => r.keys.includes(k))) : Promise.resolve({}))));
  for (const [key, b] of boxes) {
    const lines = [];
    runs.forEach((r, i) => {
      const s = own(all[i], key);
      if (s && s.x.length) lines.push({ label: r.name, color: COLORS[i % COLORS.length], x: s.x, y: s.y });
    });
    b.note.textContent = `${lines.length} of ${runs.length} runs`;
    if (!lines.length) continue;
    const zoom = async (min, max) => {
      const fresh = await Promise.all(runs.map((r) => r.keys.includes(key) && drawable(r)
        ? fetchSeries(r.id, [key], { start: min, end: max }) : Promise.resolve({})));
      const zl = [];
      runs.forEach((r, i) => {
        const s = own(fresh[i], key);
        if (s && s.x.length) zl.push({ label: r.name, color: COLORS[i % COLORS.length], x: s.x, y: s.y });
      });
      const old = charts.find((c) => b.holder.contains(c.root));
      if (old) { charts = charts.filter((c) => c !== old); old.destroy(); }
      b.holder.replaceChildren();
      if (zl.length) drawChart(b.holder, key, zl, zoom);
    };
    drawChart(b.holder, key, lines, zoom);
  }
}

// ---------------------------------------------------------------- routing

async function route() {
  leave();
  status("");
  const hash = location.hash || "#/";
  let m;
  try {
    if (hash === "#/artifacts") await showArtifacts();
    else if ((m = hash.match(/^#\/artifact\/([^/]+)\/([^/]+)$/))) {
      await showVersion(decodeURIComponent(m[1]), decodeURIComponent(m[2]));
    } else if ((m = hash.match(/^#\/artifact\/([^/]+)$/))) await showArtifact(decodeURIComponent(m[1]));
    else if ((m = hash.match(/^#\/run\/(.+)$/))) await showRun(decodeURIComponent(m[1]));
    else if ((m = hash.match(/^#\/compare\/(.+)$/))) {
      await showCompare(m[1].split(",").filter(Boolean).map(decodeURIComponent));
    } else await showRuns();
  } catch (err) {
    status(err.message, "error");
    document.getElementById("main").replaceChildren(h("p", { class: "error" }, err.message),
                                                    h("a", { href: "#/" }, "All runs"));
  }
  document.body.dataset.ready = "1";
}

window.addEventListener("hashchange", () => { document.body.dataset.ready = ""; route(); });
window.addEventListener("DOMContentLoaded", route);

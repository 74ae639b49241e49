// credsim dashboard: controls from the scenario schema, live charts, runs side by side.
// No framework and no network beyond this server. Charts are SVG polylines in data coordinates:
// each new month appends one point (SVGPointList.appendItem); a growing axis changes one
// transform and the tick labels, never the lines already drawn.
"use strict";

const CONFIG = JSON.parse(document.getElementById("config").textContent);
const SOCIETY = ["population.agents", "run.steps", "run.seed"]; // kept when the scenario changes
const $ = (sel) => document.querySelector(sel);
const SVG = "http://www.w3.org/2000/svg";

const state = {
  source: { scenario: "seed" }, // or { upload: { name, text } }
  levers: [],                   // specs from the server, with the scenario's values
  values: {},                   // what the controls show now
  problems: [],
  runs: new Map(),              // id -> { info, totals, last, es }
  selected: null,
  busy: false,
};

function el(tag, attrs = {}, text) {
  const node = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) node.setAttribute(k, v);
  if (text !== undefined) node.textContent = text;
  return node;
}

function svg(tag, attrs = {}) {
  const node = document.createElementNS(SVG, tag);
  for (const [k, v] of Object.entries(attrs)) node.setAttribute(k, v);
  return node;
}

function fmt(v, kind) {
  if (v === null || v === undefined || Number.isNaN(v)) return "–";
  if (kind === "share") return v === 0 ? "0%" : (v * 100).toFixed(Math.abs(v) < 0.001 ? 3 : Math.abs(v) < 0.1 ? 2 : 1) + "%";
  if (kind === "count") return Math.round(v).toLocaleString("en");
  return Math.abs(v) >= 1e4 ? Math.round(v).toLocaleString("en") : String(+v.toPrecision(4));
}

function fmtDelta(d, kind) {
  if (kind === "share") return (d >= 0 ? "+" : "") + (d * 100).toFixed(2) + " pp";
  return (d >= 0 ? "+" : "") + fmt(d, kind);
}

async function api(path, body) {
  const init = body === undefined ? {} : {
    method: "POST", headers: { "Content-Type": "application/json" }, body: JSON.stringify(body) };
  const response = await fetch(path, init);
  let data = {};
  try { data = await response.json(); } catch (e) { /* not JSON */ }
  return { status: response.status, data };
}

// ---------------------------------------------------------------- controls

function changedValues() {
  const out = {};
  for (const l of state.levers) if (state.values[l.key] !== l.value) out[l.key] = state.values[l.key];
  return out;
}

function leverControl(l) {
  const box = el("div", { class: `lever ${l.kind}`, "data-key": l.key });
  const id = "lever-" + l.key.replace(/\./g, "-");
  if (l.kind === "bool") {
    const label = el("label", { for: id });
    const input = el("input", { type: "checkbox", id });
    input.checked = state.values[l.key];
    input.addEventListener("change", () => setValue(l, input.checked));
    label.append(input, document.createTextNode(l.label));
    box.append(label);
  } else {
    box.append(el("label", { for: id }, l.label));
    const row = el("div", { class: "row" });
    const num = el("input", { type: "number", id, min: l.min, max: l.max, step: "any" });
    num.value = state.values[l.key];
    if (l.key !== "run.seed") {
      const range = el("input", { type: "range", min: l.min, max: l.max, step: l.step, "aria-label": l.label });
      range.value = state.values[l.key];
      range.addEventListener("input", () => { num.value = range.value; setValue(l, Number(range.value)); });
      num.addEventListener("input", () => { range.value = num.value; });
      row.append(range);
    }
    num.addEventListener("change", () => {
      const v = num.value.trim() === "" ? num.value : Number(num.value);
      setValue(l, Number.isFinite(v) ? v : num.value);
    });
    row.append(num);
    box.append(row);
  }
  box.append(el("p", { class: "sentence" }, l.sentence), el("div", { class: "err", "data-for": l.key, role: "alert" }));
  return box;
}

function buildLevers() {
  const form = $("#levers");
  form.replaceChildren();
  let group = null;
  let fieldset = null;
  for (const l of state.levers) {
    if (l.group !== group) {
      group = l.group;
      fieldset = el("fieldset");
      fieldset.append(el("legend", {}, group));
      form.append(fieldset);
    }
    fieldset.append(leverControl(l));
  }
  markChanged();
}

function markChanged() {
  for (const l of state.levers) {
    const box = document.querySelector(`.lever[data-key="${l.key}"]`);
    if (box) box.classList.toggle("changed", state.values[l.key] !== l.value);
  }
}

let validateTimer = null;
function setValue(l, v) {
  state.values[l.key] = v;
  markChanged();
  clearTimeout(validateTimer);
  validateTimer = setTimeout(validate, 150);
  updateButtons();
}

function showProblems(problems) {
  state.problems = problems;
  document.querySelectorAll(".err").forEach((e) => { e.textContent = ""; });
  document.querySelectorAll(".lever.invalid").forEach((e) => e.classList.remove("invalid"));
  for (const p of problems) {
    const slot = document.querySelector(`.err[data-for="${p.control}"]`) || document.querySelector('.err[data-for="scenario"]');
    const value = p.value === null ? "" : ` = ${p.value}`;
    slot.append(el("div", {}, `${p.key}${value}: ${p.message}`));
    const box = document.querySelector(`.lever[data-key="${p.control}"]`);
    if (box) box.classList.add("invalid");
  }
  updateButtons();
}

async function validate() {
  const { data } = await api("api/resolve", { ...state.source, values: changedValues() });
  showProblems(data.problems || []);
}

async function loadSource(source, keep = {}) {
  const { status, data } = await api("api/resolve", { ...source, values: {} });
  if (status !== 200) {
    showProblems(data.problems || [{ control: "scenario", key: "scenario", value: null, message: data.error || "refused" }]);
    return false;
  }
  state.source = source;
  state.levers = data.levers;
  state.values = Object.fromEntries(data.levers.map((l) => [l.key, l.value]));
  Object.assign(state.values, keep);
  const [first, ...rest] = data.description.split(". ");
  $("#scenario-desc").replaceChildren(rest.length ? el("details") : document.createTextNode(first));
  if (rest.length) {
    const details = $("#scenario-desc details");
    details.append(el("summary", {}, `${first}.`), document.createTextNode(rest.join(". ")));
  }
  const note = $("#timeline-note");
  note.hidden = !data.timeline;
  note.textContent = `This scenario changes settings during the run (${data.timeline} timeline entries): the controls set the values it starts with.`;
  buildLevers();
  showProblems(data.problems);
  if (Object.keys(keep).length) await validate();
  return true;
}

function societyValues() {
  const keep = {};
  for (const key of SOCIETY) {
    const l = state.levers.find((x) => x.key === key);
    if (l && state.values[key] !== l.value) keep[key] = state.values[key];
  }
  return keep;
}

function setupSource() {
  const select = $("#scenario");
  for (const b of CONFIG.builtins) {
    const option = el("option", { value: b.name }, `${b.name}: ${b.summary}`);
    select.append(option);
  }
  select.value = "seed";
  select.addEventListener("change", async () => {
    if (select.value === "__upload__") return;
    await loadSource({ scenario: select.value }, societyValues());
  });
  $("#upload").addEventListener("change", async (event) => {
    const file = event.target.files[0];
    if (!file) return;
    const text = await file.text();
    if (await loadSource({ upload: { name: file.name, text } }, societyValues())) {
      let option = select.querySelector('option[value="__upload__"]');
      if (!option) { option = el("option", { value: "__upload__" }); select.append(option); }
      option.textContent = `uploaded: ${file.name}`;
      select.value = "__upload__";
    }
    event.target.value = "";
  });
  $("#reset").addEventListener("click", () => loadSource(state.source));
}

// ---------------------------------------------------------------- charts

function niceCeil(v) {
  if (v <= 0) return 1;
  const p = 10 ** Math.floor(Math.log10(v));
  for (const m of [1, 2, 2.5, 5, 10]) if (m * p >= v) return m * p;
  return 10 * p;
}

function ticks(lo, hi, n, whole = false) {
  const step = Math.max(niceCeil((hi - lo) / n), whole ? 1 : 0);
  const out = [];
  for (let v = Math.ceil(lo / step) * step; v <= hi + step * 1e-9; v += step) out.push(+v.toPrecision(12));
  return out;
}

class LiveChart {
  constructor(spec) {
    this.spec = spec;
    this.w = 420; this.h = 210; this.m = { l: 54, r: 10, t: 8, b: 26 };
    this.pw = this.w - this.m.l - this.m.r; this.ph = this.h - this.m.t - this.m.b;
    this.x = [0, 1]; this.y = null;
    this.lines = new Map();
    this.root = svg("svg", { viewBox: `0 0 ${this.w} ${this.h}`, class: "chart", "data-chart": spec.id,
      role: "img", "aria-label": spec.title });
    const clip = svg("clipPath", { id: `clip-${spec.id}` });
    clip.append(svg("rect", { x: this.m.l, y: this.m.t, width: this.pw, height: this.ph }));
    this.axes = svg("g", { class: "axes" });
    const plot = svg("g", { "clip-path": `url(#clip-${spec.id})` });
    this.data = svg("g", { class: "data" });
    plot.append(this.data);
    this.root.append(clip, this.axes, plot,
      svg("rect", { class: "frame", x: this.m.l, y: this.m.t, width: this.pw, height: this.ph }));
    this.box = el("div", { class: "chart-box" });
    this.box.append(el("h3", {}, spec.title), this.root);
    this.rescale();
  }

  addRun(run) {
    const polys = this.spec.series.map((s) => {
      const line = svg("polyline", { stroke: run.info.colour, "data-run": run.info.id, "data-col": s.col,
        "vector-effect": "non-scaling-stroke" });
      if (s.dash) line.setAttribute("stroke-dasharray", "4 3");
      this.data.append(line);
      return line;
    });
    this.lines.set(run.info.id, polys);
    const years = run.info.steps / 12;
    if (years > this.x[1]) { this.x = [0, years]; this.rescale(); }
  }

  removeRun(id) {
    for (const line of this.lines.get(id) || []) line.remove();
    this.lines.delete(id);
  }

  append(run, row) {
    const polys = this.lines.get(run.info.id);
    if (!polys) return;
    this.spec.series.forEach((s, i) => {
      const v = value(run, row, s);
      if (v === null || v === undefined) return;
      const point = this.root.createSVGPoint();
      point.x = row.step / 12;
      point.y = v;
      polys[i].points.appendItem(point);
      this.include(v);
    });
  }

  include(v) {
    let [lo, hi] = this.y || [v, v];
    if (this.y && v >= lo && v <= hi) return;
    if (this.spec.kind === "number") {
      const pad = Math.max(Math.abs(v) * 0.002, 1);
      lo = Math.min(lo, v - pad); hi = Math.max(hi, v + pad);
      const step = niceCeil((hi - lo) / 4);
      lo = Math.floor(lo / step) * step; hi = Math.ceil(hi / step) * step;
    } else {
      lo = 0;
      hi = niceCeil(Math.max(hi, v, this.spec.kind === "share" ? 0.001 : 4) * 1.05);
    }
    this.y = [lo, hi];
    this.rescale();
  }

  rescale() {
    const [x0, x1] = this.x;
    const [y0, y1] = this.y || [0, 1];
    const sx = this.pw / (x1 - x0);
    const sy = this.ph / (y1 - y0);
    this.data.setAttribute("transform",
      `matrix(${sx} 0 0 ${-sy} ${this.m.l - x0 * sx} ${this.m.t + this.ph + y0 * sy})`);
    this.axes.replaceChildren();
    const X = (x) => this.m.l + (x - x0) * sx;
    const Y = (y) => this.m.t + this.ph - (y - y0) * sy;
    for (const t of ticks(x0, x1, 6)) {
      this.axes.append(svg("line", { class: "grid", x1: X(t), x2: X(t), y1: this.m.t, y2: this.m.t + this.ph }));
      const label = svg("text", { x: X(t), y: this.h - 12, "text-anchor": "middle" });
      label.textContent = t;
      this.axes.append(label);
    }
    const xl = svg("text", { x: this.m.l + this.pw, y: this.h - 1, "text-anchor": "end" });
    xl.textContent = "years";
    this.axes.append(xl);
    for (const t of ticks(y0, y1, 4, this.spec.kind === "count")) {
      this.axes.append(svg("line", { class: "grid", x1: this.m.l, x2: this.m.l + this.pw, y1: Y(t), y2: Y(t) }));
      const label = svg("text", { x: this.m.l - 4, y: Y(t) + 3, "text-anchor": "end" });
      label.textContent = fmt(t, this.spec.kind);
      this.axes.append(label);
    }
  }
}

function value(run, row, spec) {
  return spec.total ? run.totals[spec.col] : row[spec.col];
}

const charts = CONFIG.charts.map((spec) => new LiveChart(spec));

// ---------------------------------------------------------------- runs

function buildNumbers() {
  const host = $("#numbers");
  for (const n of CONFIG.numbers) {
    const tile = el("div", { class: "number", "data-col": n.col });
    tile.append(el("div", { class: "label" }, n.label), el("div", { class: "value" }, "–"),
      el("div", { class: "note" }, n.note), el("div", { class: "delta" }, ""));
    host.append(tile);
  }
}

function baselineFor(run) {
  const same = [...state.runs.values()].filter((r) => r.info.scenario === "baseline" && !r.info.changes.length
    && r.info.agents === run.info.agents && r.info.steps === run.info.steps && r.info.state === "done");
  return same.length ? same[same.length - 1] : null;
}

function showNumbers() {
  const run = state.runs.get(state.selected);
  const base = run && run.info.scenario !== "baseline" ? baselineFor(run) : null;
  for (const n of CONFIG.numbers) {
    const tile = document.querySelector(`.number[data-col="${n.col}"]`);
    tile.style.borderTopColor = run ? run.info.colour : "#ccc";
    const v = run && run.last ? value(run, run.last, n) : null;
    tile.querySelector(".value").textContent = fmt(v, n.kind);
    const delta = base && base.last && v !== null && run.info.state === "done" ? v - value(base, base.last, n) : null;
    tile.querySelector(".delta").textContent = delta === null ? "" : `${fmtDelta(delta, n.kind)} vs the baseline`;
  }
}

function buildLegendAndTable() {
  const legend = $("#legend");
  legend.replaceChildren();
  const table = $("#table");
  table.replaceChildren();
  const runs = [...state.runs.values()];
  if (!runs.length) return;
  const head = el("tr");
  head.append(el("th", {}, ""));
  for (const run of runs) {
    const chip = el("div", { class: "chip", "data-run": run.info.id, title: "show this run's numbers and report" });
    const swatch = el("span", { class: "swatch" });
    swatch.style.background = run.info.colour;
    chip.append(swatch, el("span", {}, run.info.label), el("span", { class: "sub" }, ""));
    chip.addEventListener("click", () => select(run.info.id));
    legend.append(chip);
    const th = el("th", { "data-run": run.info.id }, run.info.label);
    th.style.borderBottomColor = run.info.colour;
    th.addEventListener("click", () => select(run.info.id));
    head.append(th);
  }
  const thead = el("thead");
  thead.append(head);
  const tbody = el("tbody");
  const rows = [["persons", (r) => r.info.agents.toLocaleString("en")], ["years", (r) => r.info.steps / 12],
    ["seed", (r) => r.info.seed]];
  for (const [label, get] of rows) {
    const tr = el("tr");
    tr.append(el("td", {}, label), ...runs.map((r) => el("td", {}, String(get(r)))));
    tbody.append(tr);
  }
  for (const t of CONFIG.table) {
    const tr = el("tr", { "data-col": t.col });
    tr.append(el("td", {}, t.label), ...runs.map((r) => el("td", { "data-run": r.info.id }, "–")));
    tbody.append(tr);
  }
  table.append(thead, tbody);
  runs.forEach(updateRunText);
  markSelected();
}

function updateRunText(run) {
  const chip = document.querySelector(`.chip[data-run="${run.info.id}"] .sub`);
  if (chip) chip.textContent = `${run.info.agents.toLocaleString("en")} persons · ${run.info.steps / 12} y · ${run.info.state}`;
  if (!run.last) return;
  for (const t of CONFIG.table) {
    const cell = document.querySelector(`#table tr[data-col="${t.col}"] td[data-run="${run.info.id}"]`);
    if (cell) cell.textContent = fmt(value(run, run.last, t), t.kind);
  }
}

function markSelected() {
  document.querySelectorAll(".chip").forEach((c) => c.classList.toggle("selected", c.dataset.run === state.selected));
}

function select(id) {
  state.selected = id;
  markSelected();
  showNumbers();
  showReport();
}

function showReport() {
  const run = state.runs.get(state.selected);
  const frame = $("#report-frame");
  const ready = run && run.info.report;
  $("#report-links").hidden = !ready;
  frame.hidden = !ready;
  $("#report-note").hidden = !!ready;
  if (!run) return;
  if (!ready) {
    $("#report-note").textContent = run.info.state === "stopped" || run.info.state === "failed"
      ? "This run did not finish, so it has no report." : "The report's figures appear here when the run has finished.";
    return;
  }
  const src = `api/runs/${run.info.id}/report`;
  if (frame.getAttribute("src") !== src) frame.setAttribute("src", src);
  $("#report-open").setAttribute("href", src);
  $("#download").setAttribute("href", `api/runs/${run.info.id}/download`);
}

function addRun(info) {
  const run = { info, totals: {}, last: null, es: null };
  state.runs.set(info.id, run);
  charts.forEach((c) => c.addRun(run));
  buildLegendAndTable();
  select(info.id);
  follow(run);
  return run;
}

function dropRun(id) {
  const run = state.runs.get(id);
  if (!run) return;
  if (run.es) run.es.close();
  charts.forEach((c) => c.removeRun(id));
  state.runs.delete(id);
  if (state.selected === id) state.selected = null;
}

function follow(run) {
  const es = new EventSource(`api/runs/${run.info.id}/events`);
  run.es = es;
  es.addEventListener("rows", (event) => {
    for (const row of JSON.parse(event.data)) {
      for (const spec of [...CONFIG.numbers, ...CONFIG.table, ...CONFIG.charts.flatMap((c) => c.series)]) {
        if (spec.total && !(spec.col in run.totals)) run.totals[spec.col] = 0;
      }
      for (const col of Object.keys(run.totals)) run.totals[col] += row[col] || 0;
      run.last = row;
      charts.forEach((c) => c.append(run, row));
    }
    run.info.done_steps = run.last.step + 1;
    updateRunText(run);
    if (state.selected === run.info.id) showNumbers();
    showProgress(run);
  });
  es.addEventListener("state", (event) => {
    run.info = JSON.parse(event.data);
    updateRunText(run);
    showProgress(run);
    if (state.selected === run.info.id) { showNumbers(); showReport(); }
    if (["done", "stopped", "failed"].includes(run.info.state)) state.runs.forEach((r) => { if (r !== run) updateRunText(r); });
    if (state.selected) showNumbers();
  });
  es.addEventListener("end", () => es.close());
}

function showProgress(run) {
  const { info } = run;
  const ended = ["done", "stopped", "failed"].includes(info.state);
  state.busy = !ended;
  const bar = $("#bar");
  bar.max = info.steps;
  bar.value = info.done_steps;
  const status = $("#status");
  status.classList.toggle("failed", info.state === "failed");
  const where = `${info.label}: month ${info.done_steps} of ${info.steps}`;
  status.textContent = {
    running: info.done_steps ? `${where}…` : `${info.label}: building a society of ${info.agents.toLocaleString("en")} `
      + "persons… (the first run after installing also compiles the engine: up to a minute)",
    writing: `${where}; writing the run folder and drawing the report…`,
    done: `${info.label}: done in ${(info.wall_s || 0).toFixed(1)} s (first month after ${(info.first_row_s || 0).toFixed(1)} s).`,
    stopped: `${info.label}: ${info.message}.`,
    failed: `${info.label}: ${info.message}`,
  }[info.state];
  $("#stop").dataset.run = info.id;
  updateButtons();
}

function updateButtons() {
  const blocked = state.busy || !state.levers.length;
  $("#run").disabled = blocked || state.problems.length > 0;
  $("#baseline").disabled = blocked || SOCIETY.some((k) => state.problems.some((p) => p.control === k));
  const active = [...state.runs.values()].find((r) => r.info.state === "running");
  $("#stop").disabled = !active;
}

async function start(body) {
  state.busy = true;
  updateButtons();
  const { status, data } = await api("api/runs", body);
  if (status === 201) {
    for (const id of data.dropped) dropRun(id);
    const run = addRun(data.run);
    showProgress(run);
    return;
  }
  state.busy = false;
  if (data.problems) showProblems(data.problems);
  $("#status").textContent = data.error || "The settings have problems: see the controls.";
  updateButtons();
}

function setupActions() {
  $("#run").addEventListener("click", () => start({ ...state.source, values: changedValues() }));
  $("#baseline").addEventListener("click", () => {
    const values = Object.fromEntries(SOCIETY.map((k) => [k, state.values[k]]));
    start({ scenario: "baseline", values });
  });
  $("#stop").addEventListener("click", () => {
    const id = $("#stop").dataset.run;
    if (id) api(`api/runs/${id}/stop`, {});
  });
}

async function main() {
  buildNumbers();
  const host = $("#charts");
  charts.forEach((c) => host.append(c.box));
  setupSource();
  setupActions();
  await loadSource({ scenario: "seed" });
  const { data } = await api("api/runs");
  for (const info of data.runs || []) addRun(info);
  document.body.dataset.ready = "true";
}

main();

// credsim dashboard: controls from the scenario schema, runs, numbers, the comparison.
// No framework and no network beyond this server; the charts are in charts.js.
"use strict";

const CONFIG = JSON.parse(document.getElementById("config").textContent);
const SOCIETY = ["population.agents", "run.steps", "run.seed"]; // kept when the scenario changes
const $ = (sel) => document.querySelector(sel);
const ENDED = ["done", "stopped", "failed"];
const TOTALS = [...new Set([...CONFIG.numbers, ...CONFIG.table, ...CONFIG.charts.flatMap((c) => c.series)]
  .filter((spec) => spec.total).map((spec) => spec.col))]; // running sums of per-month counts

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
    $("#report-note").textContent = {
      stopped: "This run did not finish, so it has no report.", failed: "This run did not finish, so it has no report.",
      done: "This run's scenario writes no report (output.report = false).",
    }[run.info.state] || "The report's figures appear here when the run has finished.";
    return;
  }
  const src = `api/runs/${run.info.id}/report`;
  if (frame.getAttribute("src") !== src) frame.setAttribute("src", src);
  $("#report-open").setAttribute("href", src);
  $("#download").setAttribute("href", `api/runs/${run.info.id}/download`);
}

function addRun(info) {
  const run = { info, totals: Object.fromEntries(TOTALS.map((col) => [col, 0])), last: null, es: null };
  state.runs.set(info.id, run);
  charts.forEach((c) => c.addRun(run));
  buildLegendAndTable();
  select(info.id);
  follow(run);
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
      for (const col of TOTALS) run.totals[col] += row[col] || 0;
      run.last = row;
      charts.forEach((c) => c.append(run, row, (spec) => value(run, row, spec)));
    }
    run.info.done_steps = run.last.step + 1;
    updateRunText(run);
    if (state.selected === run.info.id) showNumbers();
    showProgress();
  });
  es.addEventListener("state", (event) => {
    run.info = JSON.parse(event.data);
    updateRunText(run);
    showProgress();
    showNumbers(); // a finished baseline changes the differences shown
    if (state.selected === run.info.id) showReport();
  });
  es.addEventListener("end", () => es.close());
}

function showProgress() {
  // the latest run's progress; busy while any run has not ended
  const runs = [...state.runs.values()];
  state.busy = runs.some((r) => !ENDED.includes(r.info.state));
  updateButtons();
  if (!runs.length) return;
  const { info } = runs[runs.length - 1];
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
}

function updateButtons() {
  const blocked = state.busy || !state.levers.length;
  $("#run").disabled = blocked || state.problems.length > 0;
  $("#baseline").disabled = blocked || SOCIETY.some((k) => state.problems.some((p) => p.control === k));
  $("#stop").disabled = !runningRun();
}

function runningRun() {
  return [...state.runs.values()].find((r) => r.info.state === "running");
}

async function start(body) {
  state.busy = true;
  updateButtons();
  const { status, data } = await api("api/runs", body);
  if (status === 201) {
    for (const id of data.dropped) dropRun(id);
    addRun(data.run);
    showProgress();
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
    const run = runningRun();
    if (run) api(`api/runs/${run.info.id}/stop`, {});
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

// credsim dashboard: number formats and the live charts (loaded before dashboard.js).
// Charts are SVG polylines in data coordinates: each new month appends one point
// (SVGPointList.appendItem); a growing axis changes one transform and the tick labels, never
// the lines already drawn.
"use strict";

const SVG = "http://www.w3.org/2000/svg";

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
    this.box = document.createElement("div");
    this.box.className = "chart-box";
    const title = document.createElement("h3");
    title.textContent = spec.title;
    this.box.append(title, this.root);
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

  // one month of a run: `pick(series)` is the series' value in this month's row
  append(run, row, pick) {
    const polys = this.lines.get(run.info.id);
    if (!polys) return;
    this.spec.series.forEach((s, i) => {
      const v = pick(s);
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

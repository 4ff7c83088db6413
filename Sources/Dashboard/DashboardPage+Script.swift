// DashboardPage+Script: the page's script — polls the JSON endpoints and redraws the tables, curves and figures in place.

extension DashboardPage {
    /// Plain JavaScript, no library. Every element that shows a cell's epoch carries `data-cell` (the cell id) and
    /// `data-epoch` (its latest epoch); `body[data-polls]` counts the polls that succeeded.
    static let script = #"""
        "use strict";
        const token = new URLSearchParams(location.search).get("token");
        const palette = ["#2f6fdf", "#d9480f", "#2b8a3e", "#ae3ec9", "#e8590c", "#1098ad", "#c2255c", "#5c940d",
          "#364fc7", "#862e9c", "#a61e4d", "#0b7285"];
        const colours = new Map();
        let lastReportText = null;
        const svgNS = "http://www.w3.org/2000/svg";

        function colourOf(variant) {
          if (!colours.has(variant)) colours.set(variant, palette[colours.size % palette.length]);
          return colours.get(variant);
        }
        async function get(path, asText) {
          const response = await fetch(path, { cache: "no-store", headers: token ? { Authorization: "Bearer " + token } : {} });
          if (response.status === 404) return null;
          if (!response.ok) throw new Error(path + ": HTTP " + response.status);
          return asText ? response.text() : response.json();
        }
        function el(tag, attrs, text) {
          const node = document.createElement(tag);
          for (const [k, v] of Object.entries(attrs || {})) node.setAttribute(k, v);
          if (text !== undefined && text !== null) node.textContent = String(text);
          return node;
        }
        function svg(tag, attrs, text) {
          const node = document.createElementNS(svgNS, tag);
          for (const [k, v] of Object.entries(attrs || {})) node.setAttribute(k, v);
          if (text !== undefined) node.textContent = String(text);
          return node;
        }
        function duration(seconds) {
          if (seconds === null || seconds === undefined || !isFinite(seconds)) return "—";
          const s = Math.round(seconds);
          if (s < 60) return s + " s";
          if (s < 3600) return Math.floor(s / 60) + " min " + String(s % 60).padStart(2, "0") + " s";
          return Math.floor(s / 3600) + " h " + String(Math.floor((s % 3600) / 60)).padStart(2, "0") + " min";
        }
        function number(value, digits) {
          return value === null || value === undefined || !isFinite(value) ? "—" : Number(value).toFixed(digits);
        }

        function renderStatus(status) {
          document.getElementById("sweep").textContent = status.sweep;
          document.title = "ablate · " + status.sweep;
          const s = status.summary;
          const line = document.getElementById("sweepline");
          if (s) {
            line.innerHTML = "";
            line.append(el("b", {}, s.done + "/" + s.cells), " done, ", el("b", {}, s.running), " running, ",
              el("b", {}, s.failed), " failed · sweep ETA ", el("b", {}, duration(s.eta_seconds)), " · ",
              (s.worker_seconds / 3600).toFixed(2) + " worker-hours" + (status.paused ? " · " + status.paused : ""));
            document.getElementById("progress").style.width = (s.cells ? 100 * (s.done + s.failed) / s.cells : 0) + "%";
          }
          const notes = document.getElementById("notes");
          notes.replaceChildren(...status.notes.map((n) => el("li", {}, n)));
          const body = document.querySelector("#cells tbody");
          const rows = status.cells.map((c) => {
            const tr = el("tr", { "data-cell": c.cell, "data-epoch": c.epoch });
            tr.append(el("td", {}, c.variant), el("td", {}, c.seed), el("td", {}, c.stage));
            const state = el("td");
            state.append(el("span", { class: "state " + c.state }, c.state + (c.reason ? ": " + c.reason : "")));
            tr.append(state, el("td", {}, c.worker || "—"));
            tr.append(el("td", { class: "num epoch", "data-cell": c.cell, "data-epoch": c.epoch }, c.epoch + "/" + c.epochs));
            tr.append(el("td", { class: "num" }, number(c.best_val_macro_f1, 4)),
              el("td", { class: "num" }, number(c.last_val_macro_f1, 4)), el("td", { class: "num" }, number(c.train_loss, 4)),
              el("td", { class: "num" }, c.state === "running" ? duration(c.eta_seconds) : "—"));
            return tr;
          });
          if (rows.length === 0) {
            const tr = el("tr");
            tr.append(el("td", { class: "empty", colspan: 10 }, "no cells yet"));
            rows.push(tr);
          }
          body.replaceChildren(...rows);
        }

        function niceTicks(lo, hi, count) {
          if (!(hi > lo)) { hi = lo + 1; }
          const raw = (hi - lo) / count, mag = Math.pow(10, Math.floor(Math.log10(raw)));
          const step = [1, 2, 5, 10].map((m) => m * mag).find((v) => v >= raw) || raw;
          const ticks = [];
          for (let v = Math.ceil(lo / step) * step; v <= hi + step * 1e-9; v += step) ticks.push(Number(v.toFixed(10)));
          return ticks;
        }
        function chart(containerId, legendId, curves, key, label) {
          const W = 640, H = 300, L = 56, R = 12, T = 10, B = 40;
          const series = curves.map((c) => ({ c, pts: c.epochs.filter((p) => p[key] !== null && isFinite(p[key])) }))
            .filter((s) => s.pts.length > 0);
          const root = svg("svg", { viewBox: "0 0 " + W + " " + H, role: "img", "aria-label": label });
          const container = document.getElementById(containerId);
          if (series.length === 0) {
            root.append(svg("text", { x: W / 2, y: H / 2, "text-anchor": "middle", fill: "#5b6475", "font-size": 13 },
              "no epochs yet"));
            container.replaceChildren(root);
            document.getElementById(legendId).replaceChildren();
            return;
          }
          const all = series.flatMap((s) => s.pts);
          const maxEpoch = Math.max(1, ...all.map((p) => p.epoch));
          let lo = Math.min(...all.map((p) => p[key])), hi = Math.max(...all.map((p) => p[key]));
          const pad = (hi - lo) * 0.08 || Math.abs(hi) * 0.05 || 0.05;
          lo -= pad; hi += pad;
          const x = (e) => L + (W - L - R) * (maxEpoch === 1 ? 0.5 : (e - 1) / (maxEpoch - 1));
          const y = (v) => T + (H - T - B) * (1 - (v - lo) / (hi - lo));
          const axis = { stroke: "#9aa3b2", "stroke-width": 1 };
          root.append(svg("line", { x1: L, y1: H - B, x2: W - R, y2: H - B, ...axis }),
            svg("line", { x1: L, y1: T, x2: L, y2: H - B, ...axis }));
          for (const v of niceTicks(lo, hi, 5)) {
            if (v < lo || v > hi) continue;
            root.append(svg("line", { x1: L, x2: W - R, y1: y(v), y2: y(v), stroke: "#eef1f5" }),
              svg("text", { x: L - 6, y: y(v) + 4, "text-anchor": "end", "font-size": 11, fill: "#5b6475" },
                Math.abs(hi - lo) < 0.1 ? v.toFixed(3) : v.toFixed(2)));
          }
          for (const e of niceTicks(1, maxEpoch, Math.min(8, maxEpoch)).filter((e) => Number.isInteger(e) && e >= 1)) {
            root.append(svg("line", { x1: x(e), x2: x(e), y1: H - B, y2: H - B + 4, ...axis }),
              svg("text", { x: x(e), y: H - B + 16, "text-anchor": "middle", "font-size": 11, fill: "#5b6475" }, e));
          }
          root.append(svg("text", { x: (L + W - R) / 2, y: H - 6, "text-anchor": "middle", "font-size": 12, fill: "#1d2330" }, "epoch"),
            svg("text", { x: 14, y: (T + H - B) / 2, "text-anchor": "middle", "font-size": 12, fill: "#1d2330",
              transform: "rotate(-90 14 " + (T + H - B) / 2 + ")" }, label));
          const variants = [];
          for (const s of series) {
            if (!variants.includes(s.c.variant)) variants.push(s.c.variant);
            const d = s.pts.map((p, i) => (i ? "L" : "M") + x(p.epoch).toFixed(1) + " " + y(p[key]).toFixed(1)).join(" ");
            const last = s.pts[s.pts.length - 1];
            const line = svg("path", { d, fill: "none", stroke: colourOf(s.c.variant), "stroke-width": 1.4,
              "stroke-opacity": 0.85, "data-cell": s.c.cell, "data-epoch": last.epoch, "data-variant": s.c.variant,
              "data-seed": s.c.seed });
            line.append(svg("title", {}, s.c.variant + " seed " + s.c.seed + ": epoch " + last.epoch + ", " + last[key]));
            root.append(line);
            if (s.pts.length === 1) root.append(svg("circle", { cx: x(last.epoch), cy: y(last[key]), r: 2.5,
              fill: colourOf(s.c.variant), "data-cell": s.c.cell, "data-epoch": last.epoch }));
          }
          container.replaceChildren(root);
          document.getElementById(legendId).replaceChildren(...variants.map((v) => {
            const item = el("span", {}, v + " (" + series.filter((s) => s.c.variant === v).length + " seeds)");
            item.style.setProperty("--c", colourOf(v));
            return item;
          }));
        }
        function renderCurves(curves) {
          const metric = curves.metric ? curves.metric.name : "val_macro_f1";
          document.getElementById("metric-title").textContent = "Validation " + metric + " per epoch" +
            (curves.metric && curves.metric.goal === "min" ? " (lower is better)" : "");
          const compared = curves.cells.filter((c) => c.compared);
          for (const c of compared) colourOf(c.variant);
          chart("chart-metric", "legend-metric", compared, "metric", metric);
          chart("chart-loss", "legend-loss", compared, "train_loss", "train loss");
        }

        function renderReport(report, text) {
          const body = document.querySelector("#verdicts tbody");
          if (!report) return;
          const unit = report.metric && report.metric.unit ? report.metric.unit : "pp";
          document.getElementById("delta-head").textContent = "Δ (" + unit + ")";
          document.getElementById("report-time").textContent = report.generated_at ? "· report of " + report.generated_at : "";
          body.replaceChildren(...(report.variants || []).map((v) => {
            const tr = el("tr", { "data-variant": v.name });
            const seeds = v.paired_seeds ? v.paired_seeds.length : (v.seeds ? v.seeds.length : "—");
            const interval = v.ci_low_pp === null || v.ci_low_pp === undefined ? "—"
              : "[" + number(v.ci_low_pp, 2) + ", " + number(v.ci_high_pp, 2) + "]";
            tr.append(el("td", {}, v.name + (v.is_baseline ? " (baseline)" : "")), el("td", { class: "num" }, seeds),
              el("td", { class: "num" }, v.is_baseline ? "—" : number(v.delta_pp, 2)), el("td", { class: "num" }, interval),
              el("td", { class: "num" }, number(v.p_holm, 4)),
              el("td", { class: "verdict " + (v.verdict || "") }, v.verdict || "—"),
              el("td", { class: "wrap" }, v.summary || ""));
            return tr;
          }));
          if (text === lastReportText) return;
          lastReportText = text;
          loadFigures();
        }
        async function loadFigures() {
          const html = await get("report.html", true);
          const box = document.getElementById("figures");
          if (!html) return;
          const doc = new DOMParser().parseFromString(html, "text/html");
          doc.querySelectorAll("script, iframe, object, embed").forEach((n) => n.remove());
          const picked = [...doc.querySelectorAll("figure, svg")].filter((n) => !n.parentElement.closest("figure, svg"));
          const nodes = picked.map((n) => document.importNode(n, true));
          nodes.forEach((n) => n.querySelectorAll("*").forEach((m) => [...m.attributes].forEach((a) => {
            if (a.name.startsWith("on")) m.removeAttribute(a.name);
          })));
          box.replaceChildren(...(nodes.length ? nodes : [el("p", { class: "empty" }, "the report has no figures yet")]));
        }

        async function poll() {
          const conn = document.getElementById("conn");
          try {
            const [status, curves, reportText] = await Promise.all([get("api/status"), get("api/curves"), get("api/report", true)]);
            renderStatus(status);
            renderCurves(curves);
            if (reportText) renderReport(JSON.parse(reportText), reportText);
            document.body.dataset.polls = String(Number(document.body.dataset.polls) + 1);
            conn.textContent = "updated " + new Date().toLocaleTimeString();
            conn.className = "";
          } catch (error) {
            conn.textContent = "no answer (" + error.message + "); retrying";
            conn.className = "bad";
          }
          setTimeout(poll, 2000);
        }
        if (token) document.getElementById("report-link").href = "report.html?token=" + encodeURIComponent(token);
        poll();
        """#
}

/* r2k dashboard: a small SVG time-series chart with hover and zoom (no library).
 *
 * R2KChart.draw(container, options) draws line series over dates:
 *   options.series: [{name, points: [[ms, value], ...], cls}]   (cls: CSS class)
 *   options.bands:  [{x0: ms, x1: ms, cls, label}]               (shaded spans)
 *   options.lines:  [{x0, x1, y, cls}]                           (horizontal segments)
 *   options.format: value -> text; options.baseline: y of a reference line
 * Hover shows a crosshair and a tooltip with the nearest session's values.
 * Drag across the plot to zoom into a date range; double-click or "Reset" to undo;
 * the mouse wheel zooms around the pointer.
 */
(function () {
  "use strict";
  var NS = "http://www.w3.org/2000/svg";
  var W = 900, H = 300, M = { left: 64, right: 16, top: 12, bottom: 28 };

  function el(name, attrs, parent) {
    var node = document.createElementNS(NS, name);
    for (var k in attrs) node.setAttribute(k, attrs[k]);
    if (parent) parent.appendChild(node);
    return node;
  }

  function niceTicks(lo, hi, count) {
    if (!(hi > lo)) { hi = lo + 1; }
    var span = hi - lo, step = Math.pow(10, Math.floor(Math.log10(span / count)));
    var err = span / count / step;
    if (err >= 7.5) step *= 10; else if (err >= 3.5) step *= 5; else if (err >= 1.5) step *= 2;
    var ticks = [], t = Math.ceil(lo / step) * step;
    for (; t <= hi + step * 1e-9; t += step) ticks.push(Number(t.toPrecision(12)) + 0);
    return ticks;
  }

  function dateTicks(x0, x1) {
    var days = (x1 - x0) / 864e5, ticks = [], d = new Date(x0), fmt;
    var stepMonths = days > 3650 ? 60 : days > 1825 ? 12 : days > 730 ? 6 : days > 300 ? 2 : days > 90 ? 1 : 0;
    if (stepMonths === 0) {
      var step = days > 30 ? 7 : 1;
      d = new Date(Date.UTC(d.getUTCFullYear(), d.getUTCMonth(), d.getUTCDate()));
      for (; d.getTime() <= x1; d = new Date(d.getTime() + step * 864e5)) ticks.push(d.getTime());
      fmt = function (ms) { return new Date(ms).toISOString().slice(5, 10); };
    } else {
      d = new Date(Date.UTC(d.getUTCFullYear(), 0, 1));
      for (; d.getTime() <= x1; d = new Date(Date.UTC(d.getUTCFullYear(), d.getUTCMonth() + stepMonths, 1))) {
        if (d.getTime() >= x0) ticks.push(d.getTime());
      }
      fmt = stepMonths >= 12
        ? function (ms) { return String(new Date(ms).getUTCFullYear()); }
        : function (ms) { return new Date(ms).toISOString().slice(0, 7); };
    }
    while (ticks.length > 12) ticks = ticks.filter(function (_, i) { return i % 2 === 0; });
    return { ticks: ticks, fmt: fmt };
  }

  function nearest(points, x) {
    var lo = 0, hi = points.length - 1;
    if (hi < 0) return -1;
    while (hi - lo > 1) {
      var mid = (lo + hi) >> 1;
      if (points[mid][0] < x) lo = mid; else hi = mid;
    }
    return Math.abs(points[lo][0] - x) <= Math.abs(points[hi][0] - x) ? lo : hi;
  }

  function isoDay(ms) { return new Date(ms).toISOString().slice(0, 10); }

  function draw(container, options) {
    var series = options.series.filter(function (s) { return s.points.length > 0; });
    var fmt = options.format || function (v) { return v.toFixed(2); };
    var all = series.length ? series[0].points : [];
    if (!all.length) { container.textContent = "No data."; return null; }
    var full = [all[0][0], all[all.length - 1][0]];
    var view = full.slice();
    container.classList.add("r2k-chart");
    container.textContent = "";
    var bar = document.createElement("div");
    bar.className = "chart-bar";
    var legend = document.createElement("span");
    legend.className = "chart-legend";
    series.forEach(function (s, i) {
      var item = document.createElement("span");
      item.className = "legend-item " + (s.cls || "s" + i);
      item.textContent = s.name;
      legend.appendChild(item);
    });
    var reset = document.createElement("button");
    reset.type = "button";
    reset.className = "chart-reset";
    reset.textContent = "Reset zoom";
    reset.disabled = true;
    bar.appendChild(legend);
    bar.appendChild(reset);
    container.appendChild(bar);
    var svg = el("svg", { viewBox: "0 0 " + W + " " + H, role: "img", "aria-label": options.title || "chart" }, container);
    var tip = document.createElement("div");
    tip.className = "r2k-tooltip";
    tip.hidden = true;
    container.appendChild(tip);
    var plotW = W - M.left - M.right, plotH = H - M.top - M.bottom;

    function render() {
      while (svg.firstChild) svg.removeChild(svg.firstChild);
      var lo = Infinity, hi = -Infinity;
      series.forEach(function (s) {
        s.points.forEach(function (p) {
          if (p[0] >= view[0] && p[0] <= view[1] && p[1] !== null && isFinite(p[1])) {
            if (p[1] < lo) lo = p[1];
            if (p[1] > hi) hi = p[1];
          }
        });
      });
      (options.lines || []).forEach(function (l) {
        if (l.x1 >= view[0] && l.x0 <= view[1]) { lo = Math.min(lo, l.y); hi = Math.max(hi, l.y); }
      });
      if (options.baseline !== undefined) { lo = Math.min(lo, options.baseline); hi = Math.max(hi, options.baseline); }
      if (!isFinite(lo)) { lo = 0; hi = 1; }
      var pad = (hi - lo) * 0.05 || Math.abs(hi) * 0.05 || 1;
      lo -= pad; hi += pad;
      var sx = function (x) { return M.left + (x - view[0]) / (view[1] - view[0] || 1) * plotW; };
      var sy = function (y) { return M.top + (1 - (y - lo) / (hi - lo)) * plotH; };
      svg._sx = sx;
      el("rect", { x: M.left, y: M.top, width: plotW, height: plotH, class: "plot-bg" }, svg);
      (options.bands || []).forEach(function (b) {
        if (b.x1 < view[0] || b.x0 > view[1]) return;
        var a = sx(Math.max(b.x0, view[0])), z = sx(Math.min(b.x1, view[1]));
        var r = el("rect", { x: a, y: M.top, width: Math.max(z - a, 1), height: plotH, class: "band " + (b.cls || "") }, svg);
        if (b.label) el("title", {}, r).textContent = b.label;
      });
      niceTicks(lo, hi, 5).forEach(function (t) {
        if (t < lo || t > hi) return;
        var y = sy(t);
        el("line", { x1: M.left, x2: W - M.right, y1: y, y2: y, class: "grid" }, svg);
        el("text", { x: M.left - 6, y: y + 4, class: "tick y" }, svg).textContent = fmt(t);
      });
      var dt = dateTicks(view[0], view[1]);
      dt.ticks.forEach(function (t) {
        var x = sx(t);
        el("line", { x1: x, x2: x, y1: M.top + plotH, y2: M.top + plotH + 4, class: "axis" }, svg);
        el("text", { x: x, y: H - 8, class: "tick x" }, svg).textContent = dt.fmt(t);
      });
      if (options.baseline !== undefined) {
        var by = sy(options.baseline);
        el("line", { x1: M.left, x2: W - M.right, y1: by, y2: by, class: "baseline" }, svg);
      }
      (options.lines || []).forEach(function (l) {
        if (l.x1 < view[0] || l.x0 > view[1]) return;
        el("line", { x1: sx(Math.max(l.x0, view[0])), x2: sx(Math.min(l.x1, view[1])), y1: sy(l.y), y2: sy(l.y), class: "hline " + (l.cls || "") }, svg);
      });
      series.forEach(function (s, i) {
        var d = "", pen = false, step = 1;
        var inView = s.points.filter(function (p) { return p[0] >= view[0] && p[0] <= view[1]; });
        if (inView.length > plotW * 2) step = Math.floor(inView.length / (plotW * 2));
        for (var k = 0; k < inView.length; k += step) {
          var p = inView[k];
          if (p[1] === null || !isFinite(p[1])) { pen = false; continue; }
          d += (pen ? "L" : "M") + sx(p[0]).toFixed(1) + "," + sy(p[1]).toFixed(1);
          pen = true;
        }
        el("path", { d: d, class: "line " + (s.cls || "s" + i) }, svg);
      });
      svg._cross = el("line", { x1: 0, x2: 0, y1: M.top, y2: M.top + plotH, class: "crosshair", visibility: "hidden" }, svg);
      svg._brush = el("rect", { x: 0, y: M.top, width: 0, height: plotH, class: "brush", visibility: "hidden" }, svg);
      svg._overlay = el("rect", { x: M.left, y: M.top, width: plotW, height: plotH, class: "overlay" }, svg);
      reset.disabled = view[0] === full[0] && view[1] === full[1];
    }

    function toData(evt) {
      var box = svg.getBoundingClientRect();
      var px = (evt.clientX - box.left) / box.width * W;
      var x = view[0] + (px - M.left) / plotW * (view[1] - view[0]);
      return { px: px, x: Math.min(Math.max(x, view[0]), view[1]) };
    }

    var dragFrom = null;
    svg.addEventListener("mousemove", function (evt) {
      var at = toData(evt);
      if (dragFrom !== null) {
        var a = Math.min(dragFrom.px, at.px), b = Math.max(dragFrom.px, at.px);
        svg._brush.setAttribute("x", Math.max(a, M.left));
        svg._brush.setAttribute("width", Math.min(b, W - M.right) - Math.max(a, M.left));
        svg._brush.setAttribute("visibility", "visible");
      }
      var i = nearest(all, at.x);
      if (i < 0) return;
      var ms = all[i][0], x = svg._sx(ms);
      svg._cross.setAttribute("x1", x);
      svg._cross.setAttribute("x2", x);
      svg._cross.setAttribute("visibility", "visible");
      var lines = ['<div class="tip-date">' + isoDay(ms) + "</div>"];
      series.forEach(function (s, k) {
        var j = nearest(s.points, ms);
        if (j < 0 || s.points[j][0] !== ms) return;
        var v = s.points[j][1];
        lines.push('<div><span class="legend-item ' + (s.cls || "s" + k) + '">' + s.name + "</span> " + (v === null ? "–" : fmt(v)) + "</div>");
      });
      (options.bands || []).forEach(function (b) {
        if (b.label && ms >= b.x0 && ms <= b.x1) lines.push('<div class="tip-band">' + b.label + "</div>");
      });
      tip.innerHTML = lines.join("");
      tip.hidden = false;
      var box = svg.getBoundingClientRect();
      var left = (x / W) * box.width;
      tip.style.left = Math.min(left + 12, box.width - 180) + "px";
      tip.style.top = "36px";
      tip.dataset.session = isoDay(ms);
    });
    svg.addEventListener("mouseleave", function () {
      tip.hidden = true;
      if (svg._cross) svg._cross.setAttribute("visibility", "hidden");
      dragFrom = null;
      if (svg._brush) svg._brush.setAttribute("visibility", "hidden");
    });
    svg.addEventListener("mousedown", function (evt) { evt.preventDefault(); dragFrom = toData(evt); });
    svg.addEventListener("mouseup", function (evt) {
      if (dragFrom === null) return;
      var to = toData(evt), a = Math.min(dragFrom.x, to.x), b = Math.max(dragFrom.x, to.x);
      dragFrom = null;
      svg._brush.setAttribute("visibility", "hidden");
      if ((b - a) > 2 * 864e5 && (b - a) / (view[1] - view[0]) > 0.01) {
        view = [a, b];
        render();
      }
    });
    svg.addEventListener("dblclick", function () { view = full.slice(); render(); });
    svg.addEventListener("wheel", function (evt) {
      evt.preventDefault();
      var at = toData(evt), k = evt.deltaY > 0 ? 1.25 : 0.8;
      var a = at.x - (at.x - view[0]) * k, b = at.x + (view[1] - at.x) * k;
      view = [Math.max(full[0], a), Math.min(full[1], b)];
      if (view[1] - view[0] < 5 * 864e5) view = [at.x - 2.5 * 864e5, at.x + 2.5 * 864e5];
      render();
    }, { passive: false });
    reset.addEventListener("click", function () { view = full.slice(); render(); });
    render();
    return {
      zoom: function (x0, x1) { view = [Math.max(full[0], x0), Math.min(full[1], x1)]; render(); },
      reset: function () { view = full.slice(); render(); },
      view: function () { return view.slice(); }
    };
  }

  window.R2KChart = { draw: draw };
})();

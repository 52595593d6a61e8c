/* r2k dashboard: factsheet, constituents, reconstitution and rates pages over the REST API.
 * Every figure shown carries its raw value in data-value (the tests compare them
 * with the API). No library, no network beyond this server.
 */
(function () {
  "use strict";

  // ------------------------------------------------------------------ helpers
  function $(sel, root) { return (root || document).querySelector(sel); }
  function params() { return new URLSearchParams(window.location.search); }
  function esc(text) {
    return String(text === null || text === undefined ? "" : text)
      .replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;")
      .replace(/"/g, "&quot;").replace(/'/g, "&#39;");
  }
  function pct(v, digits, sign) {
    if (v === null || v === undefined || !isFinite(v)) return "–";
    var s = (v * 100).toFixed(digits === undefined ? 2 : digits);
    return (sign && v > 0 ? "+" : "") + s + "%";
  }
  var formats = {};
  function num(v, digits) {
    if (v === null || v === undefined || !isFinite(v)) return "–";
    var f = formats[digits] || (formats[digits] = new Intl.NumberFormat("en-US", { minimumFractionDigits: digits, maximumFractionDigits: digits }));
    return f.format(v);
  }
  function money(v) {
    if (v === null || v === undefined || !isFinite(v)) return "–";
    if (Math.abs(v) >= 1e12) return "$" + (v / 1e12).toFixed(2) + "T";
    if (Math.abs(v) >= 1e9) return "$" + (v / 1e9).toFixed(2) + "B";
    return "$" + (v / 1e6).toFixed(1) + "M";
  }
  function ms(day) { return Date.parse(day + "T00:00:00Z"); }
  function cell(text, field, value, cls) {
    var attrs = field ? ' data-field="' + esc(field) + '"' : "";
    if (value !== undefined) attrs += ' data-value="' + (value === null ? "" : esc(value)) + '"';
    return "<td" + (cls ? ' class="' + cls + '"' : "") + attrs + ">" + esc(text) + "</td>";
  }
  function signClass(v) { return v === null || v === undefined ? "" : v < 0 ? "neg" : "pos"; }

  function api(path) {
    return fetch(path, { headers: { Accept: "application/json" } }).then(function (r) {
      return r.json().then(function (body) {
        if (!r.ok) {
          var err = new Error(body.detail || r.statusText);
          err.status = r.status;
          throw err;
        }
        return body;
      });
    });
  }
  function showError(where, err) {
    var box = document.createElement("div");
    box.className = "problem";
    box.setAttribute("role", "alert");
    box.textContent = err.message;
    where.textContent = "";
    where.appendChild(box);
  }
  function setStatus(text) {
    var s = $("#status");
    if (s) s.textContent = text;
  }
  function ready(flag) { document.body.dataset.ready = flag; }

  function fillSelect(select, items, chosen) {
    select.innerHTML = items.map(function (it) {
      return '<option value="' + esc(it.value) + '"' + (it.value === chosen ? " selected" : "") + ">" + esc(it.label) + "</option>";
    }).join("");
  }
  function navigate(key, value) {
    var p = params();
    p.set(key, value);
    window.location.search = p.toString();
  }

  // -------------------------------------------------------------- the pages
  function homePage() {
    api("/indexes").then(function (list) {
      $("#indexes tbody").innerHTML = list.items.map(function (i) {
        var links = '<a href="/factsheet?index=' + encodeURIComponent(i.id) + '">factsheet</a>';
        if (i.constituents) links += ' · <a href="/constituents?index=' + encodeURIComponent(i.id) + '">constituents</a>';
        return "<tr><td>" + esc(i.id) + "</td><td>" + esc(i.name) + "</td><td>" + esc(i.kind) + "</td><td>" + esc(i.source) + "</td><td>" + links + "</td></tr>";
      }).join("");
      ready("yes");
    }).catch(function (e) { showError($("#indexes"), e); ready("error"); });
  }

  function factsheetPage() {
    var id = params().get("index") || "RUT";
    var root = $("#factsheet");
    api("/indexes").then(function (list) {
      fillSelect($("#index-select"), list.items.map(function (i) { return { value: i.id, label: i.id + " — " + i.name }; }), id);
      $("#index-select").addEventListener("change", function (e) { navigate("index", e.target.value); });
      return api("/indexes/" + encodeURIComponent(id) + "/factsheet");
    }).then(function (fs) {
      renderFactsheet(fs);
      return drawCharts(id);
    }).then(function () { ready("yes"); }).catch(function (e) { showError(root, e); ready("error"); });
  }

  function renderFactsheet(fs) {
    $("#title").textContent = fs.name;
    $("#as-of").innerHTML = "As of <b data-field=\"as_of\">" + esc(fs.as_of) + "</b> · since " + esc(fs.first_session) +
      " · last level <b data-field=\"last_level\" data-value=\"" + fs.last_level + "\">" + num(fs.last_level, 2) + "</b>";
    var perf = fs.performance;
    $("#performance thead").innerHTML = "<tr><th></th>" + perf.map(function (p) { return "<th>" + esc(p.period) + "</th>"; }).join("") + "</tr>";
    $("#performance tbody").innerHTML =
      "<tr><th>Cumulative</th>" + perf.map(function (p) {
        return cell(pct(p.cumulative), "performance." + p.period + ".cumulative", p.cumulative, signClass(p.cumulative));
      }).join("") + "</tr>" +
      "<tr><th>Annualised</th>" + perf.map(function (p) {
        return cell(pct(p.annualized), "performance." + p.period + ".annualized", p.annualized, signClass(p.annualized));
      }).join("") + "</tr>";
    var years = fs.calendar_years.slice(-10);
    $("#calendar thead").innerHTML = "<tr>" + years.map(function (y) { return "<th>" + y.year + (y.complete ? "" : "*") + "</th>"; }).join("") + "</tr>";
    $("#calendar tbody").innerHTML = "<tr>" + years.map(function (y) {
      return cell(pct(y["return"]), "calendar." + y.year, y["return"], signClass(y["return"]));
    }).join("") + "</tr>";
    var risk = fs.risk;
    $("#risk thead").innerHTML = "<tr><th></th>" + risk.map(function (r) { return "<th>" + esc(r.period) + "</th>"; }).join("") + "</tr>";
    var rows = [["Volatility", "volatility", pct], ["Sharpe ratio", "sharpe", function (v) { return num(v, 2); }],
      ["Sortino ratio", "sortino", function (v) { return num(v, 2); }], ["Maximum drawdown", "max_drawdown", pct]];
    $("#risk tbody").innerHTML = rows.map(function (row) {
      return "<tr><th>" + row[0] + "</th>" + risk.map(function (r) {
        return cell(row[2](r[row[1]]), "risk." + r.period + "." + row[1], r[row[1]]);
      }).join("") + "</tr>";
    }).join("");
    var c = fs.characteristics;
    var traits = $("#characteristics");
    if (!c) {
      traits.innerHTML = '<p class="note">No constituent data for this index in the data directory.</p>';
      return;
    }
    var facts = [["Constituents", "constituents", c.constituents, num(c.constituents, 0)],
      ["Total market cap", "total_market_cap", c.total_market_cap, money(c.total_market_cap)],
      ["Mean cap", "mean_cap", c.mean_cap, money(c.mean_cap)],
      ["Median cap", "median_cap", c.median_cap, money(c.median_cap)],
      ["Largest cap", "largest_cap", c.largest_cap, money(c.largest_cap)],
      ["Smallest cap", "smallest_cap", c.smallest_cap, money(c.smallest_cap)],
      ["Weighted average cap", "weighted_average_cap", c.weighted_average_cap, money(c.weighted_average_cap)],
      ["Top 10 weight", "top10_weight", c.top10_weight, pct(c.top10_weight)]];
    $("#size tbody").innerHTML = facts.map(function (f) {
      return "<tr><th>" + f[0] + "</th>" + cell(f[3], "characteristics." + f[1], f[2]) + "</tr>";
    }).join("");
    $("#traits-source").textContent = c.source + ", " + c.as_of + " (caps of " + c.cap_coverage + " covered lines; sectors: " + c.sector_scheme + ")";
    $("#top10 tbody").innerHTML = c.top10.map(function (h, i) {
      return "<tr><td>" + (i + 1) + "</td><td>" + esc(h.security_id) + "</td><td>" + esc(h.name) + "</td><td>" + esc(h.sector) + "</td>" +
        cell(pct(h.weight), "top10." + i + ".weight", h.weight, "num") + "</tr>";
    }).join("");
    var widest = Math.max.apply(null, c.sectors.map(function (s) { return s.weight; }).concat([1e-9]));
    $("#sectors tbody").innerHTML = c.sectors.map(function (s) {
      return "<tr><td>" + esc(s.sector) + "</td><td class=\"num\">" + s.count + "</td>" + cell(pct(s.weight), "sector." + s.sector, s.weight, "num") +
        '<td class="barcell"><span class="bar" data-w="' + (s.weight / widest * 100).toFixed(1) + '"></span></td></tr>';
    }).join("");
    Array.prototype.forEach.call(document.querySelectorAll("#sectors .bar"), function (b) { b.style.width = b.dataset.w + "%"; });
  }

  function drawCharts(id) {
    var base = "/indexes/" + encodeURIComponent(id);
    return Promise.all([
      api(base + "/levels?page_size=20000"),
      api(base + "/analytics/drawdown"),
      api(base + "/analytics/rate-of-change?period=63"),
      api(base + "/analytics/rallies"),
      api(base + "/analytics/ranges")
    ]).then(function (got) {
      var lv = got[0].items.map(function (p) { return [ms(p.session), p.level]; });
      var charts = {};
      charts.level = R2KChart.draw($("#chart-level"), { title: "level", series: [{ name: id, points: lv, cls: "s0" }] });
      charts.drawdown = R2KChart.draw($("#chart-drawdown"), {
        title: "drawdown", baseline: 0, format: function (v) { return (v * 100).toFixed(1) + "%"; },
        series: [{ name: "drawdown", points: got[1].items.map(function (p) { return [ms(p.session), p.value]; }), cls: "s3" }]
      });
      charts.roc = R2KChart.draw($("#chart-roc"), {
        title: "rate of change", baseline: 0, format: function (v) { return v.toFixed(1) + "%"; },
        series: [{ name: "63-session ROC", points: got[2].items.map(function (p) { return [ms(p.session), p.value]; }), cls: "s1" }]
      });
      charts.rallies = R2KChart.draw($("#chart-rallies"), {
        title: "rallies", series: [{ name: id, points: lv, cls: "s0" }],
        bands: got[3].items.map(function (r) {
          return { x0: ms(r.trough_session), x1: ms(r.peak_session), cls: "rally", label: "rally " + pct(r.gain, 1, true) + " from " + r.trough_session };
        })
      });
      var ranges = got[4].items;
      charts.ranges = R2KChart.draw($("#chart-ranges"), {
        title: "ranges", series: [{ name: id, points: lv, cls: "s0" }],
        bands: ranges.map(function (r) {
          return { x0: ms(r.start_session), x1: ms(r.end_session), cls: "range", label: "range " + num(r.support, 2) + " – " + num(r.resistance, 2) };
        }),
        lines: ranges.reduce(function (acc, r) {
          acc.push({ x0: ms(r.start_session), x1: ms(r.end_session), y: r.support, cls: "support" });
          acc.push({ x0: ms(r.start_session), x1: ms(r.end_session), y: r.resistance, cls: "resistance" });
          return acc;
        }, [])
      });
      $("#rally-count").textContent = got[3].items.length + " rallies of ≥ " + pct(got[3].rally_threshold, 0) + " after ≥ " + pct(got[3].decline_threshold, 0) + " declines";
      $("#range-count").textContent = ranges.length + " range-bound periods (" + got[4].bars + " bars)";
      window.r2kCharts = charts;
      Array.prototype.forEach.call(document.querySelectorAll("[data-span]"), function (b) {
        b.addEventListener("click", function () {
          var years = Number(b.dataset.span), end = lv[lv.length - 1][0];
          Object.keys(charts).forEach(function (k) {
            if (!charts[k]) return;
            if (years > 0) charts[k].zoom(end - years * 365.25 * 864e5, end); else charts[k].reset();
          });
        });
      });
    });
  }

  // ---------------------------------------------------------- constituents
  var COLUMNS = [
    { key: "security_id", label: "Ticker", type: "text" },
    { key: "name", label: "Name", type: "text" },
    { key: "sector", label: "Sector", type: "text" },
    { key: "weight", label: "Weight", type: "num", fmt: function (v) { return pct(v, 3); } },
    { key: "close", label: "Close", type: "num", fmt: function (v) { return num(v, 2); } },
    { key: "index_shares", label: "Index shares", type: "num", fmt: function (v) { return num(v, 0); } },
    { key: "float_market_cap", label: "Float cap", type: "num", fmt: money },
    { key: "total_market_cap", label: "Total cap", type: "num", fmt: money }
  ];

  function constituentsPage() {
    var p = params(), id = p.get("index") || "r2000", session = p.get("session");
    var state = { rows: [], sort: "weight", desc: true, query: "" };
    var body = $("#constituents tbody"), count = $("#count");
    $("#constituents thead").innerHTML = "<tr>" + COLUMNS.map(function (c) {
      return '<th data-key="' + c.key + '" class="sortable ' + (c.type === "num" ? "num" : "") + '" tabindex="0" aria-sort="none">' + c.label + "</th>";
    }).join("") + "</tr>";

    function rowHtml(r) {  // formatted once per row, reused by every sort and filter
      if (r._html) return r._html;
      var tds = "";
      for (var k = 0; k < COLUMNS.length; k++) {
        var c = COLUMNS[k], v = r[c.key];
        tds += c.type === "num"
          ? '<td class="num" data-value="' + (v === null ? "" : v) + '">' + c.fmt(v) + "</td>"
          : "<td>" + esc(v) + "</td>";
      }
      r._html = '<tr data-id="' + esc(r.security_id) + '">' + tds + "</tr>";
      r._text = (r.security_id + " " + (r.name || "") + " " + (r.sector || "")).toLowerCase();
      return r._html;
    }

    function paint() {
      var q = state.query.toLowerCase();
      var shown = q ? state.rows.filter(function (r) {
        rowHtml(r);
        return r._text.indexOf(q) >= 0;
      }) : state.rows.slice();
      var key = state.sort, sign = state.desc ? -1 : 1;
      shown.sort(function (a, b) {
        var x = a[key], y = b[key];
        if (x === null || x === undefined) return 1;
        if (y === null || y === undefined) return -1;
        if (x < y) return -sign;
        if (x > y) return sign;
        return a.security_id < b.security_id ? -1 : 1;
      });
      var html = new Array(shown.length);
      for (var i = 0; i < shown.length; i++) html[i] = rowHtml(shown[i]);
      body.innerHTML = html.join("");
      count.textContent = shown.length.toLocaleString("en-US") + " of " + state.rows.length.toLocaleString("en-US") + " lines";
      count.dataset.shown = shown.length;
      Array.prototype.forEach.call(document.querySelectorAll("#constituents th"), function (th) {
        th.setAttribute("aria-sort", th.dataset.key === key ? (state.desc ? "descending" : "ascending") : "none");
      });
    }

    Array.prototype.forEach.call(document.querySelectorAll("#constituents th"), function (th) {
      function sortBy() {
        var key = th.dataset.key;
        if (state.sort === key) state.desc = !state.desc;
        else { state.sort = key; state.desc = COLUMNS.filter(function (c) { return c.key === key; })[0].type === "num"; }
        paint();
      }
      th.addEventListener("click", sortBy);
      th.addEventListener("keydown", function (e) { if (e.key === "Enter") sortBy(); });
    });
    var timer = null;
    $("#search").addEventListener("input", function (e) {
      clearTimeout(timer);
      timer = setTimeout(function () { state.query = e.target.value.trim(); paint(); }, 60);
    });

    api("/indexes").then(function (list) {
      var items = list.items.filter(function (i) { return i.constituents; });
      fillSelect($("#index-select"), items.map(function (i) { return { value: i.id, label: i.id + " — " + i.name }; }), id);
      $("#index-select").addEventListener("change", function (e) { window.location.search = "index=" + encodeURIComponent(e.target.value); });
      return api("/indexes/" + encodeURIComponent(id) + "/sessions");
    }).then(function (s) {
      var days = s.sessions.slice().reverse();
      var chosen = session || days[0];
      fillSelect($("#session-select"), days.map(function (d) { return { value: d, label: d }; }), chosen);
      $("#session-select").addEventListener("change", function (e) { navigate("session", e.target.value); });
      setStatus("loading " + chosen + " …");
      return api("/indexes/" + encodeURIComponent(id) + "/constituents?page_size=5000&session=" + chosen);
    }).then(function (page) {
      state.rows = page.items;
      $("#source").textContent = page.index + " on " + page.session + " — " + page.source;
      $("#csv-link").href = "/indexes/" + encodeURIComponent(id) + "/constituents?format=csv&page_size=5000&session=" + page.session;
      setStatus("");
      paint();
      ready("yes");
    }).catch(function (e) { showError($("#table-box"), e); ready("error"); });
  }

  // -------------------------------------------------------- reconstitution
  function reconstitutionPage() {
    var chosen = params().get("rank_day");
    var root = $("#recon");
    var changeRows = [], filter = { change: "", query: "" };
    function paintChanges() {
      var q = filter.query.toLowerCase();
      var shown = changeRows.filter(function (r) {
        return (!filter.change || r.change === filter.change) &&
          (!q || (r.security_id + " " + (r.name || "")).toLowerCase().indexOf(q) >= 0);
      });
      $("#changes tbody").innerHTML = shown.map(function (r) {
        return "<tr><td>" + esc(r.change) + "</td><td>" + esc(r.security_id) + "</td><td>" + esc(r.name) + "</td><td>" +
          esc(r.from_index || "–") + "</td><td>" + esc(r.to_index || "–") + "</td><td>" + esc(r.reason || "") + "</td></tr>";
      }).join("");
      $("#change-count").textContent = shown.length + " of " + changeRows.length + " changes";
      $("#change-count").dataset.shown = shown.length;
    }
    api("/reconstitutions").then(function (list) {
      if (!list.items.length) throw new Error("the data directory holds no reconstitution r2k can build");
      var day = chosen || list.items[list.items.length - 1].rank_day;
      fillSelect($("#rank-select"), list.items.map(function (r) {
        return { value: r.rank_day, label: r.rank_day + " (effective " + r.effective_date + ")" };
      }), day);
      $("#rank-select").addEventListener("change", function (e) { navigate("rank_day", e.target.value); });
      setStatus("reconstituting " + day + " …");
      var base = "/reconstitutions/" + day;
      return Promise.all([api(base), api(base + "/breakpoints"), api(base + "/changes?page_size=5000")]);
    }).then(function (got) {
      var s = got[0];
      setStatus("");
      $("#recon-title").textContent = "Reconstitution ranked on " + s.rank_day + ", effective after the close of " + s.effective_date;
      $("#recon-sources").textContent = "Rules " + s.rules + " · universe: " + s.universe + " · incumbents: " + s.incumbents;
      $("#counts tbody").innerHTML = Object.keys(s.counts).map(function (k) {
        return "<tr><td>" + esc(k.toUpperCase()) + "</td>" + cell(num(s.counts[k], 0), "counts." + k, s.counts[k], "num") +
          cell(num(s.line_counts[k], 0), "lines." + k, s.line_counts[k], "num") + "</tr>";
      }).join("");
      $("#change-summary tbody").innerHTML = Object.keys(s.changes).map(function (k) {
        return "<tr><td>" + esc(k) + "</td>" + cell(num(s.changes[k], 0), "changes." + k, s.changes[k], "num") + "</tr>";
      }).join("");
      $("#breakpoints tbody").innerHTML = got[1].items.map(function (b) {
        return "<tr><td>" + esc(b.name) + "</td><td class=\"num\">" + num(b.rank, 0) + "</td><td class=\"num\">" + money(b.total_market_cap) +
          "</td><td class=\"num\">" + (b.cum_cap_pct === null ? "–" : num(b.cum_cap_pct, 2)) + "</td><td class=\"num\">" +
          (b.band_pct ? "±" + b.band_pct + "%" : "none") + "</td><td class=\"num\">" +
          (b.band_pct ? money(b.upper_edge_cap) + " .. " + money(b.lower_edge_cap) : "–") + "</td></tr>";
      }).join("");
      $("#notes").innerHTML = s.notes.map(function (n) { return "<li>" + esc(n) + "</li>"; }).join("");
      changeRows = got[2].items;
      $("#change-filter").addEventListener("change", function (e) { filter.change = e.target.value; paintChanges(); });
      $("#change-search").addEventListener("input", function (e) { filter.query = e.target.value.trim(); paintChanges(); });
      paintChanges();
      ready("yes");
    }).catch(function (e) { showError(root, e); ready("error"); });
  }

  // ------------------------------------------------- rates and currencies
  function ratesPage() {
    var p = params(), id = p.get("index") === "r2000" ? "r2000" : "RUT";
    var root = $("#rates"), charts = {};
    var select = $("#rate-index-select");
    select.value = id;
    select.addEventListener("change", function (e) { navigate("index", e.target.value); });
    var q = "?index=" + encodeURIComponent(id);
    function fixed(digits) { return function (v) { return num(v, digits); }; }
    function points(items, key, value) {
      return items.map(function (r) { return [ms(r[key]), r[value]]; });
    }
    Promise.all([
      api("/rates" + q),
      api("/rates/rolling-betas" + q + "&series=index"),
      api("/rates/policy" + q),
      api("/rates/stance" + q)
    ]).then(function (got) {
      var view = got[0], rolling = got[1], policy = got[2], stance = got[3];
      $("#title").textContent = "Rates & currencies: " + view.index_name;
      $("#window").textContent = view.start + " to " + view.end + " · " + view.sensitivity.frequency + " returns · benchmark " + view.benchmark;
      $("#betas tbody").innerHTML = view.sensitivity.betas.map(function (b) {
        var key = b.series + "." + b.factor;
        return "<tr><th>" + esc(b.series === "index" ? view.index : view.index + " − " + view.benchmark) + "</th><th>" + esc(b.label) + "</th>" +
          cell(num(b.n, 0), "n." + key, b.n) + cell(num(b.beta, 4), "beta." + key, b.beta, signClass(b.beta)) +
          cell(num(b.se, 4), "se." + key, b.se) + cell(num(b.se_hc1, 4), "se_hc1." + key, b.se_hc1) +
          cell(num(b.t_stat, 2), "t." + key, b.t_stat) + cell(num(b.r_squared, 3), "r2." + key, b.r_squared) + "</tr>";
      }).join("");
      $("#beta-note").textContent = "Beta: " + view.units.beta + ". Rolling windows of " + rolling.window + " " + rolling.frequency + " periods.";
      var byFactor = function (f) { return rolling.items.filter(function (r) { return r.factor === f; }); };
      charts.betas = R2KChart.draw($("#chart-betas"), {
        title: "rolling betas", baseline: 0, format: fixed(4),
        series: [{ name: "beta to the 2y yield", points: points(byFactor("2y"), "period_end", "beta"), cls: "s0" },
          { name: "beta to the 10y yield", points: points(byFactor("10y"), "period_end", "beta"), cls: "s2" }]
      });
      charts.policy = R2KChart.draw($("#chart-policy"), {
        title: "policy rate", format: function (v) { return v.toFixed(2) + "%"; },
        series: [{ name: "policy rate", points: points(policy.items, "date", "rate"), cls: "s0" }],
        bands: policy.periods.filter(function (r) { return r.phase !== "holding"; }).map(function (r) {
          return { x0: ms(r.start), x1: ms(r.end), cls: r.phase, label: r.phase + " " + r.start + " – " + r.end + ": index " + pct(r.index_return, 1, true) +
            (r.small_minus_large === null ? "" : ", small − large " + pct(r.small_minus_large, 1, true)) };
        })
      });
      $("#phases tbody").innerHTML = view.policy.phases.map(function (r) {
        var key = "phase." + r.phase + ".";
        return "<tr><th>" + esc(r.phase) + "</th>" + cell(num(r.periods, 0), key + "periods", r.periods) + cell(pct(r.share, 1), key + "share", r.share) +
          cell(pct(r.index_annualized), key + "index_annualized", r.index_annualized, signClass(r.index_annualized)) +
          cell(pct(r.benchmark_annualized), key + "benchmark_annualized", r.benchmark_annualized, signClass(r.benchmark_annualized)) +
          cell(pct(r.small_minus_large), key + "small_minus_large", r.small_minus_large, signClass(r.small_minus_large)) + "</tr>";
      }).join("");
      $("#events tbody").innerHTML = view.events.events.map(function (e) {
        return "<tr><th>" + esc(e.date) + "</th><th>" + esc(e.kind.replace("_", " ")) + "</th><td>" + num(e.rate_before, 2) + "%</td>" +
          cell(pct(e.post_21, 1), "event." + e.date + ".post_21", e.post_21, signClass(e.post_21)) +
          cell(pct(e.post_63, 1), "event." + e.date + ".post_63", e.post_63, signClass(e.post_63)) +
          cell(pct(e.post_252, 1), "event." + e.date + ".post_252", e.post_252, signClass(e.post_252)) + "</tr>";
      }).join("");
      charts.stance = R2KChart.draw($("#chart-stance"), {
        title: "stance", baseline: 0, format: function (v) { return v.toFixed(2) + " pp"; },
        series: [{ name: "stance (real policy rate − r*)", points: points(stance.items, "date", "stance"), cls: "s3" },
          { name: "real policy rate", points: points(stance.items, "date", "real_policy_rate"), cls: "s0" },
          { name: "r* proxy", points: points(stance.items, "date", "rstar"), cls: "s1" }]
      });
      var latest = view.rstar.latest;
      $("#rstar-note").textContent = "r*: " + view.rstar.source + " (a market proxy, not an estimate of the natural rate). Neutral band ±" + view.rstar.band +
        " pp." + (latest ? " Latest (" + latest.date + "): stance " + num(latest.stance, 2) + " pp." : "");
      $("#by-stance tbody").innerHTML = view.rstar.by_stance.map(function (r) {
        var key = "stance." + r.stance + ".";
        return "<tr><th>" + esc(r.stance) + "</th>" + cell(num(r.periods, 0), key + "periods", r.periods) + cell(pct(r.share, 1), key + "share", r.share) +
          cell(num(r.mean_stance, 2), key + "mean_stance", r.mean_stance) +
          cell(pct(r.index_annualized), key + "index_annualized", r.index_annualized, signClass(r.index_annualized)) +
          cell(pct(r.small_minus_large), key + "small_minus_large", r.small_minus_large, signClass(r.small_minus_large)) + "</tr>";
      }).join("");
      $("#notes").innerHTML = view.notes.map(function (n) { return "<li>" + esc(n) + "</li>"; }).join("");
      window.r2kCharts = charts;
      return api("/currencies");
    }).then(function (list) {
      var codes = list.items.map(function (c) { return c.code; });
      var chosen = codes.indexOf(p.get("currency") || "EUR") >= 0 ? (p.get("currency") || "EUR") : codes[0];
      fillSelect($("#currency-select"), list.items.map(function (c) {
        return { value: c.code, label: c.code + " (" + c.fx_column + ")" };
      }), chosen);
      $("#currency-select").addEventListener("change", function (e) {
        ready("loading");
        drawCurrency(id, e.target.value, charts).then(function () { ready("yes"); }).catch(function (err) { showError($("#currency-window"), err); ready("error"); });
      });
      return chosen ? drawCurrency(id, chosen, charts) : null;
    }).then(function () { ready("yes"); }).catch(function (e) { showError(root, e); ready("error"); });
  }

  function drawCurrency(id, code, charts) {
    return api("/indexes/" + encodeURIComponent(id) + "/currency/" + encodeURIComponent(code)).then(function (c) {
      var box = $("#currency-window");
      box.textContent = c.window_note + ". " + c.notes.join("; ") + ".";
      box.dataset.currency = c.currency;
      var fields = [["usd_return", pct], ["currency_return", pct], ["cross_term", pct], ["local_return", pct],
        ["usd_volatility", pct], ["local_volatility", pct], ["local_max_drawdown", pct]];
      $("#decomposition tbody").innerHTML = "<tr>" + fields.map(function (f) {
        var v = c[f[0]];
        return cell(f[1](v), "currency." + f[0], v, f[0].indexOf("volatility") >= 0 ? "" : signClass(v));
      }).join("") + "</tr>";
      charts.currency = R2KChart.draw($("#chart-currency"), {
        title: "level by currency",
        series: [{ name: c.index + " in USD", points: c.items.map(function (r) { return [ms(r.session), r.usd]; }), cls: "s0" },
          { name: c.index + " in " + c.currency, points: c.items.map(function (r) { return [ms(r.session), r.local]; }), cls: "s2" }]
      });
      var ret = function (key) { return c.items.map(function (r) { return [ms(r.session), r[key]]; }); };
      charts.decomposition = R2KChart.draw($("#chart-decomposition"), {
        title: "return decomposition", baseline: 0, format: function (v) { return (v * 100).toFixed(2) + "%"; },
        series: [{ name: "in " + c.currency, points: ret("local_return"), cls: "s3" }, { name: "in USD", points: ret("usd_return"), cls: "s0" },
          { name: "currency (USD in " + c.currency + ")", points: ret("currency_return"), cls: "s1" }, { name: "cross", points: ret("cross_term"), cls: "s2" }]
      });
    });
  }

  var pages = { home: homePage, factsheet: factsheetPage, constituents: constituentsPage, reconstitution: reconstitutionPage, rates: ratesPage };
  document.addEventListener("DOMContentLoaded", function () {
    var run = pages[document.body.dataset.page];
    if (run) run();
  });
})();

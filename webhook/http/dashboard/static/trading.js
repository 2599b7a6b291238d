// tradehook "Positions & P&L": /api/positions and /api/stats with the session cookie, charts
// drawn by TradingView's lightweight-charts (static/vendor). Everything from a signal is put into
// the page with textContent, never as HTML.
"use strict";

const POSITIONS_EVERY_MS = 5000; // the server keeps each plugin's answer 5 s anyway
const STATS_EVERY_MS = 15000;
const STATS_AFTER_EVENT_MS = 1000; // a burst of signals asks for the stats once
const COLORS = { line: "#0b57d0", buy: "#1a7f37", sell: "#c62828", pnl: "#1a7f37", bars: "#0b57d0" };
const charts = {};
let stats = null;
let statsTimer = null;

function num(value, digits = 2) {
  return value == null ? "–" : Number(value).toLocaleString(undefined,
    { minimumFractionDigits: digits, maximumFractionDigits: digits });
}

function money(value) {
  const td = cell(num(value), "number");
  if (value > 0) { td.classList.add("gain"); } else if (value < 0) { td.classList.add("loss"); }
  return td;
}

function showError(error) { $("trading-error").textContent = error ? String(error.message || error) : ""; }

// lightweight-charts takes points strictly ascending in time: keep the last of each millisecond.
function atMilliseconds(time) { return Math.round(time * 1000) / 1000; }

function ascending(points) {
  const kept = new Map();
  for (const p of points) { kept.set(atMilliseconds(p.time), p.value); }
  return [...kept.entries()].sort((a, b) => a[0] - b[0]).map(([time, value]) => ({ time, value }));
}

function makeChart(id, extra = {}) {
  const element = $(id);
  return LightweightCharts.createChart(element, {
    autoSize: true,
    layout: { attributionLogo: false, background: { color: "#ffffff" }, textColor: "#1d232b" },
    grid: { vertLines: { color: "#eef0f3" }, horzLines: { color: "#eef0f3" } },
    timeScale: { timeVisible: true, secondsVisible: true },
    ...extra,
  });
}

function setUpCharts() {
  charts.price = makeChart("price-chart");
  charts.priceLine = charts.price.addSeries(LightweightCharts.LineSeries,
    { color: COLORS.line, lineWidth: 2, title: "fill" });
  charts.markers = LightweightCharts.createSeriesMarkers(charts.priceLine, []);
  charts.pnl = makeChart("pnl-chart");
  charts.pnlLine = charts.pnl.addSeries(LightweightCharts.AreaSeries, {
    lineColor: COLORS.pnl, topColor: "rgba(26,127,55,0.35)", bottomColor: "rgba(26,127,55,0.02)",
    lineWidth: 2,
  });
  // The histogram's horizontal axis is the bins, numbered 1, 2, ... and labelled in ms.
  const label = (index) => charts.binLabels[index - 1] ?? "";
  charts.latency = makeChart("latency-chart", {
    timeScale: { tickMarkFormatter: label, fixLeftEdge: true, fixRightEdge: true },
    localization: { timeFormatter: label },
  });
  charts.binLabels = [];
  charts.latencyBars = charts.latency.addSeries(LightweightCharts.HistogramSeries,
    { color: COLORS.bars, priceFormat: { type: "volume" } });
}

function renderPositions(answer) {
  const held = new Map((stats ? stats.open_lots : []).map((lot) => [`${lot.plugin}\u0000${lot.symbol}`, lot]));
  const rows = [];
  const balances = [];
  let asOf = 0;
  for (const [plugin, view] of Object.entries(answer.plugins)) {
    asOf = Math.max(asOf, view.as_of || 0);
    for (const [symbol, quantity] of Object.entries(view.positions || {})) {
      const lot = held.get(`${plugin}\u0000${symbol}`);
      const tr = document.createElement("tr");
      tr.dataset.plugin = plugin;
      tr.dataset.symbol = symbol;
      tr.append(cell(plugin), cell(symbol), cell(num(quantity, 4), "number position"),
        cell(lot ? num(lot.average_price) : "–", "number"));
      rows.push(tr);
    }
    const tr = document.createElement("tr");
    tr.dataset.plugin = plugin;
    const balance = view.balance;
    tr.append(cell(plugin),
      cell(balance ? `${num(balance.equity)} ${balance.currency}` : "–", "number equity"),
      cell(balance && balance.free != null ? num(balance.free) : "–", "number"),
      cell((view.errors || []).join("; "), (view.errors || []).length ? "bad" : ""));
    balances.push(tr);
  }
  if (!rows.length) {
    const tr = document.createElement("tr");
    tr.append(cell("nothing held", "hint"));
    rows.push(tr);
  }
  document.querySelector("#positions tbody").replaceChildren(...rows);
  document.querySelector("#balances tbody").replaceChildren(...balances);
  $("positions-as-of").textContent = asOf ? `as of ${new Date(asOf * 1000).toLocaleTimeString()}` : "";
}

function statsRow(kind, name, group) {
  const tr = document.createElement("tr");
  tr.dataset.group = `${kind}:${name}`;
  const rejected = group.by_status.rejected || 0;
  const bps = group.slippage_bps;
  const latency = group.alert_to_fill_ms;
  tr.append(cell(kind), cell(name), cell(group.signals, "number"), cell(group.fills, "number"),
    cell(rejected, "number"), money(group.realised_pnl), cell(num(group.fees), "number"),
    money(group.net_pnl), cell(`${num(bps.mean)} / ${num(bps.p99)}`, "number"),
    cell(num(group.slippage_ticks.mean, 1), "number"),
    cell(`${num(latency.p50, 1)} / ${num(latency.p99, 1)}`, "number"));
  return tr;
}

function renderStats() {
  const rows = [
    ...Object.entries(stats.plugins).map(([name, group]) => statsRow("plugin", name, group)),
    ...Object.entries(stats.sources).map(([name, group]) => statsRow("source", name, group)),
  ];
  document.querySelector("#stats tbody").replaceChildren(...rows);
  $("period-note").textContent = `${stats.signals} signals` + (stats.truncated ? " (the newest only)" : "");
  renderSymbolChoice();
  renderPriceChart();
  charts.pnlLine.setData(ascending(stats.pnl_curve.map((p) => ({ time: p.time, value: p.pnl }))));
  charts.pnl.timeScale().fitContent();
  const bins = stats.latency_histogram;
  charts.binLabels = bins.map((b) => (b.to_ms == null ? `≥${b.from_ms}` : `${b.from_ms}–${b.to_ms}`));
  charts.latencyBars.setData(bins.map((b, i) => ({ time: i + 1, value: b.count })));
  charts.latency.timeScale().fitContent();
}

function renderSymbolChoice() {
  const choice = $("chart-symbol");
  const pairs = [...new Set(stats.fills.map((f) => `${f.plugin} · ${f.symbol}`))].sort();
  const chosen = pairs.includes(choice.value) ? choice.value : pairs[pairs.length - 1];
  choice.replaceChildren(...pairs.map((pair) => {
    const option = document.createElement("option");
    option.value = pair;
    option.textContent = pair;
    return option;
  }));
  if (chosen) { choice.value = chosen; }
}

function renderPriceChart() {
  const chosen = $("chart-symbol").value;
  const fills = stats.fills.filter((f) => `${f.plugin} · ${f.symbol}` === chosen);
  $("price-empty").hidden = fills.length > 0;
  charts.priceLine.setData(ascending(fills.map((f) => ({ time: f.time, value: f.price }))));
  charts.markers.setMarkers(fills.filter((f) => f.side).map((f) => ({
    time: atMilliseconds(f.time),
    position: f.side === "buy" ? "belowBar" : "aboveBar",
    shape: f.side === "buy" ? "arrowUp" : "arrowDown",
    color: f.side === "buy" ? COLORS.buy : COLORS.sell,
    text: `${f.side === "buy" ? "B" : "S"} ${f.quantity}`,
  })));
  charts.price.timeScale().fitContent();
}

let statsAsked = 0;  // the latest stats request: an answer for an earlier period is dropped

async function loadStats() {
  const period = $("period").value;
  const ask = ++statsAsked;
  const answer = await api(period ? `/api/stats?since=${encodeURIComponent(period)}` : "/api/stats");
  if (ask !== statsAsked) { return; }
  stats = answer;
  renderStats();
}

async function loadPositions() {
  renderPositions(await api("/api/positions"));
}

function refresh() {
  loadStats().then(loadPositions).then(() => showError(null)).catch(showError);
}

function statsSoon() {
  if (statsTimer) { return; }
  statsTimer = setTimeout(() => {
    statsTimer = null;
    loadStats().then(() => showError(null)).catch(showError);
  }, STATS_AFTER_EVENT_MS);
}

function connect() {
  const live = $("live");
  const source = new EventSource("/api/events");
  source.addEventListener("open", () => { live.textContent = "live"; live.className = "badge ok"; });
  source.addEventListener("error", () => { live.textContent = "reconnecting"; live.className = "badge off"; });
  source.addEventListener("signal", statsSoon);
  source.addEventListener("lost", statsSoon);
}

document.addEventListener("DOMContentLoaded", () => {
  setUpCharts();
  $("period").addEventListener("change", refresh);
  $("chart-symbol").addEventListener("change", renderPriceChart);
  refresh();
  setInterval(() => loadPositions().catch(showError), POSITIONS_EVERY_MS);
  setInterval(() => loadStats().catch(showError), STATS_EVERY_MS);
  connect();
});

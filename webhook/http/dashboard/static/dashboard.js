// tradehook dashboard: the admin API with the session cookie, live updates over SSE.
// Everything from a signal is put into the page with textContent, never as HTML (common.js).
"use strict";

const rows = new Map();
const MAX_ROWS = 200;
let killSwitch = null;
let openSignal = null;

function when(seconds) {
  return seconds ? new Date(seconds * 1000).toLocaleTimeString() : "";
}

function detail(signal) {
  if (signal.error) { return signal.error; }
  if (signal.reason) { return signal.reason; }
  if (signal.result && signal.result.order_id) {
    const price = signal.result.average_price ? ` at ${signal.result.average_price}` : "";
    return `${signal.result.order_id}${price}`;
  }
  return "";
}

function renderRow(signal) {
  let tr = rows.get(signal.id);
  if (!tr) {
    tr = document.createElement("tr");
    tr.dataset.id = signal.id;
    tr.tabIndex = 0;
    tr.addEventListener("click", () => showStory(signal.id));
    tr.addEventListener("keydown", (e) => { if (e.key === "Enter") { showStory(signal.id); } });
    rows.set(signal.id, tr);
  }
  tr.replaceChildren(
    cell(when(signal.received_at)), cell(signal.source),
    cell(signal.status, `status ${signal.status}`), cell(describeOrder(signal.order)),
    cell(signal.plugin), cell(detail(signal), "detail"),
  );
  tr.classList.toggle("attention", Boolean(signal.needs_attention));
  return tr;
}

function placeRows() {
  const body = document.querySelector("#signals tbody");
  const ordered = [...rows.keys()].sort().reverse();
  for (const id of ordered.slice(MAX_ROWS)) { rows.delete(id); }
  body.replaceChildren(...ordered.slice(0, MAX_ROWS).map((id) => rows.get(id)));
  $("signals-count").textContent = `(${Math.min(ordered.length, MAX_ROWS)} shown)`;
}

function upsertSignal(signal) {
  renderRow(signal);
  placeRows();
  if (openSignal === signal.id) { showStory(signal.id); }
  if (signal.status === "awaiting_approval") {
    waiting.set(signal.id, signal);
  } else {
    waiting.delete(signal.id);
  }
  renderApprovals();
}

// The approval queue: signals that wait for a person, approved or declined here.
const waiting = new Map();

function approvalButton(label, signal, approve) {
  const button = document.createElement("button");
  button.type = "button";
  button.textContent = label;
  button.className = approve ? "approve" : "decline";
  button.dataset.id = signal.id;
  button.addEventListener("click", () => decide(signal, approve, button.parentElement));
  return button;
}

function renderApprovals() {
  const ordered = [...waiting.keys()].sort();
  const body = document.querySelector("#approvals-table tbody");
  body.replaceChildren(...ordered.map((id) => {
    const signal = waiting.get(id);
    const tr = document.createElement("tr");
    tr.dataset.id = id;
    const actions = cell("");
    actions.className = "actions";
    actions.append(approvalButton("Approve", signal, true), approvalButton("Decline", signal, false));
    tr.append(cell(when(signal.received_at)), cell(signal.source), cell(describeOrder(signal.order)),
      cell(signal.plugin), cell(signal.reason, "detail"), cell(when(signal.approval_deadline)),
      actions);
    return tr;
  }));
  $("approvals-table").hidden = ordered.length === 0;
  $("approvals-empty").hidden = ordered.length > 0;
  $("approvals-count").textContent = ordered.length ? `(${ordered.length})` : "";
}

async function loadApprovals() {
  const answer = await api("/api/approvals");
  waiting.clear();
  for (const signal of answer.approvals) { waiting.set(signal.id, signal); }
  renderApprovals();
}

async function decide(signal, approve, actions) {
  for (const button of actions.querySelectorAll("button")) { button.disabled = true; }
  $("approvals-error").textContent = "";
  const verb = approve ? "approve" : "decline";
  try {
    // A body, so that api() sends the CSRF token; the route reads none.
    await api(`/api/signals/${encodeURIComponent(signal.id)}/${verb}`, { method: "POST", body: "{}" });
  } catch (error) {
    $("approvals-error").textContent = `${describeOrder(signal.order)}: not ${verb}d: ${error.message}`;
  }
  loadApprovals().catch(() => {});
}

async function loadSignals() {
  const answer = await api("/api/signals?limit=100");
  for (const signal of answer.signals) { renderRow(signal); }
  placeRows();
}

async function loadPlugins() {
  const answer = await api("/api/plugins");
  const body = document.querySelector("#plugins tbody");
  body.replaceChildren(...answer.plugins.map((plugin) => {
    const tr = document.createElement("tr");
    const name = plugin.default ? `${plugin.name} (default)` : plugin.name;
    tr.append(cell(name), cell(plugin.type),
      cell(plugin.healthy ? "healthy" : "unhealthy", plugin.healthy ? "ok" : "bad"));
    return tr;
  }));
}

function renderKillSwitch(state) {
  killSwitch = Boolean(state.engaged);
  const badge = $("kill-switch-state");
  badge.textContent = killSwitch ? "ENGAGED: nothing is executed" : "off: signals are executed";
  badge.className = `badge ${killSwitch ? "bad" : "ok"}`;
  const changed = state.changed_at ? ` at ${new Date(state.changed_at * 1000).toLocaleString()}` : "";
  const by = state.changed_by ? ` by ${state.changed_by === "api" ? "an admin" : state.changed_by}` : "";
  const why = state.reason ? `: ${state.reason}` : "";
  $("kill-switch-detail").textContent = state.changed_by || state.reason
    ? `Last changed${by}${changed}${why}` : "";
  const button = $("kill-switch-toggle");
  button.textContent = killSwitch ? "Release" : "Engage";
  button.className = killSwitch ? "" : "danger";
  // Engaged by the configuration: only a configuration change releases it.
  button.disabled = Boolean(state.configured);
}

async function loadKillSwitch() {
  renderKillSwitch(await api("/api/kill-switch"));
}

async function toggleKillSwitch() {
  const engage = !killSwitch;
  const question = engage
    ? "Engage the kill switch? Every new signal will be refused and nothing will be executed."
    : "Release the kill switch? New signals will be executed again.";
  if (!window.confirm(question)) { return; }
  $("kill-switch-error").textContent = "";
  try {
    const answer = await api("/api/kill-switch", {
      method: "POST",
      body: JSON.stringify({ engaged: engage, reason: `${engage ? "engaged" : "released"} on the dashboard` }),
    });
    renderKillSwitch(answer);
  } catch (error) {
    $("kill-switch-error").textContent = `Not changed: ${error.message}`;
  }
}

function pretty(value) {
  return value == null ? "(none)" : JSON.stringify(value, null, 2);
}

async function showStory(id) {
  openSignal = id;
  const signal = await api(`/api/signals/${encodeURIComponent(id)}`);
  if (openSignal !== id) { return; }
  $("story").hidden = false;
  $("story-id").textContent = signal.id;
  $("story-status").textContent = signal.needs_attention
    ? `${signal.status}: the broker may or may not hold this order; check it by hand`
    : signal.status;
  $("story-status").className = `status ${signal.status}`;
  $("story-received").textContent = new Date(signal.received_at * 1000).toLocaleString();
  $("story-source").textContent = `${signal.source} / ${signal.dialect ?? "(not parsed)"}`;
  $("story-decision").textContent = signal.error || signal.reason
    || (signal.plugin ? `routed to ${signal.plugin}` : "");
  $("story-sizing").textContent = signal.sizing || "as sent";
  $("story-content-type").textContent = signal.content_type ? `(${signal.content_type})` : "";
  $("story-raw").textContent = signal.raw_body ?? "";
  $("story-order").textContent = pretty(signal.order);
  $("story-result").textContent = pretty(signal.result);
  const attempts = (signal.attempts || []).map((attempt) => {
    const tr = document.createElement("tr");
    const took = attempt.finished_at
      ? `${((attempt.finished_at - attempt.started_at) * 1000).toFixed(0)} ms` : "running";
    const what = attempt.error || (attempt.result ? detail({ result: attempt.result }) : "");
    tr.append(cell(attempt.number), cell(when(attempt.started_at)), cell(took),
      cell(attempt.outcome ?? "in flight"), cell(what));
    return tr;
  });
  document.querySelector("#story-attempts tbody").replaceChildren(...attempts);
}

function connect() {
  const live = $("live");
  const source = new EventSource("/api/events");
  source.addEventListener("open", () => {
    live.textContent = "live";
    live.className = "badge ok";
    loadSignals().catch(() => {});
    loadApprovals().catch(() => {});
  });
  source.addEventListener("error", () => {
    live.textContent = "reconnecting";
    live.className = "badge off";
  });
  source.addEventListener("signal", (e) => upsertSignal(JSON.parse(e.data)));
  source.addEventListener("kill_switch", () => loadKillSwitch().catch(() => {}));
  source.addEventListener("lost", () => {
    loadSignals().catch(() => {});
    loadApprovals().catch(() => {});
  });
}

document.addEventListener("DOMContentLoaded", () => {
  $("kill-switch-toggle").addEventListener("click", toggleKillSwitch);
  $("story-close").addEventListener("click", () => { openSignal = null; $("story").hidden = true; });
  loadKillSwitch().catch((error) => { $("kill-switch-error").textContent = error.message; });
  loadPlugins().catch(() => {});
  setInterval(() => loadPlugins().catch(() => {}), 15000);
  connect();
  // `/#ID` (the alert builder links its test sends so) opens that signal's story.
  if (window.location.hash.length > 1) {
    showStory(decodeURIComponent(window.location.hash.slice(1))).catch(() => {});
  }
});

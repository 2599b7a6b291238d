// tradehook alert builder: the choices, the template and the test send come from the admin API
// (/api/builder...) with the session cookie. Everything is put into the page with textContent.
// `$`, `api`, `cell` and `describeOrder` come from common.js.
"use strict";

let choices = null;
let shown = null;  // the template on the page
let asked = 0;  // the latest template request: an earlier one answering late is dropped

function option(value, label) {
  const element = document.createElement("option");
  element.value = value;
  element.textContent = label;
  return element;
}

function fill(select, items, keep) {
  select.replaceChildren(...items.map(([value, label]) => option(value, label)));
  if (items.some(([value]) => value === keep)) { select.value = keep; }
}

function chosenSource() {
  return choices.sources.find((source) => source.name === $("source").value);
}

function renderDialects() {
  const source = chosenSource();
  fill($("dialect"), source.dialects.map((name) => [name, name]), $("dialect").value);
  const fixed = source.dialects.length === 1 ? `reads only ${source.dialects[0]} alerts` : "reads every dialect";
  $("source-detail").textContent =
    `Source ${source.name} ${fixed}; confidence threshold ${source.threshold}.`;
  renderActions();
}

function renderActions() {
  const dialect = choices.dialects.find((d) => d.name === $("dialect").value);
  fill($("action"), dialect.actions.map((a) => [a.name, `${a.name}: ${a.label}`]), $("action").value);
}

async function loadTemplate() {
  $("choice-error").textContent = "";
  const query = new URLSearchParams({
    source: $("source").value, dialect: $("dialect").value, action: $("action").value,
    quantity: $("quantity").value || "1",
  });
  const ask = ++asked;
  let answer;
  try {
    answer = await api(`/api/builder/template?${query}`);
  } catch (error) {
    if (ask === asked) { $("choice-error").textContent = error.message; }
    return;
  }
  if (ask !== asked) { return; }  // the choices changed while this one was on its way
  shown = answer;
  $("url").textContent = shown.url || "(no URL: no webhook secret is configured)";
  $("message").textContent = shown.message;
  $("passphrase-note").hidden = !shown.passphrase;
  $("order-text").textContent = `${shown.order_text} (${shown.order.order_type})`;
  $("placeholders").textContent = shown.placeholders.map((p) => `{{${p}}}`).join(" ") || "(none)";
  $("sample-message").textContent = shown.sample_message;
  const given = Object.entries(shown.order).filter(([, value]) => value !== null);
  $("order").textContent = JSON.stringify(Object.fromEntries(given), null, 2);
  $("copy-state").textContent = "";
}

async function copy(id) {
  const text = $(id).textContent;
  try {
    await navigator.clipboard.writeText(text);
    $("copy-state").textContent = id === "url" ? "URL copied." : "Message copied.";
  } catch {
    // No clipboard (a plain-http page that is not localhost): select it for Ctrl+C.
    const range = document.createRange();
    range.selectNodeContents($(id));
    window.getSelection().removeAllRanges();
    window.getSelection().addRange(range);
    $("copy-state").textContent = "Selected: press Ctrl+C (or Cmd+C) to copy.";
  }
}

async function loadRecent() {
  const source = $("source").value;
  const answer = await api(`/api/signals?source=${encodeURIComponent(source)}&limit=5`);
  $("recent").querySelector("tbody").replaceChildren(...answer.signals.map((signal) => {
    const tr = document.createElement("tr");
    tr.dataset.id = signal.id;
    tr.append(cell(new Date(signal.received_at * 1000).toLocaleTimeString()),
      cell(signal.status, `status ${signal.status}`), cell(describeOrder(signal.order)),
      cell(signal.error || signal.reason, "detail"));
    return tr;
  }));
}

async function sendTest() {
  $("test-error").textContent = "";
  const button = $("send-test");
  button.disabled = true;
  try {
    const answer = await api("/api/builder/test", {
      method: "POST",
      body: JSON.stringify({
        source: $("source").value, dialect: $("dialect").value, action: $("action").value,
        quantity: Number($("quantity").value || "1"), ticker: $("test-ticker").value.trim(),
        close: Number($("test-close").value),
      }),
    });
    $("test-result").hidden = false;
    const why = answer.error || answer.reason || "";
    const passed = answer.rule === "test";  // every check passed; only being a test held it
    $("test-status").textContent = passed
      ? "passed every check of the source: stored as a test (rejected, rule test), not executed"
      : `${answer.status}: ${why}`;
    $("test-status").className = passed ? "status ok" : `status ${answer.status}`;
    $("test-signal").textContent = answer.signal_id;
    $("test-signal").href = `/#${encodeURIComponent(answer.signal_id)}`;
    $("test-message").textContent = answer.message;
    await loadRecent();
  } catch (error) {
    $("test-error").textContent = `Not sent: ${error.message}`;
  } finally {
    button.disabled = false;
  }
}

function changed(render) {
  return () => {
    render();
    loadTemplate();
  };
}

document.addEventListener("DOMContentLoaded", async () => {
  try {
    choices = await api("/api/builder");
  } catch (error) {
    $("choice-error").textContent = error.message;
    return;
  }
  if (choices.sources.length === 0) {
    $("choice-error").textContent = "No source with a URL is configured ([sources.NAME]).";
    return;
  }
  fill($("source"), choices.sources.map((s) => [s.name, s.name]));
  $("url-note").textContent = choices.url_note || "";
  renderDialects();
  $("source").addEventListener("change", changed(() => { renderDialects(); loadRecent().catch(() => {}); }));
  $("dialect").addEventListener("change", changed(renderActions));
  $("action").addEventListener("change", changed(() => {}));
  $("quantity").addEventListener("input", changed(() => {}));
  for (const button of document.querySelectorAll("button[data-copy]")) {
    button.addEventListener("click", () => copy(button.dataset.copy));
  }
  $("send-test").addEventListener("click", sendTest);
  await loadTemplate();
  loadRecent().catch(() => {});
});

// What every dashboard page's script uses: the admin API with the session cookie (and the page's
// CSRF token on writes), table cells filled with textContent, never as HTML, and orders in words.
"use strict";

function $(id) { return document.getElementById(id); }

async function api(path, options = {}) {
  const headers = { "accept": "application/json", ...(options.headers || {}) };
  if (options.body !== undefined) {
    headers["content-type"] = "application/json";
    headers["x-csrf-token"] = document.querySelector('meta[name="csrf-token"]').content;
  }
  const answer = await fetch(path, { ...options, headers, credentials: "same-origin" });
  if (answer.status === 401) { window.location.assign("/"); throw new Error("logged out"); }
  const body = await answer.json().catch(() => ({}));
  if (!answer.ok) { throw new Error(body.error || `HTTP ${answer.status}`); }
  return body;
}

function cell(text, className) {
  const td = document.createElement("td");
  td.textContent = text == null ? "" : String(text);
  if (className) { td.className = className; }
  return td;
}

function describeOrder(order) {
  if (!order) { return ""; }
  const parts = [order.action === "open" ? "" : order.action, order.side, order.quantity,
    order.symbol, order.order_type === "market" ? "" : `${order.order_type} ${order.price ?? ""}`];
  return parts.filter((p) => p !== null && p !== undefined && p !== "").join(" ");
}

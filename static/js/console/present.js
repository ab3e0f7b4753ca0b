/** The presenter's panel: one POST per control; panic needs no confirmation (it must be instant). */

import { get, post, toast } from "./api.js";
import { showControl } from "./control.js";

const wall = document.body.dataset.wall ?? "";
const api = `/console/api/w/${encodeURIComponent(wall)}/control`;
const last = document.querySelector(".last-action");
const state = document.querySelector(".control-state");

async function send(op, value = null) {
  const r = await post(api, { op, value });
  if (r.ok) showControl(state, r.data.result);
  const text = r.ok ? `${op}${value ? `: ${value}` : ""} sent ${new Date().toLocaleTimeString()}` : r.data.error ?? `${op} failed (${r.status})`;
  if (last) last.textContent = text;
  toast(text, !r.ok);
}

get(api).then((r) => r.ok && showControl(state, r.data));

for (const b of document.querySelectorAll("button[data-op]")) {
  b.addEventListener("click", () => send(/** @type {HTMLElement} */ (b).dataset.op ?? ""));
}
for (const form of document.querySelectorAll("form.control-form")) {
  form.addEventListener("submit", (ev) => {
    ev.preventDefault();
    const value = String(new FormData(/** @type {HTMLFormElement} */ (form)).get("value") ?? "").trim();
    if (value) send(/** @type {HTMLElement} */ (form).dataset.op ?? "", value);
  });
}

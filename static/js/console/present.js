/** The presenter's panel: one POST per control; panic needs no confirmation (it must be instant). */

import { post, toast } from "./api.js";

const wall = document.body.dataset.wall ?? "";
const last = document.querySelector(".last-action");

async function send(op, value = null) {
  const r = await post(`/console/api/w/${encodeURIComponent(wall)}/control`, { op, value });
  const text = r.ok ? `${op}${value ? `: ${value}` : ""} sent ${new Date().toLocaleTimeString()}` : r.data.error ?? `${op} failed (${r.status})`;
  if (last) last.textContent = text;
  toast(text, !r.ok);
  document.body.classList.toggle("panicking", r.ok && op === "panic" ? true : r.ok && op === "release" ? false : document.body.classList.contains("panicking"));
}

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

/** The moderation policy form: settings from data-setting inputs, sent as JSON with the CSRF token. */

import { post, toast } from "./api.js";

const wall = document.body.dataset.wall ?? "";
const form = /** @type {HTMLFormElement} */ (document.querySelector("form.policy"));
let settings = {};
try {
  settings = JSON.parse(form.dataset.settings ?? "{}") ?? {};
} catch {
  settings = {};
}

for (const input of form.querySelectorAll("input[data-setting]")) {
  const i = /** @type {HTMLInputElement} */ (input);
  const v = settings[i.dataset.setting ?? ""];
  if (i.type === "checkbox") i.checked = v === true;
  else if (Array.isArray(v)) i.value = v.join(", ");
  else if (v !== undefined && v !== null) i.value = String(v);
}

form.addEventListener("submit", async (ev) => {
  ev.preventDefault();
  const out = { ...settings };
  for (const input of form.querySelectorAll("input[data-setting]")) {
    const i = /** @type {HTMLInputElement} */ (input);
    const key = i.dataset.setting ?? "";
    if (i.type === "checkbox") out[key] = i.checked;
    else if (i.type === "number") out[key] = i.value === "" ? null : Number(i.value);
    else if ("list" in i.dataset) out[key] = i.value.split(",").map((s) => s.trim()).filter(Boolean);
    else out[key] = i.value;
  }
  const mode = String(new FormData(form).get("mode") ?? "post");
  const r = await post(`/console/api/w/${encodeURIComponent(wall)}/policy`, { mode, settings: out });
  toast(r.ok ? "policy saved; what is on screen is re-evaluated" : r.data.error ?? `failed (${r.status})`, !r.ok);
});

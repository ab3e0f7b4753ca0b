/**
 * The presenter's stage tool: one POST per control, a button per scene with the current one marked.
 * Panic needs no confirmation (it must be instant). What is current comes from the wall itself, live
 * (the presenter socket: whoever changed it, another presenter or stage hardware), and from each answer.
 */

import { get, post, toast } from "./api.js";
import { showControl } from "./control.js";
import { follow } from "./socket.js";
import { Stage } from "./stage.js";

const wall = document.body.dataset.wall ?? "";
const api = `/console/api/w/${encodeURIComponent(wall)}/control`;
const last = document.querySelector(".last-action");
const state = document.querySelector(".control-state");
const live = document.querySelector(".live-state");

/** Mark what is on: the scene (none: the run of show), paused or not. @param {any} s */
function show(s) {
  if (!s || typeof s !== "object") return;
  showControl(state, s);
  const scene = typeof s.scene === "string" ? s.scene : "";
  for (const b of document.querySelectorAll("button.scene-button")) {
    const on = (/** @type {HTMLElement} */ (b).dataset.scene ?? "") === scene;
    b.setAttribute("aria-pressed", String(on));
    b.classList.toggle("current", on);
  }
  document.querySelector("button.pause")?.setAttribute("aria-pressed", String(!!s.paused));
  stage.show(s);
  document.querySelector("button.resume")?.setAttribute("aria-pressed", String(!s.paused));
  document.querySelector("button.meter-on")?.setAttribute("aria-pressed", String(!!s.meter));
  document.querySelector("button.meter-off")?.setAttribute("aria-pressed", String(!s.meter));
}

async function send(op, value = null) {
  const r = await post(api, { op, value });
  if (r.ok) show(r.data.result);
  const text = r.ok ? `${op}${value ? `: ${value}` : ""} sent ${new Date().toLocaleTimeString()}` : r.data.error ?? `${op} failed (${r.status})`;
  if (last) last.textContent = text;
  toast(text, !r.ok);
}

const stage = new Stage(wall, send);
for (const b of document.querySelectorAll("button[data-op]")) {
  b.addEventListener("click", () => send(/** @type {HTMLElement} */ (b).dataset.op ?? ""));
}
for (const b of document.querySelectorAll("button.scene-button")) {
  b.addEventListener("click", () => {
    const scene = /** @type {HTMLElement} */ (b).dataset.scene ?? "";
    send(scene ? "scene" : "clear_scene", scene || null);
  });
}
for (const form of document.querySelectorAll("form.control-form")) {
  form.addEventListener("submit", (ev) => {
    ev.preventDefault();
    const value = String(new FormData(/** @type {HTMLFormElement} */ (form)).get("value") ?? "").trim();
    if (value) send(/** @type {HTMLElement} */ (form).dataset.op ?? "", value);
  });
}

follow(`/console/w/${encodeURIComponent(wall)}/present/ws`, {
  onItem: (item) => { if (item && item.type === "control") show(item); },
  onOpen: () => {},
  onState: (s) => {
    if (!live) return;
    live.setAttribute("data-state", s);
    live.textContent = s === "live" ? "live" : s === "offline" ? "offline: retrying" : "connecting…";
  },
});
get(api).then((r) => r.ok && show(r.data));

/**
 * The rundown editor: the items in order, each with its scene, minutes, title and notes, moved up and
 * down, edited in the form below or removed. Every change is one POST; the answer is the whole list.
 */

import { el, get, post, toast } from "./api.js";

const wall = document.body.dataset.wall ?? "";
const api = `/console/api/w/${encodeURIComponent(wall)}/rundown`;
const list = /** @type {HTMLElement} */ (document.querySelector(".rundown-list"));
const form = /** @type {HTMLFormElement} */ (document.querySelector(".rundown-form"));
const save = /** @type {HTMLElement} */ (form.querySelector(".rundown-save"));
const cancel = /** @type {HTMLElement} */ (form.querySelector(".rundown-cancel"));
const heading = /** @type {HTMLElement} */ (form.querySelector(".rundown-form-title"));
/** @type {any[]} */
let items = [];

const minutes = (s) => `${Math.round((Number(s) / 60) * 10) / 10} min`;

function render() {
  list.replaceChildren();
  items.forEach((item, k) => {
    const li = el("li", "card rundown-item", list);
    li.dataset.id = String(item.id);
    const head = el("p", "rundown-head", li);
    el("strong", "rundown-title", head, item.title).setAttribute("dir", "auto");
    el("span", "muted", head, ` · ${item.scene} · ${minutes(item.seconds)}`);
    if (item.notes) el("p", "rundown-notes", li, item.notes).setAttribute("dir", "auto");
    const buttons = el("div", "rundown-buttons", li);
    const button = (label, cls, fn, disabled = false) => {
      const b = /** @type {HTMLButtonElement} */ (el("button", cls, buttons, label));
      b.type = "button";
      b.disabled = disabled;
      b.addEventListener("click", fn);
    };
    button("Up", "rundown-up", () => change({ change: "move", id: item.id, position: k - 1 }), k === 0);
    button("Down", "rundown-down", () => change({ change: "move", id: item.id, position: k + 1 }), k === items.length - 1);
    button("Edit", "rundown-edit", () => edit(item));
    button("Remove", "rundown-remove", () => change({ change: "remove", id: item.id }));
  });
}

function edit(item) {
  const f = form.elements;
  /** @type {HTMLInputElement} */ (f.namedItem("id")).value = item ? String(item.id) : "";
  /** @type {HTMLInputElement} */ (f.namedItem("title")).value = item?.title ?? "";
  /** @type {HTMLSelectElement} */ (f.namedItem("scene")).value = item?.scene ?? "agora";
  /** @type {HTMLInputElement} */ (f.namedItem("minutes")).value = item ? String(Math.round(item.seconds / 6) / 10) : "5";
  /** @type {HTMLTextAreaElement} */ (f.namedItem("notes")).value = item?.notes ?? "";
  heading.textContent = item ? "Edit the item" : "Add an item";
  save.textContent = item ? "Save" : "Add";
  cancel.hidden = !item;
  if (item) form.scrollIntoView({ block: "start" });
}

async function change(body) {
  const r = await post(api, body);
  if (!r.ok) return toast(r.data.error ?? `${body.change} failed (${r.status})`, true);
  items = r.data.result.items;
  render();
  toast(`${body.change === "add" ? "added" : body.change === "remove" ? "removed" : "saved"}`);
  return true;
}

form.addEventListener("submit", async (ev) => {
  ev.preventDefault();
  const data = new FormData(form);
  const id = String(data.get("id") ?? "");
  const ok = await change({
    change: id ? "edit" : "add",
    id: id ? Number(id) : null,
    title: String(data.get("title") ?? ""),
    scene: String(data.get("scene") ?? ""),
    seconds: Math.round(Number(data.get("minutes")) * 60),
    notes: String(data.get("notes") ?? ""),
  });
  if (ok) edit(null);
});
cancel.addEventListener("click", () => edit(null));

get(api).then((r) => {
  if (!r.ok) return toast(r.data.error ?? "the rundown did not load", true);
  items = r.data.items;
  render();
  document.body.dataset.loaded = "true";
});

/**
 * The presenter page's rundown and stage widgets: the items in order with the one on screen marked and
 * its speaker notes shown (here only: screens get the item's id, never its notes), a tap on an item goes
 * to it; the clock, countdown and QR widgets toggled over every scene; a countdown started in minutes.
 */

import { el, get } from "./api.js";

export class Stage {
  /** @param {string} wall @param {(op: string, value?: string | null) => Promise<void>} send */
  constructor(wall, send) {
    this.send = send;
    this.api = `/console/api/w/${encodeURIComponent(wall)}/rundown`;
    /** @type {any[]} */
    this.items = [];
    /** @type {number | null} */
    this.current = null;
    /** @type {string[]} */
    this.widgets = [];
    this.list = /** @type {HTMLElement} */ (document.querySelector(".rundown .rundown-list"));
    this.now = /** @type {HTMLElement} */ (document.querySelector(".rundown-now"));
    for (const b of document.querySelectorAll("button.widget-toggle")) {
      b.addEventListener("click", () => {
        const name = /** @type {HTMLElement} */ (b).dataset.widget ?? "";
        const next = this.widgets.includes(name) ? this.widgets.filter((w) => w !== name) : [...this.widgets, name];
        send("widgets", next.length ? next.join(",") : "none");
      });
    }
    this.auto = false;
    document.querySelector("button.rundown-auto")?.addEventListener("click", () => send("rundown_auto", this.auto ? "off" : "on"));
    const form = /** @type {HTMLFormElement | null} */ (document.querySelector("form.countdown-form"));
    form?.addEventListener("submit", (ev) => {
      ev.preventDefault();
      const data = new FormData(form);
      const title = String(data.get("title") ?? "").trim();
      send("countdown", `${Number(data.get("minutes"))}${title ? ` ${title}` : ""}`);
    });
    this.load();
  }

  async load() {
    const r = await get(this.api);
    if (!r.ok) return;
    this.items = Array.isArray(r.data.items) ? r.data.items : [];
    this.render();
  }

  /** The wall's control state (from an answer or the presenter socket). @param {any} s */
  show(s) {
    this.widgets = Array.isArray(s.widgets) ? s.widgets.map(String) : [];
    for (const b of document.querySelectorAll("button.widget-toggle")) {
      b.setAttribute("aria-pressed", String(this.widgets.includes(/** @type {HTMLElement} */ (b).dataset.widget ?? "")));
    }
    this.auto = s.rundown_auto === true;
    document.querySelector("button.rundown-auto")?.setAttribute("aria-pressed", String(this.auto));
    const current = Number.isInteger(s.rundown_item) ? s.rundown_item : null;
    if (current === this.current) return;
    this.current = current;
    // An item written since this page loaded: read the rundown again.
    if (current !== null && !this.items.some((i) => i.id === current)) this.load();
    else this.render();
  }

  render() {
    this.list.replaceChildren();
    for (const item of this.items) {
      const li = el("li", "rundown-entry", this.list);
      const b = /** @type {HTMLButtonElement} */ (el("button", "rundown-go", li));
      b.type = "button";
      b.dataset.id = String(item.id);
      el("span", "rundown-go-title", b, item.title).setAttribute("dir", "auto");
      el("span", "rundown-go-meta", b, `${item.scene} · ${Math.round(item.seconds / 6) / 10} min`);
      const on = item.id === this.current;
      b.classList.toggle("current", on);
      if (on) b.setAttribute("aria-current", "step");
      b.addEventListener("click", () => this.send("rundown_go", String(item.id)));
    }
    const item = this.items.find((i) => i.id === this.current);
    // Nothing before the first item or after the last: the buttons say so rather than an error does.
    const at = this.items.indexOf(item);
    const next = /** @type {HTMLButtonElement | null} */ (document.querySelector("button.rundown-next"));
    const prev = /** @type {HTMLButtonElement | null} */ (document.querySelector("button.rundown-prev"));
    if (next) next.disabled = !this.items.length || at === this.items.length - 1;
    if (prev) prev.disabled = at <= 0;
    this.now.hidden = !item;
    /** @type {HTMLElement} */ (this.now.querySelector(".rundown-now-title")).textContent = item ? `Now: ${item.title}` : "";
    /** @type {HTMLElement} */ (this.now.querySelector(".rundown-now-notes")).textContent = item?.notes || (item ? "(no notes)" : "");
  }
}

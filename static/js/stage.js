/**
 * Stage widgets and the countdown scene (docs/rundown.md). A countdown counts to `control.countdown_to`
 * (epoch seconds) on the SERVER's clock (clock.js), so every screen of a wall shows the same second
 * whatever its own clock says; it ticks on the server's whole seconds. Widgets (`control.widgets`) sit in
 * a corner over every scene: the server's time, the countdown, the wall's QR code (config.show.qr_url).
 * With no countdown set, the countdown scene shows the server's time of day.
 */

const WIDGETS = ["clock", "countdown", "qr"];
const clockFormat = new Intl.DateTimeFormat(undefined, { hour: "numeric", minute: "2-digit" });

/** "1:02:03", "4:05", "0:00" from milliseconds left. @param {number} ms */
export function remaining(ms) {
  const s = Math.max(0, Math.ceil(ms / 1000));
  const h = Math.floor(s / 3600);
  const m = Math.floor((s % 3600) / 60);
  const ss = String(s % 60).padStart(2, "0");
  return h ? `${h}:${String(m).padStart(2, "0")}:${ss}` : `${m}:${ss}`;
}

export class StageWidgets {
  /** @param {{clock: import("./clock.js").Clock, body: HTMLElement, qrSrc: string}} options */
  constructor({ clock, body, qrSrc }) {
    this.clock = clock;
    this.body = body;
    this.qrSrc = qrSrc;
    const q = (s) => /** @type {HTMLElement} */ (body.querySelector(s));
    this.title = q(".countdown-title");
    this.time = /** @type {HTMLTimeElement} */ (q(".countdown-time"));
    this.aside = q(".stage-widgets");
    this.clockEl = /** @type {HTMLTimeElement} */ (q(".widget-clock"));
    this.small = q(".widget-countdown");
    this.smallTitle = q(".widget-countdown-title");
    this.smallTime = /** @type {HTMLTimeElement} */ (q(".widget-countdown-time"));
    this.qr = /** @type {HTMLImageElement} */ (q(".widget-qr"));
    /** @type {number | null} ms on the server clock */
    this.to = null;
    /** @type {string[]} */
    this.widgets = [];
    this.hasQr = false;
    this.cancel = null;
  }

  /** The newest control state (null: none). */
  control(c) {
    const to = Number(c?.countdown_to);
    this.to = c && c.countdown_to != null && Number.isFinite(to) ? to * 1000 : null;
    this.title.textContent = typeof c?.countdown_title === "string" ? c.countdown_title.slice(0, 120) : "";
    this.smallTitle.textContent = this.title.textContent;
    this.widgets = Array.isArray(c?.widgets) ? c.widgets.filter((w) => WIDGETS.includes(w)) : [];
    this.render();
  }

  /** The wall's config: the QR widget needs show.qr_url. */
  config(config) {
    this.hasQr = !!config?.show?.qr_url;
    this.render();
  }

  render() {
    this.cancel?.();
    this.cancel = null;
    const now = this.clock.now();
    const on = (w) => this.widgets.includes(w);
    const left = this.to === null ? null : this.to - now;
    const text = left === null ? "" : remaining(left);
    // With no countdown set, the countdown scene (a run of show may hold it) shows the server's time.
    const big = left === null ? clockFormat.format(now) : text;
    if (this.time.textContent !== big) this.time.textContent = big;
    if (this.smallTime.textContent !== text) this.smallTime.textContent = text;
    if (this.to !== null) this.time.dateTime = this.smallTime.dateTime = `PT${Math.max(0, Math.ceil(left / 1000))}S`;
    this.body.dataset.countdown = left === null ? "none" : left > 0 ? "running" : "done";
    this.clockEl.hidden = !on("clock");
    this.clockEl.textContent = on("clock") ? clockFormat.format(now) : "";
    this.small.hidden = !(on("countdown") && this.to !== null);
    const qr = on("qr") && this.hasQr;
    if (qr && !this.qr.getAttribute("src")) this.qr.src = this.qrSrc;
    this.qr.hidden = !qr;
    this.aside.hidden = this.clockEl.hidden && this.small.hidden && this.qr.hidden;
    // Tick on the server's next whole second: cheap (text set only when it changed), and always right.
    this.cancel = this.clock.at(Math.floor(now / 1000) * 1000 + 1000, () => this.render());
  }
}

/**
 * A discreet connection indicator and a small clock in the corner of the band. Staff walking past should
 * see at a glance that a screen is live; visitors should barely notice it. While the socket is down the
 * last posts stay on screen, so "offline" is information, not an error page.
 */

/** Reconnecting for longer than this is reported as offline. */
const OFFLINE_AFTER_MS = 20_000;

const LABELS = {
  connecting: "Connecting…",
  live: "Live",
  reconnecting: "Reconnecting…",
  offline: "Offline",
};

const clockFormat = new Intl.DateTimeFormat(undefined, { hour: "numeric", minute: "2-digit" });

export class StatusIndicator {
  /**
   * @param {HTMLElement} root  element holding .status-dot, .status-label and .clock
   * @param {() => number} now  the server's clock in ms (a Pi without a real-time clock may be off)
   */
  constructor(root, now) {
    this.root = root;
    this.now = now;
    this.label = /** @type {HTMLElement} */ (root.querySelector(".status-label"));
    this.clock = /** @type {HTMLTimeElement} */ (root.querySelector(".clock"));
    this.state = "connecting";
    this.since = 0;
    this.offlineTimer = 0;
    this.clockTimer = 0;
    // The browser knows before the socket does when the cable is out.
    window.addEventListener("offline", () => this.render());
    window.addEventListener("online", () => this.render());
  }

  /** @param {"connecting" | "live" | "moving" | "reconnecting"} state  the socket's state */
  set(state) {
    if (state === this.state) return;
    this.state = state;
    clearTimeout(this.offlineTimer);
    this.offlineTimer = 0;
    if (state === "reconnecting") {
      this.since = Date.now();
      this.offlineTimer = setTimeout(() => this.render(), OFFLINE_AFTER_MS);
    }
    this.render();
  }

  /**
   * What to show: the socket state, or "offline" when down for a while or the network is gone. A screen
   * moving to another node (a rolling restart) is back within a second or two: it shows live.
   */
  shown() {
    if (this.state === "live" || this.state === "moving") return "live";
    if (!navigator.onLine) return "offline";
    if (this.state === "reconnecting" && Date.now() - this.since >= OFFLINE_AFTER_MS) return "offline";
    return this.state;
  }

  render() {
    const shown = this.shown();
    this.root.dataset.status = shown;
    this.label.textContent = LABELS[shown];
  }

  /** Start (or restart) the clock, ticking on the minute so it never shows a stale time. */
  startClock() {
    clearTimeout(this.clockTimer);
    const now = this.now();
    this.clock.textContent = clockFormat.format(now);
    this.clock.dateTime = new Date(now).toISOString();
    this.clockTimer = setTimeout(() => this.startClock(), 60_000 - (now % 60_000) + 50);
  }

  /** Nothing to tick while the screen is hidden (the TV is off, or another window is on top). */
  stopClock() {
    clearTimeout(this.clockTimer);
    this.clockTimer = 0;
  }
}

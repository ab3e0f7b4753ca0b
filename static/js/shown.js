/**
 * What this screen showed (docs/display-log.md): once a second, the posts on screen now (main.js says
 * which) each get the second that passed; every `report_every` seconds (the wall's config) the sums go
 * to the server as one small `shown` frame (docs/protocol.md). Nothing here is sent anywhere else.
 *
 * Bounded for a screen offline for days: at most MAX_POSTS posts wait, the oldest dropped first, and a
 * post's first showing older than MAX_AGE_MS is dropped too (the server would leave it out). One report
 * is in flight at a time; a lost socket puts it back with the rest, the server's answer clears it.
 */

export const MAX_POSTS = 100; // as the server's bound (wall/web/display.py)
const MAX_AGE_MS = 86_400_000;
const SAMPLE_MS = 1_000;
/** A sample later than this (a throttled timer, a sleeping machine) counts this much, not the gap. */
const MAX_STEP_MS = 2 * SAMPLE_MS;
const ID_KEY = "wall.screenId";

/** This screen's random id (kept by the browser, nothing about a person), with its position (k of n). */
export function screenId(position) {
  let id = "";
  try {
    id = localStorage.getItem(ID_KEY) || "";
    if (!/^[A-Za-z0-9_-]{16,40}$/.test(id)) {
      id = randomId();
      localStorage.setItem(ID_KEY, id);
    }
  } catch {
    id = id || randomId(); // storage disabled: an id for this page's life
  }
  return `${id}.${position}`;
}

function randomId() {
  const bytes = crypto.getRandomValues(new Uint8Array(12));
  return btoa(String.fromCharCode(...bytes)).replace(/\+/g, "-").replace(/\//g, "_");
}

export class ShownLog {
  /**
   * @param {{now: () => number, visible: () => string[], send: (msg: object) => boolean,
   *          every: () => number, screen: string}} options
   *   now: server time (ms); visible: ids on screen now; send: false when the socket is not open;
   *   every: seconds between reports
   */
  constructor({ now, visible, send, every, screen }) {
    this.now = now;
    this.visible = visible;
    this.send = send;
    this.every = every;
    this.screen = screen;
    /** @type {Map<string, {at: number, seconds: number}>} post id -> first showing (ms), seconds; oldest first */
    this.pending = new Map();
    /** @type {{seq: number, entries: Map<string, {at: number, seconds: number}>} | null} */
    this.inflight = null;
    this.seq = 0;
    this.sampledAt = 0;
    this.sampler = 0;
    this.reporter = 0;
    /** Reports the server took, for tests and devtools. */
    this.acked = 0;
  }

  start() {
    if (this.sampler) return;
    this.sampledAt = performance.now();
    this.sampler = setInterval(() => this.sample(), SAMPLE_MS);
    this.schedule();
  }

  /** Nobody can see the page (hidden): nothing is on screen, and no timer needs to run. */
  stop() {
    if (this.sampler) this.sample();
    clearInterval(this.sampler);
    clearTimeout(this.reporter);
    this.sampler = this.reporter = 0;
  }

  sample() {
    const t = performance.now();
    const step = Math.min(t - this.sampledAt, MAX_STEP_MS) / 1000;
    this.sampledAt = t;
    if (step <= 0) return;
    const now = this.now();
    for (const id of this.visible()) {
      const entry = this.pending.get(id);
      if (entry) entry.seconds += step;
      else this.add(id, { at: now - step * 1000, seconds: step });
    }
  }

  add(id, entry) {
    while (this.pending.size >= MAX_POSTS) this.pending.delete(this.pending.keys().next().value);
    this.pending.set(id, entry);
  }

  /** The next report in `every` seconds, give or take a tenth (screens loaded together spread out). */
  schedule() {
    clearTimeout(this.reporter);
    const ms = Math.max(1, this.every()) * 1000 * (0.9 + Math.random() * 0.2);
    this.reporter = setTimeout(() => {
      this.report();
      this.schedule();
    }, ms);
  }

  report() {
    if (this.inflight) return; // its answer is due; a lost socket puts it back (dropped())
    const cutoff = this.now() - MAX_AGE_MS;
    for (const [id, e] of this.pending) if (e.at < cutoff) this.pending.delete(id);
    if (!this.pending.size) return;
    const seq = ++this.seq;
    const posts = [...this.pending].map(([id, e]) => [id, Math.round(e.seconds * 10) / 10, Math.floor(e.at / 1000)]);
    if (!this.send({ type: "shown", seq, screen: this.screen, posts })) return; // offline: kept, sent later
    this.inflight = { seq, entries: this.pending };
    this.pending = new Map();
  }

  /** The server's answer: `shown` took the report, `error` refused it (sending it again would not help). */
  answer(msg) {
    // A refusal without a seq is of a report the server could not read: the one in flight.
    if (!this.inflight || (msg.seq !== this.inflight.seq && !(msg.type === "error" && msg.seq == null))) return;
    if (msg.type === "shown") this.acked += 1;
    else console.warn("wall: display report refused:", String(msg.error));
    this.inflight = null;
  }

  /** The socket closed with a report unanswered: it goes back with the rest, for the next socket. */
  dropped() {
    if (!this.inflight) return;
    const back = this.inflight.entries;
    this.inflight = null;
    for (const [id, e] of this.pending) {
      const old = back.get(id);
      if (old) old.seconds += e.seconds;
      else back.set(id, e);
    }
    this.pending = new Map();
    for (const [id, e] of back) this.add(id, e);
  }
}

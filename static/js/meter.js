/**
 * The reaction meter: how loud the room is on the wall right now, for stage moments ("make some noise").
 * Counted here, from the live posts this page receives (every approved post reaches every screen): posts
 * per second, emoji and mean sentiment over the last `show.meter_seconds`, with the peak of the last
 * PEAK_MS. No server change and no extra frame; screens of one wall see the same posts, so they agree to
 * within a post in flight. Shown as the "meter" scene and, when the presenter turns it on (control
 * `meter`), as a small overlay on the other scenes. Bars move with transform only.
 */

import { el } from "./text.js";
import { setText } from "./panels.js";

const PEAK_MS = 5 * 60_000;
const KEEP = 2000; // arrivals kept: a window of 120 s at more than 16 posts a second is plenty
const EMOJI = /\p{Extended_Pictographic}/gu;
const nf1 = new Intl.NumberFormat("en-US", { maximumFractionDigits: 1, minimumFractionDigits: 1 });
const nf = new Intl.NumberFormat("en-US");

/** Loudness of a window: posts and emoji per second (an emoji counts half a post). Pure. */
export function level(arrivals, now, seconds) {
  const from = now - seconds * 1000;
  let posts = 0;
  let emoji = 0;
  let scored = 0;
  let mood = 0;
  for (let i = arrivals.length - 1; i >= 0 && arrivals[i].t > from; i--) {
    const a = arrivals[i];
    if (a.t > now) continue;
    posts++;
    emoji += a.emoji;
    if (a.mood !== null) {
      scored++;
      mood += a.mood;
    }
  }
  return { posts, emoji, perSecond: posts / seconds, loudness: (posts + emoji / 2) / seconds,
    mood: scored ? mood / scored : null };
}

/** One gauge (scene or overlay): a bar, its peak mark, the figures. Built once, refilled. */
class Gauge {
  constructor(root, big) {
    this.el = el("div", big ? "meter meter-big" : "meter meter-small", root);
    if (big) el("h2", "meter-title", this.el).textContent = "Make some noise";
    const track = el("div", "meter-track", this.el);
    this.fill = el("div", "meter-fill", track);
    this.peak = el("div", "meter-peak", track);
    const figures = el("p", "meter-figures", this.el);
    this.rate = el("span", "meter-rate", figures);
    this.emoji = el("span", "meter-emoji", figures);
    this.mood = el("span", "meter-mood", figures);
    this.peakText = el("p", "meter-peak-text", this.el);
  }

  draw(v, peak, top) {
    this.fill.style.setProperty("--level", (Math.min(v.loudness, top) / top).toFixed(3));
    this.peak.style.setProperty("--level", (Math.min(peak, top) / top).toFixed(3));
    setText(this.rate, `${nf1.format(v.perSecond)} posts/s`);
    setText(this.emoji, `${nf.format(v.emoji)} emoji`);
    setText(this.mood, v.mood === null ? "" : v.mood > 0.15 ? "😀 upbeat" : v.mood < -0.15 ? "😟 tense" : "😐 calm");
    setText(this.peakText, `peak ${nf1.format(peak)}`);
    this.el.dataset.level = v.loudness.toFixed(2);
  }
}

export class Meter {
  /**
   * @param {{scene: HTMLElement, overlay: HTMLElement, now: () => number,
   *          seconds: () => number}} options  seconds: the window (config show.meter_seconds)
   */
  constructor({ scene, overlay, now, seconds }) {
    this.now = now;
    this.seconds = seconds;
    this.big = new Gauge(scene, true);
    this.overlay = overlay;
    this.small = new Gauge(overlay, false);
    /** @type {{t: number, emoji: number, mood: number | null}[]} */
    this.arrivals = [];
    /** @type {{t: number, v: number}[]} a sample a second, for the peak */
    this.samples = [];
    this.timer = 0;
    this.onScene = false;
    this.onOverlay = false;
  }

  /** A live post arrived (not the snapshot's: they are not this moment's noise). */
  post(post) {
    const text = typeof post.text === "string" ? post.text : "";
    const score = post.sentiment?.score;
    this.arrivals.push({ t: this.now(), emoji: (text.match(EMOJI) ?? []).length,
      mood: typeof score === "number" && Number.isFinite(score) ? score : null });
    if (this.arrivals.length > KEEP) this.arrivals.splice(0, this.arrivals.length - KEEP);
  }

  /** Where it shows: its scene is on, or the presenter's overlay (not over the meter scene itself). */
  show(scene, overlay) {
    this.onScene = scene;
    this.onOverlay = overlay && !scene;
    this.overlay.hidden = !this.onOverlay;
    this.draw();
  }

  /** Sample and draw; runs every half second (main.js) whether shown or not, so the peak is always known. */
  draw() {
    const t = this.now();
    const v = level(this.arrivals, t, Math.max(1, this.seconds()));
    const last = this.samples[this.samples.length - 1];
    if (!last || t - last.t >= 1000) this.samples.push({ t, v: v.loudness });
    while (this.samples.length && this.samples[0].t < t - PEAK_MS) this.samples.shift();
    const peak = Math.max(v.loudness, ...this.samples.map((s) => s.v));
    const top = Math.max(1, peak * 1.25);
    if (this.onScene) this.big.draw(v, peak, top);
    if (this.onOverlay) this.small.draw(v, peak, top);
  }
}

/**
 * The display queue: posts enter at a readable rhythm, never as a blur. New posts wait here and go to the
 * active grid one at a time, on whole half-seconds of the server's clock, when a slot's post has had its dwell
 * time; so every screen of a wall releases the same post at the same moment. A burst beyond the queue's
 * room is summed up ("+37 more about #launch") instead of flashing past. Paused (by a presenter): posts
 * wait. Quiet: the best recent and pinned posts come round again, so the wall never freezes.
 */

import { hashtagsOf } from "./text.js";

/** Half seconds: a post a curator just approved is on every screen well within a second. */
export const STEP_MS = 500;
/** A post may go out at a step only once every screen has surely received it. */
const SETTLE_MS = 250;

export class Pacer {
  /**
   * @param {{clock: import("./clock.js").Clock, store: import("./store.js").Store,
   *          onSummary: (summary: {count: number, tag: string} | null) => void}} options
   */
  constructor({ clock, store, onSummary, beforeStep }) {
    this.clock = clock;
    /** called with the step's time first, so a scene due at the same second is on before the step */
    this.beforeStep = beforeStep ?? (() => {});
    this.store = store;
    this.onSummary = onSummary;
    /** @type {{post: any, at: number}[]} */
    this.queue = [];
    /** @type {import("./cards.js").Grid | null} */
    this.grid = null;
    /** @type {import("./cards.js").Grid | null} a grid shown beside it, whose posts it must not repeat */
    this.beside = null;
    this.paused = false;
    this.dropped = 0;
    /** @type {Map<string, number>} hashtags of the posts summed up */
    this.droppedTags = new Map();
    this.cancel = null;
    this.forced = 0;
    this.summed = false;
  }

  get room() {
    return this.store.config?.show?.queue ?? 12;
  }

  /** A new post, received at server time `at` (its event id's time when known). */
  push(post, at) {
    this.queue.push({ post, at });
    while (this.queue.length > this.room) {
      const i = this.queue.findIndex((q) => q.post.pinned !== true);
      const [gone] = this.queue.splice(i < 0 ? 0 : i, 1);
      this.dropped++;
      for (const tag of hashtagsOf(gone.post)) this.droppedTags.set(tag, (this.droppedTags.get(tag) ?? 0) + 1);
      this.summed = true; // shown at the next step: a burst must not rewrite the line per post
    }
  }

  remove(id) {
    this.queue = this.queue.filter((q) => q.post.id !== id);
  }

  update(post) {
    for (const q of this.queue) if (q.post.id === post.id) q.post = post;
  }

  summary() {
    if (!this.dropped) return this.onSummary(null);
    let tag = "";
    let best = 0;
    for (const [t, n] of this.droppedTags) if (n > best) [tag, best] = [t, n];
    this.onSummary({ count: this.dropped, tag });
  }

  /** Release to this grid from now on. */
  target(grid) {
    this.grid = grid;
  }

  start() {
    const step = () => {
      const now = this.clock.now();
      this.cancel = this.clock.at(Math.floor(now / STEP_MS) * STEP_MS + STEP_MS, () => {
        this.step(this.clock.now());
        step();
      });
    };
    step();
  }

  stop() {
    this.cancel?.();
  }

  /** A presenter's "next": the next post now, whatever the dwell. */
  advance() {
    this.forced++;
  }

  /** One step: at most one post out (or one rotation). */
  step(at) {
    this.beforeStep(at);
    if (this.summed) {
      this.summed = false;
      this.summary();
    }
    const grid = this.grid;
    if (!grid) return;
    const force = this.forced > 0;
    if (this.paused && !force) return;
    // The step's own second, not the instant the timer ran: every screen computes with the same number.
    const now = Math.round(at / STEP_MS) * STEP_MS;
    const due = now;
    const i = grid.next(now, force);
    if (i < 0) return;
    this.forced = Math.max(0, this.forced - 1);
    const q = this.queue.findIndex((item) => item.at <= due - SETTLE_MS && !grid.has(item.post.id));
    if (q >= 0) {
      const [{ post }] = this.queue.splice(q, 1);
      grid.place(i, post, now);
      if (this.queue.length === 0 && this.dropped) {
        this.dropped = 0;
        this.droppedTags.clear();
        this.summary();
      }
      return;
    }
    if (this.paused) return;
    // Quiet: bring back a pinned or a good recent post, if the slot has had more than its time.
    const slot = grid.slots[i];
    if (slot.card.post && !force && now - slot.since < slot.dwell * 2) return;
    const post = this.pick(grid, now, this.beside);
    if (post) grid.place(i, post, now);
  }

  /** The next post of the rotation at server time `at` not on the grid (nor on `also`): pinned first. */
  pick(grid, at, also = null) {
    const held = new Set(this.queue.map((q) => q.post.id));
    const candidates = rotation(this.store.newest(60))
      .filter((p) => !grid.has(p.id) && !also?.has(p.id) && !held.has(p.id));
    if (!candidates.length) return null;
    // From the server clock, not a counter: every screen of the wall picks the same post.
    return candidates[Math.floor(at / STEP_MS) % candidates.length];
  }
}

/** Pinned posts, then the rest by a simple "worth showing again" score (media, warmth, substance). */
export function rotation(posts) {
  const score = (p) => (p.pinned === true ? 100 : 0) + (Array.isArray(p.media) && p.media.length ? 2 : 0)
    + (typeof p.sentiment === "number" ? p.sentiment : (p.sentiment?.score ?? 0))
    + Math.min(1, String(p.text ?? "").length / 140);
  return posts.map((p, i) => [score(p), i, p]).sort((a, b) => b[0] - a[0] || a[1] - b[1]).map((x) => x[2]);
}

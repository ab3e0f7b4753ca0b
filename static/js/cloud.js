/**
 * The word cloud scene: the wall's terms and hashtags of the last minutes, sized by how often they come
 * up, brand terms in the accent colour. Counts come from the `stats` frame (wall-wide: trending terms and
 * hashtags) and from the posts this page holds (their text, stop words left out, per language); a word's
 * weight is the larger of the two, so neither source counts twice.
 *
 * Stable: a word keeps its place while it stays in the cloud. A new word is placed on a spiral whose
 * start angle comes from a hash of the word (the same word lands in the same spot on every screen), in
 * the first spot where its box fits; its place is then pinned and a box reserved around it. A word that
 * grows takes more of the room around its place if that room is free, else it stops growing. Words move
 * and resize with `transform` only (a CSS transition), and a fixed pool of MAX_WORDS nodes is reused.
 */

import { el } from "./text.js";
import { isStopWord } from "./stopwords.js";

export const MAX_WORDS = 60;
/** The cloud's box in design px (the scene's room on a 1920×1080 screen). */
export const W = 1840;
export const H = 860;
/** Font size of a word at scale 1, design px; the smallest word is MIN_SCALE of it (46 px: legible at 4 m). */
export const BASE = 110;
const MIN_SCALE = 0.42;
const GAP = 14; // design px kept free around every word
const SPACING = 16; // between the spiral's turns
const MIN_LEN = 3;
const WORD = /[\p{L}\p{N}][\p{L}\p{N}'’_-]*/gu;
const NOISE = /https?:\/\/\S+|[@#][\p{L}\p{N}_]+/gu;
const STEP = 36; // design px of spiral arc between two tries
/** @type {WeakMap<object, {at: number, words: Set<string>}>} a post's time and words, read once (the
 * store keeps each post as the same object) */
const TOKENS = new WeakMap();

/** When a post was written (ms) and its distinct words and "#tags", stop words left out. */
function tokens(post) {
  const known = TOKENS.get(post);
  if (known) return known;
  const seen = new Set();
  const lang = typeof post.lang === "string" ? post.lang.slice(0, 2) : "";
  for (const e of Array.isArray(post.entities) ? post.entities : []) {
    if (e?.kind === "hashtag" && typeof e.value === "string" && !isStopWord(e.value.toLowerCase(), lang)) {
      seen.add(`#${e.value.toLowerCase()}`);
    }
  }
  const text = typeof post.text === "string" ? post.text.replace(NOISE, " ") : "";
  for (const m of text.matchAll(WORD)) {
    const word = m[0].toLowerCase().replace(/['’_-]+$/, "");
    if (!isStopWord(word, lang)) seen.add(word);
  }
  const read = { at: Date.parse(post.created_at), words: seen };
  TOKENS.set(post, read);
  return read;
}

/** FNV-1a: a small stable hash, so a word's spiral starts at the same angle everywhere. */
export function hash(text) {
  let h = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) h = Math.imul(h ^ text.charCodeAt(i), 0x01000193);
  return h >>> 0;
}

/**
 * Count the words of posts (created within `since` ms of server time) and the stats frame's terms.
 * Pure. @returns {Map<string, {count: number, tag: boolean}>} keyed by the lower-case word, no "#"
 */
export function countWords(posts, stats, since) {
  /** @type {Map<string, {count: number, tag: boolean, fromPosts: number}>} */
  const words = new Map();
  const bump = (word, tag) => {
    const key = word.toLowerCase().replace(/^#/, "");
    if (key.length < MIN_LEN || /^\d+$/.test(key)) return null;
    let w = words.get(key);
    if (!w) words.set(key, (w = { count: 0, tag, fromPosts: 0 }));
    return w;
  };
  for (const post of posts) {
    const { at, words: seen } = tokens(post);
    if (!(at >= since)) continue;
    for (const token of seen) { // once per post: a post that says it five times is one voice
      const tag = token.startsWith("#");
      const w = bump(token, tag);
      if (w) w.fromPosts++;
    }
  }
  const fromStats = new Map();
  const take = (key, n, tag) => {
    if (typeof key !== "string" || !(n > 0)) return;
    const k = key.toLowerCase().replace(/^#/, "");
    if (isStopWord(k)) return;
    fromStats.set(k, { n: Math.max(n, fromStats.get(k)?.n ?? 0), tag: tag || !!fromStats.get(k)?.tag });
  };
  for (const t of Array.isArray(stats?.top_hashtags) ? stats.top_hashtags : []) {
    if (Array.isArray(t)) take(t[0], t[1], true);
  }
  for (const t of Array.isArray(stats?.trending_hashtags) ? stats.trending_hashtags : []) take(t?.key, t?.hour ?? t?.recent, true);
  for (const t of Array.isArray(stats?.trending_terms) ? stats.trending_terms : []) take(t?.key, t?.hour ?? t?.recent, false);
  for (const [k, { n, tag }] of fromStats) {
    const w = bump(k, tag);
    if (w) w.tag ||= tag;
  }
  const out = new Map();
  for (const [k, w] of words) out.set(k, { count: Math.max(w.fromPosts, fromStats.get(k)?.n ?? 0), tag: w.tag });
  return out;
}

/** Whether two boxes {x, y, w, h} (centre, size) overlap, GAP included. */
function overlaps(a, b) {
  return Math.abs(a.x - b.x) * 2 < a.w + b.w + 2 * GAP && Math.abs(a.y - b.y) * 2 < a.h + b.h + 2 * GAP;
}

function inside(b) {
  return b.x - b.w / 2 >= 0 && b.x + b.w / 2 <= W && b.y - b.h / 2 >= 0 && b.y + b.h / 2 <= H;
}

/**
 * Where a box of w×h goes: the first free spot on the word's spiral from the centre, or null when the
 * cloud is full. `taken`: the reserved boxes of the words in place.
 */
export function place(word, w, h, taken) {
  const start = ((hash(word) % 3600) / 3600) * 2 * Math.PI;
  const maxR = Math.hypot(W, H) / 2;
  for (let theta = 0; ; ) {
    const r = (SPACING * theta) / (2 * Math.PI);
    if (r > maxR) return null;
    // An ellipse as wide as the box: the cloud fills the screen's shape, not a circle in its middle.
    const box = { x: W / 2 + r * Math.cos(theta + start), y: H / 2 + r * Math.sin(theta + start) * (H / W), w, h };
    if (inside(box) && !taken.some((t) => overlaps(box, t))) return box;
    theta += Math.min(0.6, STEP / Math.max(r, STEP)); // about STEP px of arc a step
  }
}

export class WordCloud {
  /**
   * @param {HTMLElement} root  the scene's stage
   * @param {() => string} brand the wall's brand name (theme.brand, else the title)
   */
  constructor(root, brand) {
    this.root = root;
    this.brand = brand;
    /** @type {Map<string, {node: HTMLElement, box: {x: number, y: number, w: number, h: number}, width: number,
     *                     s: string, count: number}>} */
    this.placed = new Map();
    this.free = Array.from({ length: MAX_WORDS }, () => {
      const node = el("span", "cloud-word", root);
      node.dir = "auto";
      node.hidden = true;
      return node;
    });
    /** the smallest box (area) that found no room since the cloud last gave room back: a box at least as
     * big is not tried again (a failed try walks the whole spiral, the costly case) */
    this.full = Infinity;
    this.ctx = document.createElement("canvas").getContext("2d");
    this.font = "";
  }

  /** The width of `text` at BASE size, design px. */
  measure(text) {
    if (!this.font) {
      const s = getComputedStyle(this.root);
      this.font = `700 ${BASE}px ${s.fontFamily || "sans-serif"}`;
    }
    if (!this.ctx) return text.length * BASE * 0.6;
    if (this.ctx.font !== this.font) this.ctx.font = this.font;
    return this.ctx.measureText(text).width;
  }

  /** Show these counts: the MAX_WORDS biggest, kept words in place. */
  show(counts) {
    const ranked = [...counts].filter(([, w]) => w.count > 0)
      .sort((a, b) => b[1].count - a[1].count || (a[0] < b[0] ? -1 : 1)).slice(0, MAX_WORDS);
    const keep = new Set(ranked.map(([k]) => k));
    for (const [k, p] of this.placed) {
      if (keep.has(k)) continue;
      p.node.hidden = true;
      p.node.classList.remove("is-on");
      this.free.push(p.node);
      this.placed.delete(k);
      this.full = Infinity; // room given back
    }
    const max = ranked.length ? ranked[0][1].count : 1;
    const min = ranked.length ? ranked[ranked.length - 1][1].count : 0;
    let failed = false;
    const brandWords = new Set(this.brand().toLowerCase().split(/[^\p{L}\p{N}]+/u).filter(Boolean));
    for (const [k, w] of ranked) {
      const scale = MIN_SCALE + (1 - MIN_SCALE) * (max > min ? Math.sqrt((w.count - min) / (max - min)) : 1);
      const text = w.tag ? `#${k}` : k;
      let p = this.placed.get(k);
      if (!p) {
        // A full cloud fails every try along the whole spiral: one failed walk an update keeps it cheap.
        if (failed) continue;
        const width = this.measure(text);
        const area = width * scale * BASE * 1.1 * scale;
        if (area >= this.full) continue;
        const taken = [...this.placed.values()].map((q) => q.box);
        const box = place(k, width * scale, BASE * 1.1 * scale, taken);
        if (!box) {
          this.full = area; // the cloud is full for this size: smaller words may fit next time
          failed = true;
          continue;
        }
        const node = /** @type {HTMLElement} */ (this.free.pop());
        node.textContent = text;
        p = { node, box, width, s: "", count: 0 };
        node.dataset.word = k;
        this.placed.set(k, p);
        node.classList.toggle("is-brand", brandWords.has(k));
        node.hidden = false;
        node.style.setProperty("--x", box.x.toFixed(1));
        node.style.setProperty("--y", box.y.toFixed(1));
      } else {
        if (p.node.textContent !== text) p.node.textContent = text;
        // Grow into free room around the pinned place, or stay at the size the room allows.
        const want = { x: p.box.x, y: p.box.y, w: p.width * scale, h: BASE * 1.1 * scale };
        if (want.w > p.box.w) {
          const others = [...this.placed].filter(([o]) => o !== k).map(([, q]) => q.box);
          if (inside(want) && !others.some((b) => overlaps(want, b))) p.box = want;
        } else {
          p.box = want;
        }
      }
      // Only what changed is written: each write makes the browser recompute that word's style.
      const fits = Math.min(scale, p.box.w / p.width).toFixed(3);
      if (p.s !== fits) p.node.style.setProperty("--s", (p.s = fits));
      if (p.count !== w.count) p.node.dataset.count = String((p.count = w.count));
    }
    // Shown once placed: the first frame sets the place, the next fades it in (no jump from the corner).
    requestAnimationFrame(() => {
      for (const p of this.placed.values()) if (!p.node.classList.contains("is-on")) p.node.classList.add("is-on");
    });
    if (this.root.dataset.words !== String(this.placed.size)) this.root.dataset.words = String(this.placed.size);
  }
}

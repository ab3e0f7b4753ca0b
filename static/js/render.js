/**
 * The cards. Post text and every other field from the internet is data: it reaches the DOM only through
 * textContent, createElement and setAttribute of harmless attributes, never as markup. The wall runs for
 * months, so card elements come from a fixed pool of at most `maxCards`: the oldest is recycled for the
 * newest, and nothing here grows with the number of posts seen.
 */

import { el, isVisible, relativeTime, richText, safeImageUrl } from "./text.js";

const SOURCE_NAMES = {
  mastodon: "Mastodon", bluesky: "Bluesky", rss: "RSS", webhook: "Web", replay: "Demo",
  twitter: "X", x: "X", instagram: "Instagram", linkedin: "LinkedIn", youtube: "YouTube",
};
const LANG = /^[A-Za-z]{2,3}(-[A-Za-z0-9]{1,8}){0,3}$/;
/** Above this rate of new cards, skip the slide of the others: a burst should not look like an earthquake. */
const MOVE_MIN_INTERVAL_MS = 400;
/** Only the first cards can be on screen; measuring the rest would be wasted layout work. */
const MOVE_MEASURE = 16;
const RING_MS = 9000;
const reducedMotion = matchMedia("(prefers-reduced-motion: reduce)");


/** One card element and the parts of it that change per post. Built once, refilled many times. */
class Card {
  constructor() {
    this.el = el("article", "card");
    this.figure = el("figure", "card-media", this.el);
    this.img = el("img", "card-img", this.figure);
    this.img.decoding = "async";
    // A broken image leaves a normal text card rather than a hole.
    this.img.addEventListener("error", () => this.setMedia(null));

    const body = el("div", "card-body", this.el);
    const head = el("header", "card-head", body);
    const avatar = el("div", "avatar", head);
    this.initial = el("span", "avatar-initial", avatar);
    this.initial.setAttribute("aria-hidden", "true");
    this.avatar = el("img", "avatar-img", avatar);
    this.avatar.alt = "";
    this.avatar.decoding = "async";
    this.avatar.addEventListener("error", () => (this.avatar.hidden = true));

    const byline = el("div", "byline", head);
    this.name = el("p", "author-name", byline);
    this.name.dir = "auto";
    this.handle = el("p", "author-handle", byline);
    this.handle.dir = "ltr";

    const meta = el("div", "card-meta", head);
    this.time = el("time", "card-time", meta);
    this.source = el("p", "card-source", meta);

    this.text = el("p", "card-text", body);
    this.text.dir = "auto"; // Arabic, Hebrew… lay out right to left on their own
    this.created = NaN;
    this.post = null;
  }

  /** Show `post` in this card, replacing whatever it showed before. */
  fill(post, now) {
    this.post = post;
    this.el.dataset.postId = post.id;
    const author = post.author && typeof post.author === "object" ? post.author : {};
    const name = str(author.name) || str(author.handle) || "Someone";
    const handle = str(author.handle);

    this.name.textContent = name;
    this.handle.textContent = handle ? (handle.startsWith("@") ? handle : `@${handle}`) : "";
    this.handle.hidden = !handle;
    this.initial.textContent = (Array.from(name.trim())[0] || "?").toUpperCase();
    this.el.style.setProperty("--avatar-hue", String(hue(handle || name)));
    setSrc(this.avatar, sized(safeImageUrl(author.avatar_url), 0));

    this.created = Date.parse(str(post.created_at));
    this.time.textContent = relativeTime(this.created, now);
    if (Number.isFinite(this.created)) this.time.dateTime = new Date(this.created).toISOString();
    else this.time.removeAttribute("datetime");
    const source = str(post.source);
    this.source.textContent = SOURCE_NAMES[source.toLowerCase()] || source;

    const text = str(post.text);
    const { nodes, length } = richText(text, Array.isArray(post.entities) ? post.entities : []);
    this.text.replaceChildren(...nodes);
    // Short posts get bigger type: they are the ones you can read from across the lobby.
    this.el.dataset.length = length <= 90 ? "short" : length <= 200 ? "medium" : "long";
    if (typeof post.lang === "string" && LANG.test(post.lang)) this.el.lang = post.lang;
    else this.el.removeAttribute("lang");

    const media = Array.isArray(post.media) ? post.media : [];
    this.setMedia(media.find((m) => m && (m.kind ?? "image") === "image" && safeImageUrl(m.url)) || null);
  }

  /** @param {{url: string, alt?: string} | null} media */
  setMedia(media) {
    this.el.classList.toggle("has-media", !!media);
    this.figure.hidden = !media;
    if (media) this.img.alt = str(media.alt); // the author's description, as the image's text
    setSrc(this.img, media ? sized(media.url, this.el.clientWidth || window.innerWidth / 3) : null);
  }

  /** Refresh "n min ago"; touches the DOM only when the words change. */
  tick(now) {
    const label = relativeTime(this.created, now);
    if (this.time.textContent !== label) this.time.textContent = label;
  }
}

function str(value) {
  return typeof value === "string" ? value : "";
}

const WIDTHS = [480, 960, 1920];

/** A /media proxy URL asks for the smallest width that fills `px` CSS pixels; other URLs are kept. */
function sized(url, px) {
  if (!url || !url.startsWith("/media/")) return url;
  const need = px * (window.devicePixelRatio || 1);
  return `${url}?w=${WIDTHS.find((w) => w >= need) ?? WIDTHS[WIDTHS.length - 1]}`;
}

/** Set (or clear) an image's source without reloading one it already shows. */
function setSrc(img, url) {
  if (!url) {
    img.hidden = true;
    if (img.hasAttribute("src")) img.removeAttribute("src");
    return;
  }
  img.hidden = false;
  if (img.getAttribute("src") !== url) img.src = url;
}

/** A stable colour per author for the initial shown while (or instead of) loading the avatar. */
function hue(key) {
  let h = 0;
  for (const ch of key) h = (h * 31 + ch.codePointAt(0)) % 360;
  return h;
}

export class CardWall {
  /**
   * @param {HTMLElement} grid
   * @param {{maxCards: number, now: () => number, onChange?: (count: number) => void}} options
   */
  constructor(grid, { maxCards, now, onChange }) {
    this.grid = grid;
    this.maxCards = maxCards;
    this.now = now;
    this.onChange = onChange || (() => {});
    /** @type {Map<string, Card>} post id → the card showing it; only cards in the grid */
    this.cards = new Map();
    /** @type {WeakMap<Element, Card>} */
    this.byElement = new WeakMap();
    /** @type {Card[]} detached cards ready for reuse; with the shown ones never more than maxCards */
    this.free = [];
    this.created = 0;
    this.lastMove = 0;
    /** @type {Animation | null} the newest card's ring */
    this.ring = null;
  }

  get size() {
    return this.cards.size;
  }

  /** A free card: from the pool, new while under the cap, or else the oldest one shown. */
  take() {
    const pooled = this.free.pop();
    if (pooled) return pooled;
    if (this.created < this.maxCards) {
      this.created++;
      const card = new Card();
      this.byElement.set(card.el, card);
      return card;
    }
    const oldest = this.byElement.get(/** @type {Element} */ (this.grid.lastElementChild));
    this.cards.delete(oldest.post.id);
    detach(oldest);
    return oldest;
  }

  release(card) {
    detach(card);
    this.free.push(card);
  }

  /** A new post: newest first, top-left. A post already shown is updated in place instead. */
  add(post) {
    if (!validPost(post)) return;
    if (this.cards.has(post.id) || !isVisible(post)) {
      this.update(post);
      return;
    }
    const card = this.take();
    card.fill(post, this.now());
    const before = this.measure();
    this.grid.prepend(card.el);
    this.cards.set(post.id, card);
    this.animateIn(card, before);
    this.onChange(this.cards.size);
  }

  /**
   * A post changed: refill its card where it stands, or take it down if no longer approved. Like the
   * server's state, an update never brings back a post that is not shown (it may have scrolled off long ago).
   */
  update(post) {
    if (!validPost(post)) return;
    const card = this.cards.get(post.id);
    if (!card) return;
    if (isVisible(post)) card.fill(post, this.now());
    else this.retract(post.id);
  }

  /** @param {string} postId */
  retract(postId) {
    const card = this.cards.get(postId);
    if (!card) return;
    this.cards.delete(postId);
    this.release(card);
    this.onChange(this.cards.size);
  }

  /** Replace everything with a snapshot (newest first), keeping elements of posts still shown. */
  replace(posts) {
    const keep = new Set();
    const wanted = [];
    for (const post of Array.isArray(posts) ? posts : []) {
      if (wanted.length >= this.maxCards) break;
      if (!validPost(post) || !isVisible(post) || keep.has(post.id)) continue;
      keep.add(post.id);
      wanted.push(post);
    }
    const old = this.cards;
    this.cards = new Map();
    for (const [id, card] of old) if (!keep.has(id)) this.release(card);
    const now = this.now();
    const els = wanted.map((post) => {
      const card = old.get(post.id) || this.take();
      card.fill(post, now);
      this.cards.set(post.id, card);
      return card.el;
    });
    this.grid.replaceChildren(...els);
    this.onChange(this.cards.size);
  }

  /** Refresh every relative time (called every 30 s while the page is visible). */
  tick() {
    const now = this.now();
    for (const card of this.cards.values()) card.tick(now);
  }

  /** Positions of the cards that may be on screen, to slide them to their new places (FLIP). */
  measure() {
    if (!this.animating()) return null;
    const at = performance.now();
    if (at - this.lastMove < MOVE_MIN_INTERVAL_MS) return null;
    this.lastMove = at;
    const rects = new Map();
    for (const child of this.grid.children) {
      if (rects.size >= MOVE_MEASURE) break;
      rects.set(child, child.getBoundingClientRect());
    }
    return rects;
  }

  animating() {
    return !document.hidden && !reducedMotion.matches;
  }

  /** Fade and lift the new card in; slide the others from where they were. Transform and opacity only. */
  animateIn(card, before) {
    if (!this.animating()) return;
    const ease = "cubic-bezier(.2,.8,.2,1)";
    card.el.animate(
      [{ opacity: 0, transform: "translateY(3vh) scale(.97)" }, { opacity: 1, transform: "none" }],
      { duration: 700, easing: ease },
    );
    // The accent ring that says "just in": only the newest card wears it; the previous one fades out
    // now, so a busy wall does not ring every card at once.
    const ring = this.ring;
    if (ring?.playState === "running") {
      const target = /** @type {KeyframeEffect} */ (ring.effect).target;
      ring.cancel();
      target?.animate([{ opacity: 1 }, { opacity: 0 }], { duration: 600, pseudoElement: "::after" });
    }
    const next = card.el.animate([{ opacity: 1 }, { opacity: 1, offset: 0.6 }, { opacity: 0 }], {
      duration: RING_MS, pseudoElement: "::after",
    });
    next.onfinish = next.oncancel = () => {
      if (this.ring === next) this.ring = null;
    };
    this.ring = next;
    if (!before) return;
    const bottom = innerHeight;
    for (const [child, was] of before) {
      if (child === card.el || !child.isConnected) continue;
      const is = child.getBoundingClientRect();
      const dx = was.left - is.left;
      const dy = was.top - is.top;
      if ((!dx && !dy) || (was.top > bottom && is.top > bottom)) continue;
      child.animate([{ transform: `translate(${dx}px, ${dy}px)` }, { transform: "none" }], {
        duration: 600, easing: ease,
      });
    }
  }
}

/** Take a card out of the grid, stopping any slide or fade still running on it. */
function detach(card) {
  for (const a of card.el.getAnimations({ subtree: true })) a.cancel();
  card.el.remove();
}

/** The minimum a frame must have to be a post we can key a card by. */
function validPost(post) {
  return !!post && typeof post === "object" && typeof post.id === "string" && post.id !== "";
}

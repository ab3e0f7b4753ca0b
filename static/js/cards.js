/**
 * Cards in fixed slots. Post text and every other field from the internet is data: it reaches the DOM
 * only through textContent, createElement and harmless attributes, never as markup.
 *
 * Calm by construction: a grid has a fixed number of slots, each owning one card element for the life of
 * the page (a bounded DOM whatever passes), and a new post takes the place of the post shown longest,
 * in its slot. No other card moves, so the card someone is reading never jumps, and the grid never
 * reflows (slots are sized by the grid and `contain: strict`). Text size fits the length of the text
 * and the room in the card; what still does not fit is cut on a word boundary.
 */

import { STEP_MS } from "./pacing.js";
import { el, relativeTime, richText, safeImageUrl } from "./text.js";

/** {post source: display name}, as the server's connectors name their networks (body[data-networks]). */
const networks = new Map();
export function setNetworkNames(names) {
  networks.clear();
  for (const [source, name] of Object.entries(names || {})) {
    if (typeof name === "string") networks.set(source, name);
  }
}
const LANG = /^[A-Za-z]{2,3}(-[A-Za-z0-9]{1,8}){0,3}$/;
/** Text sizes, biggest first; a card starts at the one its length suggests and steps down to fit. */
const SIZES = ["xl", "l", "m", "s"];
const SIZE_PX = [64, 50, 40, 30]; // as in wall.css: used to guess the size that fits in one step
/** Longest text a card ever holds (code points): more cannot be read from 4 m in a post's dwell time. */
const MAX_CHARS = 480;
const RTL_LANGS = /^(ar|he|fa|ur|ps|yi|dv|ckb|sd|ug)(-|$)/i;
export const reducedMotion = matchMedia("(prefers-reduced-motion: reduce)");

function str(value) {
  return typeof value === "string" ? value : "";
}

/** The first size to try for a text of `length` code points. */
function sizeFor(length) {
  return length <= 60 ? 0 : length <= 130 ? 1 : length <= 240 ? 2 : 3;
}

/** Text cut to at most `max` code points on a word boundary, with an ellipsis when cut. */
export function cut(text, max) {
  if (text.length <= max) return text;
  const cps = Array.from(text.length > max * 4 ? text.slice(0, max * 4) : text);
  if (cps.length <= max) return cps.join("");
  const head = cps.slice(0, max).join("");
  const space = head.search(/\s\S*$/);
  return `${(space >= max * 0.5 ? head.slice(0, space) : head).replace(/[\s,.;:!?-]+$/u, "")}…`;
}

/** How long (ms) a post should stay: time to read it from a distance, within the wall's bounds. */
export function dwellMs(post, show) {
  const min = (show?.min_dwell ?? 6) * 1000;
  const max = (show?.max_dwell ?? 20) * 1000;
  const chars = Math.min(str(post?.text).length, MAX_CHARS);
  return Math.min(max, Math.max(min, min + (chars / 12) * 1000));
}

/** One card element and the parts of it that change per post. Built once, refilled many times. */
export class Card {
  constructor(className = "card") {
    this.el = el("article", className);
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
    this.pin = el("p", "card-pin", meta);
    this.pin.textContent = "Pinned";
    this.time = el("time", "card-time", meta);
    this.source = el("p", "card-source", meta);

    this.text = el("p", "card-text", body);
    this.text.dir = "auto"; // Arabic, Hebrew… lay out right to left on their own
    // The same post from other networks, folded into this card by the writer (docs/folding.md).
    this.also = el("p", "card-also", body);
    this.created = NaN;
    /** @type {any} */
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
    this.pin.hidden = post.pinned !== true;

    this.created = Date.parse(str(post.created_at));
    this.time.textContent = relativeTime(this.created, now);
    if (Number.isFinite(this.created)) this.time.dateTime = new Date(this.created).toISOString();
    else this.time.removeAttribute("datetime");
    const source = str(post.source);
    this.source.textContent = networks.get(source.toLowerCase()) || source;
    const copies = Array.isArray(post.copies) ? post.copies.map(str).filter(Boolean) : [];
    const also = [...new Set(copies.map((c) => networks.get(c.toLowerCase()) || c))]
      .filter((name) => name !== this.source.textContent);
    this.also.textContent = also.length ? `also on ${also.join(", ")}` : "";
    this.also.hidden = !also.length;

    if (typeof post.lang === "string" && LANG.test(post.lang)) {
      this.el.lang = post.lang;
      this.text.dir = RTL_LANGS.test(post.lang) ? "rtl" : "auto";
    } else {
      this.el.removeAttribute("lang");
      this.text.dir = "auto";
    }
    this.full = str(post.text);
    this.entities = Array.isArray(post.entities) ? post.entities : [];
    this.setText(MAX_CHARS);

    const media = Array.isArray(post.media) ? post.media : [];
    this.setMedia(media.find((m) => m && (m.kind ?? "image") === "image" && safeImageUrl(m.url)) || null);
    this.fit();
  }

  setText(max) {
    const { nodes, length } = richText(cut(this.full, max), this.entities);
    this.text.replaceChildren(...nodes);
    this.length = length;
    return length;
  }

  /**
   * Biggest text size that fits, then (at the smallest) cut on a word boundary until it fits. Only a
   * visible card can be measured; a hidden scene's cards are fitted when it comes on (Grid.refit).
   */
  fit() {
    if (this.text.textContent.length < this.length) this.setText(MAX_CHARS);
    let size = sizeFor(this.length);
    this.el.dataset.size = SIZES[size];
    this.el.classList.toggle("no-media", false);
    if (!this.el.isConnected || this.text.clientHeight === 0) return;
    for (let pass = 0; pass < 10; pass++) {
      const room = this.text.clientHeight;
      const need = this.text.scrollHeight;
      if (need <= room + 1) return;
      if (size < SIZES.length - 1) {
        // Text area grows with the square of the size: jump straight to the size that should fit.
        const target = SIZE_PX[size] * Math.sqrt(room / need) * 0.97;
        let next = size + 1;
        while (next < SIZES.length - 1 && SIZE_PX[next] > target) next++;
        size = next;
        this.el.dataset.size = SIZES[size];
      } else if (this.figure.hidden === false && !this.el.classList.contains("no-media")
                 && room < 3 * parseFloat(getComputedStyle(this.text).lineHeight)) {
        this.el.classList.add("no-media"); // a small card: the words matter more than the picture
      } else {
        this.setText(Math.max(20, Math.floor(this.length * (room / need) * 0.92)));
      }
    }
  }

  /** @param {{url: string, alt?: string} | null} media */
  setMedia(media) {
    this.el.classList.toggle("has-media", !!media);
    this.figure.hidden = !media;
    if (media) this.img.alt = str(media.alt); // the author's description, as the image's text
    else this.img.alt = "";
    setSrc(this.img, media ? sized(media.url, this.el.clientWidth || window.innerWidth / 3) : null);
  }

  /** Refresh "n min ago"; touches the DOM only when the words change. */
  tick(now) {
    const label = relativeTime(this.created, now);
    if (this.time.textContent !== label) this.time.textContent = label;
  }

  clear() {
    this.post = null;
    delete this.el.dataset.postId;
    this.el.hidden = true;
    setSrc(this.img, null);
    setSrc(this.avatar, null);
  }
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

/**
 * Times kept on the pacer's steps of the server clock: two screens filling a slot a few ms apart still
 * agree on which slot is due next (multi-screen walls stay one wall).
 */
const onStep = (t) => Math.round(t / STEP_MS) * STEP_MS;

/**
 * A fixed set of slots, each with one card. `since` and `dwell` say when a slot may take the next post.
 */
export class Grid {
  /**
   * @param {HTMLElement} root
   * @param {number} count
   * @param {{now: () => number, show: () => any, cardClass?: string}} options
   */
  constructor(root, count, { now, show, cardClass }) {
    this.root = root;
    // A grid coming on screen (its scene starts) or changing size fits its cards again.
    this.resize = new ResizeObserver(() => this.refit());
    this.resize.observe(root);
    this.now = now;
    this.show = show;
    this.slots = Array.from({ length: count }, (_, i) => {
      const slot = el("div", "slot", root);
      slot.dataset.slot = String(i);
      const card = new Card(cardClass);
      card.el.hidden = true;
      slot.append(card.el);
      return { card, since: 0, dwell: 0 };
    });
  }

  /** Ids shown here. */
  ids() {
    return this.slots.filter((s) => s.card.post).map((s) => s.card.post.id);
  }

  has(id) {
    return this.slots.some((s) => s.card.post?.id === id);
  }

  /**
   * The slot the next post goes to at server time `now`: an empty one, else the one shown longest whose
   * dwell is over (or, with `force`, the one shown longest); -1 when every post still needs its time.
   */
  next(now, force = false) {
    let best = -1;
    for (let i = 0; i < this.slots.length; i++) {
      const s = this.slots[i];
      if (!s.card.post) return i;
      if (!force && now - s.since < s.dwell) continue;
      if (best < 0 || s.since < this.slots[best].since) best = i;
    }
    return best;
  }

  /** The longest any slot has shown its post, ms (for "alive when quiet"). */
  idle(now) {
    return Math.min(...this.slots.map((s) => (s.card.post ? now - s.since : Infinity)));
  }

  /** Put `post` in slot `i`, fading it in; nothing else on the grid moves. */
  place(i, post, now) {
    const s = this.slots[i];
    s.card.el.hidden = false;
    s.card.fill(post, now);
    s.since = onStep(now);
    s.dwell = dwellMs(post, this.show());
    if (!reducedMotion.matches && !document.hidden && this.root.offsetParent !== null) {
      s.card.el.animate([{ opacity: 0, transform: "scale(.97)" }, { opacity: 1, transform: "none" }],
        { duration: 600, easing: "cubic-bezier(.2,.8,.2,1)" });
    }
  }

  /** Fill every slot with these posts (newest first), as when a scene comes on or a snapshot arrives. */
  fill(posts, now) {
    this.slots.forEach((s, i) => {
      const post = posts[i];
      if (!post) {
        s.card.clear();
        return;
      }
      s.card.el.hidden = false;
      s.card.fill(post, now);
      s.since = onStep(now) - i * 1000; // the last-filled slots are replaced first
      s.dwell = dwellMs(post, this.show());
    });
  }

  update(post) {
    for (const s of this.slots) if (s.card.post?.id === post.id) s.card.fill(post, this.now());
  }

  /** Take a post down; its slot stays in place, empty, until the next post takes it. */
  retract(id) {
    for (const s of this.slots) if (s.card.post?.id === id) s.card.clear();
  }

  refit() {
    for (const s of this.slots) if (s.card.post) s.card.fit();
  }

  tick(now) {
    for (const s of this.slots) if (s.card.post) s.card.tick(now);
  }
}

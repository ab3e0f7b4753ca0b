/**
 * Post text and URLs made safe to show: text is cut at its entity offsets into text nodes and spans,
 * never parsed as markup; image URLs are checked before any request is made.
 */

/**
 * The image URL when it is safe to load, else null. Only https: and same-origin paths: no
 * javascript:/data:, no protocol-relative "//host" (nor "/\host" or whitespace tricks that become it).
 * @param {unknown} url
 */
export function safeImageUrl(url) {
  if (typeof url !== "string" || url.length > 2048) return null;
  if (/[\u0000-\u0020\u007f\\]/.test(url)) return null;
  if (url.startsWith("https://")) return url;
  if (url.startsWith("/") && !url.startsWith("//")) return url;
  return null;
}

/** Whether a post may be shown: moderation status absent means approved. */
export function isVisible(post) {
  return !post.status || post.status === "approved";
}

/**
 * "just now", "5 min ago", "3 h ago", "yesterday", "4 days ago", then a date.
 * @param {number} then ms since the epoch
 * @param {number} now  ms since the epoch (the server's clock, see main.js)
 */
export function relativeTime(then, now) {
  if (!Number.isFinite(then)) return "";
  const s = Math.floor((now - then) / 1000);
  if (s < 60) return "just now"; // also a post "from the future" when clocks disagree
  const m = Math.floor(s / 60);
  if (m < 60) return `${m} min ago`;
  const h = Math.floor(m / 60);
  if (h < 24) return `${h} h ago`;
  const d = Math.floor(h / 24);
  if (d === 1) return "yesterday";
  if (d < 7) return `${d} days ago`;
  return dateFormat.format(then);
}
const dateFormat = new Intl.DateTimeFormat("en-GB", { day: "numeric", month: "short" });

/** Longest link shown, in characters: enough to recognise the site, short enough not to wrap twice. */
const LINK_CHARS = 30;
const ENTITY_KINDS = new Set(["hashtag", "mention", "link"]);

/**
 * "https://www.example.com/a/very/long/path" → "example.com/a/very/long/pa…". The kiosk cannot be clicked,
 * so a link is only something to read.
 * @param {string} url
 */
export function shortUrl(url) {
  const bare = Array.from(url.replace(/^[a-z][a-z0-9+.-]*:\/\//i, "").replace(/^www\./i, "").replace(/\/$/, ""));
  return bare.length > LINK_CHARS ? `${bare.slice(0, LINK_CHARS - 1).join("")}…` : bare.join("");
}

/**
 * The post text as text nodes and <span class="hashtag|mention|link">, cut at the entity offsets.
 * Offsets count Unicode code points (as Python does), so the text is sliced as an array of code
 * points, not UTF-16 units: an emoji before a hashtag must not shift it. Entities that overlap, fall
 * outside the text or have an unknown kind are left as plain text.
 * @param {string} text
 * @param {unknown[]} entities
 * @returns {{nodes: (string | HTMLElement)[], length: number}} length: code points shown
 */
export function richText(text, entities) {
  const cps = Array.from(text);
  const spans = entities
    .filter((e) => e && ENTITY_KINDS.has(e.kind) && Number.isInteger(e.start) && Number.isInteger(e.end)
      && e.start >= 0 && e.start < e.end && e.end <= cps.length)
    .sort((a, b) => a.start - b.start);
  const nodes = [];
  let at = 0;
  let length = 0;
  for (const e of spans) {
    if (e.start < at) continue;
    if (e.start > at) nodes.push(cps.slice(at, e.start).join(""));
    const span = el("span", e.kind);
    const shown = cps.slice(e.start, e.end).join("");
    if (e.kind === "link") {
      span.textContent = shortUrl(typeof e.value === "string" && e.value ? e.value : shown);
      span.dir = "ltr"; // a URL reads left to right even inside Arabic or Hebrew text
    } else {
      span.textContent = shown;
      span.dir = "auto"; // keeps "@name" whole in RTL text (not "name@"); "#وسم" stays RTL
    }
    length += (e.start - at) + Array.from(span.textContent).length;
    nodes.push(span);
    at = e.end;
  }
  if (at < cps.length) nodes.push(cps.slice(at).join(""));
  return { nodes, length: length + cps.length - at };
}

/** Build an element with a class; the only way the page makes nodes. */
export function el(tag, className, parent) {
  const node = document.createElement(tag);
  if (className) node.className = className;
  parent?.append(node);
  return node;
}

/** The post's hashtags (lowercase, without '#'), from its entities. */
export function hashtagsOf(post) {
  const out = [];
  for (const e of Array.isArray(post?.entities) ? post.entities : []) {
    if (e && e.kind === "hashtag" && typeof e.value === "string" && e.value) out.push(e.value.toLowerCase());
  }
  return out;
}

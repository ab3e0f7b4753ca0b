/**
 * The live queue: rows built with createElement/textContent only (post text, authors and URLs are
 * internet data), actions with the row's version so a stale decision is refused, bulk select, and
 * email-client shortcuts.
 */

import { el, get, post, toast } from "./api.js";
import { showControl } from "./control.js";
import { follow } from "./socket.js";
import { relativeTime, safeImageUrl } from "../text.js";

const wall = document.body.dataset.wall ?? "";
/** {post source: display name}, as the server's connectors name their networks. */
const networks = (() => {
  try {
    const names = JSON.parse(document.body.dataset.networks || "{}");
    return names && typeof names === "object" ? names : {};
  } catch {
    return {};
  }
})();
const api = `/console/api/w/${encodeURIComponent(wall)}`;
const list = /** @type {HTMLOListElement} */ (document.querySelector(".queue"));
const empty = document.querySelector(".queue-empty");
const bulkBar = /** @type {HTMLElement} */ (document.querySelector(".bulk"));
const stateEl = document.querySelector(".live-state");
const search = /** @type {HTMLFormElement} */ (document.querySelector(".search"));
const help = /** @type {HTMLDialogElement} */ (document.querySelector("dialog.help"));
const MAX_ROWS = 300;

/** @type {Map<string, {item: any, row: HTMLLIElement}>} */
const rows = new Map();
const selected = new Set();
let current = -1;
let filter = { q: "", status: "" };

const str = (v) => (typeof v === "string" ? v : v === null || v === undefined ? "" : String(v));

/** A link only for http(s) URLs: a "javascript:" URL in a post never becomes a link. */
function safeLink(url) {
  if (typeof url !== "string" || url.length > 2048) return null;
  try {
    const u = new URL(url);
    return u.protocol === "https:" || u.protocol === "http:" ? u.href : null;
  } catch {
    return null;
  }
}

function spotSeconds() {
  const v = Number(/** @type {HTMLSelectElement|null} */ (document.querySelector("select.spot-seconds"))?.value);
  return Number.isFinite(v) && v > 0 ? v : 30;
}

function authorKey(item) {
  const p = item.post ?? {};
  return typeof item.author === "string" && item.author ? item.author : `${str(p.source)}:${str(p.author?.handle || p.author?.name)}`;
}

/** @param {any} item */
function build(item) {
  const p = item.post ?? {};
  const row = /** @type {HTMLLIElement} */ (el("li", "item"));
  row.dataset.id = str(p.id);
  row.tabIndex = -1;
  const head = el("div", "item-head", row);
  const pick = /** @type {HTMLInputElement} */ (el("input", "pick", head));
  pick.type = "checkbox";
  pick.setAttribute("aria-label", "select");
  pick.addEventListener("change", () => toggleSelect(str(p.id), pick.checked));
  el("span", "status", head);
  const source = str(p.source);
  el("span", "source", head, typeof networks[source] === "string" ? networks[source] : source);
  const author = el("span", "author", head);
  el("span", "author-name", author, p.author?.name);
  if (p.author?.handle) el("span", "author-handle", author, `@${p.author.handle}`);
  el("span", "lang", head, p.lang);
  el("span", "sentiment", head);
  el("time", "when", head);
  el("span", "decided", head);
  el("ul", "flags", row);
  const text = el("p", "text", row, p.text);
  text.dir = "auto";
  const thumbs = el("div", "thumbs", row);
  for (const m of Array.isArray(p.media) ? p.media.slice(0, 4) : []) {
    // Same-origin only: the server hands out /media/ URLs (docs/media.md); an original is never fetched.
    const src = safeImageUrl(m?.url);
    if (!src || !src.startsWith("/")) continue;
    const img = /** @type {HTMLImageElement} */ (el("img", "thumb", thumbs));
    img.loading = "lazy";
    img.alt = str(m.alt);
    img.addEventListener("error", () => img.remove(), { once: true });  // refused upstream: no broken icon
    img.src = src.startsWith("/media/") ? `${src}?w=480` : src;
  }
  const href = safeLink(p.url);
  if (href) {
    const a = /** @type {HTMLAnchorElement} */ (el("a", "original", row, href));
    a.href = href;
    a.rel = "noopener noreferrer";
    a.target = "_blank";
  }
  const acts = el("div", "actions", row);
  const button = (label, cls, fn) => {
    const b = el("button", cls, acts, label);
    b.type = "button";
    b.addEventListener("click", fn);
    return b;
  };
  button("Approve", "approve", () => act(str(p.id), "approve"));
  // A copy folded into another network's card: approving it makes it a card of its own (docs/folding.md).
  button("Unfold", "unfold", () => act(str(p.id), "approve"));
  button("Reject", "reject", () => act(str(p.id), "reject"));
  button("Hide", "hide", () => act(str(p.id), rows.get(str(p.id))?.item.status === "hidden" ? "unhide" : "hide"));
  button("Pin", "pin", () => act(str(p.id), rows.get(str(p.id))?.item.pinned ? "unpin" : "pin"));
  button("Spotlight", "spotlight", () => act(str(p.id), "spotlight"));
  button("Ban author", "ban danger", () => banAuthor(str(p.id)));
  const label = /** @type {HTMLSelectElement} */ (el("select", "label", acts));
  label.setAttribute("aria-label", "correct sentiment");
  for (const v of ["", "positive", "neutral", "negative"]) {
    const o = /** @type {HTMLOptionElement} */ (el("option", "", label, v || "sentiment…"));
    o.value = v;
  }
  label.addEventListener("change", () => label.value && correct(str(p.id), label.value));
  row.addEventListener("click", (ev) => {
    if (!(ev.target instanceof HTMLButtonElement || ev.target instanceof HTMLInputElement)) focusRow(row);
  });
  return row;
}

/** Fill a row's changing parts from its item. */
function paint(row, item) {
  const p = item.post ?? {};
  const status = str(item.status) || "approved";
  row.dataset.status = status;
  row.classList.toggle("pinned", !!item.pinned);
  const folded = !!item.folded_into && !item.decided_by;
  row.querySelector(".status").textContent = item.pinned ? `${status} · pinned` : folded ? `${status} · folded` : status;
  row.querySelector("button.unfold").hidden = !folded;
  const s = p.sentiment;
  const label = str(item.sentiment_label) || str(s?.label);
  row.querySelector(".sentiment").textContent = label ? `${label}${s && typeof s.score === "number" ? ` ${s.score.toFixed(2)}` : ""}` : "not scored";
  const created = Date.parse(str(p.created_at));
  row.querySelector(".when").textContent = relativeTime(created, Date.now());
  row.querySelector(".decided").textContent = item.decided_by ? `by ${item.decided_by}` : "";
  row.querySelector("button.hide").textContent = status === "hidden" ? "Unhide" : "Hide";
  row.querySelector("button.pin").textContent = item.pinned ? "Unpin" : "Pin";
  const flags = row.querySelector(".flags");
  flags.replaceChildren();
  const all = [...(Array.isArray(item.flags) ? item.flags : []), ...(Array.isArray(p.flags) ? p.flags : [])];
  for (const f of new Set(all.map(str))) el("li", "flag", flags, f);
}

/** Add or update a post from the API or the socket; newest first. @param {any} item @param {boolean} top */
function upsert(item, top = true) {
  const id = str(item?.post?.id);
  if (!id) return;
  const found = rows.get(id);
  if (found) {
    found.item = { ...found.item, ...item, post: { ...found.item.post, ...item.post } };
    paint(found.row, found.item);
    return;
  }
  const row = build(item);
  paint(row, item);
  rows.set(id, { item, row });
  if (top) list.prepend(row);
  else list.append(row);
  while (rows.size > MAX_ROWS) {
    const last = /** @type {HTMLLIElement} */ (list.lastElementChild);
    rows.delete(str(last.dataset.id));
    last.remove();
  }
  if (empty) empty.hidden = rows.size > 0;
}

/** A decision-only frame ({post_id, status, version, ...}): merge it into the row. */
function merge(change) {
  const found = rows.get(str(change.post_id));
  if (!found) return;
  found.item = { ...found.item, ...change };
  paint(found.row, found.item);
}

async function load() {
  const params = new URLSearchParams();
  if (filter.q) params.set("q", filter.q);
  if (filter.status) params.set("status", filter.status);
  const r = await get(`${api}/queue?${params}`);
  if (!r.ok) return toast(r.data.error ?? `cannot load the queue (${r.status})`, true);
  const focused = list.children[current]?.getAttribute("data-id");
  selected.clear(); // a selection is of rows on screen: a reload starts afresh
  bulkBar.hidden = true;
  rows.clear();
  list.replaceChildren();
  for (const item of r.data.items ?? []) upsert(item, false);
  if (empty) empty.hidden = rows.size > 0;
  const again = focused ? [...list.children].findIndex((c) => c.getAttribute("data-id") === focused) : -1;
  current = again;
  if (again >= 0) list.children[again].classList.add("current");
}

function remember(result) {
  if (result && typeof result === "object" && result.post_id) merge(result);
}

async function act(id, action) {
  const found = rows.get(id);
  if (!found) return;
  const body = { post_id: id, action, expected_version: found.item.version ?? 0 };
  if (action === "spotlight") body.seconds = spotSeconds();
  const r = await post(`${api}/decide`, body);
  if (r.ok) {
    remember(r.data.result);
    toast(`${action} ✓`);
  } else {
    if (r.status === 409 && r.data.current) merge({ post_id: id, ...r.data.current });
    toast(r.data.error ?? `${action} failed (${r.status})`, true);
  }
}

async function banAuthor(id) {
  const found = rows.get(id);
  if (!found) return;
  const author = authorKey(found.item);
  if (!confirm(`Ban ${author} from this wall? Their posts are retracted everywhere.`)) return;
  const r = await post(`${api}/ban`, { author });
  toast(r.ok ? `banned ${author}` : r.data.error ?? `ban failed (${r.status})`, !r.ok);
}

async function correct(id, label) {
  const r = await post(`${api}/sentiment`, { post_id: id, label });
  if (r.ok) remember(r.data.result);
  toast(r.ok ? `labelled ${label}` : r.data.error ?? `failed (${r.status})`, !r.ok);
}

function toggleSelect(id, on) {
  if (on) selected.add(id);
  else selected.delete(id);
  const row = rows.get(id)?.row;
  if (row) {
    row.classList.toggle("selected", on);
    /** @type {HTMLInputElement} */ (row.querySelector(".pick")).checked = on;
  }
  bulkBar.hidden = selected.size === 0;
  bulkBar.querySelector(".bulk-count").textContent = `${selected.size} selected`;
}

async function bulk(action) {
  if (action === "clear") {
    for (const id of [...selected]) toggleSelect(id, false);
    return;
  }
  const items = [...selected].map((id) => ({ post_id: id, expected_version: rows.get(id)?.item.version ?? 0 }));
  const r = await post(`${api}/bulk`, { action, items });
  const failed = (r.data.results ?? []).filter((x) => !x.ok);
  for (const x of r.data.results ?? []) if (x.ok) remember(x.result);
  if (!r.ok && !r.data.results) toast(r.data.error ?? `bulk ${action} failed (${r.status})`, true);
  else if (failed.length) toast(`${items.length - failed.length} done; ${failed.map((x) => x.error).join("; ")}`, true);
  else toast(`${action}: ${items.length} posts ✓`);
  for (const id of [...selected]) toggleSelect(id, false);
}

function focusRow(row) {
  const index = [...list.children].indexOf(row);
  if (index < 0) return;
  list.children[current]?.classList.remove("current");
  current = index;
  row.classList.add("current");
  row.focus({ preventScroll: true });
  row.scrollIntoView({ block: "nearest" });
}

function move(step) {
  const n = list.children.length;
  if (!n) return;
  const next = Math.max(0, Math.min(n - 1, current + step));
  focusRow(/** @type {HTMLLIElement} */ (list.children[next]));
}

function currentId() {
  return list.children[current]?.getAttribute("data-id") ?? null;
}

document.addEventListener("keydown", (ev) => {
  const t = ev.target;
  if (ev.ctrlKey || ev.metaKey || ev.altKey) return;
  if (t instanceof HTMLInputElement || t instanceof HTMLTextAreaElement || t instanceof HTMLSelectElement) return;
  if (help.open) return;
  const id = currentId();
  const item = id ? rows.get(id)?.item : null;
  const keys = {
    j: () => move(1),
    k: () => move(-1),
    a: () => id && act(id, "approve"),
    r: () => id && act(id, "reject"),
    h: () => id && act(id, item?.status === "hidden" ? "unhide" : "hide"),
    s: () => id && act(id, "spotlight"),
    p: () => id && act(id, item?.pinned ? "unpin" : "pin"),
    x: () => id && toggleSelect(id, !selected.has(id)),
    "/": () => search.querySelector("input")?.focus(),
    "?": () => help.showModal(),
  };
  const fn = keys[ev.key];
  if (fn) {
    ev.preventDefault();
    fn();
  }
});

search.addEventListener("submit", (ev) => {
  ev.preventDefault();
  const data = new FormData(search);
  filter = { q: str(data.get("q")).trim(), status: str(data.get("status")) };
  load();
});
for (const b of bulkBar.querySelectorAll("button[data-bulk]")) {
  b.addEventListener("click", () => bulk(str(/** @type {HTMLElement} */ (b).dataset.bulk)));
}
document.querySelector(".help-open")?.addEventListener("click", () => help.showModal());

/** Spike alerts of the wall's live figures, in plain words (text only). */
function showAlerts(alerts) {
  const box = document.querySelector(".spike-alert");
  if (!box) return;
  const list = Array.isArray(alerts) ? alerts : [];
  const say = (a) => a?.kind === "volume"
    ? `Spike: ${Number(a.count) || 0} posts this minute (usually ${Math.round(Number(a.baseline) || 0)})`
    : a?.kind === "negative"
      ? `Negative wave: ${Math.round((Number(a.share) || 0) * 100)} % of this minute's posts are negative`
      : "";
  box.textContent = list.map(say).filter(Boolean).join(" · ");
  box.hidden = box.textContent === "";
}

get(`${api}/control`).then((r) => r.ok && showControl(document.querySelector(".control-state"), r.data));

follow(`/console/w/${encodeURIComponent(wall)}/ws`, {
  onOpen: load,
  onState: (s) => {
    if (stateEl) {
      stateEl.setAttribute("data-state", s);
      stateEl.textContent = s;
    }
  },
  onItem: (item) => {
    if (item?.type === "resync") return load();
    if (item?.type === "control") return showControl(document.querySelector(".control-state"), item);
    if (item?.type === "alerts") return showAlerts(item.alerts);
    if (filter.q || filter.status) return; // a search result list stays as searched
    if (item?.post) upsert(item, true);
    else if (item?.post_id) merge(item);
  },
});

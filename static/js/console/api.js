/**
 * The console's requests: JSON in and out, with the session's CSRF token on every state change.
 * The token comes from <meta name="csrf-token">; the session cookie itself is HttpOnly.
 */

const csrf = document.querySelector('meta[name="csrf-token"]')?.getAttribute("content") ?? "";

/**
 * POST JSON; resolves to {ok, status, data} and never throws on an HTTP error.
 * @param {string} url
 * @param {unknown} body
 */
export async function post(url, body) {
  try {
    const r = await fetch(url, {
      method: "POST",
      credentials: "same-origin",
      headers: { "Content-Type": "application/json", "X-CSRF-Token": csrf },
      body: JSON.stringify(body),
    });
    return { ok: r.ok, status: r.status, data: await r.json().catch(() => ({})) };
  } catch (e) {
    return { ok: false, status: 0, data: { error: "the server cannot be reached; try again" } };
  }
}

/** GET JSON; resolves to {ok, status, data}. @param {string} url */
export async function get(url) {
  try {
    const r = await fetch(url, { credentials: "same-origin", headers: { Accept: "application/json" } });
    return { ok: r.ok, status: r.status, data: await r.json().catch(() => ({})) };
  } catch (e) {
    return { ok: false, status: 0, data: { error: "the server cannot be reached" } };
  }
}

let toastTimer = 0;

/** A short message at the bottom of the screen (as text). @param {string} text @param {boolean} [bad] */
export function toast(text, bad = false) {
  const el = document.querySelector(".toast");
  if (!el) return;
  el.textContent = text;
  el.classList.toggle("bad", bad);
  el.hidden = false;
  clearTimeout(toastTimer);
  toastTimer = setTimeout(() => { el.hidden = true; }, bad ? 6000 : 2500);
}

/** An element with a class (and optional text), appended to a parent when given. */
export function el(tag, className, parent, text) {
  const node = document.createElement(tag);
  if (className) node.className = className;
  if (text !== undefined && text !== null) node.textContent = String(text);
  if (parent) parent.append(node);
  return node;
}

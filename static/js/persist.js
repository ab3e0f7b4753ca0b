/**
 * The last content, kept for a kiosk that reboots while the server is down: the newest posts, figures,
 * control and config go to localStorage (throttled), and come back before the socket says anything.
 * The service worker (sw.js) keeps the page shell and its files; together they show the last content
 * instead of an error page.
 */

const SAVE_EVERY_MS = 10_000;
const POSTS = 40;

export class Persist {
  /** @param {string} wall */
  constructor(wall) {
    this.key = `wall.last.${wall}`;
    this.timer = 0;
    this.pending = null;
  }

  /** @returns {any | null} a snapshot-shaped object, or null */
  restore() {
    try {
      const raw = localStorage.getItem(this.key);
      const data = raw ? JSON.parse(raw) : null;
      return data && Array.isArray(data.posts) ? data : null;
    } catch {
      return null;
    }
  }

  /** Save the store soon (at most every 10 s: a busy wall must not write storage per post). */
  save(store) {
    this.pending = store;
    if (this.timer) return;
    this.timer = setTimeout(() => this.flush(), SAVE_EVERY_MS);
  }

  flush() {
    clearTimeout(this.timer);
    this.timer = 0;
    const store = this.pending;
    if (!store) return;
    this.pending = null;
    const data = { type: "snapshot", posts: store.newest(POSTS), stats: store.stats, trends: store.trends, control: store.control,
      config: store.config, saved_at: Date.now() };
    try {
      localStorage.setItem(this.key, JSON.stringify(data));
    } catch {
      // storage full or disabled: the live wall does not depend on it
    }
  }
}

/**
 * Register the offline shell, scoped to this wall's page. Service workers need a secure context:
 * https, or localhost; a kiosk on plain http over a LAN needs Chromium's
 * --unsafely-treat-insecure-origin-as-secure=<origin> (docs/page.md).
 * @param {string} base    "/w/lobby"
 * @param {string} version
 */
export async function registerShell(base, version) {
  if (!("serviceWorker" in navigator) || !window.isSecureContext) return;
  try {
    const reg = await navigator.serviceWorker.register(`${base}/sw.js?v=${encodeURIComponent(version)}`,
      { scope: base });
    const ready = await navigator.serviceWorker.ready;
    // The files this page already loaded (before the worker existed) go into its cache now.
    const urls = performance.getEntriesByType("resource").map((e) => e.name)
      .filter((u) => u.startsWith(location.origin) && !u.includes("/ws"));
    (ready.active || reg.active)?.postMessage({ type: "cache", urls: [location.href, ...urls] });
    document.body.dataset.shell = "ready";
  } catch (err) {
    console.warn("wall: no offline shell", err);
  }
}

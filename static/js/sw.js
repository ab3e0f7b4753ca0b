/**
 * The wall's offline shell (served as /w/{wall}/sw.js, scope /w/{wall}). A kiosk that reboots while the
 * server is down still gets the page, its files and (from localStorage, persist.js) the last content,
 * instead of Chromium's error page. Pages: network first, the cached copy when the server does not
 * answer. Content-addressed static files: cache first (they never change under their URL). Images:
 * cached as they are shown, bounded. Nothing else is touched (the socket, the API).
 */

const VERSION = new URL(self.location.href).searchParams.get("v") || "0";
const SCOPE = new URL(self.registration.scope).pathname;
const PREFIX = `wall-shell:${SCOPE}:`;
const CACHE = PREFIX + VERSION;
const MAX_IMAGES = 150;
const PAGE_TIMEOUT_MS = 4000;

self.addEventListener("install", (event) => {
  event.waitUntil(caches.open(CACHE).then((c) => c.add(SCOPE)).catch(() => undefined).then(() => self.skipWaiting()));
});

self.addEventListener("activate", (event) => {
  event.waitUntil((async () => {
    for (const key of await caches.keys()) if (key.startsWith(PREFIX) && key !== CACHE) await caches.delete(key);
    await self.clients.claim();
  })());
});

self.addEventListener("message", (event) => {
  const urls = Array.isArray(event.data?.urls) ? event.data.urls : [];
  if (event.data?.type !== "cache") return;
  event.waitUntil(caches.open(CACHE).then((c) => Promise.all(urls
    .filter((u) => typeof u === "string" && new URL(u).origin === self.location.origin)
    .map((u) => c.match(u).then((hit) => hit || c.add(u)).catch(() => undefined)))));
});

self.addEventListener("fetch", (event) => {
  const req = event.request;
  const url = new URL(req.url);
  if (req.method !== "GET" || url.origin !== self.location.origin) return;
  if (req.mode === "navigate") return event.respondWith(page(req));
  if (url.pathname.startsWith("/static/")) return event.respondWith(cacheFirst(req));
  if (/^\/(media|demo\/media)\/|\/qr\.svg$/.test(url.pathname)) return event.respondWith(image(req));
});

async function page(req) {
  const cache = await caches.open(CACHE);
  try {
    const res = await Promise.race([fetch(req), new Promise((_, no) => setTimeout(() => no(new Error("slow")), PAGE_TIMEOUT_MS))]);
    if (res.ok) await cache.put(req, res.clone());
    return res;
  } catch {
    return (await cache.match(req)) || (await cache.match(req, { ignoreSearch: true })) || (await cache.match(SCOPE))
      || new Response("The wall server cannot be reached; retrying.", { status: 503, headers: { "Content-Type": "text/plain" } });
  }
}

async function cacheFirst(req) {
  const cache = await caches.open(CACHE);
  const hit = await cache.match(req);
  if (hit) return hit;
  const res = await fetch(req);
  if (res.ok) await cache.put(req, res.clone());
  return res;
}

async function image(req) {
  const cache = await caches.open(CACHE);
  try {
    const res = await fetch(req);
    if (res.ok) {
      await cache.put(req, res.clone());
      const keys = (await cache.keys()).filter((k) => /\/(media|demo\/media)\//.test(k.url));
      for (const k of keys.slice(0, Math.max(0, keys.length - MAX_IMAGES))) await cache.delete(k);
    }
    return res;
  } catch {
    return (await cache.match(req)) || Response.error();
  }
}

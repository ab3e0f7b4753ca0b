/**
 * Mounts the wall page: configuration from <body data-*> (the CSP allows no inline script), the store fed
 * by the socket, the clock, the scenes and their views, the pacer. Views render parts of the store's
 * state; nothing else reads socket frames. Also the page's only periodic work, paused while hidden.
 */

import { WallSocket } from "./socket.js";
import { Store } from "./store.js";
import { Clock } from "./clock.js";
import { Grid, setNetworkNames } from "./cards.js";
import { Pacer } from "./pacing.js";
import { PanelSet, AlertBar } from "./panels.js";
import { TrendSet } from "./trends.js";
import { PollView } from "./poll.js";
import { Director, SCENES } from "./scenes.js";
import { Overlays } from "./overlays.js";
import { StageWidgets } from "./stage.js";
import { applyTheme } from "./theme.js";
import { Persist, registerShell } from "./persist.js";
import { StatusIndicator } from "./status.js";
import { ShownLog, screenId } from "./shown.js";
import { QaView } from "./qa.js";
import { Meter } from "./meter.js";
import { WordCloud, countWords } from "./cloud.js";
import { Leaderboard } from "./leaders.js";

/** "2 min ago" changes at most once a minute; twice a minute keeps it at most 30 s behind. */
const TICK_MS = 30_000;
/** Burn-in: every few minutes the whole screen moves by one design pixel, around a 4×3 px box. */
const SHIFT_MS = 5 * 60_000;
/** Featured post in the agora scene: changes on this rhythm, on the server clock (all screens alike). */
const FEATURE_MS = 15_000;
/** The word cloud is laid out again at most this often (its words glide for 800 ms). */
const CLOUD_MS = 2000;
/** The reaction meter's gauge is sampled and drawn this often. */
const METER_MS = 500;

const body = document.body;
const q = (s) => /** @type {HTMLElement} */ (body.querySelector(s));
const data = body.dataset;
const of = clampInt(data.of, 1, 16, 1);
const cfg = {
  wall: data.wall || "",
  title: data.title || "",
  version: data.version || "",
  wsPath: data.wsPath || "",
  base: data.base || "",
  screen: clampInt(data.screen, 1, of, 1),
  of,
  bezel: clampInt(data.bezel, 0, 400, 0),
};

const clock = new Clock();
const store = new Store();
const persist = new Persist(cfg.wall);
const show = () => store.config?.show;
const now = () => clock.now();

// Multi-screen: the stage is n screens wide (plus the bezels), each screen shows its own part of it.
const root = document.documentElement;
root.style.setProperty("--of", String(cfg.of));
root.style.setProperty("--screen-index", String(cfg.screen - 1));
root.style.setProperty("--bezel", String(cfg.bezel));

const grids = {
  agora: new Grid(q(".agora-feed"), 4 * cfg.of, { now, show }),
  mosaic: new Grid(q(".mosaic-grid"), 6 * cfg.of, { now, show }),
  spotlight: new Grid(q(".spotlight-stage"), 1, { now, show, cardClass: "card card-big" }),
  ticker: new Grid(q(".ticker-post"), 1, { now, show, cardClass: "card card-ticker" }),
};
const featured = new Grid(q(".agora-featured"), cfg.of, { now, show, cardClass: "card card-featured" });
const brand = () => (typeof store.config?.theme?.brand === "string" && store.config.theme.brand) || cfg.title;
const panelSets = [
  new PanelSet(q(".agora-panels"), ["sentiment", "volume", "trending", "voice"], brand),
  new PanelSet(q(".stats-panels"), ["figures", "sentiment", "volume", "trending", "voice", "top"], brand),
];
// Beside them, the figures against the wall's past: absent until the wall has the history to compare with.
const trendSets = [
  new TrendSet(q(".agora-panels"), ["today"], brand),
  new TrendSet(q(".stats-panels"), ["today", "sentiment-week", "volume-month", "voice-weeks"], brand),
];
const alerts = new AlertBar(q(".stats-alerts"));
const rate = q('[data-stat="per_minute"]');
const tickerRate = q(".ticker-rate");
const logo = /** @type {HTMLImageElement} */ (q(".band-logo"));
const cta = q(".cta");
const ctaQr = /** @type {HTMLImageElement} */ (q(".cta-qr"));
const ctaText = q(".cta-text");

const meter = new Meter({ scene: q(".scene-meter"), overlay: q(".meter-overlay"), now,
  seconds: () => Number(show()?.meter_seconds) || 10 });
const cloud = new WordCloud(q(".cloud-stage"), brand);
const leaders = new Leaderboard(q(".scene-leaders"), () => show()?.leaderboard === true);

const overlays = new Overlays({ clock, body });
const stage = new StageWidgets({ clock, body, qrSrc: `${cfg.base}/qr.svg` });
const pacer = new Pacer({ clock, store, onSummary: (s) => overlays.summary(s), beforeStep: () => director.plan() });
const director = new Director({
  clock, store, pinned: data.pinnedScene || "",
  onScene(scene) {
    body.dataset.scene = scene;
    const grid = grids[scene] ?? null;
    pacer.target(grid);
    pacer.beside = scene === "agora" ? featured : null;
    // A scene change is a change of the whole screen anyway: its grid starts from the newest posts.
    if (grid) grid.fill(shown(grid.slots.length), now());
    if (grid) grid.refit();
    if (scene === "agora") featureNext(true);
    meter.show(scene === "meter", store.control?.meter === true);
    if (scene === "cloud") updateCloud();
  },
});

// ---- the store's state, rendered ----
let nextSeq = null;
store.on("posts", (posts) => {
  pacer.queue = [];
  const grid = grids[director.scene];
  grid?.fill(posts, now());
  featureNext(true);
  hasPosts();
  overlays.fresh(store.latestAt);
  persist.save(store);
});
store.on("post", (post) => {
  meter.post(post);
  cloudSoon();
  pacer.push(post, lastEventAt || now());
  hasPosts();
  overlays.fresh(store.latestAt);
  persist.save(store);
});
store.on("update", (post) => {
  pacer.update(post);
  for (const g of [...Object.values(grids), featured]) g.update(post);
  persist.save(store);
});
store.on("retract", (id) => {
  pacer.remove(id);
  for (const g of [...Object.values(grids), featured]) g.retract(id);
  const spot = store.control?.spotlight;
  if (spot && spot.id === id) overlays.control({ ...store.control, spotlight: null });
  hasPosts();
  persist.save(store);
});
store.on("stats", (stats) => {
  for (const set of panelSets) set.show(stats);
  leaders.show(stats);
  cloudSoon();
  alerts.show(stats);
  const pm = Number.isFinite(stats.per_minute) ? new Intl.NumberFormat("en-US").format(stats.per_minute) : "";
  q(".band-stats").hidden = !pm;
  rate.textContent = pm || "–";
  tickerRate.textContent = pm ? `${pm} posts / min` : "";
  persist.save(store);
});
const pollView = new PollView(q(".scene-poll"));
store.on("poll", (poll) => pollView.show(poll));
store.on("trends", (trends) => {
  for (const set of trendSets) set.show(trends);
  persist.save(store);
});
const qaView = new QaView(q(".scene-qa"));
qaView.show(null);
store.on("control", (c) => {
  overlays.control(c);
  stage.control(c);
  qaView.show(c?.question ?? null);
  meter.show(director.scene === "meter", c?.meter === true);
  pacer.paused = c?.paused === true;
  const seq = Number.isInteger(c?.next_seq) ? c.next_seq : null;
  if (seq !== null && nextSeq !== null && seq > nextSeq) pacer.advance();
  nextSeq = seq;
  director.plan();
  persist.save(store);
});
store.on("config", (config) => {
  applyTheme(config.theme, logo);
  const s = config.show ?? {};
  const ctaLine = typeof s.call_to_action === "string" ? s.call_to_action : "";
  ctaText.textContent = ctaLine;
  ctaQr.hidden = !s.qr_url;
  if (s.qr_url) ctaQr.src = `${cfg.base}/qr.svg`;
  cta.hidden = !ctaLine && !s.qr_url;
  overlays.setNight(config.night);
  stage.config(config);
  if (store.stats) leaders.show(store.stats);
  director.plan();
  persist.save(store);
});

/** The word cloud, from the figures and the posts of the last `show.cloud_minutes`; only while it is on. */
function updateCloud() {
  const minutes = Number(show()?.cloud_minutes) || 15;
  cloud.show(countWords(store.newest(), store.stats, now() - minutes * 60_000));
}

/** At most one cloud update every CLOUD_MS, so a burst of posts is one relayout, not fifty. */
let cloudCancel = null;
function cloudSoon() {
  if (director.scene !== "cloud" || cloudCancel) return;
  cloudCancel = clock.at(now() + CLOUD_MS, () => {
    cloudCancel = null;
    if (director.scene === "cloud") updateCloud();
  });
}

/** The newest posts already let out of the queue (a paused wall shows nothing it has not released). */
function shown(limit) {
  const held = new Set(pacer.queue.map((q) => q.post.id));
  return store.newest(limit + held.size).filter((p) => !held.has(p.id)).slice(0, limit);
}

function hasPosts() {
  body.classList.toggle("has-cards", store.posts.size > 0);
}

/** The agora's featured post(s): pinned first, then the best recent, in turn on the server clock. */
let featureCancel = null;
function featureNext(fill = false) {
  featureCancel?.();
  featureCancel = null;
  if (director.scene !== "agora") return; // only the agora scene shows it
  const t = Math.round(now() / 1000) * 1000;
  if (fill || featured.idle(t) >= FEATURE_MS - 50) {
    for (let i = 0; i < featured.slots.length; i++) {
      // Same pick on every screen (it goes by the server clock); never a post the feed beside it shows.
      const post = pacer.pick(featured, t, grids.agora);
      if (post) featured.place(i, post, t);
    }
  }
  // An empty featured slot (a wall just started) looks again every second, on the server clock too.
  const empty = featured.slots.some((slot) => !slot.card.post);
  const period = empty ? 1000 : FEATURE_MS;
  featureCancel = clock.at(Math.floor(t / period) * period + period, () => featureNext(empty));
}

/**
 * The posts on this screen now, for the display log: cards shown and inside this screen's part of the
 * stage (a wall of n screens lays out every card on each), only the spotlight's while it covers the
 * scene, none behind the panic or night slide (their CSS hides the viewport) or while the page is hidden.
 */
function onScreen() {
  if (document.hidden) return [];
  const scope = body.dataset.spotlight === "true" ? q(".spotlight-overlay") : body;
  const ids = new Set();
  for (const card of scope.querySelectorAll(".card[data-post-id]:not([hidden])")) {
    // checkVisibility: Chromium 105+; before it, offsetParent says whether a display:none hides it.
    if (!(card.checkVisibility ? card.checkVisibility() : /** @type {HTMLElement} */ (card).offsetParent)) continue;
    const r = card.getBoundingClientRect();
    if (r.width > 0 && r.height > 0 && r.right > 0 && r.bottom > 0 && r.left < innerWidth && r.top < innerHeight) {
      ids.add(/** @type {HTMLElement} */ (card).dataset.postId);
    }
  }
  return [...ids];
}

// ---- the socket ----
let lastEventAt = 0;
const socket = new WallSocket(socketUrl(cfg.wsPath), cfg.version, {
  welcome(msg) {
    clock.rough(msg.server_time);
    clock.sync((m) => socket.send(m));
    if (msg.config) store.setConfig(msg.config);
    if (!document.hidden) status.startClock();
  },
  answer(msg) {
    shownLog.answer(msg);
  },
  time(msg) {
    clock.pong(msg);
    director.plan(); // the offset moved: re-arm the next switch on the better clock
  },
  snapshot(msg) {
    store.snapshot(msg);
  },
  event(msg) {
    const ms = Number(/^(\d+)-/.exec(String(msg.id))?.[1]);
    lastEventAt = Number.isFinite(ms) ? ms : now();
    store.event(msg, lastEventAt);
  },
  state(state, lastId) {
    // Read-only hooks for tests and for whoever looks at a screen with devtools.
    data.state = state;
    if (lastId) data.lastId = lastId;
    else delete data.lastId;
    status.set(state);
    if (state !== "live") {
      clock.stopSync();
      shownLog.dropped();
    }
  },
});
const status = new StatusIndicator(q(".band-status"), now);
const shownLog = new ShownLog({
  now,
  visible: onScreen,
  send: (msg) => socket.state === "live" && socket.send(msg),
  every: () => Number(store.config?.display?.report_every) || 60,
  screen: screenId(`${cfg.screen}-${cfg.of}`),
});

// ---- periodic work, only while someone can see it ----
let ticker = 0;
function tick() {
  const t = now();
  for (const g of [...Object.values(grids), featured]) g.tick(t);
  overlays.fresh(store.latestAt);
}
function onVisibility() {
  clearInterval(ticker);
  ticker = 0;
  if (document.hidden) {
    status.stopClock();
    shownLog.stop();
    return;
  }
  tick();
  status.startClock();
  shownLog.start();
  ticker = setInterval(tick, TICK_MS);
  socket.reconnectNow(); // a screen woken from sleep should not wait out a long backoff
}
document.addEventListener("visibilitychange", onVisibility);
window.addEventListener("pagehide", () => persist.flush());

// ---- mount ----
// Names first: the restored cards below are filled with them (a kiosk rebooting shows "Bluesky").
try {
  setNetworkNames(JSON.parse(data.networks || "null"));
} catch {
  // a broken data-networks: cards show the source as it comes
}
const last = persist.restore();
if (last) {
  store.snapshot(last); // the last content first: a kiosk rebooting while the server is down shows it
  body.dataset.restored = "true";
}
try {
  store.setConfig(JSON.parse(data.config || "null")); // the page's own config is newer than the saved one
} catch {
  // a broken data-config: the saved or default one until the welcome brings the real one
}
director.plan();
pacer.start();
featureNext(true);
status.render();
socket.start();
onVisibility();
registerShell(cfg.base, cfg.version);
// Text fitted with fallback metrics is fitted again once the real fonts are in.
document.fonts?.ready.then(() => {
  for (const g of [...Object.values(grids), featured]) g.refit();
});
let shift = 0;
const viewport = q(".viewport");
setInterval(() => {
  shift = (shift + 1) % 14; // 0..3 across, 0..2 down and back: a slow loop nobody notices
  const x = shift < 7 ? Math.min(shift, 3) : Math.max(0, 3 - (shift - 7));
  const y = shift < 7 ? Math.max(0, shift - 4) : Math.max(0, 2 - (shift - 7));
  viewport.style.setProperty("--shift-x", String(x));
  viewport.style.setProperty("--shift-y", String(y));
}, SHIFT_MS);
// The reaction meter samples always (its peak covers minutes) but draws only where it is shown.
setInterval(() => meter.draw(), METER_MS);
// Proof of life for the kiosk agent (wall kiosk-agent reads it over DevTools): a hung page stops it.
setInterval(() => (/** @type {any} */ (window).__wallHeartbeat = Date.now()), 2000);
// For tests and the soak benchmark: read-only views of the page's parts.
/** @type {any} */ (window).__wall = { clock, store, director, pacer, socket, persist, shownLog, stage, scenes: SCENES,
  meter, cloud, updateCloud };

/** ws:// or wss:// URL of the wall's socket, on the host that served this page. */
function socketUrl(path) {
  const url = new URL(path, location.href);
  url.protocol = location.protocol === "https:" ? "wss:" : "ws:";
  return url.href;
}

function clampInt(text, min, max, fallback) {
  const n = Number.parseInt(text ?? "", 10);
  return Number.isFinite(n) ? Math.min(max, Math.max(min, n)) : fallback;
}

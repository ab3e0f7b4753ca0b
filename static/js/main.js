/**
 * Wires the wall page together: configuration from <body data-*> (the CSP allows no inline script), the
 * socket, the cards, the band. Also the page's only periodic work, which pauses while the page is hidden.
 */

import { WallSocket } from "./socket.js";
import { CardWall } from "./render.js";
import { StatusIndicator } from "./status.js";
import { StatsBand } from "./stats.js";

/** "2 min ago" changes at most once a minute; twice a minute keeps it at most 30 s behind. */
const TICK_MS = 30_000;

const body = document.body;
const config = {
  version: body.dataset.version || "",
  wsPath: body.dataset.wsPath || "",
  maxCards: clampInt(body.dataset.maxCards, 1, 200, 24),
};

/**
 * The server's clock. A Raspberry Pi has no real-time clock, and a kiosk on a closed LAN may never reach
 * an NTP server, so "2 min ago" is measured against the time the server sent in its welcome.
 */
let skew = 0;
const now = () => Date.now() + skew;

const wall = new CardWall(/** @type {HTMLElement} */ (document.querySelector(".cards")), {
  maxCards: config.maxCards,
  now,
  onChange: (count) => body.classList.toggle("has-cards", count > 0),
});
const status = new StatusIndicator(/** @type {HTMLElement} */ (document.querySelector(".band-status")), now);
const stats = new StatsBand(/** @type {HTMLElement} */ (document.querySelector(".band-stats")));

const socket = new WallSocket(socketUrl(config.wsPath), config.version, {
  welcome(msg) {
    if (Number.isFinite(msg.server_time)) skew = msg.server_time - Date.now();
    wall.tick();
    if (!document.hidden) status.startClock();
  },
  snapshot(msg) {
    wall.replace(msg.posts);
    if (msg.stats) stats.show(msg.stats);
  },
  event(msg) {
    switch (msg.type) {
      case "post":
        return wall.add(msg.post);
      case "update":
        return wall.update(msg.post);
      case "retract":
        return wall.retract(msg.post_id);
      case "stats":
        return stats.show(msg);
      default:
        return; // a kind this page does not know yet (spotlight, control…): newer server, older page
    }
  },
  state(state, lastId) {
    // Read-only hooks for tests and for whoever looks at a screen with devtools.
    body.dataset.state = state;
    if (lastId) body.dataset.lastId = lastId;
    else delete body.dataset.lastId;
    status.set(state);
  },
});

let ticker = 0;
/** Run the relative-time and clock timers only while someone can see them. */
function onVisibility() {
  clearInterval(ticker);
  ticker = 0;
  if (document.hidden) {
    status.stopClock();
    return;
  }
  wall.tick();
  status.startClock();
  ticker = setInterval(() => wall.tick(), TICK_MS);
  socket.reconnectNow(); // a screen woken from sleep should not wait out a long backoff
}
document.addEventListener("visibilitychange", onVisibility);

status.render();
socket.start();
onVisibility();
// Proof of life for the kiosk agent (wall kiosk-agent reads it over DevTools): a hung page stops it.
setInterval(() => (/** @type {any} */ (window).__wallHeartbeat = Date.now()), 2000);

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

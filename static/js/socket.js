/**
 * The wall's WebSocket (docs/protocol.md): hello with what we last saw, welcome, then a snapshot or the
 * missed events, then live events. Reconnects for as long as the page lives, because a kiosk has nobody
 * in front of it to press reload.
 */

const BACKOFF_BASE_MS = 500;
const BACKOFF_CAP_MS = 30_000;
/** A connection that lasted this long was healthy: the next failure starts the backoff from scratch. */
const STABLE_MS = 10_000;
/** A server that accepts the socket but never says welcome is as good as down. */
const WELCOME_TIMEOUT_MS = 15_000;
/** Two version reloads this close together mean a loop (say, two web nodes on different versions). */
const RELOAD_LOOP_MS = 60_000;
const RELOAD_KEY = "wall.reloadedAt";
/** The server sends at least a tick every 15 s; this much silence means a dead link TCP has not noticed. */
const SILENCE_MS = 45_000;
/** Close code of a node going away (a rolling restart): reconnect now, through the proxy, to another one. */
export const MOVING = 4000;
/** A moving screen waits up to this long, so a node's screens do not all land on the others at once. */
const MOVE_JITTER_MS = 1_000;

/**
 * Parse an event id "<ms>-<seq>" into a pair of integers; null when malformed.
 * Compared as numbers, not strings: "1700000000000-10" comes after "1700000000000-9".
 * @param {unknown} id
 * @returns {[number, number] | null}
 */
export function parseId(id) {
  if (typeof id !== "string") return null;
  const m = /^(\d{1,16})-(\d{1,16})$/.exec(id);
  return m ? [Number(m[1]), Number(m[2])] : null;
}

/** True when event id `a` comes strictly after `b` (a null `b` means nothing applied yet). */
export function isNewer(a, b) {
  if (!b) return true;
  return a[0] !== b[0] ? a[0] > b[0] : a[1] > b[1];
}

/**
 * @typedef {"connecting" | "live" | "moving" | "reconnecting"} SocketState
 * @typedef {object} Handlers
 * @property {(welcome: object) => void} [welcome]
 * @property {(snapshot: object) => void} snapshot   replace everything shown
 * @property {(event: object) => void} event          one live event (post, update, retract, stats, trends, poll)
 * @property {(state: SocketState, lastId: string | null) => void} [state]
 * @property {(time: object) => void} [time]        the server's answer to a time ping (clock.js)
 * @property {(answer: object) => void} [answer]    the server's answer to a display report (shown.js)
 */

export class WallSocket {
  /**
   * @param {string} url        absolute ws:// or wss:// URL
   * @param {string} version    the version this page was rendered with
   * @param {Handlers} handlers
   */
  constructor(url, version, handlers) {
    this.url = url;
    this.version = version;
    this.handlers = handlers;
    /** @type {string | null} the history our lastId belongs to */
    this.epoch = null;
    /** @type {string | null} */
    this.lastId = null;
    /** @type {[number, number] | null} */
    this.lastKey = null;
    this.attempt = 0;
    /** @type {WebSocket | null} */
    this.ws = null;
    this.state = /** @type {SocketState} */ ("connecting");
    // The only timers this module owns: at most one of each is ever pending.
    this.retryTimer = 0;
    this.stableTimer = 0;
    this.welcomeTimer = 0;
    this.reloading = false;
    this.stopped = true;
    this.heardAt = 0;
    this.silenceTimer = 0;
    this.onOnline = () => this.reconnectNow();
  }

  /** Open the socket, and keep it open: a kiosk should also recover when the network comes back. */
  start() {
    if (!this.stopped) return;
    this.stopped = false;
    window.addEventListener("online", this.onOnline);
    this.silenceTimer = setInterval(() => {
      if (this.ws && this.ws.readyState === WebSocket.OPEN && Date.now() - this.heardAt > SILENCE_MS) {
        this.drop(this.ws); // a half-open connection would otherwise look live for minutes
      }
    }, SILENCE_MS / 3);
    this.connect();
  }

  /** Close for good and release every timer and listener this socket holds (start() opens it again). */
  stop() {
    this.stopped = true;
    window.removeEventListener("online", this.onOnline);
    clearInterval(this.silenceTimer);
    clearTimeout(this.retryTimer);
    clearTimeout(this.welcomeTimer);
    clearTimeout(this.stableTimer);
    const ws = this.ws;
    this.ws = null;
    if (ws) {
      ws.onopen = ws.onmessage = ws.onclose = null;
      ws.close();
    }
  }

  /** Send a small frame (a time ping, a display report) when live; false when it could not go. */
  send(msg) {
    if (!this.ws || this.ws.readyState !== WebSocket.OPEN) return false;
    this.ws.send(JSON.stringify(msg));
    return true;
  }

  /** Skip the rest of the backoff (the network is back): nobody should wait 30 s for nothing. */
  reconnectNow() {
    if (this.ws || this.reloading || this.stopped) return;
    clearTimeout(this.retryTimer);
    this.attempt = 0;
    this.connect();
  }

  connect() {
    this.retryTimer = 0;
    let ws;
    try {
      ws = new WebSocket(this.url);
    } catch {
      this.scheduleRetry();
      return;
    }
    this.ws = ws;
    ws.onopen = () => {
      this.heardAt = Date.now();
      ws.send(JSON.stringify({ type: "hello", epoch: this.epoch, last_id: this.lastId }));
      this.welcomeTimer = setTimeout(() => ws.close(), WELCOME_TIMEOUT_MS);
    };
    ws.onmessage = (msg) => {
      this.heardAt = Date.now();
      this.receive(msg.data);
    };
    ws.onclose = (e) => (e.code === MOVING ? this.move(ws) : this.drop(ws));
  }

  /**
   * The node is going away and said so: reconnect after a short jitter and resume by id. The state is
   * "moving", which the page shows as live; only if that attempt fails does the backoff begin.
   */
  move(ws) {
    if (this.ws !== ws) return;
    this.ws = null;
    clearTimeout(this.welcomeTimer);
    clearTimeout(this.stableTimer);
    clearTimeout(this.retryTimer);
    this.attempt = 0;
    this.setState("moving");
    if (this.reloading || this.stopped) return;
    this.retryTimer = setTimeout(() => this.connect(), Math.random() * MOVE_JITTER_MS);
  }

  /** Forget a socket that closed (or went silent) and schedule the next attempt. */
  drop(ws) {
    if (this.ws !== ws) return;
    this.ws = null;
    ws.close();
    clearTimeout(this.welcomeTimer);
    clearTimeout(this.stableTimer);
    this.setState("reconnecting");
    this.scheduleRetry();
  }

  /** Exponential backoff with full jitter, so a room of screens does not reconnect in lockstep. */
  scheduleRetry() {
    if (this.reloading || this.stopped) return;
    const cap = Math.min(BACKOFF_CAP_MS, BACKOFF_BASE_MS * 2 ** this.attempt);
    this.attempt = Math.min(this.attempt + 1, 16);
    clearTimeout(this.retryTimer);
    this.retryTimer = setTimeout(() => this.connect(), Math.random() * cap);
  }

  /** @param {unknown} data one text frame */
  receive(data) {
    let msg;
    try {
      msg = JSON.parse(/** @type {string} */ (data));
    } catch {
      return; // not ours to crash on: the next frame may be fine
    }
    if (!msg || typeof msg !== "object") return;
    switch (msg.type) {
      case "welcome":
        return this.onWelcome(msg);
      case "snapshot":
        return this.onSnapshot(msg);
      case "tick":
        return; // only proof of life (heardAt)
      case "time":
        return this.handlers.time?.(msg);
      case "shown":
      case "error":
        return this.handlers.answer?.(msg); // to a display report (shown.js)
      case "config":
      case "stats":
      case "trends":
      case "poll":
        // Announced live data (and a reloaded config): no id, never moves lastId (not in the history).
        return this.guard(() => this.handlers.event(msg));
      default:
        return this.onEvent(msg);
    }
  }

  onWelcome(msg) {
    clearTimeout(this.welcomeTimer);
    if (typeof msg.version === "string" && msg.version !== this.version) {
      this.reload();
      return;
    }
    // Ids of another history say nothing about this one: forget ours (the server sends a snapshot).
    if (this.epoch !== null && msg.epoch !== this.epoch) this.setLastId(null);
    this.epoch = typeof msg.epoch === "string" ? msg.epoch : null;
    clearTimeout(this.stableTimer);
    this.stableTimer = setTimeout(() => (this.attempt = 0), STABLE_MS);
    this.handlers.welcome?.(msg);
    this.setState("live");
  }

  onSnapshot(msg) {
    // A snapshot is the whole truth as of its id, even if that id is older than ours (new epoch).
    this.guard(() => this.handlers.snapshot(msg));
    this.setLastId(parseId(msg.id) ? msg.id : null);
  }

  onEvent(msg) {
    const key = parseId(msg.id);
    if (!key || !isNewer(key, this.lastKey)) return; // already applied: a resume never shows a post twice
    if (msg.type === "reload") {
      this.setLastId(msg.id);
      this.reload();
      return;
    }
    this.guard(() => this.handlers.event(msg));
    this.setLastId(msg.id);
  }

  /** One bad post must not stop the wall: report it and carry on with the next event. */
  guard(fn) {
    try {
      fn();
    } catch (err) {
      console.warn("wall: could not apply a frame", err);
    }
  }

  /** @param {string | null} id */
  setLastId(id) {
    this.lastId = id;
    this.lastKey = parseId(id);
    this.handlers.state?.(this.state, this.lastId);
  }

  /** @param {SocketState} state */
  setState(state) {
    this.state = state;
    this.handlers.state?.(state, this.lastId);
  }

  /**
   * Reload to pick up the new version. A short random delay spreads a fleet's requests; a second
   * reload within a minute waits longer, so a version mismatch can never become a reload storm.
   */
  reload() {
    if (this.reloading) return;
    this.reloading = true;
    let last = 0;
    try {
      last = Number(sessionStorage.getItem(RELOAD_KEY)) || 0;
    } catch {
      // storage disabled: still reload, just without loop protection
    }
    const looping = Date.now() - last < RELOAD_LOOP_MS;
    const delay = looping ? BACKOFF_CAP_MS : Math.random() * 1_000;
    setTimeout(() => {
      try {
        sessionStorage.setItem(RELOAD_KEY, String(Date.now()));
      } catch {
        // as above
      }
      location.reload();
    }, delay);
  }
}

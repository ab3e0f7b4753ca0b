/**
 * The page's state, folded from the socket's frames: posts, stats, control (presenter state), config.
 * Views never read frames; they subscribe to the parts of the state they render. Pure bookkeeping:
 * no DOM here, and everything is bounded (the newest KEEP posts), so months of events cost nothing.
 */

import { isVisible } from "./text.js";

const KEEP = 200;

/** @typedef {{id: string, [k: string]: any}} Post */

export class Store {
  constructor() {
    /** @type {Map<string, Post>} visible posts, oldest first (Map keeps insertion order) */
    this.posts = new Map();
    /** @type {Record<string, any> | null} */
    this.stats = null;
    /** @type {Record<string, any> | null} the wall's figures against its past (a `trends` frame) */
    this.trends = null;
    /** @type {Record<string, any> | null} the shown poll (a `poll` frame) */
    this.poll = null;
    /** @type {Record<string, any> | null} the newest control event */
    this.control = null;
    /** ms (server clock) the newest control took effect: its event id's time */
    this.controlAt = 0;
    /** @type {Record<string, any> | null} theme, show, night */
    this.config = null;
    /** ms (server clock) the newest post arrived, for "latest post 12 min ago" */
    this.latestAt = 0;
    /** @type {Map<string, Set<Function>>} */
    this.listeners = new Map();
  }

  /** @param {string} topic post | update | retract | posts | stats | trends | poll | control | config */
  on(topic, fn) {
    let set = this.listeners.get(topic);
    if (!set) this.listeners.set(topic, (set = new Set()));
    set.add(fn);
    return () => set.delete(fn);
  }

  emit(topic, value) {
    for (const fn of this.listeners.get(topic) ?? []) fn(value);
  }

  /** The newest visible posts, newest first. */
  newest(limit = KEEP) {
    const out = [];
    for (const post of [...this.posts.values()].reverse()) {
      if (out.length >= limit) break;
      out.push(post);
    }
    return out;
  }

  /** A snapshot: the whole truth as of its id (posts newest first). */
  snapshot(msg) {
    this.posts.clear();
    const posts = Array.isArray(msg.posts) ? msg.posts : [];
    for (let i = Math.min(posts.length, KEEP) - 1; i >= 0; i--) {
      const post = posts[i];
      if (validPost(post) && isVisible(post)) this.posts.set(post.id, post);
    }
    const newest = posts.find(validPost);
    if (newest) this.latestAt = Math.max(this.latestAt, Date.parse(newest.created_at) || 0);
    this.emit("posts", this.newest());
    if (msg.config) this.setConfig(msg.config);
    if (msg.stats) this.setStats(msg.stats);
    if (msg.trends) this.setTrends(msg.trends); // only a saved snapshot has them: the server sends a frame
    this.setControl(msg.control ?? null);
  }

  /** One live event, or an announced frame (stats, config). */
  event(msg, now) {
    switch (msg.type) {
      case "post":
        return this.post(msg.post, now);
      case "update":
        return this.update(msg.post);
      case "retract":
        return this.retract(msg.post_id);
      case "stats":
        return this.setStats(msg);
      case "trends":
        return this.setTrends(msg);
      case "poll":
        return this.setPoll(msg);
      case "control":
        return this.setControl(msg);
      case "config":
        return this.setConfig(msg);
      default:
        return; // a kind this page does not know yet: newer server, older page
    }
  }

  post(post, now) {
    if (!validPost(post)) return;
    if (this.posts.has(post.id) || !isVisible(post)) return this.update(post);
    this.posts.set(post.id, post);
    if (this.posts.size > KEEP) this.posts.delete(this.posts.keys().next().value);
    this.latestAt = now;
    this.emit("post", post);
  }

  update(post) {
    if (!validPost(post) || !this.posts.has(post.id)) return;
    if (!isVisible(post)) return this.retract(post.id);
    this.posts.set(post.id, post); // same key: keeps its place
    this.emit("update", post);
  }

  retract(postId) {
    if (typeof postId !== "string" || !this.posts.delete(postId)) return;
    this.emit("retract", postId);
  }

  setStats(stats) {
    if (!stats || typeof stats !== "object") return;
    this.stats = stats;
    this.emit("stats", stats);
  }

  /** The shown poll (docs/polls.md): a `poll` frame's poll, or null when none is shown. */
  setPoll(msg) {
    if (!msg || typeof msg !== "object") return;
    this.poll = msg.poll && typeof msg.poll === "object" ? msg.poll : null;
    this.emit("poll", this.poll);
  }

  setTrends(trends) {
    if (!trends || typeof trends !== "object") return;
    this.trends = trends;
    this.emit("trends", trends);
  }

  setControl(control) {
    if (control !== null && (typeof control !== "object" || control.type !== "control")) return;
    this.control = control;
    const ms = control ? Number(/^(\d+)-/.exec(String(control.id))?.[1]) : NaN;
    this.controlAt = Number.isFinite(ms) ? ms : 0;
    this.emit("control", control);
  }

  setConfig(config) {
    if (!config || typeof config !== "object") return;
    this.config = config;
    this.emit("config", config);
  }
}

/** The minimum a frame must have to be a post we can key a card by. */
export function validPost(post) {
  return !!post && typeof post === "object" && typeof post.id === "string" && post.id !== "";
}

/**
 * What a presenter puts over the scenes (docs/protocol.md, `control`): the panic slide, an announcement,
 * a spotlighted post until its time; and what the wall itself says: the burst summary, how fresh the
 * data is, the night schedule. All text goes in as text.
 */

import { Card } from "./cards.js";
import { relativeTime } from "./text.js";

export class Overlays {
  /**
   * @param {{clock: import("./clock.js").Clock, body: HTMLElement, title: string}} options
   */
  constructor({ clock, body }) {
    this.clock = clock;
    this.body = body;
    const q = (s) => /** @type {HTMLElement} */ (body.querySelector(s));
    this.panicText = q(".panic-text");
    this.announcement = q(".announcement");
    this.announcementText = q(".announcement-text");
    this.spotlight = q(".spotlight-overlay");
    this.spotCard = new Card("card card-spotlight");
    this.spotlight.append(this.spotCard.el);
    this.summaryEl = q(".summary");
    this.freshness = q(".freshness");
    this.nightText = q(".night-text");
    this.spotlightCancel = null;
    this.nightCancel = null;
    this.night = null;
    this.nightFormat = null;
  }

  /** The newest control state (null: none yet). */
  control(c) {
    const panic = c?.panic === true;
    this.body.dataset.panic = String(panic);
    this.panicText.textContent = panic && typeof c.panic_text === "string" ? c.panic_text : "";
    const text = typeof c?.announcement === "string" ? c.announcement.slice(0, 280) : "";
    this.announcement.hidden = !text;
    this.announcementText.textContent = text;

    this.spotlightCancel?.();
    this.spotlightCancel = null;
    const post = c?.spotlight;
    const until = Number(c?.spotlight_until) * 1000;
    const live = post && typeof post === "object" && typeof post.id === "string"
      && (!Number.isFinite(until) || until > this.clock.now() || c.spotlight_until == null);
    this.spotlight.hidden = !live;
    this.body.dataset.spotlight = String(!!live);
    if (!live) return;
    this.spotCard.el.hidden = false;
    this.spotCard.fill(post, this.clock.now());
    if (Number.isFinite(until)) {
      this.spotlightCancel = this.clock.at(until, () => {
        this.spotlight.hidden = true;
        this.body.dataset.spotlight = "false";
      });
    }
  }

  /** "+37 more about #launch", or nothing. */
  summary(s) {
    this.summaryEl.hidden = !s;
    if (s) this.summaryEl.textContent = `+${s.count} more${s.tag ? ` about #${s.tag}` : ""}`;
  }

  /** "latest post 12 min ago" (server clock), refreshed by main's tick. */
  fresh(latestAt) {
    const text = latestAt > 0 ? `latest post ${relativeTime(latestAt, this.clock.now())}` : "";
    if (this.freshness.textContent !== text) this.freshness.textContent = text;
  }

  /** The night schedule from config.night: dim or a slide between start and end, in its time zone. */
  setNight(night) {
    this.night = night && night.start && night.end ? night : null;
    try {
      this.nightFormat = this.night ? new Intl.DateTimeFormat("en-GB", {
        timeZone: this.night.timezone || "UTC", hour: "2-digit", minute: "2-digit", hourCycle: "h23" }) : null;
    } catch {
      this.nightFormat = new Intl.DateTimeFormat("en-GB", { timeZone: "UTC", hour: "2-digit", minute: "2-digit", hourCycle: "h23" });
    }
    this.nightText.textContent = this.night?.text || "";
    this.checkNight();
  }

  checkNight() {
    this.nightCancel?.();
    this.nightCancel = null;
    if (!this.night || !this.nightFormat) {
      delete this.body.dataset.night;
      return;
    }
    const now = this.clock.now();
    const hhmm = this.nightFormat.format(now);
    const { start, end } = this.night;
    const night = start <= end ? hhmm >= start && hhmm < end : hhmm >= start || hhmm < end;
    if (night) this.body.dataset.night = this.night.mode === "slide" ? "slide" : "dim";
    else delete this.body.dataset.night;
    this.nightCancel = this.clock.at(Math.floor(now / 60_000) * 60_000 + 60_000, () => this.checkNight());
  }
}

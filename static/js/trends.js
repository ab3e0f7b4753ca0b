/**
 * The wall against its own past, drawn from `trends` frames (the web node reads the roll-ups once a minute
 * for every screen; docs/page.md "Trends"): today so far against the same time a week ago, how people felt
 * over the last 7 days, posts per day over up to 30 days, share of voice this week against last. A frame
 * carries a comparison only where the wall's history covers it, and a panel without its key is absent (not
 * empty, not waiting): a new wall shows none. Nodes are built once and refilled, like the live panels.
 */

import { el } from "./text.js";
import { Panel, nf, num, pct, setText, svg } from "./panels.js";

const weekday = new Intl.DateTimeFormat("en-US", { weekday: "short", timeZone: "UTC" });
/** "Tue" for "2026-12-01" (a local day of the wall, named as such: no time zone applies). */
const dayName = (day) => weekday.format(new Date(`${day}T00:00:00Z`));
const isDay = (d) => !!d && typeof d === "object" && typeof d.day === "string" && /^\d{4}-\d\d-\d\d$/.test(d.day);

/** A panel that is absent until its figures come, and again when they go. */
class TrendPanel extends Panel {
  constructor(root, kind, title) {
    super(root, kind, title);
    this.el.classList.add("panel-trend");
    this.waiting.remove(); // a trend is shown or absent, never waiting
    this.el.hidden = true;
  }

  present(yes) {
    this.el.hidden = !yes;
    this.el.dataset.filled = String(yes);
  }
}

/** Direction words for a change: the arrow, and data-direction for its colour. */
function direction(node, d) {
  node.dataset.direction = d > 0 ? "up" : d < 0 ? "down" : "flat";
}

/** Posts today so far, and by the same time on the same weekday a week ago. */
export class TodayPanel extends TrendPanel {
  constructor(root) {
    super(root, "today", "Today so far");
    const p = el("p", "figure", this.body);
    this.value = el("span", "figure-value", p);
    el("span", "figure-unit", p).textContent = "posts";
    this.change = el("p", "trend-change", this.body);
    this.before = el("p", "trend-note", this.body);
  }

  show(trends) {
    const t = trends.today;
    const posts = num(t?.posts);
    const ago = num(t?.week_ago);
    if (posts === null || ago === null) return this.present(false);
    // "last Sun": the weekday of the wall's own calendar a week ago, cut short to fit a narrow column.
    const day = typeof t.weekday === "string" && t.weekday ? t.weekday.slice(0, 3) : "week";
    setText(this.value, nf.format(posts));
    if (ago > 0) {
      const d = Math.round(((posts - ago) / ago) * 100);
      setText(this.change, d === 0 ? `same as last ${day}` : `${d > 0 ? "▲" : "▼"} ${nf.format(Math.abs(d))}% vs last ${day}`);
      direction(this.change, d);
    } else {
      setText(this.change, posts > 0 ? "▲ from none" : "none yet"); // the note below names the day
      direction(this.change, posts);
    }
    setText(this.before, `${nf.format(ago)} by now last ${day}`);
    this.present(true);
  }
}

/** How people felt, day by day over the last 7: a column per day split positive / neutral / negative. */
export class SentimentWeek extends TrendPanel {
  constructor(root) {
    super(root, "sentiment-week", "Feeling, 7 days");
    this.headline = el("p", "trend-headline", this.body);
    this.chart = el("div", "days", this.body);
    this.chart.setAttribute("role", "img");
    this.days = Array.from({ length: 7 }, () => {
      const col = el("span", "day", this.chart);
      const parts = ["negative", "neutral", "positive"].map((k) => [k, el("span", `day-part split-${k}`, col)]);
      return { col, parts: Object.fromEntries(parts) };
    });
    const axis = el("div", "chart-axis", this.body);
    this.first = el("span", "axis-label", axis);
    el("span", "axis-label", axis).textContent = "today";
  }

  show(trends) {
    const days = Array.isArray(trends.sentiment_days) ? trends.sentiment_days.filter(isDay).slice(-7) : [];
    if (days.length !== 7) return this.present(false);
    const sum = { positive: 0, neutral: 0, negative: 0 };
    days.forEach((d, i) => {
      const counts = { positive: num(d.positive) ?? 0, neutral: num(d.neutral) ?? 0, negative: num(d.negative) ?? 0 };
      const scored = counts.positive + counts.neutral + counts.negative;
      for (const [k, part] of Object.entries(this.days[i].parts)) {
        sum[k] += counts[k];
        part.style.setProperty("--share", String(scored ? counts[k] / scored : 0));
      }
      this.days[i].col.dataset.day = d.day;
      this.days[i].col.dataset.empty = String(scored === 0);
    });
    const scored = sum.positive + sum.neutral + sum.negative;
    if (scored === 0) return this.present(false);
    setText(this.headline, `${pct(sum.positive / scored)} positive`);
    this.chart.setAttribute("aria-label", `Sentiment per day since ${dayName(days[0].day)}: `
      + `${pct(sum.positive / scored)} positive, ${pct(sum.negative / scored)} negative`);
    setText(this.first, dayName(days[0].day));
    this.present(true);
  }
}

/** Posts per day over up to 30 days: a bar a day, today's (still counting) marked. */
export class VolumeMonth extends TrendPanel {
  static DAYS = 30;

  constructor(root) {
    super(root, "volume-month", "Posts per day");
    this.headline = el("p", "trend-headline", this.body);
    const n = VolumeMonth.DAYS;
    this.svg = svg("svg", { viewBox: `0 0 ${n * 10} 200`, preserveAspectRatio: "none", class: "chart",
      role: "img" }, this.body);
    this.bars = Array.from({ length: n }, (_, i) => svg("rect", { x: i * 10 + 1, width: 8, y: 200, height: 0,
      class: "bar" }, this.svg));
    const axis = el("div", "chart-axis", this.body);
    this.first = el("span", "axis-label", axis);
    el("span", "axis-label", axis).textContent = "today";
  }

  show(trends) {
    const n = VolumeMonth.DAYS;
    const days = Array.isArray(trends.volume_days) ? trends.volume_days.filter(isDay).slice(-n) : [];
    if (days.length < 7) return this.present(false);
    const counts = days.map((d) => num(d.posts) ?? 0);
    const max = Math.max(1, ...counts);
    const pad = n - days.length;
    this.bars.forEach((bar, i) => {
      const v = i < pad ? 0 : counts[i - pad];
      const h = Math.round((v / max) * 196);
      bar.setAttribute("y", String(200 - h));
      bar.setAttribute("height", String(h));
      bar.classList.toggle("bar-today", i === n - 1);
      if (i >= pad) bar.dataset.day = days[i - pad].day;
      else delete bar.dataset.day;
    });
    // The mean of the whole days: today is still counting.
    const whole = counts.slice(0, -1);
    const mean = Math.round(whole.reduce((a, b) => a + b, 0) / whole.length);
    setText(this.headline, `${nf.format(mean)} a day`);
    this.svg.setAttribute("aria-label", `Posts per day over the last ${days.length} days, at most ${nf.format(max)}`);
    setText(this.first, `${days.length} days ago`);
    this.present(true);
  }
}

/** Share of voice over the last 7 days, with its change on the 7 before: the brand first. */
export class VoiceWeeks extends TrendPanel {
  constructor(root, brand, rows = 5) {
    super(root, "voice-weeks", "Voice, this week");
    this.brand = brand;
    const list = el("ul", "weeks", this.body);
    this.rows = Array.from({ length: rows }, () => {
      const li = el("li", "weeks-row", list);
      const name = el("span", "weeks-name", li);
      name.dir = "auto";
      const value = el("span", "weeks-value", li);
      const change = el("span", "weeks-change", li);
      const track = el("span", "weeks-track", li);
      const fill = el("span", "weeks-fill", track);
      const mark = el("span", "weeks-mark", track); // where last week stood
      li.hidden = true;
      return { li, name, value, change, fill, mark };
    });
  }

  show(trends) {
    const w = trends.voice_weeks;
    const now = w?.this;
    const before = w?.last;
    if (!(num(now?.mentions) > 0) || !(num(before?.mentions) > 0)) return this.present(false);
    const share = (week, n) => (num(n) ?? 0) / week.mentions;
    const entries = [[this.brand(), share(now, now.brand), share(before, before.brand), true]];
    const names = now.competitors && typeof now.competitors === "object" ? Object.keys(now.competitors) : [];
    for (const name of names) {
      entries.push([name, share(now, now.competitors[name]), share(before, before.competitors?.[name]), false]);
    }
    entries.sort((a, b) => Number(b[3]) - Number(a[3]) || b[1] - a[1]);
    this.rows.forEach((row, i) => {
      const e = entries[i];
      row.li.hidden = !e;
      if (!e) return;
      const d = Math.round(e[1] * 100) - Math.round(e[2] * 100);
      setText(row.name, e[0]);
      row.li.classList.toggle("is-brand", e[3]);
      setText(row.value, pct(e[1]));
      setText(row.change, d === 0 ? "=" : `${d > 0 ? "▲" : "▼"} ${Math.abs(d)}`);
      direction(row.change, d);
      row.fill.style.setProperty("--share", String(e[1]));
      row.mark.style.setProperty("--share", String(e[2]));
    });
    this.present(true);
  }
}

/** The trend panels of one scene, in the scene's panel grid beside the live ones. */
export class TrendSet {
  constructor(root, kinds, brand) {
    const make = { today: TodayPanel, "sentiment-week": SentimentWeek, "volume-month": VolumeMonth };
    this.panels = kinds.map((k) => (k === "voice-weeks" ? new VoiceWeeks(root, brand) : new make[k](root)));
  }

  show(trends) {
    for (const p of this.panels) {
      try {
        p.show(trends);
      } catch (err) {
        p.present(false);
        console.warn("wall: a trend panel could not draw these figures", err);
      }
    }
  }
}

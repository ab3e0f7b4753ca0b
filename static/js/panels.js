/**
 * The figures, drawn by the page itself (SVG, no library) from `stats` events: the server counts once for
 * every screen, nothing is computed here but geometry. Each panel renders whatever keys the event carries
 * and marks itself data-filled when it has something to show, so panels light up as figures arrive (a
 * server without sentiment scoring simply leaves the gauge waiting). Nodes are built once and reused:
 * months of stats events create none.
 */

import { el } from "./text.js";

const SVG = "http://www.w3.org/2000/svg";
export const nf = new Intl.NumberFormat("en-US");
export const pct = (x) => `${Math.round(x * 100)}%`;

export function svg(tag, attrs, parent) {
  const node = document.createElementNS(SVG, tag);
  for (const [k, v] of Object.entries(attrs)) node.setAttribute(k, String(v));
  parent?.append(node);
  return node;
}

export function setText(node, text) {
  if (node.textContent !== text) node.textContent = text;
}

export const num = (v) => (typeof v === "number" && Number.isFinite(v) ? v : null);

/** A panel: a titled box that knows which stats keys it draws. */
export class Panel {
  constructor(root, kind, title) {
    this.el = el("section", `panel panel-${kind}`, root);
    this.el.dataset.panel = kind;
    this.el.dataset.filled = "false";
    this.title = el("h2", "panel-title", this.el);
    this.title.textContent = title;
    this.body = el("div", "panel-body", this.el);
    this.waiting = el("p", "panel-waiting", this.body);
    this.waiting.textContent = "Waiting for figures…";
  }

  filled(yes) {
    this.el.dataset.filled = String(yes);
    this.waiting.hidden = yes;
  }
}

/** Big numbers: posts per minute, the last hour, all time. */
export class FiguresPanel extends Panel {
  constructor(root) {
    super(root, "figures", "Right now");
    this.items = [["per_minute", "posts / min"], ["hour_total", "last hour"], ["total", "all time"]]
      .map(([key, unit]) => {
        const p = el("p", "figure", this.body);
        p.dataset.stat = key;
        const value = el("span", "figure-value", p);
        el("span", "figure-unit", p).textContent = unit;
        p.hidden = true;
        return { key, p, value };
      });
  }

  show(stats) {
    let any = false;
    for (const { key, p, value } of this.items) {
      const v = num(stats[key]);
      p.hidden = v === null;
      if (v !== null) setText(value, nf.format(v));
      any ||= v !== null;
    }
    this.filled(any);
  }
}

/** Posts per minute over the last hour: 60 bars, the newest on the right. */
export class VolumeChart extends Panel {
  constructor(root) {
    super(root, "volume", "Posts / min, last hour");
    this.svg = svg("svg", { viewBox: "0 0 600 200", preserveAspectRatio: "none", class: "chart",
      role: "img", "aria-label": "Posts per minute over the last hour" }, this.body);
    this.bars = Array.from({ length: 60 }, (_, i) => svg("rect", { x: i * 10 + 1, width: 8, y: 200, height: 0,
      class: "bar" }, this.svg));
    const axis = el("div", "chart-axis", this.body);
    el("span", "axis-label", axis).textContent = "60 min ago";
    this.peak = el("span", "axis-label axis-peak", axis);
    el("span", "axis-label", axis).textContent = "now";
  }

  show(stats) {
    const volume = Array.isArray(stats.volume) ? stats.volume.slice(-60).map((v) => num(v) ?? 0) : null;
    if (!volume) return this.filled(false);
    const max = Math.max(1, ...volume);
    const pad = 60 - volume.length;
    this.bars.forEach((bar, i) => {
      const v = i < pad ? 0 : volume[i - pad];
      const h = Math.round((v / max) * 196);
      bar.setAttribute("y", String(200 - h));
      bar.setAttribute("height", String(h));
    });
    setText(this.peak, `peak ${nf.format(max)} / min`);
    this.filled(true);
  }
}

/** How people feel: a half-circle gauge of the net share (positive − negative), the split, the trend. */
export class SentimentGauge extends Panel {
  constructor(root) {
    super(root, "sentiment", "How people feel");
    this.svg = svg("svg", { viewBox: "0 0 200 110", class: "gauge", role: "img" }, this.body);
    svg("path", { d: "M10 100 A90 90 0 0 1 190 100", class: "gauge-track" }, this.svg);
    this.arc = svg("path", { d: "M10 100 A90 90 0 0 1 190 100", class: "gauge-arc", pathLength: 100 }, this.svg);
    this.needle = svg("line", { x1: 100, y1: 100, x2: 100, y2: 18, class: "gauge-needle" }, this.svg);
    this.net = el("p", "gauge-net", this.body);
    const split = el("div", "split", this.body);
    this.parts = ["positive", "neutral", "negative"].map((k) => {
      const part = el("span", `split-part split-${k}`, split);
      return { k, part };
    });
    this.legend = el("p", "split-legend", this.body);
    this.trend = el("p", "trend", this.body);
  }

  show(stats) {
    const s = stats.sentiment;
    const shares = s && typeof s === "object" && s.shares && typeof s.shares === "object" ? s.shares : null;
    const scored = s ? (num(s.positive) ?? 0) + (num(s.neutral) ?? 0) + (num(s.negative) ?? 0) : 0;
    if (!shares || scored === 0) return this.filled(false);
    const pos = num(shares.positive) ?? 0;
    const neu = num(shares.neutral) ?? 0;
    const neg = num(shares.negative) ?? 0;
    const net = pos - neg; // -1..1
    this.needle.setAttribute("transform", `rotate(${Math.round(net * 90)} 100 100)`);
    this.arc.setAttribute("stroke-dasharray", `${Math.round(pos * 100)} 100`);
    this.svg.setAttribute("aria-label", `${pct(pos)} positive, ${pct(neg)} negative`);
    setText(this.net, `${net >= 0 ? "+" : "−"}${Math.abs(Math.round(net * 100))} net`);
    for (const { k, part } of this.parts) part.style.setProperty("--share", String({ positive: pos, neutral: neu, negative: neg }[k]));
    // Posts in a language the wall's model has no labels for are not guessed: say how many there were.
    const unscored = num(s.unscored) ?? 0;
    setText(this.legend, `${pct(pos)} positive · ${pct(neg)} negative${unscored ? ` · ${unscored} not scored` : ""}`);
    const t = stats.trend;
    const last = t?.last?.shares;
    const prev = t?.previous?.shares;
    const prevScored = t?.previous ? (num(t.previous.positive) ?? 0) + (num(t.previous.negative) ?? 0)
      + (num(t.previous.neutral) ?? 0) : 0;
    if (last && prev && prevScored > 0) {
      const d = Math.round(((num(last.positive) ?? 0) - (num(last.negative) ?? 0)
        - (num(prev.positive) ?? 0) + (num(prev.negative) ?? 0)) * 100);
      setText(this.trend, d === 0 ? "steady over 15 min" : `${d > 0 ? "▲ warmer" : "▼ cooler"} by ${Math.abs(d)} pts in 15 min`);
      this.trend.dataset.direction = d > 0 ? "up" : d < 0 ? "down" : "flat";
      this.trend.hidden = false;
    } else {
      this.trend.hidden = true;
    }
    this.filled(true);
  }
}

/** A ranked list of a fixed number of rows (name, count): rows are kept and refilled, never rebuilt. */
class RankList {
  constructor(root, rows) {
    const list = el("ol", "rank", root);
    this.rows = Array.from({ length: rows }, () => {
      const li = el("li", "rank-row", list);
      const key = el("span", "rank-key", li);
      key.dir = "auto";
      const count = el("span", "rank-count", li);
      li.hidden = true;
      return { li, key, count };
    });
  }

  /** Show these [name, count|null] entries, top first; says whether there was any. */
  show(entries) {
    this.rows.forEach((row, i) => {
      const e = entries[i];
      row.li.hidden = !e;
      if (!e) return;
      setText(row.key, e[0]);
      setText(row.count, e[1] === null ? "" : nf.format(e[1]));
    });
    return entries.length > 0;
  }
}

/** What is trending: terms and hashtags rising now, else the hour's top hashtags. */
export class TrendingPanel extends Panel {
  constructor(root, rows = 5) {
    super(root, "trending", "Trending now");
    this.rank = new RankList(this.body, rows);
  }

  show(stats) {
    const entries = [];
    for (const t of Array.isArray(stats.trending_hashtags) ? stats.trending_hashtags : []) {
      if (t && typeof t.key === "string") entries.push([`#${t.key}`, num(t.recent)]);
    }
    for (const t of Array.isArray(stats.trending_terms) ? stats.trending_terms : []) {
      if (t && typeof t.key === "string") entries.push([t.key, num(t.recent)]);
    }
    entries.sort((a, b) => (b[1] ?? 0) - (a[1] ?? 0));
    if (!entries.length) {
      for (const t of Array.isArray(stats.top_hashtags) ? stats.top_hashtags : Array.isArray(stats.trending) ? stats.trending : []) {
        if (Array.isArray(t) && typeof t[0] === "string" && t[0]) entries.push([`#${t[0].replace(/^#/, "")}`, num(t[1])]);
      }
    }
    this.filled(this.rank.show(entries));
  }
}

/** Share of voice: the brand against its competitors, as bars of the mentions in the last hour. */
export class VoicePanel extends Panel {
  constructor(root, brand, rows = 5) {
    super(root, "voice", "Share of voice");
    this.brand = brand;
    this.list = el("ul", "bars", this.body);
    this.rows = Array.from({ length: rows }, () => {
      const li = el("li", "bars-row", this.list);
      const name = el("span", "bars-name", li);
      name.dir = "auto";
      const track = el("span", "bars-track", li);
      const fill = el("span", "bars-fill", track);
      const value = el("span", "bars-value", li);
      li.hidden = true;
      return { li, name, fill, value };
    });
  }

  show(stats) {
    const v = stats.share_of_voice;
    if (!v || typeof v !== "object" || !(num(v.mentions) > 0)) return this.filled(false);
    const entries = [[this.brand(), num(v.brand?.share) ?? 0, true]];
    for (const [name, c] of Object.entries(v.competitors && typeof v.competitors === "object" ? v.competitors : {})) {
      entries.push([name, num(c?.share) ?? 0, false]);
    }
    entries.sort((a, b) => Number(b[2]) - Number(a[2]) || b[1] - a[1]);
    this.rows.forEach((row, i) => {
      const e = entries[i];
      row.li.hidden = !e;
      if (!e) return;
      setText(row.name, e[0]);
      row.li.classList.toggle("is-brand", e[2]);
      row.fill.style.setProperty("--share", String(e[1]));
      setText(row.value, pct(e[1]));
    });
    this.filled(true);
  }
}

/** Who talks most, and where: top authors and sources of the last hour. */
export class TopPanel extends Panel {
  constructor(root, rows = 5) {
    super(root, "top", "Most active");
    this.rank = new RankList(this.body, rows);
  }

  show(stats) {
    const authors = (Array.isArray(stats.top_authors) ? stats.top_authors : [])
      .filter((a) => Array.isArray(a) && typeof a[0] === "string").map((a) => [`@${a[0].replace(/^@/, "")}`, num(a[1])]);
    this.filled(this.rank.show(authors));
  }
}

/** A spike (volume, or a wave of negative posts): said plainly, for the comms staff walking past. */
export class AlertBar {
  constructor(root) {
    this.el = el("p", "alert", root);
    this.el.hidden = true;
  }

  show(stats) {
    // Curators always get the alerts; a screen shows them only where the wall's config allows.
    const alerts = stats.alerts_on_screen === true && Array.isArray(stats.alerts) ? stats.alerts : [];
    const a = alerts.find((x) => x && (x.kind === "volume" || x.kind === "negative"));
    this.el.hidden = !a;
    if (!a) return;
    this.el.dataset.kind = a.kind;
    setText(this.el, a.kind === "volume"
      ? `Spike: ${nf.format(num(a.count) ?? 0)} posts this minute (usually ${nf.format(Math.round(num(a.baseline) ?? 0))})`
      : `Heads-up: ${pct(num(a.share) ?? 0)} of posts this minute are negative`);
  }
}

/** All the panels of one scene, fed together. */
export class PanelSet {
  constructor(root, kinds, brand) {
    const make = { figures: FiguresPanel, volume: VolumeChart, sentiment: SentimentGauge,
      trending: TrendingPanel, top: TopPanel };
    this.panels = kinds.map((k) => (k === "voice" ? new VoicePanel(root, brand) : new make[k](root)));
  }

  show(stats) {
    for (const p of this.panels) {
      try {
        p.show(stats);
      } catch (err) {
        console.warn("wall: a panel could not draw these figures", err);
      }
    }
  }
}

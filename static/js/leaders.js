/**
 * The leaders scene: the most active contributors of the wall, by handle only, from the `stats` frame's
 * top authors (approved posts of the last hour: a hidden, retracted or banned author's posts stop
 * counting when they are taken off the wall). Opt-in: it draws nothing unless the wall's config says
 * `[walls.W.show] leaderboard = true` (the server refuses the scene otherwise).
 */

import { el } from "./text.js";
import { nf, setText } from "./panels.js";

const ROWS = 10;

export class Leaderboard {
  /** @param {HTMLElement} root @param {() => boolean} enabled */
  constructor(root, enabled) {
    this.enabled = enabled;
    this.el = el("section", "leaders", root);
    el("h2", "leaders-title", this.el).textContent = "Most active contributors";
    const list = el("ol", "leaders-list", this.el);
    this.rows = Array.from({ length: ROWS }, (_, i) => {
      const li = el("li", "leaders-row", list);
      el("span", "leaders-rank", li).textContent = String(i + 1);
      const handle = el("span", "leaders-handle", li);
      handle.dir = "auto";
      const count = el("span", "leaders-count", li);
      li.hidden = true;
      return { li, handle, count };
    });
    this.el.hidden = true;
  }

  show(stats) {
    const on = this.enabled();
    const authors = on && Array.isArray(stats?.top_authors) ? stats.top_authors
      .filter((a) => Array.isArray(a) && typeof a[0] === "string" && a[0] && Number.isFinite(a[1])) : [];
    this.el.hidden = !on;
    this.rows.forEach((row, i) => {
      const a = authors[i];
      row.li.hidden = !a;
      if (!a) return;
      setText(row.handle, `@${a[0].replace(/^@/, "")}`);
      setText(row.count, `${nf.format(a[1])} posts`);
    });
    this.el.dataset.filled = String(authors.length > 0);
  }
}

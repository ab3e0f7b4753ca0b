/**
 * The slim band's figures: posts per minute, total, and the top trending hashtags, from `stats` events
 * (the server counts them once for every screen; nothing is computed here). The chips are built once and
 * reused, so months of stats events create no nodes.
 */

const TOP = 5;
const numberFormat = new Intl.NumberFormat("en-US");

export class StatsBand {
  /** @param {HTMLElement} root  the .band-stats element */
  constructor(root) {
    this.root = root;
    this.rate = /** @type {HTMLElement} */ (root.querySelector('[data-stat="per_minute"]'));
    this.total = /** @type {HTMLElement} */ (root.querySelector('[data-stat="total"]'));
    this.trending = /** @type {HTMLElement} */ (root.querySelector(".trending"));
    const list = /** @type {HTMLElement} */ (root.querySelector(".trending-list"));
    this.chips = Array.from({ length: TOP }, () => {
      const li = document.createElement("li");
      li.className = "chip";
      const tag = document.createElement("span");
      tag.className = "chip-tag";
      tag.dir = "auto";
      const count = document.createElement("span");
      count.className = "chip-count";
      li.append(tag, count);
      li.hidden = true;
      list.append(li);
      return { li, tag, count };
    });
  }

  /**
   * Show a `stats` event (or a snapshot's stats). Anything malformed is shown as absent, not as "NaN".
   * @param {{total?: unknown, per_minute?: unknown, trending?: unknown} | null} stats
   */
  show(stats) {
    if (!stats || typeof stats !== "object") return;
    setNumber(this.rate, stats.per_minute);
    setNumber(this.total, stats.total);
    const top = (Array.isArray(stats.trending) ? stats.trending : [])
      .filter((t) => Array.isArray(t) && typeof t[0] === "string" && t[0] !== "")
      .slice(0, TOP);
    this.chips.forEach((chip, i) => {
      const entry = top[i];
      chip.li.hidden = !entry;
      if (!entry) return;
      const tag = `#${entry[0].replace(/^#/, "")}`;
      if (chip.tag.textContent !== tag) chip.tag.textContent = tag;
      chip.count.textContent = Number.isFinite(entry[1]) ? numberFormat.format(entry[1]) : "";
    });
    this.trending.hidden = top.length === 0;
    this.root.hidden = false;
  }
}

function setNumber(node, value) {
  const text = Number.isFinite(value) ? numberFormat.format(/** @type {number} */ (value)) : "–";
  if (node.textContent !== text) node.textContent = text;
}

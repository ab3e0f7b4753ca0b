/**
 * The "poll" scene: the question and one bar per option, from the writer's announced `poll` frame
 * (docs/polls.md). Bars move by transform only; the labels, question and figures are text. A closed poll
 * stays as it was, marked final; none shown (hidden, or never opened) leaves a quiet line.
 */

const fmt = new Intl.NumberFormat("en-US");

export class PollView {
  /** @param {HTMLElement} root the scene's section */
  constructor(root) {
    this.root = root;
    this.question = /** @type {HTMLElement} */ (root.querySelector(".poll-question"));
    this.state = /** @type {HTMLElement} */ (root.querySelector(".poll-state"));
    this.list = /** @type {HTMLElement} */ (root.querySelector(".poll-options"));
    this.id = null;
    /** @type {{row: HTMLElement, fill: HTMLElement, count: HTMLElement, share: HTMLElement}[]} */
    this.rows = [];
  }

  /** @param {any} poll the frame's `poll`: {id, question, state, options, counts, total} or null */
  show(poll) {
    const ok = poll && typeof poll === "object" && Array.isArray(poll.options) && Array.isArray(poll.counts);
    this.root.dataset.poll = ok ? String(poll.state) : "none";
    if (!ok) {
      this.id = null;
      this.question.textContent = "No poll right now";
      this.state.textContent = "";
      this.list.replaceChildren();
      this.rows = [];
      return;
    }
    if (poll.id !== this.id || poll.options.length !== this.rows.length) this.build(poll);
    this.question.textContent = String(poll.question ?? "");
    this.state.textContent = poll.state === "closed" ? "Final result" : "Vote now: post your answer";
    const total = Math.max(0, Number(poll.total) || 0);
    const top = Math.max(1, ...poll.counts.map((n) => Number(n) || 0));
    poll.counts.forEach((n, i) => {
      const row = this.rows[i];
      if (!row) return;
      const count = Math.max(0, Number(n) || 0);
      row.fill.style.setProperty("--share", String(count / top));
      row.count.textContent = fmt.format(count);
      row.share.textContent = total ? `${Math.round((100 * count) / total)}%` : "0%";
      row.row.classList.toggle("is-leading", count > 0 && count === top);
    });
  }

  build(poll) {
    this.id = poll.id;
    this.rows = poll.options.map((label, i) => {
      const row = document.createElement("li");
      row.className = "poll-option";
      const head = document.createElement("p");
      head.className = "poll-head";
      const name = document.createElement("span");
      name.className = "poll-label";
      name.dir = "auto";
      name.textContent = `${i + 1}. ${String(label)}`;
      const share = document.createElement("span");
      share.className = "poll-share";
      const count = document.createElement("span");
      count.className = "poll-count";
      head.append(name, share, count);
      const track = document.createElement("div");
      track.className = "poll-track";
      const fill = document.createElement("span");
      fill.className = "poll-fill";
      track.append(fill);
      row.append(head, track);
      return { row, fill, count, share };
    });
    this.list.replaceChildren(...this.rows.map((r) => r.row));
  }
}

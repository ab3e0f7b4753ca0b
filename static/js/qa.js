/**
 * The "qa" scene (docs/qa.md): the audience question the presenter shows, from the control event's
 * `question` ({number, text, name, votes}), big enough to read from 4 m. Text is data: textContent only.
 */

const LONG = 140; // characters: a longer question gets the smaller (still legible) size

export class QaView {
  /** @param {HTMLElement} root the .scene-qa section */
  constructor(root) {
    this.root = root;
    this.label = /** @type {HTMLElement} */ (root.querySelector(".qa-label"));
    this.question = /** @type {HTMLElement} */ (root.querySelector(".qa-question"));
    this.asker = /** @type {HTMLElement} */ (root.querySelector(".qa-asker"));
    this.idle = /** @type {HTMLElement} */ (root.querySelector(".qa-idle"));
  }

  /** @param {any} q the control event's question, or null */
  show(q) {
    const ok = q && typeof q === "object" && typeof q.text === "string";
    this.root.dataset.number = ok ? String(q.number) : "";
    this.idle.hidden = !!ok;
    this.question.hidden = !ok;
    this.label.textContent = ok ? `Question ${q.number} · ${votes(q.votes)}` : "Questions";
    this.question.textContent = ok ? q.text : "";
    this.question.classList.toggle("qa-long", ok && q.text.length > LONG);
    this.asker.textContent = ok && q.name ? `@${String(q.name).replace(/^@/, "")}` : "";
  }
}

/** @param {unknown} n */
function votes(n) {
  const k = Number.isFinite(n) ? Number(n) : 0;
  return `${k} ${k === 1 ? "vote" : "votes"}`;
}

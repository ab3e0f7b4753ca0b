/**
 * The Q&A queue of a wall (docs/qa.md): every question the wall's posts asked, with its upvotes, in the
 * queue's order. Curators approve, reject, merge (into a number they type) and order; presenters show one
 * on the "qa" scene and mark it answered. The list is read again every POLL_MS and after each action.
 * Question text is data: it reaches the DOM only as textContent.
 */

import { get, post, toast } from "./api.js";

const POLL_MS = 1500;
const wall = document.body.dataset.wall ?? "";
const moderator = document.body.dataset.moderator === "yes";
const api = `/console/api/w/${encodeURIComponent(wall)}/qa`;
const control = `/console/api/w/${encodeURIComponent(wall)}/control`;
const list = /** @type {HTMLOListElement} */ (document.querySelector(".qa-list"));
const template = /** @type {HTMLTemplateElement} */ (document.getElementById("qa-item"));
const showing = document.querySelector(".qa-showing");
const last = document.querySelector(".last-action");
const STATUS = { new: "new", approved: "approved", showing: "on screen", answered: "answered",
  rejected: "rejected" };

/** The buttons a question gets, by its status and the user's role. @param {any} q */
function buttons(q) {
  /** @type {[string, string][]} */
  const found = [];
  if (moderator && q.status === "new") found.push(["approve", "Approve"], ["reject", "Reject"]);
  if (q.status === "approved" || q.status === "new" && moderator) found.push(["show", "Show"]);
  if (q.status === "showing") found.push(["answered", "Answered"], ["hide", "Take off"]);
  if (moderator && (q.status === "new" || q.status === "approved")) {
    found.push(["top", "Move to top"], ["up", "Up"], ["down", "Down"], ["merge", "Merge into…"]);
  }
  if (moderator && q.status === "rejected") found.push(["approve", "Approve"]);
  return found;
}

/** @param {any[]} questions */
function render(questions) {
  const on = questions.find((q) => q.status === "showing");
  if (showing) showing.textContent = on ? `Q${on.number}: ${on.text} (${on.votes} ▲, @${on.name})` : "No question on screen.";
  const items = questions.map((q) => {
    const li = /** @type {HTMLElement} */ (template.content.firstElementChild?.cloneNode(true));
    li.dataset.number = String(q.number);
    li.dataset.status = q.status;
    const set = (sel, text) => { const el = li.querySelector(sel); if (el) el.textContent = text; };
    set(".qa-number", `Q${q.number}`);
    set(".qa-status", STATUS[q.status] ?? q.status);
    set(".qa-votes", `${q.votes} ${q.votes === 1 ? "vote" : "votes"}`);
    set(".qa-name", `@${q.name}`);
    set(".qa-text", q.text);
    set(".qa-merged", q.merged.length ? `merged: ${q.merged.map((n) => `Q${n}`).join(", ")}` : "");
    const box = li.querySelector(".qa-buttons");
    for (const [action, label] of buttons(q)) {
      const b = document.createElement("button");
      b.type = "button";
      b.dataset.action = action;
      b.textContent = label;
      b.addEventListener("click", () => act(q.number, action));
      box?.append(b);
    }
    return li;
  });
  list.replaceChildren(...items);
}

async function refresh() {
  const r = await get(api);
  if (r.ok) render(r.data.questions ?? []);
}

/** @param {number} number @param {string} action */
async function act(number, action) {
  /** @type {{number: number, action: string, into?: number}} */
  const body = { number, action };
  if (action === "merge") {
    const into = Number.parseInt(String(window.prompt(`Merge Q${number} into which question? (its number)`) ?? "").replace(/^q/i, ""), 10);
    if (!Number.isFinite(into)) return;
    body.into = into;
  }
  const r = await post(api, body);
  const text = r.ok ? `Q${number}: ${action} done` : r.data.error ?? `${action} failed (${r.status})`;
  if (last) last.textContent = text;
  toast(text, !r.ok);
  await refresh();
}

/** @param {string} op @param {string | null} value */
async function send(op, value = null) {
  const r = await post(control, { op, value });
  const text = r.ok ? `${op} sent` : r.data.error ?? `${op} failed (${r.status})`;
  if (last) last.textContent = text;
  toast(text, !r.ok);
  await refresh();
}

document.querySelector(".qa-next")?.addEventListener("click", () => send("qa_next"));
document.querySelector(".qa-scene")?.addEventListener("click", () => send("scene", "qa"));
refresh();
setInterval(() => { if (!document.hidden) refresh(); }, POLL_MS);

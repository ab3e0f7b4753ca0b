/**
 * The presenter page's polls (docs/polls.md): a small form to prepare a poll (question, 2-6 options each
 * with its vote words) and open it at once, the wall's polls with their counts and an Open button each,
 * and the CSV export. Close and Hide are control buttons (data-op) handled by present.js.
 */

import { get, post, toast, el } from "./api.js";

const wall = document.body.dataset.wall ?? "";
const base = `/console/api/w/${encodeURIComponent(wall)}`;
const form = /** @type {HTMLFormElement | null} */ (document.querySelector("form.poll-form"));
const list = document.querySelector(".poll-list");

async function refresh() {
  const r = await get(`${base}/polls`);
  if (!r.ok || !list) return;
  list.replaceChildren();
  for (const p of r.data.polls ?? []) {
    const row = el("li", "poll-row", list);
    row.dataset.state = String(p.state);
    el("p", "poll-row-question", row, p.question).dir = "auto";
    const counts = (p.options ?? []).map((o, i) => `${o.label}: ${p.counts?.[i] ?? 0}`).join(" · ");
    el("p", "poll-row-counts muted", row, `${p.state} · ${counts}`);
    if (p.state !== "open") {
      const open = el("button", "poll-open", row, "Open");
      open.type = "button";
      open.addEventListener("click", () => control("poll_open", String(p.id)));
    }
  }
}

async function control(op, value = null) {
  const r = await post(`${base}/control`, { op, value });
  toast(r.ok ? `${op} sent` : r.data.error ?? `${op} failed (${r.status})`, !r.ok);
  refresh();
}

form?.addEventListener("submit", async (ev) => {
  ev.preventDefault();
  const data = new FormData(form);
  const options = [];
  for (let i = 1; i <= 6; i++) {
    const label = String(data.get(`label${i}`) ?? "").trim();
    const words = String(data.get(`words${i}`) ?? "").split(",").map((w) => w.trim()).filter(Boolean);
    if (label) options.push({ label, words });
  }
  const r = await post(`${base}/polls`, { question: String(data.get("question") ?? ""), options, open: true });
  toast(r.ok ? "poll opened" : r.data.error ?? `failed (${r.status})`, !r.ok);
  if (r.ok) form.reset();
  refresh();
});
for (const b of document.querySelectorAll("button[data-op^=poll_]")) b.addEventListener("click", () => setTimeout(refresh, 500));
refresh();

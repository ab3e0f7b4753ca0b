/** The wall's live-control state in a few words ("PANIC", "paused", the announcement), as text. */

/** @param {Element | null} el @param {any} state */
export function showControl(el, state) {
  if (!el || !state || typeof state !== "object") return;
  const parts = [];
  if (state.panic) parts.push("PANIC: screens blanked");
  if (state.paused) parts.push("paused");
  if (state.scene) parts.push(`scene: ${String(state.scene)}`);
  if (state.announcement) parts.push(`announcement: ${String(state.announcement)}`);
  if (state.spotlight_until && state.spotlight_until * 1000 > Date.now()) parts.push("spotlight on");
  el.textContent = parts.length ? parts.join(" · ") : "live";
  el.classList.toggle("panic", !!state.panic);
}

/**
 * The wall's brand on screen: colours, logo, font, light or dark, from config.theme, applied as CSS
 * custom properties on :root (CSSOM, which the CSP allows; no inline style markup). Applied at load from
 * the page's data-config and again, live, whenever a `config` frame arrives.
 */

const COLOURS = { background: "--bg", surface: "--card", text: "--text", muted: "--muted", accent: "--accent" };
const HEX = /^#[0-9a-fA-F]{6}$/;
const FONT = /^[A-Za-z0-9 _-]{1,60}$/;

/** @param {any} theme  @param {HTMLImageElement} logo */
export function applyTheme(theme, logo) {
  if (!theme || typeof theme !== "object") return;
  const root = document.documentElement;
  root.dataset.theme = theme.mode === "light" ? "light" : "dark";
  const colors = theme.colors && typeof theme.colors === "object" ? theme.colors : {};
  for (const [key, prop] of Object.entries(COLOURS)) {
    if (HEX.test(colors[key])) root.style.setProperty(prop, colors[key]);
    else root.style.removeProperty(prop);
  }
  if (typeof theme.font === "string" && FONT.test(theme.font)) root.style.setProperty("--brand-font", `"${theme.font}"`);
  else root.style.removeProperty("--brand-font");
  const src = typeof theme.logo === "string" && theme.logo.startsWith("/") && !theme.logo.startsWith("//") ? theme.logo : "";
  logo.hidden = !src;
  if (src && logo.getAttribute("src") !== src) logo.src = src;
  if (!src) logo.removeAttribute("src");
}

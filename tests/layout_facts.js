// Layout facts of the visible wall, measured in the page from computed styles (tests/test_wall_screen.py).
// Returns problems as plain sentences; an empty list is a pass.
(scope) => {
  const px = Math.min(innerWidth / 1920, innerHeight / 1080);
  const problems = [];
  const root = document.querySelector(scope) || document.body;
  const rgba = (s) => {
    const m = s.match(/rgba?\(([^)]+)\)/);
    if (!m) return null;
    const [r, g, b, a = "1"] = m[1].split(/[ ,/]+/).filter(Boolean);
    return [Number(r), Number(g), Number(b), Number(a)];
  };
  const lum = ([r, g, b]) => {
    const c = (v) => { v /= 255; return v <= 0.03928 ? v / 12.92 : ((v + 0.055) / 1.055) ** 2.4; };
    return 0.2126 * c(r) + 0.7152 * c(g) + 0.0722 * c(b);
  };
  const background = (el) => {
    for (let e = el; e; e = e.parentElement) {
      const c = rgba(getComputedStyle(e).backgroundColor);
      if (c && c[3] > 0.5) return c;
    }
    return rgba(getComputedStyle(document.documentElement).backgroundColor) || [0, 0, 0, 1];
  };
  const visible = (el) => {
    const r = el.getBoundingClientRect();
    if (r.width === 0 || r.height === 0) return false;
    if (r.right <= 0 || r.left >= innerWidth || r.bottom <= 0 || r.top >= innerHeight) return false;
    for (let e = el; e; e = e.parentElement) {
      const s = getComputedStyle(e);
      if (s.visibility === "hidden" || s.display === "none" || Number(s.opacity) < 0.5) return false;
    }
    return true;
  };
  let texts = 0;
  for (const el of root.querySelectorAll("*")) {
    const own = [...el.childNodes].some((n) => n.nodeType === 3 && n.textContent.trim());
    if (!own || !visible(el)) continue;
    texts++;
    const s = getComputedStyle(el);
    const size = parseFloat(s.fontSize);
    const min = el.closest(".card-text") ? 28 : 24;
    if (size < min * px - 0.5) problems.push(`${el.className || el.tagName} "${el.textContent.slice(0, 30)}" is ${size}px, under ${min * px}px`);
    const fg = rgba(s.color);
    const bg = background(el);
    const [hi, lo] = [lum(fg), lum(bg)].sort((a, b) => b - a);
    const ratio = (hi + 0.05) / (lo + 0.05);
    if (ratio < 4.5) problems.push(`${el.className || el.tagName} "${el.textContent.slice(0, 30)}" contrast ${ratio.toFixed(2)}:1`);
  }
  if (texts === 0) problems.push("no visible text at all");
  for (const el of root.querySelectorAll(".card, .panel, .cta, .band, .ticker-bar, .poll-option")) {
    if (!visible(el)) continue;
    const r = el.getBoundingClientRect();
    if (r.left < -1 || r.top < -1 || r.right > innerWidth + 1 || r.bottom > innerHeight + 1) {
      problems.push(`${el.className} sticks out of the screen: ${JSON.stringify(r)}`);
    }
  }
  for (const el of root.querySelectorAll(".card-text, .panel-body, .figure, .rank-row, .bars-row, .poll-head")) {
    if (!visible(el)) continue;
    if (el.scrollHeight > el.clientHeight + 2 || el.scrollWidth > el.clientWidth + 2) {
      problems.push(`${el.className} "${el.textContent.slice(0, 30)}" overflows (${el.scrollWidth}x${el.scrollHeight} in ${el.clientWidth}x${el.clientHeight})`);
    }
  }
  return problems;
}

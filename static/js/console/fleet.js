// The console's fleet view: polls /console/api/fleet, renders every kiosk and pairing code, sends commands.
// Names, URLs and states come from kiosks: they reach the DOM only as textContent.

const REFRESH_MS = 5000;
const $ = (id) => document.getElementById(id);

function el(tag, cls, text) {
  const node = document.createElement(tag);
  if (cls) node.className = cls;
  if (text !== undefined && text !== null) node.textContent = String(text);
  return node;
}

function duration(seconds) {
  if (seconds === null || seconds === undefined) return "–";
  const s = Math.round(seconds);
  if (s < 90) return `${s} s`;
  if (s < 5400) return `${Math.round(s / 60)} min`;
  if (s < 172800) return `${Math.round(s / 3600)} h`;
  return `${Math.round(s / 86400)} d`;
}

function memory(m) {
  if (!m) return "–";
  const parts = [];
  if (typeof m.heap_mb === "number") parts.push(`heap ${Math.round(m.heap_mb)} MB`);
  if (typeof m.available_mb === "number") parts.push(`free ${Math.round(m.available_mb)} MB`);
  return parts.join(", ") || "–";
}

// A CSRF token from the console's base template, when it has one (branch access); same-origin otherwise.
function headers() {
  const h = { "Content-Type": "application/json" };
  const meta = document.querySelector('meta[name="csrf-token"]');
  if (meta) h["X-CSRF-Token"] = meta.content;
  return h;
}

async function send(path, body) {
  const r = await fetch(path, { method: "POST", headers: headers(), body: JSON.stringify(body || {}),
                                credentials: "same-origin" });
  const reply = await r.json().catch(() => ({}));
  if (!r.ok) throw new Error(reply.error || `HTTP ${r.status}`);
  return reply;
}

function showError(message) {
  const box = $("fleet-error");
  box.textContent = message || "";
  box.hidden = !message;
}

function action(label, run) {
  const b = el("button", "", label);
  b.type = "button";
  b.addEventListener("click", async () => {
    b.disabled = true;
    try {
      await run();
      showError("");
      await refresh();
    } catch (e) {
      showError(e.message);
    } finally {
      b.disabled = false;
    }
  });
  return b;
}

function kioskRow(k) {
  const tr = el("tr", `kiosk kiosk-${k.state}`);
  tr.dataset.kiosk = String(k.id);
  const shot = el("td");
  if (k.screenshot_age !== null) {
    const img = el("img", "shot");
    img.alt = `screenshot of ${k.name}`;
    img.src = `/console/api/fleet/kiosks/${k.id}/screenshot?age=${Math.round(Date.now() / 10000)}`;
    shot.append(img, el("span", "agent-state", `${duration(k.screenshot_age)} ago`));
  }
  const where = el("td", "", `${k.wall} ${k.screen} of ${k.of}`);
  const status = k.status || {};
  const state = el("td");
  state.append(el("span", `state state-${k.state}`, k.state));
  if (status.state) state.append(el("div", "agent-state", status.state));
  const actions = el("td", "actions");
  if (k.state !== "revoked") {
    actions.append(
      action("Reload", () => send(`/console/api/fleet/kiosks/${k.id}/reload`)),
      action("Identify", () => send(`/console/api/fleet/kiosks/${k.id}/identify`)),
      action("Re-assign", () => reassign(k)),
      action("Revoke", () => {
        if (!window.confirm(`Revoke ${k.name}? It stops showing the wall until it is paired again.`)) {
          return Promise.resolve();
        }
        return send(`/console/api/fleet/kiosks/${k.id}/revoke`);
      }),
    );
  }
  tr.append(
    shot,
    where,
    el("td", "", k.name),
    state,
    el("td", "", k.last_seen_age === null ? "never" : `${duration(k.last_seen_age)} ago`),
    el("td", "", duration(status.uptime)),
    el("td", "", memory(status.memory)),
    el("td", "", status.version || "–"),
    el("td", "url", status.url || "–"),
    actions,
  );
  return tr;
}

function reassign(k) {
  const dialog = $("assign-dialog");
  const form = $("assign-form");
  $("assign-name").textContent = k.name;
  form.elements.wall.value = k.wall;
  form.elements.screen.value = k.screen;
  form.elements.of.value = k.of;
  return new Promise((resolve, reject) => {
    dialog.addEventListener("close", () => {
      if (dialog.returnValue !== "ok") return resolve();
      send(`/console/api/fleet/kiosks/${k.id}/assign`, {
        wall: form.elements.wall.value,
        screen: Number(form.elements.screen.value),
        of: Number(form.elements.of.value),
      }).then(resolve, reject);
    }, { once: true });
    dialog.showModal();
  });
}

function render(data) {
  const alerts = $("fleet-alerts");
  alerts.replaceChildren(...data.alerts.map((a) => el("p", "", a)));
  alerts.hidden = data.alerts.length === 0;

  $("fleet-pending").replaceChildren(...data.pending.map((p) => {
    const li = el("li");
    li.append(el("span", "pending-code", p.code),
              el("span", "", `${p.hostname} (${p.ip}), expires in ${duration(p.expires_in)}`));
    return li;
  }));
  $("clear-pending-row").hidden = data.pending.length === 0;

  $("fleet-kiosks").replaceChildren(...data.kiosks.map(kioskRow));
  $("fleet-empty").hidden = data.kiosks.length > 0;
  const online = data.kiosks.filter((k) => k.state === "online").length;
  $("fleet-updated").textContent =
    `${online} of ${data.kiosks.filter((k) => k.state !== "revoked").length} online; ` +
    `updated ${new Date().toLocaleTimeString()}`;
}

async function refresh() {
  try {
    const r = await fetch("/console/api/fleet", { credentials: "same-origin" });
    const data = await r.json();
    if (!r.ok) throw new Error(data.error || `HTTP ${r.status}`);
    render(data);
    document.body.dataset.loaded = "true";
  } catch (e) {
    showError(`cannot load the fleet: ${e.message}`);
  }
}

$("clear-pending").addEventListener("click", async (event) => {
  event.target.disabled = true;
  try {
    await send("/console/api/fleet/pending/clear");
    showError("");
  } catch (e) {
    showError(`cannot clear the waiting codes: ${e.message}`);
  } finally {
    event.target.disabled = false;
  }
  await refresh();
});

$("approve-form").addEventListener("submit", async (event) => {
  event.preventDefault();
  const f = event.target.elements;
  try {
    await send("/console/api/fleet/approve", {
      code: f.code.value.trim(), wall: f.wall.value, screen: Number(f.screen.value),
      of: Number(f.of.value), name: f.name.value.trim() || null,
    });
    event.target.reset();
    showError("");
    await refresh();
  } catch (e) {
    showError(e.message);
  }
});

refresh();
setInterval(() => { if (!document.hidden) refresh(); }, REFRESH_MS);

/**
 * The live queue's WebSocket: reconnects with backoff and jitter; every (re)connect calls onOpen so the
 * page reloads what it may have missed. A close with 4401 means the session ended: go to the login page.
 */

/**
 * @param {string} path
 * @param {{onItem: (item: any) => void, onOpen: () => void, onState: (s: string) => void}} handlers
 */
export function follow(path, { onItem, onOpen, onState }) {
  let attempt = 0;
  const connect = () => {
    const ws = new WebSocket(`${location.protocol === "https:" ? "wss" : "ws"}://${location.host}${path}`);
    onState("connecting");
    ws.addEventListener("open", () => {
      attempt = 0;
      onState("live");
      onOpen();
    });
    ws.addEventListener("message", (ev) => {
      try {
        onItem(JSON.parse(ev.data));
      } catch (e) {
        console.warn("bad queue frame", e);
      }
    });
    ws.addEventListener("close", (ev) => {
      if (ev.code === 4401) {
        location.assign(`/console/login?next=${encodeURIComponent(location.pathname)}`);
        return;
      }
      onState("offline");
      const delay = Math.min(10000, 300 * 2 ** attempt++) * (0.5 + Math.random());
      setTimeout(connect, delay);
    });
  };
  connect();
}

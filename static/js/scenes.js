/**
 * Which scene is on. The run of show (config.show.playlist: [scene, seconds] in turn) is laid on the
 * server's clock from the epoch, so every screen of a wall computes the same scene for the same instant
 * and switches at the same instant (clock.js keeps them within a few ms). A presenter's `control.scene`
 * overrides the playlist; it takes effect SWITCH_DELAY_MS after its event was published (the time in its
 * id), not when each screen happens to receive it, so a row of screens flips together.
 */

export const SCENES = ["agora", "mosaic", "spotlight", "stats", "ticker", "countdown", "qa", "poll", "meter", "cloud",
  "leaders"];
export const SWITCH_DELAY_MS = 500;
const DEFAULT = [["agora", 300]];

/**
 * The scene of `playlist` at server time `t` (ms) and when it ends.
 * @param {[string, number][]} playlist
 */
export function sceneAt(playlist, t) {
  const items = (Array.isArray(playlist) ? playlist : []).filter(
    (p) => Array.isArray(p) && SCENES.includes(p[0]) && Number.isFinite(p[1]) && p[1] > 0);
  const list = items.length ? items : DEFAULT;
  const cycle = list.reduce((sum, p) => sum + p[1] * 1000, 0);
  const pos = ((t % cycle) + cycle) % cycle;
  let end = 0;
  for (const [scene, seconds] of list) {
    end += seconds * 1000;
    if (pos < end) return { scene, until: t - pos + end };
  }
  return { scene: list[0][0], until: t - pos + cycle };
}

export class Director {
  /**
   * @param {{clock: import("./clock.js").Clock, store: import("./store.js").Store, pinned: string,
   *          onScene: (scene: string) => void}} options   pinned: a scene forced by the URL (?scene=)
   */
  constructor({ clock, store, pinned, onScene }) {
    this.clock = clock;
    this.store = store;
    this.pinned = SCENES.includes(pinned) ? pinned : "";
    this.onScene = onScene;
    this.scene = "";
    this.cancel = null;
    /** the presenter's scene in effect (a new one waits for its switch time; this one holds till then) */
    this.override = "";
    /** @type {{scene: string, at: number}[]} switches, kept short, for tests and the soak benchmark */
    this.log = [];
  }

  /** Decide again (after a control, a config or a clock change) and schedule the next switch. */
  plan() {
    this.cancel?.();
    this.cancel = null;
    if (this.pinned) return this.set(this.pinned);
    const now = this.clock.now();
    const control = this.store.control;
    const wanted = control && SCENES.includes(control.scene) ? control.scene : "";
    const from = this.store.controlAt + SWITCH_DELAY_MS;
    if (wanted === this.override || now >= from) this.override = wanted;
    if (this.override) {
      this.set(this.override);
      if (wanted !== this.override) this.cancel = this.clock.at(from, () => this.plan());
      return;
    }
    const { scene, until } = sceneAt(this.store.config?.show?.playlist, now);
    this.set(scene);
    this.cancel = this.clock.at(wanted !== this.override ? Math.min(from, until) : until, () => this.plan());
  }

  set(scene) {
    if (scene === this.scene) return;
    this.scene = scene;
    this.log.push({ scene, at: performance.timeOrigin + performance.now() });
    if (this.log.length > 50) this.log.shift();
    this.onScene(scene);
  }
}

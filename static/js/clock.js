/**
 * The server's clock, the one every screen of a wall agrees on. A Raspberry Pi has no real-time clock and
 * a kiosk on a closed LAN may never reach an NTP server, so the page measures its offset to the wall
 * server itself, NTP-style: it sends {"type":"time","t0"} over the socket, the server answers with its
 * time t1, and the answer arriving at t2 gives offset = t1 - (t0 + t2) / 2, good to half the round trip.
 * Of several samples the one with the shortest round trip wins (the least queueing delay in it).
 *
 * The local side is the monotonic clock (performance.now), so a jump of the system clock cannot move it.
 */

const SAMPLES = 8;
const BURST = 5;
const BURST_GAP_MS = 150;
const RESYNC_MS = 60_000;

const mono = () => performance.timeOrigin + performance.now();

export class Clock {
  constructor() {
    /** server ms − local monotonic ms */
    this.offset = Date.now() - mono();
    /** @type {{offset: number, rtt: number}[]} */
    this.samples = [];
    this.rtt = Infinity;
    this.timers = new Set();
    this.pinger = 0;
    this.burst = 0;
  }

  /** Server time in ms since the epoch. */
  now() {
    return mono() + this.offset;
  }

  /** A first guess from the welcome's server_time, until the first real sample. */
  rough(serverTime) {
    if (this.samples.length === 0 && Number.isFinite(serverTime)) this.offset = serverTime - mono();
  }

  /** The time frame the page sends. */
  ping() {
    return { type: "time", t0: mono() };
  }

  /** A {"type":"time","t0","t1"} answer. */
  pong(msg) {
    const t2 = mono();
    const { t0, t1 } = msg;
    if (!Number.isFinite(t0) || !Number.isFinite(t1) || t0 > t2 || t2 - t0 > 10_000) return;
    this.samples.push({ offset: t1 - (t0 + t2) / 2, rtt: t2 - t0 });
    if (this.samples.length > SAMPLES) this.samples.shift();
    const best = this.samples.reduce((a, b) => (b.rtt < a.rtt ? b : a));
    this.offset = best.offset;
    this.rtt = best.rtt;
  }

  /**
   * Measure over `send` (the socket's): a burst of pings now, one more every minute (clocks drift).
   * @param {(msg: object) => boolean} send
   */
  sync(send) {
    this.stopSync();
    this.samples = [];
    this.burst = 0;
    const one = () => {
      send(this.ping());
      this.burst++;
      this.pinger = setTimeout(one, this.burst < BURST ? BURST_GAP_MS : RESYNC_MS);
    };
    one();
  }

  stopSync() {
    clearTimeout(this.pinger);
    this.pinger = 0;
  }

  /**
   * Run fn at server time `at` (ms), never before: timers may fire early or late, so it re-arms until the
   * time has come, and a short final wait keeps two screens within a few ms. Returns a cancel function.
   */
  at(at, fn) {
    let id = 0;
    const arm = () => {
      const wait = at - this.now();
      if (wait <= 0) {
        this.timers.delete(cancel);
        fn();
        return;
      }
      id = setTimeout(arm, wait > 40 ? wait - 20 : Math.ceil(wait));
    };
    const cancel = () => {
      clearTimeout(id);
      this.timers.delete(cancel);
    };
    this.timers.add(cancel);
    arm();
    return cancel;
  }
}

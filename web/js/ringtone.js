// The ringtone: two short tones and a pause, over and over, made with the Web
// Audio API (no audio file). Stopped on every end of the ringing. A browser that
// refuses sound before the user has touched the page rings silently; the
// dialog still shows.

/** One ring: tone, gap, tone, then silence until the next (seconds). */
const TONE_SECONDS = 0.4;
const GAP_SECONDS = 0.2;
const RING_PERIOD_MS = 3000;
const FREQUENCIES = [440, 480];

export class Ringtone {
  constructor() {
    /** @type {AudioContext | null} */
    this.context = null;
    /** @type {ReturnType<typeof setInterval> | undefined} */
    this.timer = undefined;
  }

  get ringing() {
    return this.timer !== undefined;
  }

  start() {
    if (this.ringing) return;
    try {
      this.context = new AudioContext();
    } catch {
      this.context = null;
    }
    this.ring();
    this.timer = setInterval(() => this.ring(), RING_PERIOD_MS);
  }

  stop() {
    clearInterval(this.timer);
    this.timer = undefined;
    void this.context?.close().catch(() => undefined);
    this.context = null;
  }

  /** @private */
  ring() {
    const ctx = this.context;
    if (!ctx) return;
    void ctx.resume().catch(() => undefined);
    const gain = ctx.createGain();
    gain.gain.value = 0;
    gain.connect(ctx.destination);
    const start = ctx.currentTime + 0.05;
    for (const [i, at] of [start, start + TONE_SECONDS + GAP_SECONDS].entries()) {
      gain.gain.setValueAtTime(0.15, at);
      gain.gain.setValueAtTime(0, at + TONE_SECONDS);
      for (const frequency of FREQUENCIES) {
        const osc = ctx.createOscillator();
        osc.frequency.value = frequency;
        osc.connect(gain);
        osc.start(at);
        osc.stop(at + TONE_SECONDS);
        if (i === 1) osc.addEventListener('ended', () => gain.disconnect());
      }
    }
  }
}

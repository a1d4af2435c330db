// The login screen's "Link with another device": this browser asks to be linked to
// the person of the phone typed, shows the pairing code (grouped ABCD-2345) and its
// QR code with a countdown, renews the code when it expires, and asks every 2 s
// whether a logged-in device confirmed it; then it is logged in on a session of its own.

import * as api from './api.js';
import { byId } from './dom.js';

/** @typedef {import('./types.js').LoginResult} LoginResult */
/** @typedef {import('./types.js').NewLink} NewLink */

/** How often the server is asked whether the code was confirmed. */
const POLL_MS = 2000;
/** Codes shown in a row without anyone confirming, before the screen waits for a click. */
const MAX_CODES = 5;

/**
 * ABCD2345 as people read it: ABCD-2345.
 * @param {string} code
 */
export function groupCode(code) {
  return code.length === 8 ? `${code.slice(0, 4)}-${code.slice(4)}` : code;
}

export class LinkLogin {
  /**
   * @param {(result: LoginResult) => void} onLoggedIn
   * @param {(text: string) => void} setError  the login screen's error line
   */
  constructor(onLoggedIn, setError) {
    this.onLoggedIn = onLoggedIn;
    this.setError = setError;
    this.root = byId('link-view');
    this.forText = byId('link-for');
    this.qr = /** @type {HTMLImageElement} */ (byId('link-qr'));
    this.code = byId('link-code');
    this.countdown = byId('link-countdown');
    this.renew = /** @type {HTMLButtonElement} */ (byId('link-renew'));
    /** @type {NewLink | null} */
    this.link = null;
    /** When the shown code expires, on this device's clock. */
    this.deadline = 0;
    /** Bumped on every start and stop, so that late answers of an earlier run are dropped. */
    this.run = 0;
    this.shown = 0;
    this.phone = '';
    /** @type {number | undefined} */
    this.tick = undefined;
    /** @type {number | undefined} */
    this.poll = undefined;
    /** @type {string | null} */
    this.qrUrl = null;
    this.renew.addEventListener('click', () => {
      this.shown = 0;
      void this.fresh(this.run);
    });
  }

  get isOpen() {
    return !this.root.hidden;
  }

  /**
   * Shows the link screen for `phone` and its first code.
   * @param {string} phone  as typed on the login form
   */
  start(phone) {
    this.stop();
    this.phone = phone;
    this.shown = 0;
    this.root.hidden = false;
    this.forText.textContent = `Log in as ${phone} by confirming on a device where you are already logged in.`;
    void this.fresh(this.run);
  }

  /** Hides the screen and stops asking the server. */
  stop() {
    this.run += 1;
    this.root.hidden = true;
    this.link = null;
    window.clearInterval(this.tick);
    window.clearTimeout(this.poll);
    this.tick = undefined;
    this.poll = undefined;
    this.showQr(null);
    this.code.textContent = '';
    this.countdown.textContent = '';
    this.renew.hidden = true;
  }

  /**
   * Asks for a new code and shows it.
   * @private
   * @param {number} run
   */
  async fresh(run) {
    if (run !== this.run) return;
    window.clearTimeout(this.poll);
    window.clearInterval(this.tick);
    this.renew.hidden = true;
    this.link = null;
    this.code.textContent = '…';
    this.countdown.textContent = 'Getting a code…';
    try {
      const link = await api.createLink(this.phone);
      if (run !== this.run) return;
      this.shown += 1;
      this.link = link;
      // The server's clock decides; this device counts the same span down on its own.
      const left = Date.parse(link.expires_at) - Date.now();
      this.deadline = Date.now() + (left > 0 && left <= 130_000 ? left : 120_000);
      this.code.textContent = groupCode(link.pairing_code);
      this.showQr(link.qr_svg);
      this.setError('');
      this.tick = window.setInterval(() => this.countDown(run), 1000);
      this.countDown(run);
      this.poll = window.setTimeout(() => void this.check(run), POLL_MS);
    } catch (err) {
      if (run !== this.run) return;
      this.code.textContent = '';
      this.countdown.textContent = '';
      this.renew.hidden = false;
      this.setError(err instanceof Error ? err.message : String(err));
    }
  }

  /**
   * @private
   * @param {number} run
   */
  countDown(run) {
    if (run !== this.run || !this.link) return;
    const seconds = Math.max(0, Math.ceil((this.deadline - Date.now()) / 1000));
    const m = Math.floor(seconds / 60);
    const s = String(seconds % 60).padStart(2, '0');
    this.countdown.textContent = `The code changes in ${m}:${s}`;
    if (seconds === 0) this.expired(run);
  }

  /**
   * The code is over: a new one, unless nobody confirmed several in a row.
   * @private
   * @param {number} run
   */
  expired(run) {
    if (run !== this.run) return;
    window.clearInterval(this.tick);
    window.clearTimeout(this.poll);
    this.link = null;
    if (this.shown >= MAX_CODES) {
      this.code.textContent = '';
      this.showQr(null);
      this.countdown.textContent = 'The code expired.';
      this.renew.hidden = false;
      return;
    }
    void this.fresh(run);
  }

  /**
   * Asks whether the code was confirmed; logs in once it was.
   * @private
   * @param {number} run
   */
  async check(run) {
    const link = this.link;
    if (run !== this.run || !link) return;
    try {
      const result = await api.claimLink(link.link_id, link.claim_secret);
      if (run !== this.run || this.link !== link) return;
      if (result) {
        this.stop();
        this.onLoggedIn(result);
        return;
      }
    } catch (err) {
      if (run !== this.run || this.link !== link) return;
      if (err instanceof api.ApiError && (err.status === 410 || err.status === 404)) {
        this.expired(run);
        return;
      }
      // Unreachable for a moment: ask again.
    }
    this.poll = window.setTimeout(() => void this.check(run), POLL_MS);
  }

  /**
   * The QR code as an image (an SVG in an <img> never runs anything).
   * @private
   * @param {string | null} svg
   */
  showQr(svg) {
    if (this.qrUrl) URL.revokeObjectURL(this.qrUrl);
    this.qrUrl = svg ? URL.createObjectURL(new Blob([svg], { type: 'image/svg+xml' })) : null;
    if (this.qrUrl) this.qr.src = this.qrUrl;
    else this.qr.removeAttribute('src');
    this.qr.hidden = !this.qrUrl;
  }
}

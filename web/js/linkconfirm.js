// "Link a device" in the settings: the logged-in person types the code a new
// device shows (or arrives through its QR code, `#link=CODE`), sees which device
// it is, and confirms "Log in as <name> on <device>?". The new device then logs
// in on a session of its own, listed with the others.

import * as api from './api.js';
import { confirmAction } from './confirm.js';
import { byId } from './dom.js';

/** @typedef {import('./types.js').User} User */

/**
 * The code in an address opened from the QR code, if any.
 * @returns {string | null}
 */
function codeInAddress() {
  const match = /^#link=([A-Za-z0-9-]{4,16})$/.exec(location.hash);
  return match ? match[1] : null;
}

/**
 * A refusal of the server, in words for this form.
 * @param {unknown} err
 */
function refusal(err) {
  if (!(err instanceof api.ApiError)) return err instanceof Error ? err.message : String(err);
  switch (err.code) {
    case 'link_not_found':
      return 'No device is waiting with this code. Check it, or show a new one on the other device.';
    case 'link_expired':
      return 'This code has expired. The other device shows a new one.';
    case 'link_used':
      return 'This code was already used.';
    case 'link_wrong_account':
      return 'That device asked to log in with another phone number. Enter your number there.';
    case 'invalid_pairing_code':
      return 'The code is 8 letters and digits, as the other device shows it.';
    default:
      return err.message;
  }
}

export class LinkConfirm {
  /**
   * @param {object} handlers
   * @param {() => User | null} handlers.me
   * @param {(device: string) => string} handlers.deviceName  a label for a user agent
   * @param {() => void} handlers.onLinked  a device was linked (the list reloads)
   */
  constructor(handlers) {
    this.handlers = handlers;
    this.form = /** @type {HTMLFormElement} */ (byId('link-confirm-form'));
    this.input = /** @type {HTMLInputElement} */ (byId('link-code-input'));
    this.button = /** @type {HTMLButtonElement} */ (byId('link-device'));
    this.status = byId('link-confirm-status');
    this.busy = false;
    this.form.addEventListener('submit', (event) => {
      event.preventDefault();
      void this.link();
    });
    this.input.addEventListener('input', () => this.setStatus('', false));
  }

  /**
   * The code from the address (a QR code opened here), taken out of it.
   * @returns {string | null}
   */
  takeFromAddress() {
    const code = codeInAddress();
    if (code) history.replaceState(null, '', location.pathname + location.search);
    return code;
  }

  /**
   * Fills the code in and asks to confirm it.
   * @param {string} code
   */
  offer(code) {
    this.input.value = code;
    this.input.focus();
    void this.link();
  }

  /** Empties the form (the panel closed, or the session ended). */
  reset() {
    this.input.value = '';
    this.setStatus('', false);
  }

  /**
   * @private
   * @param {string} text
   * @param {boolean} isError
   */
  setStatus(text, isError) {
    this.status.textContent = text;
    this.status.classList.toggle('search-status--error', isError);
  }

  /** @private */
  async link() {
    const code = this.input.value.trim();
    const me = this.handlers.me();
    if (this.busy || !me) return;
    if (!code) {
      this.setStatus('Type the code the other device shows.', true);
      this.input.focus();
      return;
    }
    this.busy = true;
    this.button.disabled = true;
    try {
      const waiting = await api.lookupLink(code);
      const device = this.handlers.deviceName(waiting.device);
      if (!(await confirmAction(`Log in as ${me.name} on ${device}?`, 'Log in'))) {
        this.setStatus('', false);
        return;
      }
      const linked = await api.confirmLink(code);
      this.input.value = '';
      this.setStatus(`${this.handlers.deviceName(linked.device)} is now logged in as you.`, false);
      this.handlers.onLinked();
    } catch (err) {
      this.setStatus(refusal(err), true);
    } finally {
      this.busy = false;
      this.button.disabled = false;
    }
  }
}

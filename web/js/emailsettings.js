// The settings panel's email address: where login codes also go once it is
// verified. The person gives an address, the server mails it a code, and the
// code typed back here verifies it; the address can be removed. Shown only when
// the server sends email (`login_codes_by_email` of `GET /api/config`).

import * as api from './api.js';
import { byId } from './dom.js';
import { errorText } from './errors.js';

/** @typedef {import('./api.js').EmailState} EmailState */

export class EmailSettings {
  constructor() {
    this.section = byId('email-section');
    this.form = /** @type {HTMLFormElement} */ (byId('email-form'));
    this.address = /** @type {HTMLInputElement} */ (byId('email-address'));
    this.send = /** @type {HTMLButtonElement} */ (byId('email-send'));
    this.verifyForm = /** @type {HTMLFormElement} */ (byId('email-verify-form'));
    this.code = /** @type {HTMLInputElement} */ (byId('email-code'));
    this.verify = /** @type {HTMLButtonElement} */ (byId('email-verify'));
    this.remove = /** @type {HTMLButtonElement} */ (byId('email-remove'));
    this.note = byId('email-note');
    this.form.addEventListener('submit', (event) => {
      event.preventDefault();
      void this.give();
    });
    this.verifyForm.addEventListener('submit', (event) => {
      event.preventDefault();
      void this.confirm();
    });
    this.remove.addEventListener('click', () => void this.forget());
  }

  /** Shows the address as the server has it, when the server sends email. */
  async load() {
    this.setNote('', false);
    try {
      const config = await api.getConfig();
      this.section.hidden = !config.login_codes_by_email;
      if (this.section.hidden) return;
      this.show(await api.getEmail());
    } catch (err) {
      this.setNote(errorText(err), true);
    }
  }

  /** @private */
  async give() {
    this.send.disabled = true;
    this.setNote('Sending a code…', false);
    try {
      const state = await api.setEmail(this.address.value.trim());
      this.show(state);
      this.setNote(state.email_verified ? 'Verified: login codes also come here.' : `Code sent to ${state.email}.`, false);
      if (!state.email_verified) this.code.focus();
    } catch (err) {
      this.setNote(errorText(err), true);
    } finally {
      this.send.disabled = false;
    }
  }

  /** @private */
  async confirm() {
    this.verify.disabled = true;
    try {
      this.show(await api.verifyEmail(this.code.value.trim()));
      this.code.value = '';
      this.setNote('Verified: login codes also come here.', false);
    } catch (err) {
      this.setNote(errorText(err), true);
    } finally {
      this.verify.disabled = false;
    }
  }

  /** @private */
  async forget() {
    this.remove.disabled = true;
    try {
      await api.removeEmail();
      this.show({ email: null, email_verified: false });
      this.setNote('Removed.', false);
    } catch (err) {
      this.setNote(errorText(err), true);
    } finally {
      this.remove.disabled = false;
    }
  }

  /**
   * @private
   * @param {EmailState} state
   */
  show(state) {
    this.address.value = state.email ?? '';
    this.verifyForm.hidden = !state.email || state.email_verified;
    this.remove.hidden = !state.email;
    this.form.dataset.verified = String(state.email_verified);
  }

  /**
   * @private
   * @param {string} text
   * @param {boolean} error
   */
  setNote(text, error) {
    this.note.textContent = text;
    this.note.classList.toggle('search-status--error', error);
  }
}

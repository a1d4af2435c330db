// The login screen: phone and name, then the 6-digit code; or, for the same
// phone, linking from a device already logged in (`js/linklogin.js`).

import * as api from './api.js';
import { byId } from './dom.js';
import { LinkLogin } from './linklogin.js';

/** @typedef {import('./types.js').LoginResult} LoginResult */

export class LoginView {
  /** @param {(result: LoginResult) => void} onLoggedIn */
  constructor(onLoggedIn) {
    this.onLoggedIn = onLoggedIn;
    this.root = byId('login');
    this.phoneForm = /** @type {HTMLFormElement} */ (byId('phone-form'));
    this.codeForm = /** @type {HTMLFormElement} */ (byId('code-form'));
    this.phone = /** @type {HTMLInputElement} */ (byId('phone-input'));
    this.name = /** @type {HTMLInputElement} */ (byId('name-input'));
    this.sendCode = /** @type {HTMLButtonElement} */ (byId('send-code'));
    this.code = /** @type {HTMLInputElement} */ (byId('code-input'));
    this.verifyButton = /** @type {HTMLButtonElement} */ (byId('verify-code'));
    this.changeNumber = /** @type {HTMLButtonElement} */ (byId('change-number'));
    this.resend = /** @type {HTMLButtonElement} */ (byId('resend-code'));
    this.codeHint = byId('code-hint');
    this.error = byId('login-error');
    this.info = byId('login-info');
    /** The phone the code was sent to, as typed. */
    this.sentTo = '';
    this.busy = false;

    this.phoneForm.addEventListener('submit', (event) => {
      event.preventDefault();
      void this.requestCode();
    });
    this.codeForm.addEventListener('submit', (event) => {
      event.preventDefault();
      void this.verify();
    });
    this.code.addEventListener('input', () => {
      const digits = this.code.value.replace(/\D/g, '').slice(0, 6);
      if (digits !== this.code.value) this.code.value = digits;
    });
    this.changeNumber.addEventListener('click', () => this.showPhoneStep());
    this.resend.addEventListener('click', () => void this.requestCode());
    this.link = new LinkLogin((result) => this.onLoggedIn(result), (text) => this.setError(text));
    byId('link-instead').addEventListener('click', () => this.showLinkStep());
    byId('link-back').addEventListener('click', () => {
      this.showPhoneStep();
      this.phone.focus();
    });
  }

  /** Shows the screen at its first step. */
  show() {
    this.root.hidden = false;
    this.showPhoneStep();
    this.phone.focus();
  }

  hide() {
    this.root.hidden = true;
    this.link.stop();
    this.setError('');
    this.setInfo('');
    this.code.value = '';
  }

  /** @param {string} text */
  setError(text) {
    this.error.textContent = text;
    this.error.hidden = !text;
  }

  /** @param {string} text */
  setInfo(text) {
    this.info.textContent = text;
    this.info.hidden = !text;
  }

  /** @private */
  showPhoneStep() {
    this.link.stop();
    this.codeForm.hidden = true;
    this.phoneForm.hidden = false;
    this.setError('');
    this.setInfo('');
    this.code.value = '';
  }

  /**
   * Linking instead of a code: the new device says which phone it logs in as.
   * @private
   */
  showLinkStep() {
    const phone = this.phone.value.trim();
    if (!phone) {
      this.setError('Enter your phone number first: the code is for that account only.');
      this.phone.focus();
      return;
    }
    this.setError('');
    this.setInfo('');
    this.phoneForm.hidden = true;
    this.codeForm.hidden = true;
    this.link.start(phone);
  }

  /** @private */
  showCodeStep() {
    this.phoneForm.hidden = true;
    this.codeForm.hidden = false;
    this.codeHint.textContent = `Enter the 6-digit code sent to ${this.sentTo}.`;
    this.code.value = '';
    this.code.focus();
  }

  /**
   * Runs one request with the buttons disabled; shows the server's message on failure.
   * @private
   * @param {HTMLButtonElement} button
   * @param {string} busyLabel
   * @param {() => Promise<void>} work
   */
  async withBusy(button, busyLabel, work) {
    if (this.busy) return;
    this.busy = true;
    const label = button.textContent;
    button.textContent = busyLabel;
    for (const b of [this.sendCode, this.verifyButton, this.resend, this.changeNumber]) b.disabled = true;
    this.setError('');
    try {
      await work();
    } catch (err) {
      this.setInfo('');
      this.setError(err instanceof Error ? err.message : String(err));
    } finally {
      button.textContent = label;
      for (const b of [this.sendCode, this.verifyButton, this.resend, this.changeNumber]) b.disabled = false;
      this.busy = false;
    }
  }

  /** @private */
  async requestCode() {
    const phone = this.phone.value.trim();
    if (!phone) {
      this.setError('Enter your phone number, for example +919876543210.');
      this.phone.focus();
      return;
    }
    const onCodeStep = !this.codeForm.hidden;
    await this.withBusy(onCodeStep ? this.resend : this.sendCode, 'Sending…', async () => {
      await api.requestOtp(phone);
      this.sentTo = phone;
      this.showCodeStep();
      this.setInfo(onCodeStep ? 'A new code is on its way.' : '');
    });
  }

  /** @private */
  async verify() {
    const code = this.code.value.trim();
    if (!/^\d{6}$/.test(code)) {
      this.setError('The code has 6 digits.');
      this.code.focus();
      return;
    }
    await this.withBusy(this.verifyButton, 'Verifying…', async () => {
      const result = await api.register(this.sentTo, this.name.value.trim(), code);
      this.onLoggedIn(result);
    });
  }
}

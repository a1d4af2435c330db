// "Report": asks why, then tells the server's admins (a message's copy goes with it).

import * as api from './api.js';
import { byId } from './dom.js';
import { actionError } from './errors.js';
import { toast } from './toast.js';

export class ReportDialog {
  constructor() {
    this.dialog = /** @type {HTMLDialogElement} */ (byId('report-dialog'));
    this.form = /** @type {HTMLFormElement} */ (byId('report-form'));
    this.what = byId('report-what');
    this.reason = /** @type {HTMLTextAreaElement} */ (byId('report-reason'));
    this.error = byId('report-error');
    this.send = /** @type {HTMLButtonElement} */ (byId('report-send'));
    /** @type {{ message_id?: string, user_id?: string } | null} */
    this.target = null;
    byId('report-cancel').addEventListener('click', () => this.dialog.close());
    this.form.addEventListener('submit', (event) => {
      event.preventDefault();
      void this.submit();
    });
  }

  /**
   * @param {{ message_id?: string, user_id?: string }} target
   * @param {string} label  what is reported, as the dialog says it
   */
  open(target, label) {
    this.target = target;
    this.what.textContent = `You are reporting ${label}.`;
    this.reason.value = '';
    this.error.hidden = true;
    this.send.disabled = false;
    this.dialog.showModal();
    this.reason.focus();
  }

  async submit() {
    const reason = this.reason.value.trim();
    if (!this.target || !reason) {
      this.error.textContent = 'Say why, in a few words.';
      this.error.hidden = false;
      return;
    }
    this.send.disabled = true;
    try {
      await api.fileReport(this.target, reason);
      this.dialog.close();
      toast('Reported. Thank you.');
    } catch (err) {
      this.error.textContent = actionError('Could not report', err);
      this.error.hidden = false;
      this.send.disabled = false;
    }
  }
}

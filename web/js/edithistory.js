// "Edit history": the texts an edited message had before, oldest first, and
// the one it has now.

import * as api from './api.js';
import { byId, el, formatMoment } from './dom.js';

/** @typedef {import('./thread.js').Entry} Entry */

export class EditHistoryView {
  constructor() {
    this.dialog = /** @type {HTMLDialogElement} */ (byId('edit-history'));
    this.list = byId('edit-history-list');
    this.status = byId('edit-history-status');
    this.loadSeq = 0;
    byId('edit-history-close').addEventListener('click', () => this.close());
    this.dialog.addEventListener('close', () => {
      this.loadSeq += 1;
    });
    this.dialog.addEventListener('click', (event) => {
      if (event.target === this.dialog) this.close();
    });
  }

  /**
   * Opens the history of a stored, edited message.
   * @param {Entry} entry
   */
  open(entry) {
    if (!entry.id) return;
    const current = version(entry.content, entry.editedAt ? `Now, since ${formatMoment(entry.editedAt)}` : 'Now', true);
    this.list.replaceChildren(current);
    this.setStatus('Loading…');
    if (!this.dialog.open) this.dialog.showModal();
    void this.load(entry.id, current);
  }

  close() {
    if (this.dialog.open) this.dialog.close();
  }

  /**
   * @private
   * @param {string} messageId
   * @param {HTMLElement} current
   */
  async load(messageId, current) {
    const seq = ++this.loadSeq;
    try {
      const edits = await api.getEdits(messageId);
      if (seq !== this.loadSeq) return;
      // Each earlier text was shown from when it was written until its edit; newest first.
      const earlier = edits.map((edit) => version(edit.content, `Until ${formatMoment(edit.edited_at)}`, false)).reverse();
      this.list.replaceChildren(current, ...earlier);
      this.setStatus(edits.length ? '' : 'No earlier versions.');
    } catch (err) {
      if (seq !== this.loadSeq) return;
      this.setStatus(err instanceof Error ? err.message : String(err));
    }
  }

  /**
   * @private
   * @param {string} text
   */
  setStatus(text) {
    this.status.textContent = text;
    this.status.hidden = !text;
  }
}

/**
 * One version of the message.
 * @param {string} text
 * @param {string} when
 * @param {boolean} isCurrent
 */
function version(text, when, isCurrent) {
  const item = el(
    'li',
    { class: `edit-version${isCurrent ? ' edit-version--current' : ''}`, testid: isCurrent ? 'edit-current' : 'edit-version' },
    el('span', { class: 'edit-version-text', testid: 'edit-version-text', text, attrs: { dir: 'auto' } }),
    el('span', { class: 'edit-version-time', text: when }),
  );
  return item;
}

// "Forward to…": a dialog listing the chats one may write in, with checkboxes.
// The server takes 1 to 5 chats per forward.

import { avatar, byId, el } from './dom.js';

/** At most this many chats per forward (the server's limit). */
const MAX_CHATS = 5;

/**
 * A chat one can forward into.
 * @typedef {object} ForwardTarget
 * @property {string} id
 * @property {string} title
 * @property {string} avatarKey
 */

export class ForwardDialog {
  constructor() {
    this.dialog = /** @type {HTMLDialogElement} */ (byId('forward-dialog'));
    this.form = /** @type {HTMLFormElement} */ (byId('forward-form'));
    this.list = byId('forward-list');
    this.error = byId('forward-error');
    this.sendButton = /** @type {HTMLButtonElement} */ (byId('forward-send'));
    /** Sends to the chats picked; resolves an error to show, or null when done. @type {((ids: string[]) => Promise<string | null>) | null} */
    this.send = null;
    /** What had focus, to return it to. @type {HTMLElement | null} */
    this.opener = null;

    byId('forward-cancel').addEventListener('click', () => this.dialog.close());
    this.dialog.addEventListener('click', (event) => {
      if (event.target === this.dialog) this.dialog.close();
    });
    this.dialog.addEventListener('close', () => {
      this.send = null;
      if (this.opener?.isConnected) this.opener.focus({ preventScroll: true });
      this.opener = null;
    });
    this.list.addEventListener('change', () => this.syncChecks());
    this.form.addEventListener('submit', (event) => {
      event.preventDefault();
      void this.submit();
    });
  }

  /**
   * @param {ForwardTarget[]} targets
   * @param {(ids: string[]) => Promise<string | null>} send
   */
  open(targets, send) {
    this.send = send;
    this.opener = document.activeElement instanceof HTMLElement ? document.activeElement : null;
    this.error.hidden = true;
    this.error.textContent = '';
    this.list.replaceChildren(
      ...targets.map((target) => {
        const box = el('input', { class: 'forward-check', attrs: { type: 'checkbox', value: target.id } });
        return el(
          'li',
          { class: 'forward-row', testid: 'forward-chat' },
          el('label', { class: 'forward-label' }, box, avatar(target.title, target.avatarKey), el('span', { class: 'forward-name', text: target.title })),
        );
      }),
    );
    if (targets.length === 0) this.list.append(el('li', { class: 'forward-empty', text: 'No chats to forward to.' }));
    this.syncChecks();
    this.dialog.showModal();
    const first = this.list.querySelector('input');
    if (first instanceof HTMLElement) first.focus();
  }

  /** @private */
  checked() {
    return [...this.list.querySelectorAll('input:checked')].map((n) => /** @type {HTMLInputElement} */ (n).value);
  }

  /** @private Enables Forward for 1 to 5 chats; no more than 5 can be ticked. */
  syncChecks() {
    const count = this.checked().length;
    this.sendButton.disabled = count === 0;
    this.sendButton.textContent = count > 1 ? `Forward to ${count} chats` : 'Forward';
    for (const box of this.list.querySelectorAll('input')) {
      const input = /** @type {HTMLInputElement} */ (box);
      input.disabled = !input.checked && count >= MAX_CHATS;
    }
  }

  /** @private */
  async submit() {
    const ids = this.checked();
    const send = this.send;
    if (ids.length === 0 || !send) return;
    this.sendButton.disabled = true;
    const problem = await send(ids);
    if (this.send !== send) return;
    if (problem) {
      this.error.textContent = problem;
      this.error.hidden = false;
      this.syncChecks();
      return;
    }
    this.dialog.close();
  }
}

// "Message info": who received and read an own message, and when.

import * as api from './api.js';
import { avatar, byId, el, formatMoment, icon } from './dom.js';
import { DELETED_TEXT } from './thread.js';

/** @typedef {import('./thread.js').Entry} Entry */
/** @typedef {import('./types.js').Receipt} Receipt */
/** @typedef {import('./types.js').User} User */

export class MessageInfoView {
  constructor() {
    this.dialog = /** @type {HTMLDialogElement} */ (byId('message-info'));
    this.closeButton = byId('message-info-close');
    this.bubble = byId('message-info-bubble');
    this.status = byId('message-info-status');
    this.list = byId('message-info-list');
    /** @type {{ chatId: string, messageId: string, people: Map<string, User> } | null} */
    this.current = null;
    this.loadSeq = 0;

    this.closeButton.addEventListener('click', () => this.close());
    this.dialog.addEventListener('close', () => {
      this.current = null;
      this.loadSeq += 1;
    });
    // A click on the backdrop (outside the card) closes it too.
    this.dialog.addEventListener('click', (event) => {
      if (event.target === this.dialog) this.close();
    });
  }

  /**
   * Opens the info of an own, stored message.
   * @param {string} chatId
   * @param {Entry} entry
   * @param {Map<string, User>} people  the chat's other members, by id
   */
  open(chatId, entry, people) {
    if (!entry.id) return;
    this.current = { chatId, messageId: entry.id, people };
    this.bubble.replaceChildren(
      el('span', { class: `msg-text${entry.deletedAt ? ' msg-text--deleted' : ''}`, text: entry.deletedAt ? DELETED_TEXT : entry.content }),
      el('time', { class: 'info-bubble-time', text: formatMoment(entry.createdAt), attrs: { datetime: entry.createdAt } }),
    );
    this.list.replaceChildren();
    this.setStatus('Loading…');
    if (!this.dialog.open) this.dialog.showModal();
    void this.load();
  }

  close() {
    if (this.dialog.open) this.dialog.close();
  }

  /**
   * Reloads when the receipts of a chat whose message is shown have moved.
   * @param {string} chatId
   */
  refreshIf(chatId) {
    if (this.current?.chatId === chatId && this.dialog.open) void this.load();
  }

  /** @private */
  async load() {
    const current = this.current;
    if (!current) return;
    const seq = ++this.loadSeq;
    try {
      const receipts = await api.getReceipts(current.messageId);
      if (seq !== this.loadSeq) return;
      this.render(receipts, current.people);
    } catch (err) {
      if (seq !== this.loadSeq) return;
      this.setStatus(err instanceof Error ? err.message : String(err));
    }
  }

  /**
   * @private
   * @param {Receipt[]} receipts
   * @param {Map<string, User>} people
   */
  render(receipts, people) {
    // Everyone the message went to, with or without a receipt yet.
    /** @type {Map<string, Receipt>} */
    const byUser = new Map(receipts.map((r) => [r.user_id, r]));
    for (const id of people.keys()) if (!byUser.has(id)) byUser.set(id, { user_id: id, delivered_at: null, read_at: null });
    const rows = [...byUser.values()].sort((a, b) => rank(b) - rank(a));
    this.setStatus(rows.length ? '' : 'Nobody else is in this chat.');
    this.list.replaceChildren(...rows.map((r) => this.row(r, people.get(r.user_id))));
  }

  /**
   * @private
   * @param {Receipt} receipt
   * @param {User | undefined} user
   */
  row(receipt, user) {
    const name = user?.name || 'Someone';
    const state = receipt.read_at ? 'read' : receipt.delivered_at ? 'delivered' : 'sent';
    const lines = el('div', { class: 'receipt-lines' });
    lines.append(el('span', { class: 'receipt-name', text: name }));
    if (receipt.read_at) lines.append(line('read', 'Read', receipt.read_at));
    if (receipt.delivered_at) lines.append(line('delivered', 'Delivered', receipt.delivered_at));
    if (!receipt.read_at && !receipt.delivered_at) {
      lines.append(el('span', { class: 'receipt-line receipt-line--muted', text: 'Not delivered yet' }));
    }
    const item = el('li', { class: 'receipt-row', testid: 'receipt-row' }, avatar(name, receipt.user_id, 'avatar--small'), lines);
    item.dataset.userId = receipt.user_id;
    item.dataset.state = state;
    return item;
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

/** @param {Receipt} r */
function rank(r) {
  return r.read_at ? 2 : r.delivered_at ? 1 : 0;
}

/**
 * "✓✓ Read  Today at 14:05"
 * @param {'read' | 'delivered'} kind
 * @param {string} label
 * @param {string} iso
 */
function line(kind, label, iso) {
  return el(
    'span',
    { class: `receipt-line receipt-line--${kind}` },
    icon('ticks', `status-icon${kind === 'read' ? ' status-icon--read' : ''}`),
    el('span', { class: 'receipt-kind', text: label }),
    el('time', { class: 'receipt-time', text: formatMoment(iso), attrs: { datetime: iso } }),
  );
}

// The "Calls" view from the main menu: the calls recorded in the chats this page
// holds (js/callrecord.js), newest first; a row opens its chat, its button calls
// again with the same media.

import { byId, el, formatMoment, icon } from './dom.js';
import { callRecordText } from './callrecord.js';

/** @typedef {import('./callrecord.js').CallHistoryItem} CallHistoryItem */

/**
 * @typedef {object} CallHistoryHandlers
 * @property {() => CallHistoryItem[]} calls
 * @property {(chatId: string) => string | null} chatTitle  null: the chat is no longer known
 * @property {(chatId: string) => boolean} canCall
 * @property {(chatId: string) => void} onOpenChat
 * @property {(chatId: string, media: 'voice' | 'video') => void} onCall
 * @property {() => void} onClosed
 */

export class CallHistoryView {
  /** @param {CallHistoryHandlers} handlers */
  constructor(handlers) {
    this.handlers = handlers;
    this.dialog = /** @type {HTMLDialogElement} */ (byId('calls-dialog'));
    this.list = byId('calls-list');
    this.status = byId('calls-status');
    byId('calls-close').addEventListener('click', () => this.close());
    this.dialog.addEventListener('click', (event) => {
      if (event.target === this.dialog) this.close();
    });
    this.dialog.addEventListener('close', () => this.handlers.onClosed());
  }

  open() {
    this.render();
    if (!this.dialog.open) this.dialog.showModal();
  }

  close() {
    if (this.dialog.open) this.dialog.close();
  }

  /** Redraws the list if it is open (a call record arrived). */
  refresh() {
    if (this.dialog.open) this.render();
  }

  /** @private */
  render() {
    const rows = [];
    for (const item of this.handlers.calls()) {
      const title = this.handlers.chatTitle(item.chatId);
      if (title !== null) rows.push(this.row(item, title));
    }
    this.list.replaceChildren(...rows);
    this.status.textContent = rows.length ? '' : 'No calls yet. Calls in your chats show here.';
    this.status.hidden = rows.length > 0;
  }

  /**
   * @private
   * @param {CallHistoryItem} item
   * @param {string} title
   */
  row(item, title) {
    const missed = item.call.outcome === 'missed' && !item.outgoing;
    const direction = missed ? 'callMissed' : item.outgoing ? 'callMade' : 'callReceived';
    const open = el(
      'button',
      { class: 'call-history-open', attrs: { type: 'button' } },
      el('span', { class: 'call-history-title', text: title, attrs: { dir: 'auto' } }),
      el(
        'span',
        { class: `call-history-what${missed ? ' call-history-what--missed' : ''}` },
        icon(direction, 'call-history-icon'),
        el('span', { class: 'visually-hidden', text: missed ? 'Missed, ' : item.outgoing ? 'Outgoing, ' : 'Incoming, ' }),
        callRecordText(item.call, item.outgoing),
      ),
      el('time', { class: 'call-history-time', text: formatMoment(item.at), attrs: { datetime: item.at } }),
    );
    open.addEventListener('click', () => {
      this.close();
      this.handlers.onOpenChat(item.chatId);
    });
    const media = item.call.media;
    const again = el('button', {
      class: 'icon-button call-history-again',
      testid: 'call-history-again',
      attrs: { type: 'button', 'aria-label': `${media === 'video' ? 'Video' : 'Voice'} call ${title}`, title: 'Call again' },
    });
    again.append(icon(media === 'video' ? 'videocam' : 'call'));
    again.hidden = !this.handlers.canCall(item.chatId);
    again.addEventListener('click', () => {
      this.close();
      this.handlers.onCall(item.chatId, media);
    });
    const li = el('li', { class: 'call-history-row', testid: 'call-history-row' }, open, again);
    li.dataset.chatId = item.chatId;
    li.dataset.outcome = item.call.outcome;
    return li;
  }
}

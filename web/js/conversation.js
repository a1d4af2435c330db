// The right pane: header, message history with day separators, composer.

import { avatar, dayKey, dayLabel, el, formatTime, icon, reconcile } from './dom.js';

/** @typedef {import('./thread.js').Thread} Thread */
/** @typedef {import('./thread.js').Entry} Entry */

/** How close to the top (px) triggers loading older history. */
const TOP_THRESHOLD = 80;
/** How close to the bottom (px) counts as "at the bottom". */
const BOTTOM_THRESHOLD = 120;

/**
 * @typedef {object} ConversationHandlers
 * @property {(text: string) => void} onSend
 * @property {(entry: Entry) => void} onRetry
 * @property {() => void} onBack
 * @property {() => void} onNeedOlder
 */

/**
 * @param {string} selector
 * @returns {HTMLElement}
 */
function $(selector) {
  const node = document.querySelector(selector);
  if (!(node instanceof HTMLElement)) throw new Error(`missing ${selector}`);
  return node;
}

export class ConversationView {
  /** @param {ConversationHandlers} handlers */
  constructor(handlers) {
    this.handlers = handlers;
    this.root = $('#conversation');
    this.emptyState = $('#conversation-empty');
    this.pane = $('#conversation-pane');
    this.title = $('#conversation-title');
    this.subtitle = $('#conversation-subtitle');
    this.avatarSlot = $('#conversation-avatar');
    this.scroller = $('#messages');
    this.list = $('#message-list');
    this.olderStatus = $('#older-status');
    this.jumpButton = /** @type {HTMLButtonElement} */ ($('#jump-bottom'));
    this.form = /** @type {HTMLFormElement} */ ($('#composer-form'));
    this.composer = /** @type {HTMLTextAreaElement} */ ($('#composer'));
    this.sendButton = /** @type {HTMLButtonElement} */ ($('#send-button'));
    this.backButton = /** @type {HTMLButtonElement} */ ($('#back-button'));

    /** @type {Thread | null} */
    this.thread = null;
    /** @type {string | null} */
    this.myId = null;
    /** @type {Map<string, HTMLElement>} */
    this.nodes = new Map();
    /** @type {Map<string, HTMLElement>} */
    this.separators = new Map();

    this.form.addEventListener('submit', (event) => {
      event.preventDefault();
      this.submit();
    });
    this.composer.addEventListener('keydown', (event) => {
      if (event.key === 'Enter' && !event.shiftKey && !event.isComposing) {
        event.preventDefault();
        this.submit();
      }
    });
    this.composer.addEventListener('input', () => this.autosize());
    this.backButton.addEventListener('click', () => this.handlers.onBack());
    this.jumpButton.addEventListener('click', () => this.scrollToBottom(true));
    this.scroller.addEventListener('scroll', () => this.onScroll(), { passive: true });
    this.list.addEventListener('click', (event) => {
      const target = event.target instanceof Element ? event.target.closest('[data-retry]') : null;
      if (!target || !this.thread) return;
      const key = target.getAttribute('data-retry');
      const entry = this.thread.entries.find((e) => e.key === key);
      if (entry) this.handlers.onRetry(entry);
    });
  }

  /**
   * Shows a chat. Keeps the composer's draft only when re-showing the same chat.
   * @param {Thread} thread
   * @param {{ title: string, subtitle: string, avatarKey: string }} info
   * @param {string} myId
   */
  show(thread, info, myId) {
    const sameChat = this.thread?.chatId === thread.chatId;
    this.thread = thread;
    this.myId = myId;
    this.emptyState.hidden = true;
    this.pane.hidden = false;
    this.setHeader(info);
    if (!sameChat) {
      this.nodes.clear();
      this.separators.clear();
      this.list.replaceChildren();
      this.composer.value = '';
      this.autosize();
    }
    this.setOlderStatus('');
    this.render({ mode: 'bottom' });
  }

  /** @param {{ title: string, subtitle: string, avatarKey: string }} info */
  setHeader(info) {
    this.title.textContent = info.title;
    this.subtitle.textContent = info.subtitle;
    this.subtitle.hidden = !info.subtitle;
    this.avatarSlot.replaceChildren(avatar(info.title, info.avatarKey));
  }

  hide() {
    this.thread = null;
    this.nodes.clear();
    this.separators.clear();
    this.list.replaceChildren();
    this.pane.hidden = true;
    this.emptyState.hidden = false;
  }

  focusComposer() {
    this.composer.focus({ preventScroll: true });
  }

  /** @param {string} text */
  setOlderStatus(text) {
    this.olderStatus.textContent = text;
    this.olderStatus.hidden = !text;
  }

  isNearBottom() {
    const s = this.scroller;
    return s.scrollHeight - s.scrollTop - s.clientHeight < BOTTOM_THRESHOLD;
  }

  /** @param {boolean} [smooth] */
  scrollToBottom(smooth = false) {
    this.scroller.scrollTo({ top: this.scroller.scrollHeight, behavior: smooth ? 'smooth' : 'auto' });
    this.jumpButton.hidden = true;
  }

  /** @private */
  onScroll() {
    if (!this.thread) return;
    this.jumpButton.hidden = this.isNearBottom();
    if (this.scroller.scrollTop < TOP_THRESHOLD) this.handlers.onNeedOlder();
  }

  /** Whether older history should be fetched because the list does not fill the pane yet. */
  wantsMore() {
    return !!this.thread && this.scroller.scrollHeight <= this.scroller.clientHeight + TOP_THRESHOLD;
  }

  /**
   * Redraws the history.
   * - 'bottom': scroll to the newest message
   * - 'keep-bottom': new messages; follow them only if the reader was at the bottom
   * - 'prepend': older history was added above; keep what is on screen where it is
   * @param {{ mode: 'bottom' | 'keep-bottom' | 'prepend' }} options
   */
  render({ mode }) {
    const thread = this.thread;
    if (!thread) return;
    const wasNearBottom = this.isNearBottom();
    const oldHeight = this.scroller.scrollHeight;
    const oldTop = this.scroller.scrollTop;

    /** @type {Node[]} */
    const nodes = [];
    /** @type {Set<string>} */
    const liveKeys = new Set();
    /** @type {Set<string>} */
    const liveDays = new Set();
    let lastDay = '';
    let lastSender = '';
    for (const entry of thread.ordered()) {
      const day = dayKey(entry.createdAt);
      if (day !== lastDay) {
        nodes.push(this.separator(day, entry.createdAt));
        liveDays.add(day);
        lastDay = day;
        lastSender = '';
      }
      const node = this.bubble(entry);
      node.classList.toggle('msg--first', entry.senderId !== lastSender);
      lastSender = entry.senderId;
      nodes.push(node);
      liveKeys.add(entry.key);
    }
    for (const key of this.nodes.keys()) if (!liveKeys.has(key)) this.nodes.delete(key);
    for (const key of this.separators.keys()) if (!liveDays.has(key)) this.separators.delete(key);
    reconcile(this.list, nodes);

    if (mode === 'bottom' || (mode === 'keep-bottom' && wasNearBottom)) {
      this.scrollToBottom();
    } else if (mode === 'prepend') {
      this.scroller.scrollTop = this.scroller.scrollHeight - oldHeight + oldTop;
    }
    this.jumpButton.hidden = this.isNearBottom();
  }

  /**
   * @private
   * @param {string} day
   * @param {string} iso
   */
  separator(day, iso) {
    let node = this.separators.get(day);
    if (!node) {
      node = el('li', { class: 'day-separator', attrs: { role: 'separator' } }, el('span', { text: dayLabel(iso) }));
      this.separators.set(day, node);
    }
    return node;
  }

  /**
   * Creates or updates the node of one message.
   * @private
   * @param {Entry} entry
   */
  bubble(entry) {
    const own = entry.senderId === this.myId;
    let node = this.nodes.get(entry.key);
    if (!node) {
      const text = el('span', { class: 'msg-text', testid: 'message-text', text: entry.content });
      const time = el('time', { class: 'msg-time' });
      const status = el('span', { class: 'msg-status' });
      const meta = el('span', { class: 'msg-meta' }, time, status);
      const spacer = el('span', { class: 'msg-spacer', attrs: { 'aria-hidden': 'true' } });
      const bubble = el('div', { class: 'bubble' }, text, spacer, meta);
      node = el('li', { class: `msg ${own ? 'msg--own' : 'msg--other'}`, testid: 'message' }, bubble);
      node.dataset.own = String(own);
      node.dataset.key = entry.key;
      this.nodes.set(entry.key, node);
    }
    this.updateBubble(node, entry, own);
    return node;
  }

  /**
   * @private
   * @param {HTMLElement} node
   * @param {Entry} entry
   * @param {boolean} own
   */
  updateBubble(node, entry, own) {
    if (entry.seq !== null) node.dataset.seq = String(entry.seq);
    else delete node.dataset.seq;
    if (entry.id) node.dataset.id = entry.id;
    node.dataset.status = entry.status;
    node.classList.toggle('msg--failed', entry.status === 'failed');

    const text = /** @type {HTMLElement} */ (node.querySelector('.msg-text'));
    if (text.textContent !== entry.content) text.textContent = entry.content;
    const time = /** @type {HTMLTimeElement} */ (node.querySelector('.msg-time'));
    const label = formatTime(entry.createdAt);
    if (time.textContent !== label) time.textContent = label;
    time.dateTime = entry.createdAt;

    const status = /** @type {HTMLElement} */ (node.querySelector('.msg-status'));
    if (own && status.dataset.state !== entry.status) {
      status.dataset.state = entry.status;
      status.replaceChildren(statusIcon(entry.status));
      status.title = STATUS_TITLES[entry.status];
      status.setAttribute('aria-label', STATUS_TITLES[entry.status]);
    }

    let error = /** @type {HTMLElement | null} */ (node.querySelector('.msg-error'));
    if (entry.status === 'failed') {
      if (!error) {
        error = el('div', { class: 'msg-error', testid: 'message-error', attrs: { role: 'alert' } });
        node.append(error);
      }
      const retry = el('button', { class: 'msg-retry', text: 'Retry', attrs: { type: 'button', 'data-retry': entry.key } });
      error.replaceChildren(el('span', { text: entry.error || 'Not sent' }), retry);
    } else if (error) {
      error.remove();
    }
  }

  /** @private */
  submit() {
    const text = this.composer.value;
    if (!text.trim() || !this.thread) return;
    this.composer.value = '';
    this.autosize();
    this.handlers.onSend(text);
    this.composer.focus({ preventScroll: true });
  }

  /** @private Grows the composer with its text, up to the CSS max-height. */
  autosize() {
    this.composer.style.height = 'auto';
    this.composer.style.height = `${this.composer.scrollHeight}px`;
  }
}

/** @type {Record<import('./thread.js').EntryStatus, string>} */
const STATUS_TITLES = {
  pending: 'Sending…',
  sent: 'Sent',
  delivered: 'Delivered',
  read: 'Read',
  failed: 'Not sent',
};

/** @param {import('./thread.js').EntryStatus} status */
function statusIcon(status) {
  switch (status) {
    case 'pending':
      return icon('clock', 'status-icon status-icon--pending');
    case 'delivered':
      return icon('ticks', 'status-icon');
    case 'read':
      return icon('ticks', 'status-icon status-icon--read');
    case 'failed':
      return icon('alert', 'status-icon status-icon--failed');
    default:
      return icon('tick', 'status-icon');
  }
}

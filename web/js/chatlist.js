// The left pane: the chat list and the people search.

import { avatar, debounce, el, formatListTime, icon, reconcile } from './dom.js';
import * as api from './api.js';

/** @typedef {import('./types.js').ChatView} ChatView */
/** @typedef {import('./types.js').User} User */

const SEARCH_DELAY_MS = 250;

/**
 * The member a direct chat is "with", seen from `myId`.
 * @param {ChatView} chat
 * @param {string} myId
 * @returns {User | null}
 */
export function otherMember(chat, myId) {
  const other = chat.members.find((m) => m.user_id !== myId);
  return other ? other.user : null;
}

/**
 * What the chat is called for this user.
 * @param {ChatView} chat
 * @param {string} myId
 */
export function chatTitle(chat, myId) {
  if (chat.type !== 'direct' && chat.name) return chat.name;
  return otherMember(chat, myId)?.name || chat.name || 'Unknown';
}

/**
 * The time a chat sorts by: its last message, or its creation.
 * @param {ChatView} chat
 */
export function activityTime(chat) {
  const iso = chat.last_message?.created_at ?? chat.created_at;
  const t = Date.parse(iso);
  return Number.isNaN(t) ? 0 : t;
}

/**
 * What a render needs besides the chats.
 * @typedef {object} ListContext
 * @property {string} myId
 * @property {string | null} openChatId
 * @property {Map<string, number>} unread          unread count per chat
 * @property {(chat: ChatView) => string | null} typing   "typing…" text for a chat, if someone is
 * @property {(chat: ChatView) => 'sent' | 'delivered' | 'read'} lastStatus  ticks of an own last message
 */

/**
 * @typedef {object} ChatListHandlers
 * @property {(chatId: string) => void} onOpenChat
 * @property {(user: User) => void} onPickUser
 */

export class ChatListView {
  /** @param {ChatListHandlers} handlers */
  constructor(handlers) {
    this.handlers = handlers;
    this.list = /** @type {HTMLElement} */ (document.getElementById('chat-list'));
    this.emptyNote = /** @type {HTMLElement} */ (document.getElementById('chat-list-empty'));
    this.search = /** @type {HTMLInputElement} */ (document.getElementById('user-search'));
    this.clearButton = /** @type {HTMLButtonElement} */ (document.getElementById('search-clear'));
    this.searchPanel = /** @type {HTMLElement} */ (document.getElementById('search-panel'));
    this.searchStatus = /** @type {HTMLElement} */ (document.getElementById('search-status'));
    this.searchResults = /** @type {HTMLElement} */ (document.getElementById('search-results'));
    /** @type {Map<string, HTMLElement>} */
    this.rows = new Map();
    this.searchSeq = 0;

    const run = debounce((/** @type {string} */ q) => this.runSearch(q), SEARCH_DELAY_MS);
    this.search.addEventListener('input', () => {
      const q = this.search.value.trim();
      this.clearButton.hidden = this.search.value === '';
      if (!q) {
        run.cancel();
        this.closeSearch();
        return;
      }
      this.openSearchPanel();
      run(q);
    });
    this.search.addEventListener('keydown', (event) => {
      if (event.key === 'Escape') this.resetSearch();
    });
    this.clearButton.addEventListener('click', () => {
      run.cancel();
      this.resetSearch();
      this.search.focus();
    });
    this.list.addEventListener('click', (event) => {
      const row = event.target instanceof Element ? event.target.closest('[data-chat-id]') : null;
      const id = row?.getAttribute('data-chat-id');
      if (id) this.handlers.onOpenChat(id);
    });
  }

  /**
   * Redraws the rows, most recent first.
   * @param {ChatView[]} chats
   * @param {ListContext} ctx
   */
  render(chats, ctx) {
    const sorted = [...chats].sort((a, b) => activityTime(b) - activityTime(a));
    const live = new Set(sorted.map((c) => c.id));
    for (const id of this.rows.keys()) if (!live.has(id)) this.rows.delete(id);
    reconcile(
      this.list,
      sorted.map((chat) => this.row(chat, ctx)),
    );
    this.emptyNote.hidden = sorted.length > 0;
  }

  /**
   * @private
   * @param {ChatView} chat
   * @param {ListContext} ctx
   */
  row(chat, ctx) {
    const title = chatTitle(chat, ctx.myId);
    const other = otherMember(chat, ctx.myId);
    const last = chat.last_message;
    const unread = ctx.unread.get(chat.id) ?? 0;
    const selected = chat.id === ctx.openChatId;

    const typing = ctx.typing(chat);
    const preview = el('span', { class: 'row-preview', testid: 'chat-preview' });
    if (typing) {
      // Instead of the preview, like the header.
      preview.append(el('span', { class: 'row-typing', testid: 'typing-indicator', text: typing }));
    } else if (last) {
      if (last.sender_id === ctx.myId) preview.append(previewTicks(ctx.lastStatus(chat)));
      preview.append(el('span', { class: 'row-preview-text', text: firstLine(last.content) }));
    } else {
      preview.append(el('span', { class: 'row-preview-text row-preview-text--muted', text: 'No messages yet' }));
    }

    const time = el('time', { class: 'row-time', text: last ? formatListTime(last.created_at) : '' });
    if (last) time.dateTime = last.created_at;
    const badge =
      unread > 0
        ? el('span', {
            class: 'badge',
            testid: 'unread-badge',
            text: unread > 99 ? '99+' : String(unread),
            attrs: { 'aria-label': `${unread} unread` },
          })
        : null;
    if (badge) time.classList.add('row-time--unread');

    const button = el(
      'button',
      { class: 'chat-row', testid: 'chat-row', attrs: { type: 'button', 'data-chat-id': chat.id } },
      avatar(title, other?.id ?? chat.id),
      el(
        'span',
        { class: 'row-body' },
        el('span', { class: 'row-top' }, el('span', { class: 'row-name', testid: 'chat-name', text: title }), time),
        el('span', { class: 'row-bottom' }, preview, badge),
      ),
    );
    if (selected) button.setAttribute('aria-current', 'true');

    let item = this.rows.get(chat.id);
    if (!item) {
      item = el('li', { class: 'chat-item' });
      this.rows.set(chat.id, item);
    }
    const hadFocus = item.contains(document.activeElement);
    item.replaceChildren(button);
    if (hadFocus) button.focus({ preventScroll: true });
    return item;
  }

  resetSearch() {
    this.search.value = '';
    this.clearButton.hidden = true;
    this.closeSearch();
  }

  /** @private */
  openSearchPanel() {
    this.searchPanel.hidden = false;
    this.list.hidden = true;
    this.emptyNote.hidden = true;
  }

  /** @private */
  closeSearch() {
    this.searchSeq += 1;
    this.searchPanel.hidden = true;
    this.searchResults.replaceChildren();
    this.searchStatus.textContent = '';
    this.list.hidden = false;
    this.emptyNote.hidden = this.rows.size > 0;
  }

  /**
   * @private
   * @param {string} query
   */
  async runSearch(query) {
    const seq = ++this.searchSeq;
    this.searchStatus.textContent = 'Searching…';
    this.searchStatus.classList.remove('search-status--error');
    try {
      const users = await api.searchUsers(query.slice(0, 64));
      if (seq !== this.searchSeq) return;
      this.searchStatus.textContent = users.length ? '' : `No people found for “${query}”`;
      this.searchResults.replaceChildren(...users.map((u) => this.resultRow(u)));
    } catch (err) {
      if (seq !== this.searchSeq) return;
      this.searchResults.replaceChildren();
      this.searchStatus.textContent = err instanceof Error ? err.message : 'Search failed';
      this.searchStatus.classList.add('search-status--error');
    }
  }

  /**
   * @private
   * @param {User} user
   */
  resultRow(user) {
    const button = el(
      'button',
      { class: 'chat-row', testid: 'search-result', attrs: { type: 'button', 'data-user-id': user.id } },
      avatar(user.name, user.id),
      el(
        'span',
        { class: 'row-body' },
        el('span', { class: 'row-top' }, el('span', { class: 'row-name', text: user.name })),
        el('span', { class: 'row-bottom' }, el('span', { class: 'row-preview', text: user.phone || user.status })),
      ),
    );
    button.addEventListener('click', () => this.handlers.onPickUser(user));
    return el('li', { class: 'chat-item' }, button);
  }
}

/** @type {Record<'sent' | 'delivered' | 'read', string>} */
const TICK_LABELS = { sent: 'Sent', delivered: 'Delivered', read: 'Read' };

/**
 * The ticks before an own last message in its row.
 * @param {'sent' | 'delivered' | 'read'} status
 */
function previewTicks(status) {
  const node = el('span', {
    class: `row-ticks row-ticks--${status}`,
    testid: 'preview-ticks',
    attrs: { role: 'img', 'aria-label': TICK_LABELS[status], 'data-status': status },
  });
  node.append(icon(status === 'sent' ? 'tick' : 'ticks', 'row-tick'));
  return node;
}

/** @param {string} text */
function firstLine(text) {
  const line = text.split('\n').find((l) => l.trim()) ?? text;
  return line.length > 200 ? `${line.slice(0, 200)}…` : line;
}

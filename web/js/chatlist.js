// The left pane: the chat list (pinned first, marks for muted and pinned chats,
// an "Archived" entry and the archive), each row's menu (archive, mute, pin),
// and the search box over chats, people and messages.

import { avatar, byId, debounce, el, formatListTime, highlighted, icon, menuKeys, placePopup, reconcile } from './dom.js';
import * as api from './api.js';
import { displayName, noteUser } from './people.js';
import { mediaLabel } from './attachments.js';
import { DELETED_TEXT } from './thread.js';
import { callOf, callRecordText } from './callrecord.js';

/** @typedef {import('./types.js').ChatView} ChatView */
/** @typedef {import('./types.js').User} User */
/** @typedef {import('./types.js').Message} Message */
/** @typedef {import('./types.js').SearchHit} SearchHit */

const SEARCH_DELAY_MS = 300;
/** People shown at first in the search results (the rest behind "Show all"). */
const PEOPLE_SHOWN = 5;
/** Message search results per page ("More messages" asks for the next). */
const MESSAGES_PAGE = 20;
/** How long a touch must rest on a row to open its menu. */
const LONG_PRESS_MS = 500;

/**
 * What a row's menu can do to a chat.
 * @typedef {'archive' | 'unarchive' | 'mute-8h' | 'mute-1w' | 'mute-always' | 'unmute' | 'pin' | 'unpin'} ChatAction
 */

/**
 * The member a direct chat is "with", seen from `myId`.
 * @param {ChatView} chat
 * @param {string} myId
 * @returns {User | null}
 */
export function otherMember(chat, myId) {
  if (chat.type !== 'direct') return null;
  const other = chat.members.find((m) => m.user_id !== myId);
  return other ? other.user : null;
}

/**
 * What the chat is called for this user: a group's name, else the other
 * person (their alias in the user's contacts first).
 * @param {ChatView} chat
 * @param {string} myId
 */
export function chatTitle(chat, myId) {
  if (chat.type !== 'direct') return chat.name || 'Group';
  const other = otherMember(chat, myId);
  return other ? displayName(other.id, other.name) : chat.name || 'Unknown';
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
 * Whether the user has muted the chat (until a time still to come).
 * @param {ChatView} chat
 * @param {number} [now]
 */
export function isMuted(chat, now = Date.now()) {
  const until = chat.settings?.muted_until;
  if (!until) return false;
  const t = Date.parse(until);
  return !Number.isNaN(t) && t > now;
}

/** @param {ChatView} chat */
export function isArchived(chat) {
  return chat.settings?.archived === true;
}

/** @param {ChatView} chat */
export function isPinned(chat) {
  return chat.settings?.pinned === true;
}

/**
 * Pinned chats first, then by latest activity.
 * @param {ChatView} a
 * @param {ChatView} b
 */
function listOrder(a, b) {
  const pin = Number(isPinned(b)) - Number(isPinned(a));
  return pin !== 0 ? pin : activityTime(b) - activityTime(a);
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
 * @property {(chatId: string, seq: number) => void} onOpenMessage  a message search result was picked
 * @property {(chatId: string, action: ChatAction) => void} onChatAction
 */

export class ChatListView {
  /** @param {ChatListHandlers} handlers */
  constructor(handlers) {
    this.handlers = handlers;
    this.sidebar = byId('sidebar');
    this.list = byId('chat-list');
    this.emptyNote = byId('chat-list-empty');
    this.search = /** @type {HTMLInputElement} */ (byId('user-search'));
    this.clearButton = /** @type {HTMLButtonElement} */ (byId('search-clear'));
    this.searchPanel = byId('search-panel');
    this.chatsSection = byId('search-chats-section');
    this.chatResults = byId('search-chats');
    this.searchStatus = byId('search-status');
    this.searchResults = byId('search-results');
    this.messagesSection = byId('search-messages-section');
    this.messagesStatus = byId('search-messages-status');
    this.messageResults = byId('search-messages');
    this.peopleSection = byId('search-people-section');
    this.scopeBar = byId('search-scope');
    this.scopeLabel = byId('search-scope-label');
    this.scopeClear = /** @type {HTMLButtonElement} */ (byId('search-scope-clear'));
    /** The chat a search is limited to ("Search in this chat"), or null for all. @type {{ chatId: string, title: string } | null} */
    this.scope = null;
    /** The longest people search the server accepts (from its config; none until known). */
    this.peopleQueryMax = Infinity;
    this.archiveBar = byId('archive-bar');
    this.archiveBack = byId('archive-back');
    this.menu = byId('chat-menu');
    this.menuArchive = /** @type {HTMLButtonElement} */ (byId('chat-menu-archive'));
    this.menuMute = /** @type {HTMLButtonElement} */ (byId('chat-menu-mute'));
    this.menuPin = /** @type {HTMLButtonElement} */ (byId('chat-menu-pin'));
    this.muteChoices = [...this.menu.querySelectorAll('[data-mute]')].filter(
      /** @returns {n is HTMLButtonElement} */ (n) => n instanceof HTMLButtonElement,
    );
    /** @type {Map<string, HTMLElement>} */
    this.rows = new Map();
    this.searchSeq = 0;
    /** The archive is shown instead of the chat list. */
    this.showingArchive = false;
    /** @type {ChatView[]} */
    this.chats = [];
    /** @type {ListContext | null} */
    this.ctx = null;
    /** The chat whose menu is open, and what opened it. @type {{ chatId: string, opener: HTMLElement | null } | null} */
    this.menuFor = null;
    /** A long press opened a menu: the click that ends it opens nothing. */
    this.swallowClick = false;
    /** @type {HTMLLIElement} */
    this.archivedItem = el('li', { class: 'chat-item archived-item' });

    const run = debounce((/** @type {string} */ q) => void this.runSearch(q), SEARCH_DELAY_MS);
    this.search.addEventListener('input', () => {
      const q = this.search.value.trim();
      this.clearButton.hidden = this.search.value === '';
      if (!q) {
        run.cancel();
        this.closeSearch();
        return;
      }
      this.openSearchPanel();
      this.renderChatResults();
      this.searchStatus.textContent = 'Searching…';
      this.messagesStatus.textContent = 'Searching…';
      run(q);
    });
    this.search.addEventListener('keydown', (event) => {
      if (event.key === 'Escape') {
        run.cancel();
        this.resetSearch();
      }
    });
    this.clearButton.addEventListener('click', () => {
      run.cancel();
      this.resetSearch();
      this.search.focus();
    });
    this.scopeClear.addEventListener('click', () => {
      this.setScope(null);
      const q = this.search.value.trim();
      this.renderChatResults();
      if (q) void this.runSearch(q);
      this.search.focus();
    });
    this.list.addEventListener('click', (event) => {
      if (this.swallowClick) {
        this.swallowClick = false;
        return;
      }
      const target = event.target instanceof Element ? event.target : null;
      const menuButton = target?.closest('[data-menu-chat]');
      if (menuButton instanceof HTMLElement) {
        const chatId = menuButton.dataset.menuChat ?? '';
        if (this.menuFor?.chatId === chatId && !this.menu.hidden) this.closeMenu(true);
        else this.openMenu(chatId, menuButton, null);
        return;
      }
      if (target?.closest('[data-testid="archived-entry"]')) {
        this.setArchiveView(true);
        return;
      }
      const id = target?.closest('[data-chat-id]')?.getAttribute('data-chat-id');
      if (id) this.handlers.onOpenChat(id);
    });
    // Right-click, and long-press where the browser turns it into contextmenu.
    this.list.addEventListener('contextmenu', (event) => {
      const row = event.target instanceof Element ? event.target.closest('.chat-item[data-item-chat]') : null;
      if (!(row instanceof HTMLElement)) return;
      event.preventDefault();
      const button = row.querySelector('[data-menu-chat]');
      this.openMenu(row.dataset.itemChat ?? '', button instanceof HTMLElement ? button : null, { x: event.clientX, y: event.clientY });
    });
    this.watchLongPress();
    this.archiveBack.addEventListener('click', () => this.setArchiveView(false));
    this.archiveBar.addEventListener('keydown', (event) => {
      if (event.key === 'Escape') this.setArchiveView(false);
    });

    this.menuArchive.addEventListener('click', () => this.act(this.menuArchive.dataset.action));
    this.menuPin.addEventListener('click', () => this.act(this.menuPin.dataset.action));
    this.menuMute.addEventListener('click', () => {
      if (this.menuMute.dataset.action === 'unmute') {
        this.act('unmute');
        return;
      }
      // "Mute notifications" opens the choices in place.
      for (const item of [this.menuArchive, this.menuMute, this.menuPin]) item.hidden = true;
      for (const item of this.muteChoices) item.hidden = false;
      this.muteChoices[0]?.focus();
    });
    for (const item of this.muteChoices) item.addEventListener('click', () => this.act(item.dataset.mute));
    this.menu.addEventListener('keydown', (event) => menuKeys(this.menu, event, () => this.closeMenu(true)));
    document.addEventListener('pointerdown', (event) => {
      if (this.menu.hidden) return;
      const target = event.target instanceof Node ? event.target : null;
      if (target && (this.menu.contains(target) || this.menuFor?.opener?.contains(target))) return;
      this.closeMenu(false);
    });
    this.list.addEventListener('scroll', () => this.closeMenu(false), { passive: true });

    this.chatResults.addEventListener('click', (event) => {
      const id = event.target instanceof Element ? event.target.closest('[data-chat-id]')?.getAttribute('data-chat-id') : null;
      if (!id) return;
      this.resetSearch();
      this.handlers.onOpenChat(id);
    });
    this.messageResults.addEventListener('click', (event) => {
      const hit = event.target instanceof Element ? event.target.closest('[data-testid="search-message-result"]') : null;
      if (!(hit instanceof HTMLElement)) return;
      const seq = Number(hit.dataset.seq);
      if (hit.dataset.chatId && Number.isSafeInteger(seq)) this.handlers.onOpenMessage(hit.dataset.chatId, seq);
    });
  }

  /**
   * Long-press on touch screens that do not turn it into `contextmenu`.
   * @private
   */
  watchLongPress() {
    /** @type {ReturnType<typeof setTimeout> | undefined} */
    let timer;
    let startX = 0;
    let startY = 0;
    const cancel = () => clearTimeout(timer);
    this.list.addEventListener('pointerdown', (event) => {
      this.swallowClick = false; // a long press whose touch never clicked
      if (event.pointerType !== 'touch') return;
      const row = event.target instanceof Element ? event.target.closest('.chat-item[data-item-chat]') : null;
      if (!(row instanceof HTMLElement)) return;
      startX = event.clientX;
      startY = event.clientY;
      cancel();
      timer = setTimeout(() => {
        if (!this.menu.hidden) return; // contextmenu got there first
        this.swallowClick = true;
        const button = row.querySelector('[data-menu-chat]');
        this.openMenu(row.dataset.itemChat ?? '', button instanceof HTMLElement ? button : null, { x: startX, y: startY });
      }, LONG_PRESS_MS);
    });
    this.list.addEventListener('pointermove', (event) => {
      if (Math.abs(event.clientX - startX) > 10 || Math.abs(event.clientY - startY) > 10) cancel();
    });
    this.list.addEventListener('pointerup', cancel);
    this.list.addEventListener('pointercancel', cancel);
  }

  /**
   * @private
   * @param {string | undefined} action
   */
  act(action) {
    const chatId = this.menuFor?.chatId;
    this.closeMenu(true);
    if (chatId && action) this.handlers.onChatAction(chatId, /** @type {ChatAction} */ (action));
  }

  /**
   * Opens a chat's menu under its chevron, or at the pointer.
   * @private
   * @param {string} chatId
   * @param {HTMLElement | null} opener
   * @param {{ x: number, y: number } | null} at
   */
  openMenu(chatId, opener, at) {
    const chat = this.chats.find((c) => c.id === chatId);
    if (!chat) return;
    this.closeMenu(false);
    this.menuFor = { chatId, opener };
    const archived = isArchived(chat);
    const muted = isMuted(chat);
    const pinned = isPinned(chat);
    this.menuArchive.textContent = archived ? 'Unarchive chat' : 'Archive chat';
    this.menuArchive.dataset.action = archived ? 'unarchive' : 'archive';
    this.menuMute.textContent = muted ? 'Unmute notifications' : 'Mute notifications';
    this.menuMute.dataset.action = muted ? 'unmute' : 'mute';
    this.menuMute.setAttribute('aria-haspopup', muted ? 'false' : 'true');
    this.menuPin.textContent = pinned ? 'Unpin chat' : 'Pin chat';
    this.menuPin.dataset.action = pinned ? 'unpin' : 'pin';
    for (const item of [this.menuArchive, this.menuMute, this.menuPin]) item.hidden = false;
    for (const item of this.muteChoices) item.hidden = true;
    this.menu.setAttribute('aria-label', `Options for ${chatTitle(chat, this.ctx?.myId ?? '')}`);
    this.menu.hidden = false;
    opener?.setAttribute('aria-expanded', 'true');
    const anchor = at ?? (() => {
      const r = (opener ?? this.list).getBoundingClientRect();
      return { x: r.right, y: r.bottom, alignRight: true };
    })();
    placePopup(this.menu, this.sidebar, anchor);
    this.menuArchive.focus();
  }

  /**
   * @param {boolean} restoreFocus
   */
  closeMenu(restoreFocus) {
    if (this.menu.hidden) return;
    this.menu.hidden = true;
    const opener = this.menuFor?.opener;
    opener?.setAttribute('aria-expanded', 'false');
    this.menuFor = null;
    if (restoreFocus && opener?.isConnected) opener.focus({ preventScroll: true });
  }

  /**
   * Shows the archive (true) or the chat list (false).
   * @param {boolean} archive
   */
  setArchiveView(archive) {
    if (this.showingArchive === archive) return;
    this.showingArchive = archive;
    this.closeMenu(false);
    this.archiveBar.hidden = !archive;
    this.list.setAttribute('aria-label', archive ? 'Archived chats' : 'Chat list');
    this.redraw();
    this.list.scrollTop = 0;
    if (archive) this.archiveBack.focus();
    else this.list.querySelector('[data-testid="archived-entry"]')?.closest('li')?.querySelector('button')?.focus();
  }

  /**
   * Redraws the rows: the archive, or the list with pinned chats first.
   * @param {ChatView[]} chats  every chat, archived ones included
   * @param {ListContext} ctx
   */
  render(chats, ctx) {
    this.chats = chats;
    this.ctx = ctx;
    for (const chat of chats) for (const m of chat.members) noteUser(m.user);
    this.redraw();
    if (!this.searchPanel.hidden) this.renderChatResults();
  }

  /** @private */
  redraw() {
    const ctx = this.ctx;
    if (!ctx) return;
    const archived = this.chats.filter(isArchived).sort(listOrder);
    const shown = this.showingArchive ? archived : this.chats.filter((c) => !isArchived(c)).sort(listOrder);
    const live = new Set(this.chats.map((c) => c.id));
    for (const id of this.rows.keys()) if (!live.has(id)) this.rows.delete(id);
    /** @type {HTMLElement[]} */
    const nodes = [];
    if (!this.showingArchive && archived.length > 0) nodes.push(this.archivedEntry(archived, ctx));
    for (const chat of shown) nodes.push(this.row(chat, ctx));
    reconcile(this.list, nodes);
    this.emptyNote.textContent = this.showingArchive
      ? 'No archived chats. Archive a chat from its menu to tidy it away here.'
      : 'No chats yet. Search for someone by name or phone number to start one.';
    this.emptyNote.hidden = shown.length > 0 || !this.searchPanel.hidden;
  }

  /**
   * The "Archived" entry at the top of the list, with how many archived chats have unread messages.
   * @private
   * @param {ChatView[]} archived
   * @param {ListContext} ctx
   */
  archivedEntry(archived, ctx) {
    const unread = archived.filter((c) => (ctx.unread.get(c.id) ?? 0) > 0).length;
    const button = el(
      'button',
      { class: 'chat-row archived-entry', testid: 'archived-entry', attrs: { type: 'button' } },
      el('span', { class: 'archived-icon' }, icon('archive')),
      el(
        'span',
        { class: 'row-body' },
        el(
          'span',
          { class: 'row-top' },
          el('span', { class: 'row-name', text: 'Archived' }),
          unread > 0 ? el('span', { class: 'archived-count', text: String(unread), attrs: { 'aria-label': `${unread} with unread messages` } }) : null,
        ),
      ),
    );
    button.setAttribute('aria-label', `Archived chats: ${archived.length}${unread > 0 ? `, ${unread} with unread messages` : ''}`);
    this.archivedItem.replaceChildren(button);
    return this.archivedItem;
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
    const muted = isMuted(chat);
    const pinned = isPinned(chat);

    const typing = ctx.typing(chat);
    const preview = el('span', { class: 'row-preview', testid: 'chat-preview' });
    if (typing) {
      // Instead of the preview, like the header.
      preview.append(el('span', { class: 'row-typing', testid: 'typing-indicator', text: typing }));
    } else if (last) {
      const system = last.content_type === 'system';
      if (!system && last.sender_id === ctx.myId) preview.append(previewTicks(ctx.lastStatus(chat)));
      const sender = !system && chat.type === 'group' && last.sender_id !== ctx.myId ? `${displayName(last.sender_id, 'Someone')}: ` : '';
      preview.append(
        el(
          'span',
          { class: `row-preview-text${system ? ' row-preview-text--system' : ''}`, attrs: { dir: 'auto' } },
          sender ? el('span', { class: 'row-sender', text: sender }) : null,
          previewText(last, ctx.myId),
        ),
      );
    } else {
      preview.append(el('span', { class: 'row-preview-text row-preview-text--muted', text: 'No messages yet' }));
    }

    const time = el('time', { class: 'row-time', text: last ? formatListTime(last.created_at) : '' });
    if (last) time.dateTime = last.created_at;
    const badge =
      unread > 0
        ? el('span', {
            class: `badge${muted ? ' badge--muted' : ''}`,
            testid: 'unread-badge',
            text: unread > 99 ? '99+' : String(unread),
            attrs: { 'aria-label': `${unread} unread` },
          })
        : null;
    if (badge && !muted) time.classList.add('row-time--unread');

    const marks = el('span', { class: 'row-marks' });
    if (muted) marks.append(mark('muted', 'muted-mark', 'Muted'));
    if (pinned) marks.append(mark('pin', 'pinned-mark', 'Pinned'));

    const button = el(
      'button',
      { class: 'chat-row', testid: 'chat-row', attrs: { type: 'button', 'data-chat-id': chat.id } },
      avatar(title, other?.id ?? chat.id),
      el(
        'span',
        { class: 'row-body' },
        el('span', { class: 'row-top' }, el('span', { class: 'row-name', testid: 'chat-name', text: title, attrs: { dir: 'auto' } }), time),
        el('span', { class: 'row-bottom' }, preview, marks, badge),
      ),
    );
    button.dataset.type = chat.type;
    button.dataset.pinned = String(pinned);
    button.dataset.muted = String(muted);
    button.dataset.archived = String(isArchived(chat));
    if (selected) button.setAttribute('aria-current', 'true');

    const menuButton = el('button', {
      class: 'row-menu-button',
      testid: 'chat-menu',
      attrs: {
        type: 'button',
        'aria-label': `Options for ${title}`,
        'aria-haspopup': 'menu',
        'aria-expanded': String(this.menuFor?.chatId === chat.id && !this.menu.hidden),
        'aria-controls': 'chat-menu',
        'data-menu-chat': chat.id,
      },
    });
    menuButton.append(icon('chevron'));

    let item = this.rows.get(chat.id);
    if (!item) {
      item = el('li', { class: 'chat-item' });
      item.dataset.itemChat = chat.id;
      this.rows.set(chat.id, item);
    }
    const focused = document.activeElement;
    const hadFocus = item.contains(focused);
    const menuHadFocus = hadFocus && focused instanceof HTMLElement && focused.dataset.menuChat !== undefined;
    item.replaceChildren(button, menuButton);
    if (this.menuFor?.chatId === chat.id) this.menuFor.opener = menuButton;
    if (hadFocus) (menuHadFocus ? menuButton : button).focus({ preventScroll: true });
    return item;
  }

  resetSearch() {
    this.search.value = '';
    this.clearButton.hidden = true;
    this.setScope(null);
    this.closeSearch();
  }

  /**
   * The longest search queries the server accepts: the box takes the longer one.
   * @param {number} messages
   * @param {number} people
   */
  setQueryLimits(messages, people) {
    this.peopleQueryMax = people;
    this.search.maxLength = Math.max(messages, people);
  }

  /**
   * Starts a search of the messages of one chat.
   * @param {string} chatId
   * @param {string} title
   */
  searchIn(chatId, title) {
    this.resetSearch();
    this.setScope({ chatId, title });
    this.search.focus();
  }

  /**
   * @private
   * @param {{ chatId: string, title: string } | null} scope
   */
  setScope(scope) {
    this.scope = scope;
    this.scopeBar.hidden = !scope;
    this.peopleSection.hidden = !!scope;
    this.scopeLabel.textContent = scope ? scope.title : '';
    const label = scope ? `Search messages in ${scope.title}` : 'Search chats, people and messages';
    this.search.placeholder = label;
    this.search.setAttribute('aria-label', label);
  }

  /** @private */
  openSearchPanel() {
    this.closeMenu(false);
    this.searchPanel.hidden = false;
    this.list.hidden = true;
    this.emptyNote.hidden = true;
  }

  /** @private */
  closeSearch() {
    this.searchSeq += 1;
    this.searchPanel.hidden = true;
    this.chatResults.replaceChildren();
    this.searchResults.replaceChildren();
    this.messageResults.replaceChildren();
    this.searchStatus.textContent = '';
    this.messagesStatus.textContent = '';
    this.list.hidden = false;
    this.redraw();
  }

  /**
   * The chats whose name matches what is typed (here, no request), archived ones too.
   * @private
   */
  renderChatResults() {
    const q = this.search.value.trim().toLocaleLowerCase();
    const ctx = this.ctx;
    if (!q || !ctx || this.scope) {
      this.chatsSection.hidden = true;
      return;
    }
    const found = this.chats.filter((c) => chatTitle(c, ctx.myId).toLocaleLowerCase().includes(q)).sort(listOrder).slice(0, 20);
    this.chatResults.replaceChildren(
      ...found.map((chat) => {
        const title = chatTitle(chat, ctx.myId);
        const other = otherMember(chat, ctx.myId);
        const sub = chat.type === 'group' ? `${chat.members.length} members` : other?.status ?? '';
        const button = el(
          'button',
          {
            class: 'chat-row',
            testid: 'search-chat-result',
            attrs: { type: 'button', 'data-chat-id': chat.id, ...(other ? { 'data-other-id': other.id } : {}) },
          },
          avatar(title, other?.id ?? chat.id),
          el(
            'span',
            { class: 'row-body' },
            el('span', { class: 'row-top' }, el('span', { class: 'row-name', text: title, attrs: { dir: 'auto' } }), isArchived(chat) ? el('span', { class: 'row-tag', text: 'Archived' }) : null),
            el('span', { class: 'row-bottom' }, el('span', { class: 'row-preview', text: sub, attrs: { dir: 'auto' } })),
          ),
        );
        return el('li', { class: 'chat-item' }, button);
      }),
    );
    this.chatsSection.hidden = found.length === 0;
  }

  /**
   * People and messages for what is typed, once typing pauses.
   * @private
   * @param {string} query
   */
  async runSearch(query) {
    const seq = ++this.searchSeq;
    this.searchStatus.classList.remove('search-status--error');
    this.messagesStatus.classList.remove('search-status--error');
    const scope = this.scope;
    this.peopleSection.hidden = !!scope;
    // No name or phone number is longer than the server's people search takes.
    const lookForPeople = !scope && [...query].length <= this.peopleQueryMax;
    const people = (lookForPeople ? api.searchUsers(query) : Promise.resolve([])).then(
      (found) => {
        if (seq !== this.searchSeq || scope) return;
        for (const u of found) noteUser(u);
        // Someone whose direct chat is listed under "Chats" is not listed twice.
        const listed = new Set(
          [...this.chatResults.querySelectorAll('[data-other-id]')].map((n) => n.getAttribute('data-other-id')),
        );
        const users = found.filter((u) => !listed.has(u.id));
        this.searchStatus.textContent = users.length || listed.size ? '' : `No people found for “${query}”`;
        const rows = users.map((u) => this.personRow(u));
        if (rows.length > PEOPLE_SHOWN) {
          const rest = rows.splice(PEOPLE_SHOWN);
          const more = el('button', {
            class: 'link-button search-more',
            testid: 'search-more-people',
            text: `Show all ${users.length} people`,
            attrs: { type: 'button' },
          });
          const item = el('li', { class: 'search-more-item' }, more);
          more.addEventListener('click', () => {
            item.replaceWith(...rest);
            rest[0]?.querySelector('button')?.focus();
          });
          rows.push(item);
        }
        this.searchResults.replaceChildren(...rows);
      },
      (err) => {
        if (seq !== this.searchSeq) return;
        this.searchResults.replaceChildren();
        this.searchStatus.textContent = err instanceof Error ? err.message : 'Search failed';
        this.searchStatus.classList.add('search-status--error');
      },
    );
    const messages = this.searchMessagesPage(query, scope?.chatId, 0, seq).then(
      (found) => {
        if (seq !== this.searchSeq) return;
        this.messagesStatus.textContent = found ? '' : `No messages found for “${query}”`;
      },
      (err) => {
        if (seq !== this.searchSeq) return;
        this.messageResults.replaceChildren();
        this.messagesStatus.textContent = err instanceof Error ? err.message : 'Search failed';
        this.messagesStatus.classList.add('search-status--error');
      },
    );
    await Promise.all([people, messages]);
  }

  /**
   * One page of messages found, after those shown (`offset` of them), with "More
   * messages" under it when the page is full. Resolves how many are shown now.
   * @private
   * @param {string} query
   * @param {string | undefined} chatId  the one chat searched, or all
   * @param {number} offset
   * @param {number} seq  the search this page belongs to
   * @returns {Promise<number>}
   */
  async searchMessagesPage(query, chatId, offset, seq) {
    const hits = await api.searchMessages(query, { limit: MESSAGES_PAGE, offset, chatId });
    if (seq !== this.searchSeq) return 0;
    const rows = hits.map((h) => this.messageRow(h));
    if (offset === 0) this.messageResults.replaceChildren(...rows);
    else this.messageResults.append(...rows);
    if (hits.length === MESSAGES_PAGE) {
      const more = el('button', {
        class: 'link-button search-more',
        testid: 'search-more-messages',
        text: 'More messages',
        attrs: { type: 'button' },
      });
      const item = el('li', { class: 'search-more-item' }, more);
      more.addEventListener('click', () => {
        more.disabled = true;
        more.textContent = 'Loading…';
        const shown = offset + hits.length;
        this.searchMessagesPage(query, chatId, shown, seq).then(
          () => {
            item.remove();
            const next = this.messageResults.querySelectorAll('[data-testid="search-message-result"]')[shown];
            if (next instanceof HTMLElement) next.focus();
          },
          (err) => {
            more.disabled = false;
            more.textContent = 'More messages';
            this.messagesStatus.textContent = err instanceof Error ? err.message : 'Search failed';
            this.messagesStatus.classList.add('search-status--error');
          },
        );
      });
      this.messageResults.append(item);
    }
    return offset + hits.length;
  }

  /**
   * @private
   * @param {User} user
   */
  personRow(user) {
    const name = displayName(user.id, user.name);
    const button = el(
      'button',
      { class: 'chat-row', testid: 'search-result', attrs: { type: 'button', 'data-user-id': user.id } },
      avatar(name, user.id),
      el(
        'span',
        { class: 'row-body' },
        el('span', { class: 'row-top' }, el('span', { class: 'row-name', text: name, attrs: { dir: 'auto' } })),
        el('span', { class: 'row-bottom' }, el('span', { class: 'row-preview', text: user.phone || user.status, attrs: { dir: 'auto' } })),
      ),
    );
    button.addEventListener('click', () => this.handlers.onPickUser(user));
    return el('li', { class: 'chat-item' }, button);
  }

  /**
   * A message found: its chat, when, who wrote it and the excerpt with the matches marked.
   * @private
   * @param {SearchHit} hit
   */
  messageRow(hit) {
    const msg = hit.message;
    const myId = this.ctx?.myId ?? '';
    const chat = this.chats.find((c) => c.id === msg.chat_id);
    const title = chat ? chatTitle(chat, myId) : 'Chat';
    const who = msg.sender_id === myId ? 'You' : chat?.type === 'group' ? displayName(msg.sender_id, 'Someone') : '';
    const snippet = hit.snippet && typeof hit.snippet.text === 'string' ? hit.snippet : { text: msg.content, highlights: [] };
    const cut = !msg.content.startsWith(snippet.text);
    const text = el(
      'span',
      { class: 'row-preview-text search-snippet', attrs: { dir: 'auto' } },
      who ? el('span', { class: 'row-sender', text: `${who}: ` }) : null,
      cut ? '…' : null,
      highlighted(snippet.text.replace(/\s+/g, ' '), Array.isArray(snippet.highlights) ? snippet.highlights : [], 'search-hit'),
    );
    const time = el('time', { class: 'row-time', text: formatListTime(msg.created_at), attrs: { datetime: msg.created_at } });
    const button = el(
      'button',
      {
        class: 'chat-row chat-row--message',
        testid: 'search-message-result',
        attrs: { type: 'button', 'data-chat-id': msg.chat_id, 'data-seq': String(msg.seq), 'data-message-id': msg.id },
      },
      el(
        'span',
        { class: 'row-body' },
        el('span', { class: 'row-top' }, el('span', { class: 'row-name row-name--small', text: title, attrs: { dir: 'auto' } }), time),
        el('span', { class: 'row-bottom' }, el('span', { class: 'row-preview' }, text)),
      ),
    );
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

/**
 * A small icon in a row that says something about the chat (muted, pinned).
 * @param {import('./dom.js').IconName} name
 * @param {string} testid
 * @param {string} label
 */
function mark(name, testid, label) {
  const node = el('span', { class: `row-mark row-mark--${name}`, testid, attrs: { role: 'img', 'aria-label': label, title: label } });
  node.append(icon(name));
  return node;
}

/**
 * What a row (or a notification) shows of a message: its first line, the kind
 * of file it carries, or how a call went.
 * @param {Message} msg
 * @param {string} [myId]  the reader (a call record reads differently to its caller)
 */
export function previewText(msg, myId = '') {
  if (msg.deleted_at) return DELETED_TEXT;
  const call = callOf(msg);
  if (call) return callRecordText(call, (msg.system?.actor_id || msg.sender_id) === myId);
  return firstLine(msg.content || mediaLabel(msg.content_type));
}

/** @param {string} text */
function firstLine(text) {
  const line = text.split('\n').find((l) => l.trim()) ?? text;
  return line.length > 200 ? `${line.slice(0, 200)}…` : line;
}

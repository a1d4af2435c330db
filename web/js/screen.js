// What shows the chats, kept in step with the chat store: the list's rows and the
// tab title's unread count (and the app's badge where the browser has one), and the open chat (which one the address names, its
// header, the line under its title, its composer or why there is none, one pane
// at a time on narrow screens).

import { isMuted } from './chatlist.js';
import { headerInfo, headerStatus, lastMessageStatus, readOnlyReason, typingText } from './chatstatus.js';

/** @typedef {import('./types.js').User} User */
/** @typedef {import('./types.js').ChatView} ChatView */

/**
 * @typedef {object} ScreenParts
 * @property {import('./chatstore.js').ChatStore} store
 * @property {() => User | null} me
 * @property {HTMLElement} app  the element whose `data-view` says which pane shows
 * @property {MediaQueryList} narrow  screens that show one pane at a time
 * @property {import('./chatlist.js').ChatListView} chatList
 * @property {import('./conversation.js').ConversationView} conversation
 * @property {import('./chatinfo.js').ChatInfoView} chatInfo
 * @property {import('./contacts.js').ContactsView} contactsView
 * @property {import('./info.js').MessageInfoView} messageInfo
 * @property {import('./live.js').TypingBook} typingIn
 * @property {import('./live.js').TypingSender} typingOut
 * @property {import('./live.js').PresenceBook} presence
 * @property {import('./history.js').HistoryLoader} historyLoader
 * @property {import('./router.js').Router} router
 */

/** The count last put on the app's badge (null: not set by this page yet). @type {number | null} */
let badgeShown = null;

/**
 * The unread total on the installed app's icon, where the browser offers a badge.
 * @param {number} total
 */
function showBadge(total) {
  if (total === badgeShown) return;
  badgeShown = total;
  // A refusal (no permission, not installed) changes nothing the user relies on.
  if (total > 0) {
    if (typeof navigator.setAppBadge === 'function') navigator.setAppBadge(total).catch(() => {});
  } else if (typeof navigator.clearAppBadge === 'function') {
    navigator.clearAppBadge().catch(() => {});
  }
}

export class Screen {
  /** @param {ScreenParts} parts */
  constructor(parts) {
    this.parts = parts;
    this.store = parts.store;
    /** @type {string | null} */
    this.openChatId = null;
  }

  myId() {
    return this.parts.me()?.id ?? '';
  }

  /** The open chat, if any. */
  openChat() {
    return this.openChatId ? this.store.chats.get(this.openChatId) : undefined;
  }

  // ------------------------------------------------------------ the list

  /**
   * What the chat list needs besides the chats.
   * @param {Map<string, number>} unread
   * @returns {import('./chatlist.js').ListContext}
   */
  listContext(unread) {
    return {
      myId: this.myId(),
      openChatId: this.openChatId,
      unread,
      typing: (chat) => typingText(chat, this.myId(), this.parts.typingIn),
      lastStatus: (chat) => lastMessageStatus(chat, this.store.progress.get(chat.id)),
    };
  }

  renderList() {
    if (!this.parts.me()) return;
    /** @type {Map<string, number>} */
    const unread = new Map();
    let total = 0;
    for (const [chatId, chat] of this.store.chats) {
      const n = this.store.unreadCount(chatId);
      if (n > 0) {
        unread.set(chatId, n);
        if (!isMuted(chat)) total += n; // muted chats do not call for attention
      }
    }
    this.parts.chatList.render([...this.store.chats.values()], this.listContext(unread));
    document.title = total > 0 ? `(${total}) ChitChat` : 'ChitChat';
    showBadge(total);
  }

  /** The session ended: an empty list, nothing open. */
  clear() {
    this.openChatId = null;
    this.parts.chatList.render([], this.listContext(new Map()));
    this.parts.conversation.hide();
    document.title = 'ChitChat';
    showBadge(0);
  }

  // ------------------------------------------------------------ redraws

  /** The chats as a whole changed (a new chat list): the list and the open chat. */
  listChanged() {
    this.renderList();
    if (this.openChatId) {
      const open = this.openChat();
      if (open) {
        this.parts.conversation.setHeader(headerInfo(open, this.myId()));
        this.updateComposerState(open);
        this.parts.chatInfo.refresh(open.id);
      }
      this.updateHeaderStatus();
    }
  }

  /**
   * Redraws what shows a chat: its row, and its header, composer and info panel when open.
   * @param {string} chatId
   */
  chatChanged(chatId) {
    this.renderList();
    const chat = this.store.chats.get(chatId);
    if (chat && this.openChatId === chatId) {
      this.parts.conversation.setHeader(headerInfo(chat, this.myId()));
      this.updateComposerState(chat);
      this.updateHeaderStatus();
    }
    this.parts.chatInfo.refresh(chatId);
  }

  /**
   * A contact or a block changed (null: maybe all): titles, names and the
   * composer's state follow.
   * @param {string | null} _userId
   */
  peopleChanged(_userId) {
    this.renderList();
    this.parts.contactsView.render();
    const chat = this.openChat();
    if (chat) {
      this.parts.conversation.setHeader(headerInfo(chat, this.myId()));
      this.updateComposerState(chat);
      this.parts.conversation.render({ mode: 'keep-bottom' });
      this.parts.chatInfo.refresh(chat.id);
    }
  }

  /**
   * The composer, or why there is none: a former member of a group, a blocked person.
   * @param {ChatView} chat
   */
  updateComposerState(chat) {
    const reason = readOnlyReason(chat, this.myId());
    this.parts.conversation.setReadOnly(reason);
    if (reason) this.parts.typingOut.stop();
  }

  /** The line under the open chat's title: typing, online, or last seen. */
  updateHeaderStatus() {
    const chat = this.openChat();
    const me = this.parts.me();
    if (chat && me) this.parts.conversation.setStatus(headerStatus(chat, me.id, this.parts.typingIn, this.parts.presence));
  }

  // ------------------------------------------------------------ the open chat

  /** Shows what the address asks for. */
  route() {
    if (!this.parts.me()) return;
    const { router } = this.parts;
    const chatId = router.chatInAddress();
    if (chatId && this.store.chats.has(chatId)) {
      this.showChat(chatId);
      return;
    }
    if (chatId && this.store.chatsLoaded) router.clearAddress(); // not one of ours
    if (this.openChatId) this.parts.typingOut.stop();
    this.openChatId = null;
    this.parts.messageInfo.close();
    this.parts.chatInfo.reset();
    this.parts.conversation.hide();
    this.syncView();
    this.renderList();
  }

  /** One pane on narrow screens: the list, or the open chat. */
  syncView() {
    this.parts.app.dataset.view = this.openChatId ? 'chat' : 'list';
  }

  /**
   * @private
   * @param {string} chatId
   */
  showChat(chatId) {
    const chat = this.store.chats.get(chatId);
    const me = this.parts.me();
    if (!chat || !me) return;
    const { conversation, chatInfo, historyLoader } = this.parts;
    const wasOpen = this.openChatId === chatId;
    if (!wasOpen) {
      this.parts.typingOut.stop(); // left the previous chat
      if (chatInfo.isOpen && !chatInfo.isOpenFor(chatId)) chatInfo.reset();
    }
    this.openChatId = chatId;
    const thread = this.store.threadFor(chatId);
    conversation.show(thread, headerInfo(chat, me.id), me.id);
    this.updateComposerState(chat);
    this.updateHeaderStatus();
    this.syncView();
    this.renderList();
    if (!this.parts.narrow.matches && conversation.canWrite()) conversation.focusComposer();
    if ((!wasOpen || !thread.loaded) && !historyLoader.newestLoads.has(chatId)) void historyLoader.loadNewest(chatId);
  }

  /**
   * A message search result: opens its chat at that message, highlighted.
   * Returns false when the chat is not one of the user's.
   * @param {string} chatId
   * @param {number} seq
   */
  openMessage(chatId, seq) {
    if (!this.store.chats.has(chatId)) return false;
    this.parts.router.openChat(chatId);
    // From the list the address changes first and the chat opens on `hashchange`,
    // later: open it now, so that the message is looked for in its thread.
    if (this.openChatId !== chatId) this.route();
    void this.parts.historyLoader.revealMessage(chatId, seq);
    return true;
  }
}

// The user's chats as the server has them, into the chat store: the chat list
// (the archive too: archived chats are still opened, resumed and found), one
// chat's state (a REST answer, a `chat_update` frame, a reload after a system
// message), the user's settings of a chat (their frames, and the row menu's
// changes), and people's new names (`user_update`). No DOM: what shows a chat
// is redrawn through the handlers.

import * as api from './api.js';
import { DEFAULT_SETTINGS, readSettings, sameSettings, settingsAfter } from './chatsettings.js';
import { errorText } from './errors.js';
import * as people from './people.js';
import { toast } from './toast.js';

/** @typedef {import('./types.js').ChatView} ChatView */
/** @typedef {import('./types.js').User} User */

/** How long after a system message its chat is reloaded (several in a row make one request). */
const CHAT_RELOAD_MS = 300;

/**
 * @typedef {object} ChatSyncHandlers
 * @property {import('./chatstore.js').ChatStore} store
 * @property {() => User | null} me
 * @property {() => void} listChanged  the chats as a whole (redraw the list and the open chat)
 * @property {(chatId: string) => void} chatChanged  one chat's state
 * @property {() => void} rowsChanged  only what the list shows (settings, previews)
 * @property {(chatId: string) => void} progressMoved  the chat's delivered / read progress rose
 * @property {(chatId: string, seq: number) => void} delivered  the newest message reached this device with the list
 * @property {(userId: string, change: { name: string, status: string }) => void} profileChanged
 */

export class ChatSync {
  /** @param {ChatSyncHandlers} handlers */
  constructor(handlers) {
    this.store = handlers.store;
    this.handlers = handlers;
    /** @type {Promise<void> | null} */
    this.refreshing = null;
    this.refreshAgain = false;
    /** Chats to reload from the server soon (after system messages). @type {Map<string, ReturnType<typeof setTimeout>>} */
    this.chatReloads = new Map();
    /**
     * The newest `user_update` heard per user, numbered in the order heard, so that a
     * chat list fetched before one arrived does not bring the old name back.
     * @type {{ heard: number, byUser: Map<string, { payload: any, heard: number }> }}
     */
    this.liveProfiles = { heard: 0, byUser: new Map() };
  }

  /** The session ended. */
  clear() {
    this.liveProfiles.byUser.clear();
    for (const timer of this.chatReloads.values()) clearTimeout(timer);
    this.chatReloads.clear();
  }

  /** Re-fetches the chat list; concurrent calls coalesce into one more fetch. */
  refreshChats() {
    if (this.refreshing) {
      this.refreshAgain = true;
      return this.refreshing;
    }
    this.refreshing = (async () => {
      try {
        do {
          this.refreshAgain = false;
          const heardBefore = this.liveProfiles.heard;
          // The archive too: archived chats are still chats (opened, resumed, found).
          const [main, archived] = await Promise.all([api.listChats(false), api.listChats(true)]);
          const ids = new Set(main.map((c) => c.id));
          this.applyChats([...main, ...archived.filter((c) => !ids.has(c.id))]);
          // The answer may predate a profile change heard live while it was on its way.
          for (const { payload, heard } of this.liveProfiles.byUser.values()) if (heard > heardBefore) this.applyProfile(payload);
        } while (this.refreshAgain);
      } catch (err) {
        if (err instanceof api.ApiError && !err.isNetwork && err.status !== 401) toast(err.message);
      } finally {
        this.refreshing = null;
      }
    })();
    return this.refreshing;
  }

  /**
   * @private
   * @param {ChatView[]} chats
   */
  applyChats(chats) {
    if (!this.handlers.me()) return;
    /** @type {Map<string, ChatView>} */
    const next = new Map();
    for (const chat of chats) next.set(chat.id, this.absorbChat(chat));
    // Keep chats known locally that the answer missed (created a moment ago).
    for (const [id, chat] of this.store.chats) if (!next.has(id)) next.set(id, chat);
    this.store.chats = next;
    this.store.chatsLoaded = true;
    this.handlers.listChanged();
  }

  /**
   * Takes in one chat from a REST answer: its position, unread count and ticks.
   * Returns what to keep of it.
   * @param {ChatView} chat
   * @returns {ChatView}
   */
  absorbChat(chat) {
    const me = /** @type {User} */ (this.handlers.me());
    const store = this.store;
    // The row is all this client holds of a chat it has not opened, so the list's
    // position is right for it. An opened chat's messages come from the socket and
    // its own history pages; its position advances only with events received.
    if (!store.threads.has(chat.id)) store.notePosition(chat.id, chat.last_event_seq);
    const last = chat.last_message;
    if (last) {
      // The server's unread count is "after my read position": keep the position,
      // so that live messages and receipts can move the count from here.
      const unread = typeof chat.unread_count === 'number' && chat.unread_count > 0 ? chat.unread_count : 0;
      store.noteSeq(chat.id, last.seq);
      store.raiseReadSeq(chat.id, last.seq - unread);
      if (store.noteProgressOf(last)) this.handlers.progressMoved(chat.id);
      // The newest message reached this device with the list.
      if (unread > 0 && last.sender_id !== me.id) this.handlers.delivered(chat.id, last.seq);
    }
    const known = store.chats.get(chat.id);
    // A live message may be newer than the list the server had when it answered.
    if (known?.last_message && (!chat.last_message || known.last_message.seq > chat.last_message.seq)) {
      chat.last_message = known.last_message;
    }
    if (!chat.settings && known?.settings) chat.settings = known.settings;
    for (const member of chat.members) people.noteUser(member.user);
    return chat;
  }

  /**
   * A chat's new state from a REST answer (a group change, a reload): kept, and
   * everything that shows it redrawn.
   * @param {ChatView} view
   */
  applyChatView(view) {
    if (!this.handlers.me() || !view || typeof view.id !== 'string') return;
    this.store.chats.set(view.id, this.absorbChat(view));
    this.handlers.chatChanged(view.id);
  }

  /**
   * A `chat_update` frame: a group's new state, shared by every member, so without
   * this user's membership and settings (which stay as known; the role is read
   * from the members).
   * @param {any} view
   */
  applyChatUpdate(view) {
    const me = this.handlers.me();
    if (!me || !view || typeof view.id !== 'string' || !Array.isArray(view.members)) return;
    const known = this.store.chats.get(view.id);
    const mine = view.members.find((/** @type {any} */ m) => m.user_id === me.id);
    if (!known || !mine) {
      // A chat this page does not hold yet, or one this user is no longer in.
      this.scheduleChatReload(view.id);
      return;
    }
    /** @type {ChatView} */
    const next = {
      ...view,
      membership: { status: 'active', role: mine.role, joined_at: mine.joined_at, left_at_seq: null },
      settings: known.settings,
      unread_count: known.unread_count,
      last_message: known.last_message && (!view.last_message || known.last_message.seq > view.last_message.seq) ? known.last_message : view.last_message,
    };
    for (const member of next.members) people.noteUser(member.user);
    this.store.chats.set(view.id, next);
    this.handlers.chatChanged(view.id);
  }

  /**
   * Reloads one chat from the server soon: after a system message (the change it
   * records may have removed this user, who then gets no `chat_update`), or a
   * `chat_update` for a chat not held here.
   * @param {string} chatId
   */
  scheduleChatReload(chatId) {
    if (this.chatReloads.has(chatId)) return;
    const me = this.handlers.me();
    this.chatReloads.set(
      chatId,
      setTimeout(async () => {
        this.chatReloads.delete(chatId);
        try {
          const view = await api.getChat(chatId);
          if (this.handlers.me() === me) this.applyChatView(view);
        } catch (err) {
          if (err instanceof api.ApiError && err.status === 404) void this.refreshChats();
        }
      }, CHAT_RELOAD_MS),
    );
  }

  /**
   * The user's own settings of a chat as the server now has them (a `chat_settings`
   * frame from any of their devices, or the answer to `resume`): the chat moves
   * between the list and the archive at once.
   * @param {string} chatId
   * @param {unknown} value
   */
  applyChatSettings(chatId, value) {
    const chat = this.store.chats.get(chatId);
    const next = readSettings(value);
    if (!chat || !next) return;
    if (sameSettings(chat.settings ?? DEFAULT_SETTINGS, next)) return;
    chat.settings = next;
    this.handlers.chatChanged(chatId);
  }

  /**
   * Archive, mute, pin from a row's menu: the user's own settings of the chat, at
   * once here, put back if the server refuses.
   * @param {string} chatId
   * @param {import('./chatlist.js').ChatAction} action
   */
  async changeSettings(chatId, action) {
    const chat = this.store.chats.get(chatId);
    if (!chat) return;
    const before = chat.settings ?? DEFAULT_SETTINGS;
    const next = settingsAfter(before, action, Date.now());
    chat.settings = next;
    this.handlers.rowsChanged();
    try {
      const saved = await api.putChatSettings(chatId, next);
      const current = this.store.chats.get(chatId);
      if (current && saved && typeof saved === 'object') current.settings = saved;
      this.handlers.rowsChanged();
      if (action === 'archive') toast('Chat archived');
      else if (action === 'unarchive') toast('Chat unarchived');
    } catch (err) {
      const current = this.store.chats.get(chatId);
      if (current) current.settings = before;
      this.handlers.rowsChanged();
      toast(errorText(err));
    }
  }

  /**
   * Someone's new name or status line (a `user_update` frame): shown wherever they
   * appear, unless a contact alias stands in for the name.
   * @param {any} payload
   */
  applyProfile(payload) {
    if (!payload || typeof payload.user_id !== 'string' || typeof payload.name !== 'string') return;
    const id = payload.user_id;
    const profiles = this.liveProfiles;
    if (profiles.byUser.get(id)?.payload !== payload) profiles.byUser.set(id, { payload, heard: ++profiles.heard });
    const change = { name: payload.name, status: typeof payload.status === 'string' ? payload.status : '' };
    const known = people.userById(id);
    if (known) people.noteUser({ ...known, ...change });
    for (const chat of this.store.chats.values()) {
      for (const member of chat.members) if (member.user_id === id) member.user = { ...member.user, ...change };
    }
    this.handlers.profileChanged(id, change);
  }
}

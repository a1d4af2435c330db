// What arrives for the chats, taken into the chat store and shown: stored
// messages (live, replayed, acks, HTTP answers), their updates and removals,
// receipt progress (`status_update`), a `resync`; and the `read` trigger (the open
// chat's newest messages on screen in a visible tab).

import { chatTitle, isArchived, isMuted, previewText } from './chatlist.js';
import { safeSeq } from './chatstore.js';
import * as people from './people.js';

/** @typedef {import('./types.js').Message} Message */
/** @typedef {import('./types.js').User} User */

/**
 * @typedef {object} InboxParts
 * @property {import('./chatstore.js').ChatStore} store
 * @property {import('./chatsync.js').ChatSync} chatSync
 * @property {import('./history.js').HistoryLoader} history
 * @property {import('./conversation.js').ConversationView} conversation
 * @property {import('./live.js').ReceiptOutbox} receipts
 * @property {import('./live.js').TypingBook} typingIn
 * @property {import('./notifications.js').Notifier} notifier
 * @property {import('./info.js').MessageInfoView} messageInfo
 * @property {() => User | null} me
 * @property {() => string | null} openChatId
 * @property {() => void} renderList
 * @property {(cid: string) => void} ownStored  the server stored an own message sent with this client_msg_id
 */

export class Inbox {
  /** @param {InboxParts} parts */
  constructor(parts) {
    this.parts = parts;
    this.store = parts.store;
  }

  /** @param {string} chatId */
  isOpen(chatId) {
    return this.parts.openChatId() === chatId;
  }

  /**
   * A stored message, from a live frame, an ack or an HTTP answer.
   * @param {Message} msg
   * @param {boolean} live  pushed by the server (not the answer to an own send)
   */
  receiveMessage(msg, live) {
    const me = this.parts.me();
    if (!me) return;
    const { store, receipts } = this.parts;
    const chat = store.chats.get(msg.chat_id);
    const thread = store.threads.get(msg.chat_id);
    const own = msg.sender_id === me.id;
    const unseen = msg.seq > (store.lastSeq.get(msg.chat_id) ?? 0); // not a repeat of one known here
    // Unread is "after the read position": a new message of someone else raises it
    // (a repeat does not: same seq), an own one (from any device) clears it, since
    // sending moves the sender's positions.
    store.noteSeq(msg.chat_id, msg.seq);
    if (own) {
      if (msg.client_msg_id) this.parts.ownStored(msg.client_msg_id);
      store.raiseReadSeq(msg.chat_id, msg.seq);
      receipts.known(msg.chat_id, msg.seq, msg.seq);
    } else {
      this.parts.typingIn.clear(msg.chat_id, msg.sender_id); // they sent what they were typing
      receipts.delivered(msg.chat_id, msg.seq);
    }
    store.noteProgressOf(msg);
    // No gap check: the server sends each chat's events in order and without gaps,
    // replaying missed ones first. A repeat (ack and frame, or a reloaded page) merges by id.
    // A window further back takes in only what it shows; newer pages bring the rest.
    const shown = !!thread && thread.accepts(msg);
    if (thread && shown) {
      thread.upsert(msg);
      thread.applyProgress(me.id, store.progress.get(msg.chat_id));
    }
    if (thread && shown && this.isOpen(msg.chat_id)) {
      this.parts.conversation.render({ mode: own && !live ? 'bottom' : 'keep-bottom' });
    }
    if (chat) {
      // A new message brings an archived chat back to the list, unless it is muted
      // (the server does the same with the stored settings).
      const isNew = !chat.last_message || msg.seq > chat.last_message.seq;
      if (isNew && chat.settings && isArchived(chat) && !isMuted(chat)) chat.settings = { ...chat.settings, archived: false };
      this.noteLastMessage(msg);
      // A change to a group: its new state (for one removed, the only word of it).
      if (msg.content_type === 'system') this.parts.chatSync.scheduleChatReload(msg.chat_id);
      if (live && unseen && !own) this.notifyOf(msg);
    } else {
      // A chat someone just started with us, or a group we were added to.
      void this.parts.chatSync.refreshChats().then(() => {
        if (live && !own && this.parts.me() === me) this.notifyOf(msg);
      });
    }
  }

  /**
   * A notification of someone else's new message (shown only while the tab is
   * hidden), unless its chat is muted or the user read that far on another device.
   * @private
   * @param {Message} msg
   */
  notifyOf(msg) {
    const chat = this.store.chats.get(msg.chat_id);
    const me = this.parts.me();
    if (!chat || !me || msg.content_type === 'system' || isMuted(chat)) return;
    if (msg.seq <= (this.store.readSeq.get(msg.chat_id) ?? 0)) return;
    const member = chat.members.find((m) => m.user_id === msg.sender_id);
    const sender = people.displayName(msg.sender_id, member?.user.name || 'Someone');
    const preview = previewText(msg);
    this.parts.notifier.show({
      chatId: chat.id,
      seq: msg.seq,
      title: chatTitle(chat, me.id),
      body: chat.type === 'group' ? `${sender}: ${preview}` : preview,
    });
  }

  /**
   * Updates a chat's preview if `msg` is its newest message.
   * @param {Message} msg
   */
  noteLastMessage(msg) {
    const chat = this.store.chats.get(msg.chat_id);
    if (!chat) return;
    if (!chat.last_message || msg.seq >= chat.last_message.seq) chat.last_message = msg;
    this.parts.renderList();
  }

  /**
   * The server missed too much of a chat to replay it: start that chat afresh from
   * its newest history page, at the position the server gives.
   * @param {string} chatId
   * @param {number} position
   */
  resync(chatId, position) {
    if (!this.parts.me()) return;
    this.store.positions.set(chatId, position);
    const thread = this.store.threads.get(chatId);
    if (thread) {
      thread.reset(); // an opened chat that is not open now reloads when it is opened
      if (this.isOpen(chatId)) {
        this.parts.conversation.render({ mode: 'bottom' });
        void this.parts.history.loadNewest(chatId);
      }
    }
    void this.parts.chatSync.refreshChats(); // the row: preview of the newest message
  }

  /**
   * Redraws the ticks of own messages in a chat after its progress moved.
   * @param {string} chatId
   */
  refreshTicks(chatId) {
    const thread = this.store.threads.get(chatId);
    const me = this.parts.me();
    if (!thread || !me) return;
    if (thread.applyProgress(me.id, this.store.progress.get(chatId)) && this.isOpen(chatId)) {
      this.parts.conversation.render({ mode: 'keep-bottom' });
    }
  }

  /**
   * A member's receipt position moved (`status_update`, durable, also replayed).
   * @param {string} chatId
   * @param {any} payload  {user_id, delivered_seq, read_seq, chat: {delivered_seq, read_seq}}
   */
  applyStatusUpdate(chatId, payload) {
    const me = this.parts.me();
    if (!me) return;
    const whole = payload.chat && typeof payload.chat === 'object' ? payload.chat : {};
    if (this.store.noteProgress(chatId, whole.delivered_seq, whole.read_seq)) this.refreshTicks(chatId);
    if (payload.user_id === me.id) {
      // This user, on this device or another: nothing up to there needs reporting,
      // and whatever they read there is read here too.
      this.parts.receipts.known(chatId, safeSeq(payload.delivered_seq), safeSeq(payload.read_seq));
      this.store.raiseReadSeq(chatId, safeSeq(payload.read_seq));
    }
    this.parts.renderList();
    this.parts.messageInfo.refreshIf(chatId);
  }

  /**
   * When the open chat's newest messages are on screen in a visible tab, they are
   * read: the unread count clears here at once and a `read` receipt follows.
   */
  markRead() {
    const chatId = this.parts.openChatId();
    if (!chatId || !this.parts.me() || document.visibilityState !== 'visible') return;
    const thread = this.store.threads.get(chatId);
    if (!thread || !thread.loaded || !this.parts.conversation.showsNewest()) return;
    const seq = thread.maxSeq();
    // Only when it moves: a read position learnt from the server needs no receipt.
    if (!this.store.raiseReadSeq(chatId, seq)) return;
    this.parts.receipts.read(chatId, seq);
    this.parts.renderList();
  }

  /**
   * A message as it now is (edited, deleted for everyone, reacted to): replaces
   * the one held, and the chat's preview when it is the newest.
   * @param {Message} msg
   * @param {{ action?: string, emoji?: string, user_id?: string, removed?: boolean }} update
   */
  applyMessageUpdate(msg, update) {
    const thread = this.store.threads.get(msg.chat_id);
    const me = this.parts.me();
    const entry = thread && me ? thread.applyUpdate(msg, update, me.id) : null;
    if (entry && this.isOpen(msg.chat_id)) {
      this.parts.conversation.render({ mode: 'keep-bottom' });
      this.parts.conversation.noteChanged(msg.id);
    }
    const chat = this.store.chats.get(msg.chat_id);
    if (chat?.last_message?.id === msg.id) this.noteLastMessage({ ...msg, status: chat.last_message.status });
  }

  /**
   * A message this user deleted for themself (here or on another device).
   * @param {string} chatId
   * @param {string} messageId
   */
  hideMessage(chatId, messageId) {
    const thread = this.store.threads.get(chatId);
    if (thread?.remove(messageId) && this.isOpen(chatId)) {
      this.parts.conversation.render({ mode: 'keep-bottom' });
      this.parts.conversation.noteChanged(messageId);
    }
    const chat = this.store.chats.get(chatId);
    if (chat?.last_message?.id === messageId) this.parts.chatSync.scheduleChatReload(chatId);
  }
}

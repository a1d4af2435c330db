// What this page holds of the user's chats: the chats themselves, the messages of
// those opened, and per chat the positions that unread counts, ticks and `resume`
// are computed from; and all of it as JSON for the offline cache, and back. No
// DOM, no network.

import { Thread } from './thread.js';

/** @typedef {import('./types.js').ChatView} ChatView */
/** @typedef {import('./types.js').Message} Message */
/** @typedef {import('./thread.js').Entry} Entry */

/** Messages of each chat kept for offline use: its newest ones. */
export const CACHED_MESSAGES = 50;

/**
 * A confirmed entry as the server's message it came from.
 * @param {string} chatId
 * @param {Entry} entry
 * @returns {Message}
 */
function entryAsMessage(chatId, entry) {
  return {
    id: /** @type {string} */ (entry.id),
    chat_id: chatId,
    sender_id: entry.senderId,
    content: entry.content,
    content_type: entry.contentType,
    seq: /** @type {number} */ (entry.seq),
    status: entry.status,
    ...(entry.cid ? { client_msg_id: entry.cid } : {}),
    created_at: entry.createdAt,
    system: entry.system,
    attachments: entry.attachments,
    ...(entry.replyTo ? { reply_to: entry.replyTo } : {}),
    forwarded: entry.forwarded,
    ...(entry.editedAt ? { edited_at: entry.editedAt } : {}),
    ...(entry.deletedAt ? { deleted_at: entry.deletedAt } : {}),
    reactions: entry.reactions,
    ...(entry.myReaction ? { my_reaction: entry.myReaction } : {}),
  };
}

/**
 * @param {unknown} value
 * @returns {Map<string, any>}
 */
function mapOf(value) {
  return new Map(Array.isArray(value) ? value.filter((pair) => Array.isArray(pair) && typeof pair[0] === 'string') : []);
}

/**
 * A sequence number as the server sends it, or 0 for anything else.
 * @param {unknown} value
 */
export function safeSeq(value) {
  return typeof value === 'number' && Number.isSafeInteger(value) && value > 0 ? value : 0;
}

export class ChatStore {
  /** @param {(chatId: string, seq: number) => void} onReadMoved  the user's read position of a chat moved */
  constructor(onReadMoved) {
    this.onReadMoved = onReadMoved;
    /** @type {Map<string, ChatView>} */
    this.chats = new Map();
    this.chatsLoaded = false;
    /** Messages of chats opened in this session. @type {Map<string, Thread>} */
    this.threads = new Map();
    /**
     * Per chat, the newest message seq known here. With `readSeq` it gives the
     * unread count: everything after the user's read position.
     * @type {Map<string, number>}
     */
    this.lastSeq = new Map();
    /**
     * Per chat, how far this user has read (on any of their devices): from the
     * chat list's `unread_count`, their own `status_update` frames, their own
     * messages (sending moves it), and what this device marks read.
     * @type {Map<string, number>}
     */
    this.readSeq = new Map();
    /**
     * Per chat, what every member has received and read (`status_update`'s `chat`,
     * and the statuses of loaded messages): own messages up to `read` show blue
     * ticks, up to `delivered` two grey ticks.
     * @type {Map<string, { delivered: number, read: number }>}
     */
    this.progress = new Map();
    /**
     * Per chat, the last event_seq whose event is reflected here: sent in `resume` on
     * every (re)connect so the server replays only what came after. In memory only:
     * a reloaded page starts again from the REST chat list.
     * @type {Map<string, number>}
     */
    this.positions = new Map();
  }

  /** Forgets everything (the session ended). */
  clear() {
    this.chats.clear();
    this.chatsLoaded = false;
    this.threads.clear();
    this.lastSeq.clear();
    this.readSeq.clear();
    this.progress.clear();
    this.positions.clear();
  }

  /**
   * The chat list and its positions, and the newest messages of each chat held
   * (not of a window further back), as JSON: taken in one go, so that the
   * positions match the messages.
   * @returns {{ state: string, messages: Map<string, string> }}
   */
  snapshot() {
    const state = JSON.stringify({
      chats: [...this.chats.values()],
      lastSeq: [...this.lastSeq],
      readSeq: [...this.readSeq],
      progress: [...this.progress],
      positions: [...this.positions],
    });
    /** @type {Map<string, string>} */
    const messages = new Map();
    for (const [chatId, thread] of this.threads) {
      if (!thread.loaded || thread.detached) continue;
      const held = thread.ordered().filter((e) => e.id !== null && e.seq !== null);
      const recent = held.slice(-CACHED_MESSAGES).map((e) => entryAsMessage(chatId, e));
      messages.set(chatId, JSON.stringify({ messages: recent, reachedStart: thread.reachedStart && recent.length === held.length }));
    }
    return { state, messages };
  }

  /**
   * Shows what `snapshot` kept, read-only until the server answers: the chats,
   * their positions and unread counts, and each kept chat's recent messages (its
   * thread counts as loaded: opening it asks the server for newer ones).
   * Returns false when nothing usable was kept.
   * @param {string} stateJson
   * @param {Map<string, string>} messagesJson
   * @param {string} myId
   */
  restore(stateJson, messagesJson, myId) {
    /** @type {any} */
    let state;
    try {
      state = JSON.parse(stateJson);
    } catch {
      return false;
    }
    if (!state || !Array.isArray(state.chats)) return false;
    this.clear();
    for (const chat of state.chats) if (chat && typeof chat.id === 'string' && Array.isArray(chat.members)) this.chats.set(chat.id, chat);
    this.lastSeq = mapOf(state.lastSeq);
    this.readSeq = mapOf(state.readSeq);
    this.progress = mapOf(state.progress);
    this.positions = mapOf(state.positions);
    this.chatsLoaded = true;
    for (const [chatId, json] of messagesJson) {
      if (!this.chats.has(chatId)) continue;
      /** @type {any} */
      let kept;
      try {
        kept = JSON.parse(json);
      } catch {
        continue;
      }
      if (!kept || !Array.isArray(kept.messages)) continue;
      const thread = this.threadFor(chatId);
      for (const msg of kept.messages) if (msg && typeof msg.id === 'string' && typeof msg.seq === 'number') thread.upsert(msg);
      thread.loaded = true;
      thread.reachedStart = kept.reachedStart === true || thread.minSeq() <= 1;
      thread.applyProgress(myId, this.progress.get(chatId));
    }
    return true;
  }

  /**
   * The messages of a chat, held from its first opening on.
   * @param {string} chatId
   */
  threadFor(chatId) {
    let thread = this.threads.get(chatId);
    if (!thread) {
      thread = new Thread(chatId);
      this.threads.set(chatId, thread);
    }
    return thread;
  }

  /**
   * Messages after the user's read position, counting only what is known here.
   * @param {string} chatId
   */
  unreadCount(chatId) {
    return Math.max(0, (this.lastSeq.get(chatId) ?? 0) - (this.readSeq.get(chatId) ?? 0));
  }

  /**
   * @param {string} chatId
   * @param {number} seq  a message of the chat that exists
   */
  noteSeq(chatId, seq) {
    if (Number.isSafeInteger(seq) && seq > (this.lastSeq.get(chatId) ?? 0)) this.lastSeq.set(chatId, seq);
  }

  /**
   * Returns whether the read position moved.
   * @param {string} chatId
   * @param {number} seq  the user has read up to here
   */
  raiseReadSeq(chatId, seq) {
    if (!Number.isSafeInteger(seq) || seq <= (this.readSeq.get(chatId) ?? 0)) return false;
    this.readSeq.set(chatId, seq);
    this.onReadMoved(chatId, seq);
    return true;
  }

  /**
   * Records that every event of a chat up to `position` is reflected here.
   * @param {string} chatId
   * @param {unknown} position
   */
  notePosition(chatId, position) {
    if (typeof position !== 'number' || !Number.isSafeInteger(position) || position < 0) return;
    const known = this.positions.get(chatId);
    if (known === undefined || position > known) this.positions.set(chatId, position);
  }

  /**
   * Raises what the chat as a whole has received and read. Returns whether it moved.
   * @param {string} chatId
   * @param {unknown} delivered
   * @param {unknown} read
   */
  noteProgress(chatId, delivered, read) {
    const known = this.progress.get(chatId) ?? { delivered: 0, read: 0 };
    const next = {
      delivered: Math.max(known.delivered, safeSeq(delivered), safeSeq(read)),
      read: Math.max(known.read, safeSeq(read)),
    };
    if (next.delivered === known.delivered && next.read === known.read && this.progress.has(chatId)) return false;
    this.progress.set(chatId, next);
    return true;
  }

  /**
   * A message's status says how far the whole chat had got when it was computed.
   * @param {Message} msg
   */
  noteProgressOf(msg) {
    if (msg.status === 'read') return this.noteProgress(msg.chat_id, msg.seq, msg.seq);
    if (msg.status === 'delivered') return this.noteProgress(msg.chat_id, msg.seq, 0);
    return false;
  }

  /**
   * Takes in messages of a loaded page: their statuses, then the ticks of the thread.
   * @param {Thread} thread
   * @param {Message[]} page
   * @param {string} myId
   */
  absorbPage(thread, page, myId) {
    for (const msg of page) this.noteProgressOf(msg);
    thread.applyProgress(myId, this.progress.get(thread.chatId));
  }

  /**
   * A presence frame gave someone's new last seen: the stored profiles follow.
   * @param {string} userId
   * @param {string} lastSeen
   */
  noteLastSeen(userId, lastSeen) {
    for (const chat of this.chats.values()) {
      for (const member of chat.members) if (member.user_id === userId) member.user.last_seen = lastSeen;
    }
  }
}

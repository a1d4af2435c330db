// The messages of one chat as this client knows them: confirmed ones from the
// server (keyed by id, ordered by seq) and own sends still in flight (keyed by
// client_msg_id). Pure data, no DOM, so it can be reasoned about on its own.

/** @typedef {import('./types.js').Message} Message */
/** @typedef {import('./types.js').SystemInfo} SystemInfo */
/** @typedef {'pending' | 'sent' | 'delivered' | 'read' | 'failed'} EntryStatus */

/**
 * @typedef {object} Entry
 * @property {string} key        stable for the life of the entry (used to key its DOM node)
 * @property {string | null} id  server id, once known
 * @property {string | null} cid client_msg_id, for own sends
 * @property {number | null} seq position in the chat, once stored
 * @property {string} senderId
 * @property {string} content
 * @property {string} contentType "text", or "system" for the notices that record changes to a group
 * @property {SystemInfo | null} system  what a system message records
 * @property {import('./types.js').Attachment[]} attachments  the files it carries
 * @property {string} createdAt  RFC 3339
 * @property {EntryStatus} status
 * @property {string | null} error  why a send failed
 * @property {number} localOrder order of creation here, for entries without seq
 * @property {import('./types.js').ReplyRef | null} replyTo  the message it replies to
 * @property {string | null} replyToId  for an own send in flight: what it replies to
 * @property {boolean} forwarded
 * @property {string | null} editedAt
 * @property {string | null} deletedAt  deleted for everyone: a placeholder
 * @property {Record<string, number>} reactions
 * @property {string | null} myReaction  this user's own reaction
 */

/** What a message deleted for everyone shows instead of its text. */
export const DELETED_TEXT = 'This message was deleted';

let localCounter = 0;

/** @param {string} status @returns {EntryStatus} */
function serverStatus(status) {
  return status === 'delivered' || status === 'read' ? status : 'sent';
}

/** Order of the stored statuses: ticks only ever move forward. */
const RANK = { pending: 0, failed: 0, sent: 1, delivered: 2, read: 3 };

/**
 * The further of two statuses of a stored message.
 * @param {EntryStatus} a
 * @param {EntryStatus} b
 * @returns {EntryStatus}
 */
export function furtherStatus(a, b) {
  return RANK[b] > RANK[a] ? b : a;
}

/**
 * What the chat's progress (the positions every member has reached) means for
 * the message at `seq`: read, delivered, or only sent.
 * @param {number} seq
 * @param {{ delivered: number, read: number } | undefined} progress
 * @returns {'sent' | 'delivered' | 'read'}
 */
export function statusAt(seq, progress) {
  if (progress && progress.read >= seq) return 'read';
  if (progress && progress.delivered >= seq) return 'delivered';
  return 'sent';
}

/**
 * Copies the optional fields of a message (reply, forward, edit, deletion,
 * reactions). The own reaction is only replaced when the message carries it
 * (history pages do; shared frames never do).
 * @param {Entry} entry
 * @param {Message} msg
 */
function applyExtras(entry, msg) {
  entry.replyTo = msg.reply_to ?? null;
  entry.forwarded = msg.forwarded === true;
  entry.editedAt = msg.edited_at ?? null;
  entry.deletedAt = msg.deleted_at ?? null;
  entry.reactions = msg.reactions ?? {};
  if (msg.my_reaction !== undefined) entry.myReaction = msg.my_reaction;
  else if (entry.myReaction && !entry.reactions[entry.myReaction]) entry.myReaction = null;
}

export class Thread {
  /** @param {string} chatId */
  constructor(chatId) {
    this.chatId = chatId;
    /** @type {Entry[]} */
    this.entries = [];
    /** @type {Map<string, Entry>} */
    this.byId = new Map();
    /** @type {Map<string, Entry>} */
    this.byCid = new Map();
    /** No older history exists on the server. */
    this.reachedStart = false;
    /** The newest page has been fetched at least once. */
    this.loaded = false;
    /** Bumped by reset(), so that a page fetched before it is not merged after it. */
    this.generation = 0;
    /**
     * The messages held are a window further back (opened at a search result),
     * not the newest: newer pages load as the reader scrolls down, and live
     * messages wait for them.
     */
    this.detached = false;
  }

  /**
   * Whether a live message belongs in what is held: always, unless a window
   * further back is shown and the message is newer than it.
   * @param {Message} msg
   */
  accepts(msg) {
    return !this.detached || msg.seq <= this.maxSeq() || (msg.client_msg_id !== undefined && this.byCid.has(msg.client_msg_id));
  }

  /** @param {number} seq */
  hasSeq(seq) {
    for (const e of this.byId.values()) if (e.seq === seq) return true;
    return false;
  }

  /**
   * Adds or updates a message from the server, matching an own pending send by
   * its client_msg_id. Returns the entry and whether it was new.
   * @param {Message} msg
   * @returns {{ entry: Entry, added: boolean }}
   */
  upsert(msg) {
    let entry = this.byId.get(msg.id);
    if (!entry && msg.client_msg_id) {
      const pending = this.byCid.get(msg.client_msg_id);
      if (pending && pending.senderId === msg.sender_id) entry = pending;
    }
    if (entry) {
      // A repeat (ack and frame, a reloaded page) may carry older ticks than those
      // already shown: statuses only move forward.
      entry.status = entry.id === null ? serverStatus(msg.status) : furtherStatus(entry.status, serverStatus(msg.status));
      entry.id = msg.id;
      entry.seq = msg.seq;
      entry.content = msg.content;
      entry.contentType = msg.content_type || 'text';
      entry.system = msg.system ?? null;
      entry.attachments = msg.attachments ?? [];
      entry.createdAt = msg.created_at;
      entry.senderId = msg.sender_id;
      entry.error = null;
      applyExtras(entry, msg);
      this.byId.set(msg.id, entry);
      return { entry, added: false };
    }
    entry = {
      key: `m:${msg.id}`,
      id: msg.id,
      cid: msg.client_msg_id ?? null,
      seq: msg.seq,
      senderId: msg.sender_id,
      content: msg.content,
      contentType: msg.content_type || 'text',
      system: msg.system ?? null,
      attachments: msg.attachments ?? [],
      createdAt: msg.created_at,
      status: serverStatus(msg.status),
      error: null,
      localOrder: ++localCounter,
      replyTo: null,
      replyToId: null,
      forwarded: false,
      editedAt: null,
      deletedAt: null,
      reactions: {},
      myReaction: null,
    };
    applyExtras(entry, msg);
    this.entries.push(entry);
    this.byId.set(msg.id, entry);
    if (entry.cid) this.byCid.set(entry.cid, entry);
    return { entry, added: true };
  }

  /**
   * An own message shown before the server has it.
   * @param {string} cid
   * @param {string} content
   * @param {string} senderId
   * @param {string} [contentType]  "text", or the kind of the files it carries
   * @param {import('./types.js').Attachment[]} [attachments]
   * @param {import('./types.js').ReplyRef | null} [replyTo]  the message it replies to
   * @returns {Entry}
   */
  addPending(cid, content, senderId, contentType = 'text', attachments = [], replyTo = null) {
    /** @type {Entry} */
    const entry = {
      key: `c:${cid}`,
      id: null,
      cid,
      seq: null,
      senderId,
      content,
      contentType,
      system: null,
      attachments,
      createdAt: new Date().toISOString(),
      status: 'pending',
      error: null,
      localOrder: ++localCounter,
      replyTo,
      replyToId: replyTo?.id ?? null,
      forwarded: false,
      editedAt: null,
      deletedAt: null,
      reactions: {},
      myReaction: null,
    };
    this.entries.push(entry);
    this.byCid.set(cid, entry);
    return entry;
  }

  /**
   * Applies a `message_update`: the message as it now is replaces the one held
   * (messages not held are ignored). A reaction of `myId` moves the own reaction,
   * which the shared message never carries. Returns the entry when it changed.
   * @param {Message} msg
   * @param {{ action?: string, emoji?: string, user_id?: string, removed?: boolean }} update
   * @param {string} myId
   */
  applyUpdate(msg, update, myId) {
    const entry = this.byId.get(msg.id);
    if (!entry) return null;
    this.upsert(msg);
    if (update.action === 'reaction' && update.user_id === myId) {
      if (update.removed) {
        if (entry.myReaction === update.emoji) entry.myReaction = null;
      } else {
        entry.myReaction = update.emoji ?? null;
      }
    }
    if (entry.deletedAt) entry.myReaction = null;
    return entry;
  }

  /**
   * Drops a message (deleted for this user only). Returns whether it was held.
   * @param {string} id
   */
  remove(id) {
    const entry = this.byId.get(id);
    if (!entry) return false;
    this.byId.delete(id);
    if (entry.cid) this.byCid.delete(entry.cid);
    this.entries = this.entries.filter((e) => e !== entry);
    return true;
  }

  /** @param {string} cid */
  pendingByCid(cid) {
    const entry = this.byCid.get(cid);
    return entry && entry.id === null ? entry : undefined;
  }

  /** Own sends the server has not confirmed (pending or failed). */
  unconfirmed() {
    return this.entries.filter((e) => e.id === null);
  }

  /** Messages the server has confirmed. */
  confirmedCount() {
    return this.byId.size;
  }

  /**
   * Moves the ticks of `senderId`'s stored messages to what the chat's progress
   * means for them. Returns whether any changed.
   * @param {string} senderId
   * @param {{ delivered: number, read: number } | undefined} progress
   */
  applyProgress(senderId, progress) {
    if (!progress) return false;
    let changed = false;
    for (const entry of this.byId.values()) {
      if (entry.senderId !== senderId || entry.seq === null) continue;
      const next = furtherStatus(entry.status, statusAt(entry.seq, progress));
      if (next !== entry.status) {
        entry.status = next;
        changed = true;
      }
    }
    return changed;
  }

  /** @returns {number} highest known seq, 0 when none */
  maxSeq() {
    let max = 0;
    for (const e of this.byId.values()) if (e.seq !== null && e.seq > max) max = e.seq;
    return max;
  }

  /** @returns {number} lowest known seq, Infinity when none */
  minSeq() {
    let min = Infinity;
    for (const e of this.byId.values()) if (e.seq !== null && e.seq < min) min = e.seq;
    return min;
  }

  /**
   * Merges the newest page (newest first, as the server sends it). When it does
   * not touch what is already held (a long disconnect, or a window further back),
   * what is held is dropped, so that what stays is contiguous.
   * @param {Message[]} page
   * @param {number} limit
   */
  mergeNewest(page, limit) {
    if (page.length > 0 && this.byId.size > 0) {
      const pageMin = Math.min(...page.map((m) => m.seq));
      if (pageMin > this.maxSeq() + 1) this.reset();
    }
    for (const msg of page) this.upsert(msg);
    if (!this.loaded) this.reachedStart = page.length < limit;
    if (this.minSeq() <= 1) this.reachedStart = true;
    this.loaded = true;
    this.detached = false;
  }

  /**
   * Merges an older page (`before_seq` the oldest held). Returns how many entries were new.
   * @param {Message[]} page
   * @param {number} limit
   */
  mergeOlder(page, limit) {
    let added = 0;
    for (const msg of page) if (this.upsert(msg).added) added += 1;
    if (page.length < limit || this.minSeq() <= 1 || added === 0) this.reachedStart = true;
    return added;
  }

  /**
   * Merges a newer page of a detached window (`after_seq` the newest held, oldest
   * first). A short page reached the newest message: the window is attached again.
   * @param {Message[]} page
   * @param {number} limit
   */
  mergeNewer(page, limit) {
    for (const msg of page) this.upsert(msg);
    if (page.length < limit) this.detached = false;
  }

  /**
   * Starts afresh at a window around one message: `before` holds it and what came
   * before (newest first), `after` what came after it (oldest first).
   * @param {Message[]} before
   * @param {Message[]} after
   * @param {number} limit  the size asked for each side
   */
  openWindow(before, after, limit) {
    this.reset();
    for (const msg of before) this.upsert(msg);
    for (const msg of after) this.upsert(msg);
    this.loaded = true;
    this.reachedStart = before.length < limit || this.minSeq() <= 1;
    this.detached = after.length >= limit;
  }

  /**
   * Forgets every confirmed message (own sends in flight stay), so that the next
   * newest page starts the thread afresh: after a long disconnect, or when the
   * server says too much was missed to replay (`resync`).
   */
  reset() {
    this.generation += 1;
    this.entries = this.entries.filter((e) => e.id === null);
    this.byId.clear();
    this.byCid = new Map(this.entries.filter((e) => e.cid).map((e) => [/** @type {string} */ (e.cid), e]));
    this.reachedStart = false;
    this.loaded = false;
    this.detached = false;
  }

  /** Entries in display order: stored ones by seq, then unconfirmed by creation. */
  ordered() {
    return [...this.entries].sort((a, b) => {
      if (a.seq !== null && b.seq !== null) return a.seq - b.seq;
      if (a.seq !== null) return -1;
      if (b.seq !== null) return 1;
      return a.localOrder - b.localOrder;
    });
  }
}

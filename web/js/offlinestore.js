// What this device keeps of the user's chats for when the server cannot be
// reached, in IndexedDB: who was logged in (with a tag of the token, never the
// token), the chat list with its positions and unread counts, each chat's most
// recent messages (from the thread when opened, else fetched for keeping), and
// the own messages not yet confirmed (the outbox). Every
// record is keyed by the user; logging out empties the database. No DOM.
//
// Operations run one after another in the order they were asked for, so that a
// save asked before a logout never lands after the logout emptied the database.
// Where IndexedDB is missing or refuses (private browsing), every operation
// quietly does nothing: the app then works as it did without it.

import { CACHED_MESSAGES } from './chatstore.js';

/** @typedef {import('./types.js').User} User */

const DB_NAME = 'chitchat-offline';
const DB_VERSION = 1;
/** Who was logged in: one record, key `SESSION_KEY`. */
const SESSION = 'session';
const SESSION_KEY = 'current';
/** The chat list and its positions, per user: key `userId`, `json` a ChatStore snapshot. */
const CHATS = 'chats';
/** A chat's most recent messages: key `[userId, chatId]`, `json` an array of messages. */
const MESSAGES = 'messages';
/** Own messages waiting for the server: key `cid` (the client_msg_id), index `userId`. */
const OUTBOX = 'outbox';
/** At most one write of the cache in this long: the first change is written at once, those that follow it together. */
const SAVE_DELAY_MS = 500;

/**
 * An own message kept until the server confirms it.
 * @typedef {object} OutboxRecord
 * @property {string} userId
 * @property {string} chatId
 * @property {string} cid  its client_msg_id, sent again unchanged
 * @property {string} content
 * @property {string} contentType
 * @property {import('./types.js').ReplyRef | null} replyTo
 * @property {string} createdAt  RFC 3339
 */

/**
 * What is written at each save: the chat list's state, and the messages of each
 * chat whose held messages are kept (null: delete the chat's record).
 * @typedef {object} CacheSnapshot
 * @property {string} state  the chat list as JSON
 * @property {Map<string, string | null>} messages  per chat, its recent messages as JSON
 */

/**
 * A short tag of the token: tells whether the stored user belongs to the token in
 * storage without keeping the token a second time (FNV-1a, 32 bits).
 * @param {string} token
 */
export function tokenTag(token) {
  let hash = 0x811c9dc5;
  for (let i = 0; i < token.length; i++) {
    hash ^= token.charCodeAt(i);
    hash = Math.imul(hash, 0x01000193) >>> 0;
  }
  return hash.toString(16).padStart(8, '0');
}

/**
 * @template T
 * @param {IDBRequest<T>} request
 * @returns {Promise<T>}
 */
function done(request) {
  return new Promise((resolve, reject) => {
    request.onsuccess = () => resolve(request.result);
    request.onerror = () => reject(request.error);
  });
}

/** @param {IDBTransaction} tx @returns {Promise<void>} */
function committed(tx) {
  return new Promise((resolve, reject) => {
    tx.oncomplete = () => resolve();
    tx.onerror = () => reject(tx.error);
    tx.onabort = () => reject(tx.error);
  });
}

/** @returns {Promise<IDBDatabase | null>} */
function openDatabase() {
  if (typeof indexedDB === 'undefined') return Promise.resolve(null);
  return new Promise((resolve) => {
    /** @type {IDBOpenDBRequest} */
    let request;
    try {
      request = indexedDB.open(DB_NAME, DB_VERSION);
    } catch {
      resolve(null);
      return;
    }
    request.onupgradeneeded = () => {
      const db = request.result;
      if (!db.objectStoreNames.contains(SESSION)) db.createObjectStore(SESSION);
      if (!db.objectStoreNames.contains(CHATS)) db.createObjectStore(CHATS);
      if (!db.objectStoreNames.contains(MESSAGES)) db.createObjectStore(MESSAGES);
      if (!db.objectStoreNames.contains(OUTBOX)) db.createObjectStore(OUTBOX, { keyPath: 'cid' }).createIndex('userId', 'userId');
    };
    request.onsuccess = () => {
      const db = request.result;
      // Another tab upgrading the schema: let it, this one reopens on its next operation.
      db.onversionchange = () => db.close();
      resolve(db);
    };
    request.onerror = () => resolve(null);
    request.onblocked = () => resolve(null);
  });
}

export class OfflineStore {
  constructor() {
    /** @type {Promise<IDBDatabase | null> | null} */
    this.db = null;
    /** Operations run in turn: the tail of the queue. @type {Promise<unknown>} */
    this.queue = Promise.resolve();
    /** The user whose data is being written; null once the session ended. @type {string | null} */
    this.userId = null;
    /** @type {ReturnType<typeof setTimeout> | undefined} */
    this.saveTimer = undefined;
    /** @type {(() => CacheSnapshot) | null} */
    this.snapshot = null;
    /** What was last written per chat, so that unchanged chats are not written again. @type {Map<string, string | null>} */
    this.written = new Map();
    /** @type {string | null} */
    this.writtenState = null;
    /** When the cache was last written (ms since the epoch). */
    this.lastSave = 0;
  }

  /**
   * Runs `op` with the database once the operations asked before it are done.
   * Resolves to `fallback` when there is no database or it fails.
   * @template T
   * @param {T} fallback
   * @param {(db: IDBDatabase) => Promise<T>} op
   * @returns {Promise<T>}
   */
  run(fallback, op) {
    const next = this.queue.then(async () => {
      try {
        if (!this.db) this.db = openDatabase();
        const db = await this.db;
        return db ? await op(db) : fallback;
      } catch {
        // A full disk or a closed database: the cache is a help, not a need.
        this.db = null;
        return fallback;
      }
    });
    this.queue = next;
    return next;
  }

  /**
   * The user stored for `token`, if the last session of this device was theirs.
   * @param {string} token
   * @returns {Promise<User | null>}
   */
  cachedUser(token) {
    return this.run(null, async (db) => {
      const record = await done(db.transaction(SESSION).objectStore(SESSION).get(SESSION_KEY));
      return record && record.tokenTag === tokenTag(token) && record.user ? /** @type {User} */ (record.user) : null;
    });
  }

  /**
   * A session starts: writes go to `user` from now on. A different user than the
   * one stored replaces everything stored.
   * @param {User} user
   * @param {string} token
   */
  begin(user, token) {
    this.userId = user.id;
    this.written.clear();
    this.writtenState = null;
    return this.run(undefined, async (db) => {
      const previous = await done(db.transaction(SESSION).objectStore(SESSION).get(SESSION_KEY));
      const tx = db.transaction([SESSION, CHATS, MESSAGES, OUTBOX], 'readwrite');
      if (previous && previous.userId !== user.id) for (const name of [CHATS, MESSAGES, OUTBOX]) tx.objectStore(name).clear();
      tx.objectStore(SESSION).put({ userId: user.id, tokenTag: tokenTag(token), user }, SESSION_KEY);
      await committed(tx);
    });
  }

  /**
   * The user's profile changed: the stored one follows.
   * @param {User} user
   */
  updateUser(user) {
    if (user.id !== this.userId) return;
    void this.run(undefined, async (db) => {
      const tx = db.transaction(SESSION, 'readwrite');
      const store = tx.objectStore(SESSION);
      const record = await done(store.get(SESSION_KEY));
      if (record && record.userId === user.id) store.put({ ...record, user }, SESSION_KEY);
      await committed(tx);
    });
  }

  /**
   * The stored chat list and recent messages of `userId`.
   * @param {string} userId
   * @returns {Promise<{ state: string | null, messages: Map<string, string> }>}
   */
  load(userId) {
    return this.run({ state: null, messages: new Map() }, async (db) => {
      const tx = db.transaction([CHATS, MESSAGES]);
      const state = await done(tx.objectStore(CHATS).get(userId));
      const range = IDBKeyRange.bound([userId, ''], [userId, '\uffff']);
      const rows = await done(tx.objectStore(MESSAGES).getAll(range));
      /** @type {Map<string, string>} */
      const messages = new Map();
      for (const row of rows) if (typeof row?.chatId === 'string' && typeof row.json === 'string') messages.set(row.chatId, row.json);
      return { state: typeof state?.json === 'string' ? state.json : null, messages };
    });
  }

  /**
   * Writes what `snapshot` gives: at once after a quiet spell (a reload right after
   * a change still finds it), else once the changes that follow have settled.
   * @param {() => CacheSnapshot} snapshot
   */
  saveSoon(snapshot) {
    this.snapshot = snapshot;
    if (this.saveTimer !== undefined || !this.userId) return;
    const wait = Math.max(0, this.lastSave + SAVE_DELAY_MS - Date.now());
    this.saveTimer = setTimeout(() => void this.saveNow(), wait);
  }

  /** Writes a pending save at once (the page is going away). */
  saveNow() {
    clearTimeout(this.saveTimer);
    this.saveTimer = undefined;
    const userId = this.userId;
    if (!userId || !this.snapshot) return Promise.resolve();
    this.lastSave = Date.now();
    // Taken now, in one go, so that the positions match the messages written.
    const { state, messages } = this.snapshot();
    /** @type {Map<string, string | null>} */
    const changed = new Map();
    for (const [chatId, json] of messages) if (this.written.get(chatId) !== json) changed.set(chatId, json);
    const stateChanged = this.writtenState !== state;
    if (!stateChanged && changed.size === 0) return Promise.resolve();
    this.writtenState = state;
    for (const [chatId, json] of changed) this.written.set(chatId, json);
    return this.run(undefined, async (db) => {
      if (this.userId !== userId) return; // logged out meanwhile
      const tx = db.transaction([CHATS, MESSAGES], 'readwrite');
      if (stateChanged) tx.objectStore(CHATS).put({ userId, json: state }, userId);
      const store = tx.objectStore(MESSAGES);
      for (const [chatId, json] of changed) {
        if (json === null) store.delete([userId, chatId]);
        else store.put({ userId, chatId, json }, [userId, chatId]);
      }
      await committed(tx);
    });
  }

  /**
   * Keeps the newest messages of chats this device has not opened, so that they
   * show too when the server cannot be reached: `page(chatId)` fetches them, one
   * chat after the other. Chats already kept, here or by an earlier page, are
   * left alone; a chat opened meanwhile is kept by the snapshot instead.
   * @param {string} userId
   * @param {string[]} chatIds
   * @param {(chatId: string) => Promise<import('./types.js').Message[]>} page
   */
  async keepUnopened(userId, chatIds, page) {
    const earlier = await this.load(userId);
    for (const chatId of chatIds) {
      if (this.userId !== userId) return;
      if (earlier.messages.has(chatId) || this.written.has(chatId)) continue;
      /** @type {import('./types.js').Message[]} */
      let messages;
      try {
        messages = await page(chatId);
      } catch {
        return; // offline again, or logged out: the next start tries again
      }
      const json = JSON.stringify({ messages, reachedStart: messages.length < CACHED_MESSAGES });
      await this.run(undefined, async (db) => {
        if (this.userId !== userId || this.written.has(chatId)) return;
        const tx = db.transaction([MESSAGES], 'readwrite');
        tx.objectStore(MESSAGES).put({ userId, chatId, json }, [userId, chatId]);
        await committed(tx);
      });
    }
  }

  /**
   * Keeps an own message until the server confirms it; resolves once it is written.
   * @param {OutboxRecord} record
   */
  putOutbox(record) {
    return this.run(undefined, async (db) => {
      if (this.userId !== record.userId) return;
      const tx = db.transaction(OUTBOX, 'readwrite');
      tx.objectStore(OUTBOX).put(record);
      await committed(tx);
    });
  }

  /**
   * The server confirmed or refused an own message: it is no longer kept.
   * @param {string} cid
   */
  deleteOutbox(cid) {
    return this.run(undefined, async (db) => {
      const tx = db.transaction(OUTBOX, 'readwrite');
      tx.objectStore(OUTBOX).delete(cid);
      await committed(tx);
    });
  }

  /**
   * The own messages of `userId` still waiting, oldest first.
   * @param {string} userId
   * @returns {Promise<OutboxRecord[]>}
   */
  outbox(userId) {
    return this.run(/** @type {OutboxRecord[]} */ ([]), async (db) => {
      const rows = await done(db.transaction(OUTBOX).objectStore(OUTBOX).index('userId').getAll(userId));
      return /** @type {OutboxRecord[]} */ (rows).sort((a, b) => a.createdAt.localeCompare(b.createdAt));
    });
  }

  /** The session ended: nothing of it stays on the device. */
  clear() {
    clearTimeout(this.saveTimer);
    this.saveTimer = undefined;
    this.snapshot = null;
    this.userId = null;
    this.written.clear();
    this.writtenState = null;
    return this.run(undefined, async (db) => {
      const tx = db.transaction([SESSION, CHATS, MESSAGES, OUTBOX], 'readwrite');
      for (const name of [SESSION, CHATS, MESSAGES, OUTBOX]) tx.objectStore(name).clear();
      await committed(tx);
    });
  }
}

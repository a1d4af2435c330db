// What travels on the socket besides messages: the receipts this device sends
// (delivered, read), the typing indicator it sends, and the typing and presence
// of others it is told about. No DOM: the app decides what to show.

/** @typedef {import('./types.js').Frame} Frame */
/** @typedef {(frame: Frame) => boolean} SendFrame  hands a frame to the open socket; false when there is none */

/** Receipts wait this long, so that a burst of messages makes one frame per chat. */
const RECEIPT_DELAY_MS = 300;
/** While the composer is being typed in, "typing" is sent at most this often (the server forwards one per 3 s). */
export const TYPING_RESEND_MS = 2500;

let frameCounter = 0;

/**
 * The positions this device reports: "has every message of the chat up to seq"
 * (delivered) and "has shown them" (read). Batched per chat, only ever forward,
 * re-sent on the next socket when one was lost before its `ack`.
 */
export class ReceiptOutbox {
  /** @param {SendFrame} send */
  constructor(send) {
    this.send = send;
    /** Waiting to be sent. @type {Map<string, { delivered: number, read: number }>} */
    this.pending = new Map();
    /** Sent or known to the server already. @type {Map<string, { delivered: number, read: number }>} */
    this.reported = new Map();
    /** Sent, waiting for the ack, by frame id. @type {Map<string, { chatId: string, kind: 'delivered' | 'read', seq: number }>} */
    this.inflight = new Map();
    /** @type {ReturnType<typeof setTimeout> | undefined} */
    this.timer = undefined;
  }

  /**
   * @param {string} chatId
   * @returns {{ delivered: number, read: number }}
   */
  at(chatId) {
    const known = this.reported.get(chatId) ?? { delivered: 0, read: 0 };
    const waiting = this.pending.get(chatId);
    return {
      delivered: Math.max(known.delivered, known.read, waiting?.delivered ?? 0, waiting?.read ?? 0),
      read: Math.max(known.read, waiting?.read ?? 0),
    };
  }

  /**
   * This device has every message of the chat up to `seq`.
   * @param {string} chatId
   * @param {number} seq
   */
  delivered(chatId, seq) {
    if (!(seq > this.at(chatId).delivered)) return;
    const waiting = this.pending.get(chatId) ?? { delivered: 0, read: 0 };
    waiting.delivered = seq;
    this.pending.set(chatId, waiting);
    this.schedule();
  }

  /**
   * This device has shown every message of the chat up to `seq` (implies delivered).
   * @param {string} chatId
   * @param {number} seq
   */
  read(chatId, seq) {
    if (!(seq > this.at(chatId).read)) return;
    const waiting = this.pending.get(chatId) ?? { delivered: 0, read: 0 };
    waiting.read = seq;
    this.pending.set(chatId, waiting);
    this.schedule();
  }

  /**
   * The server says this user has reached these positions (a `status_update` of
   * their own, from this device or another): nothing below needs sending.
   * @param {string} chatId
   * @param {number} delivered
   * @param {number} read
   */
  known(chatId, delivered, read) {
    const known = this.reported.get(chatId) ?? { delivered: 0, read: 0 };
    known.delivered = Math.max(known.delivered, delivered, read);
    known.read = Math.max(known.read, read);
    this.reported.set(chatId, known);
  }

  /** @private */
  schedule() {
    if (this.timer === undefined) this.timer = setTimeout(() => this.flush(), RECEIPT_DELAY_MS);
  }

  /** Sends what waits, if the socket is open; what cannot be sent waits for the next flush. */
  flush() {
    clearTimeout(this.timer);
    this.timer = undefined;
    for (const [chatId, waiting] of [...this.pending]) {
      const known = this.reported.get(chatId) ?? { delivered: 0, read: 0 };
      /** @type {Array<['delivered' | 'read', number]>} */
      const due = [];
      if (waiting.read > known.read) due.push(['read', waiting.read]);
      if (waiting.delivered > Math.max(known.delivered, waiting.read)) due.push(['delivered', waiting.delivered]);
      let ok = true;
      for (const [kind, seq] of due) {
        const id = `rcpt-${++frameCounter}`;
        if (!this.send({ id, type: 'status_update', room_id: chatId, payload: { status: kind, seq } })) {
          ok = false;
          break;
        }
        this.inflight.set(id, { chatId, kind, seq });
        this.known(chatId, kind === 'delivered' ? seq : 0, kind === 'read' ? seq : 0);
      }
      if (!ok) return; // no socket: everything waits for the next one
      this.pending.delete(chatId);
    }
  }

  /**
   * An `ack` or `error` arrived: returns true when it answered one of these frames.
   * @param {unknown} id
   */
  answered(id) {
    return typeof id === 'string' && this.inflight.delete(id);
  }

  /**
   * The socket closed: what was sent on it without an ack may be lost, so it is
   * sent again once a new socket is ready (repeats are harmless: positions only move forward).
   */
  socketLost() {
    for (const { chatId, kind, seq } of this.inflight.values()) {
      const known = this.reported.get(chatId);
      if (known) {
        // Forget the optimistic position so the receipt goes out again.
        if (kind === 'read' && known.read <= seq) known.read = 0;
        if (kind === 'delivered' && known.delivered <= seq) known.delivered = 0;
      }
      const waiting = this.pending.get(chatId) ?? { delivered: 0, read: 0 };
      waiting[kind] = Math.max(waiting[kind], seq);
      this.pending.set(chatId, waiting);
    }
    this.inflight.clear();
  }

  clear() {
    clearTimeout(this.timer);
    this.timer = undefined;
    this.pending.clear();
    this.reported.clear();
    this.inflight.clear();
  }
}

/**
 * Tells the other members that this user is typing: once when typing starts,
 * again every TYPING_RESEND_MS while it goes on, and `typing: false` when the
 * composer is emptied, the message is sent or the chat is left.
 */
export class TypingSender {
  /** @param {SendFrame} send */
  constructor(send) {
    this.send = send;
    /** The chat "typing: true" was last sent for, while it holds. @type {string | null} */
    this.chatId = null;
    this.sentAt = 0;
  }

  /**
   * The composer of `chatId` now holds `text`.
   * @param {string} chatId
   * @param {string} text
   */
  input(chatId, text) {
    if (!text.trim()) {
      this.stop();
      return;
    }
    if (this.chatId !== chatId) this.stop();
    const now = Date.now();
    if (this.chatId === chatId && now - this.sentAt < TYPING_RESEND_MS) return;
    if (this.send({ type: 'typing', room_id: chatId, payload: { typing: true } })) {
      this.chatId = chatId;
      this.sentAt = now;
    }
  }

  /** Typing ended (sent, emptied, chat left). */
  stop() {
    if (this.chatId === null) return;
    const chatId = this.chatId;
    this.chatId = null;
    this.sentAt = 0;
    this.send({ type: 'typing', room_id: chatId, payload: { typing: false } });
  }

  /** The socket changed: the next keystroke announces typing again. */
  reset() {
    this.chatId = null;
    this.sentAt = 0;
  }
}

/** Who is typing where, each until their indicator expires. */
export class TypingBook {
  /** @param {(chatId: string) => void} onChange */
  constructor(onChange) {
    this.onChange = onChange;
    /** @type {Map<string, Map<string, ReturnType<typeof setTimeout>>>} */
    this.chats = new Map();
  }

  /**
   * @param {string} chatId
   * @param {string} userId
   * @param {boolean} typing
   * @param {number} expiresInMs
   */
  set(chatId, userId, typing, expiresInMs) {
    if (!typing) {
      this.clear(chatId, userId);
      return;
    }
    let users = this.chats.get(chatId);
    if (!users) {
      users = new Map();
      this.chats.set(chatId, users);
    }
    const had = users.has(userId);
    clearTimeout(users.get(userId));
    const ms = Number.isFinite(expiresInMs) && expiresInMs > 0 ? Math.min(expiresInMs, 60_000) : 6000;
    users.set(
      userId,
      setTimeout(() => this.clear(chatId, userId), ms),
    );
    if (!had) this.onChange(chatId);
  }

  /**
   * @param {string} chatId
   * @param {string} userId
   */
  clear(chatId, userId) {
    const users = this.chats.get(chatId);
    if (!users || !users.has(userId)) return;
    clearTimeout(users.get(userId));
    users.delete(userId);
    if (users.size === 0) this.chats.delete(chatId);
    this.onChange(chatId);
  }

  /** @param {string} userId  stops showing this user as typing anywhere (they went offline) */
  clearUser(userId) {
    for (const chatId of [...this.chats.keys()]) this.clear(chatId, userId);
  }

  /**
   * @param {string} chatId
   * @returns {string[]} the users typing in the chat
   */
  who(chatId) {
    return [...(this.chats.get(chatId)?.keys() ?? [])];
  }

  clearAll() {
    for (const users of this.chats.values()) for (const timer of users.values()) clearTimeout(timer);
    this.chats.clear();
  }
}

/**
 * @typedef {object} Presence
 * @property {boolean} online
 * @property {string | null} lastSeen  RFC 3339, when offline
 */

/**
 * Who is online, as learnt from `presence` frames since this page connected
 * (the server has no "who is online now" answer): unknown until a frame comes.
 */
export class PresenceBook {
  /** @param {(userId: string) => void} onChange */
  constructor(onChange) {
    this.onChange = onChange;
    /** @type {Map<string, Presence>} */
    this.users = new Map();
  }

  /**
   * @param {string} userId
   * @param {boolean} online
   * @param {string | null} lastSeen
   */
  set(userId, online, lastSeen) {
    const before = this.users.get(userId);
    const next = { online, lastSeen: online ? (before?.lastSeen ?? null) : lastSeen ?? before?.lastSeen ?? null };
    if (before && before.online === next.online && before.lastSeen === next.lastSeen) return;
    this.users.set(userId, next);
    this.onChange(userId);
  }

  /** @param {string} userId */
  get(userId) {
    return this.users.get(userId);
  }

  /** Forgets everything (a long disconnect may have missed changes). */
  clear() {
    const users = [...this.users.keys()];
    this.users.clear();
    for (const userId of users) this.onChange(userId);
  }
}

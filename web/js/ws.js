// The live connection: one WebSocket, reconnecting with jittered backoff (about
// 1 s, 2 s, 5 s, then every 10 s) until stopped. Every connection is opened with
// `resume=1` and its first frame is `resume`, carrying the last `event_seq` the
// client holds per chat: the server replays what was missed, in order, before any
// live event, then answers with an `ack`. The connection counts as open (caught up)
// only from that answer on.

/** @typedef {import('./types.js').Frame} Frame */
/** @typedef {import('./types.js').ResumeResult} ResumeResult */
/** @typedef {'connecting' | 'syncing' | 'open' | 'offline' | 'stopped'} ConnState */

const BACKOFF_MS = [1000, 2000, 5000, 10000];
/** Each delay is stretched or shrunk by up to this fraction, so clients do not reconnect in step. */
const JITTER = 0.2;
/** Most chats one `resume` frame may list (the server refuses more). */
export const MAX_RESUME_CHATS = 5000;
/** A catch-up that sends nothing for this long is abandoned: the socket is dropped and reopened. */
const RESUME_STALL_MS = 20_000;
/** Close code of a socket whose device session was revoked (logout, device removed): never reconnect. */
export const SESSION_REVOKED_CLOSE = 4001;

/**
 * @typedef {object} ConnectionHandlers
 * @property {(frame: Frame) => void} onFrame      every frame except the answers to `resume`, replayed ones included
 * @property {(state: ConnState, retryInMs: number | null) => void} onState
 * @property {() => Map<string, number>} positions the last event_seq held per chat, read at each open
 * @property {(reconnected: boolean) => void} onOpen the socket opened and `resume` was sent; replay follows
 * @property {(reconnected: boolean, result: ResumeResult) => void} onReady  caught up: `resume` was answered
 * @property {(failures: number) => void} [onFailure]   a connect attempt closed before opening
 * @property {() => void} [onRevoked]  closed with 4001: this device was logged out; the connection has stopped
 */

export class Connection {
  /**
   * @param {() => string} url  built at each attempt, so it carries the current token
   * @param {ConnectionHandlers} handlers
   */
  constructor(url, handlers) {
    this.url = url;
    this.handlers = handlers;
    /** @type {WebSocket | null} */
    this.socket = null;
    /** @type {ConnState} */
    this.state = 'stopped';
    /** @type {ReturnType<typeof setTimeout> | undefined} */
    this.timer = undefined;
    /** @type {ReturnType<typeof setTimeout> | undefined} */
    this.stallTimer = undefined;
    this.attempt = 0;
    this.failures = 0;
    /** A connection has caught up at least once since start(). */
    this.everOpened = false;
    /** Ids of the `resume` frames of this socket still unanswered. @type {Set<string>} */
    this.resumeIds = new Set();
    /** @type {ResumeResult} */
    this.result = { chats: new Map(), notFound: [], failed: false, settings: null };
    /** An answer to this socket's `resume` came without `settings`. */
    this.settingsLost = false;
    this.resumeCounter = 0;
  }

  /** The socket is open and its `resume` has been sent: frames may follow it. */
  get isOpen() {
    return (
      (this.state === 'open' || this.state === 'syncing') &&
      this.socket !== null &&
      this.socket.readyState === WebSocket.OPEN
    );
  }

  start() {
    if (this.state !== 'stopped') return;
    this.everOpened = false;
    this.attempt = 0;
    this.failures = 0;
    this.connect();
  }

  stop() {
    clearTimeout(this.timer);
    this.setState('stopped', null);
    this.discard(1000, 'logout');
  }

  /** Skips the wait: used when the browser says the network is back. */
  reconnectNow() {
    if (this.state !== 'offline') return;
    clearTimeout(this.timer);
    this.attempt = 0;
    this.connect();
  }

  /**
   * Gives up the current socket at once and reconnects after the usual wait: used
   * when the browser says the network is gone, where a socket can linger unnoticed.
   */
  drop() {
    if (this.state === 'stopped' || this.state === 'offline') return;
    this.discard(1000, 'offline');
    this.scheduleReconnect();
  }

  /**
   * Sends a frame if the socket is open (also while it is catching up: the server
   * answers frames in order, after the replay).
   * @param {Frame} frame
   * @returns {boolean} whether it was handed to the socket
   */
  send(frame) {
    if (!this.isOpen || !this.socket) return false;
    try {
      this.socket.send(JSON.stringify(frame));
      return true;
    } catch {
      return false;
    }
  }

  /** @private */
  connect() {
    this.setState('connecting', null);
    /** @type {WebSocket} */
    let socket;
    try {
      const url = this.url();
      socket = new WebSocket(`${url}${url.includes('?') ? '&' : '?'}resume=1`);
    } catch {
      this.scheduleReconnect();
      return;
    }
    this.socket = socket;
    let opened = false;

    socket.onopen = () => {
      if (this.socket !== socket) return;
      opened = true;
      this.failures = 0;
      const reconnected = this.everOpened;
      this.sendResume(socket);
      this.setState('syncing', null);
      this.handlers.onOpen(reconnected);
      this.watchStall();
    };
    socket.onmessage = (event) => {
      if (this.socket !== socket || typeof event.data !== 'string') return;
      /** @type {unknown} */
      let parsed;
      try {
        parsed = JSON.parse(event.data);
      } catch {
        return; // not JSON: ignore
      }
      if (!parsed || typeof parsed !== 'object' || typeof (/** @type {any} */ (parsed).type) !== 'string') return;
      const frame = /** @type {Frame} */ (parsed);
      if (this.state === 'syncing') this.watchStall();
      if ((frame.type === 'ack' || frame.type === 'error') && typeof frame.id === 'string' && this.resumeIds.has(frame.id)) {
        this.resumeAnswered(frame);
        return;
      }
      this.handlers.onFrame(frame);
    };
    socket.onerror = () => {
      // Always followed by onclose, which does the work.
    };
    socket.onclose = (event) => {
      if (this.socket !== socket) return;
      this.socket = null;
      clearTimeout(this.stallTimer);
      if (event.code === SESSION_REVOKED_CLOSE) {
        // The token is dead: reconnecting would only be refused.
        clearTimeout(this.timer);
        this.setState('stopped', null);
        this.handlers.onRevoked?.();
        return;
      }
      if (!opened) {
        this.failures += 1;
        this.handlers.onFailure?.(this.failures);
      }
      // Whatever other close code (1000 no pong, 1009 too large, 1013 fell behind,
      // a network failure): reconnect and resume.
      if (this.state !== 'stopped') this.scheduleReconnect();
    };
  }

  /**
   * Sends the known positions as the socket's first frame(s), in frames of at most
   * MAX_RESUME_CHATS chats.
   * @private
   * @param {WebSocket} socket
   */
  sendResume(socket) {
    const entries = [...this.handlers.positions()];
    this.resumeIds.clear();
    this.result = { chats: new Map(), notFound: [], failed: false, settings: null };
    this.settingsLost = false;
    for (let start = 0; start === 0 || start < entries.length; start += MAX_RESUME_CHATS) {
      const id = `resume-${++this.resumeCounter}`;
      this.resumeIds.add(id);
      const chats = Object.fromEntries(entries.slice(start, start + MAX_RESUME_CHATS));
      try {
        socket.send(JSON.stringify({ id, type: 'resume', payload: { chats } }));
      } catch {
        return; // the close event follows
      }
    }
  }

  /**
   * @private
   * @param {Frame} frame  the `ack` or `error` answering one of this socket's `resume` frames
   */
  resumeAnswered(frame) {
    this.resumeIds.delete(/** @type {string} */ (frame.id));
    const payload = /** @type {any} */ (frame.payload) ?? {};
    if (frame.type === 'ack') {
      const chats = payload.chats && typeof payload.chats === 'object' ? payload.chats : {};
      for (const [chatId, position] of Object.entries(chats)) {
        if (typeof position === 'number') this.result.chats.set(chatId, position);
      }
      if (Array.isArray(payload.not_found)) {
        for (const chatId of payload.not_found) if (typeof chatId === 'string') this.result.notFound.push(chatId);
      }
      // The chat settings as they are now; absent when the server could not read
      // them, and then none are trusted (the chat list brings them).
      if (payload.settings && typeof payload.settings === 'object' && !this.settingsLost) {
        const settings = this.result.settings ?? new Map();
        for (const [chatId, value] of Object.entries(payload.settings)) {
          if (value && typeof value === 'object') settings.set(chatId, /** @type {any} */ (value));
        }
        this.result.settings = settings;
      } else {
        this.settingsLost = true;
        this.result.settings = null;
      }
    } else {
      this.result.failed = true; // e.g. a server without resume: the caller reloads over REST
    }
    if (this.resumeIds.size > 0 || this.state !== 'syncing') return;
    clearTimeout(this.stallTimer);
    const reconnected = this.everOpened;
    this.everOpened = true;
    this.attempt = 0;
    this.setState('open', null);
    this.handlers.onReady(reconnected, this.result);
  }

  /** @private Drops a socket whose catch-up has stopped making progress. */
  watchStall() {
    clearTimeout(this.stallTimer);
    this.stallTimer = setTimeout(() => {
      if (this.state === 'syncing') this.drop();
    }, RESUME_STALL_MS);
  }

  /**
   * Forgets the current socket and closes it without waiting for its close event.
   * @private
   * @param {number} code
   * @param {string} reason
   */
  discard(code, reason) {
    clearTimeout(this.stallTimer);
    this.resumeIds.clear();
    const socket = this.socket;
    this.socket = null;
    if (socket) {
      socket.onopen = socket.onclose = socket.onerror = socket.onmessage = null;
      try {
        socket.close(code, reason);
      } catch {
        // already closed
      }
    }
  }

  /** @private */
  scheduleReconnect() {
    const base = BACKOFF_MS[Math.min(this.attempt, BACKOFF_MS.length - 1)];
    const delay = Math.round(base * (1 - JITTER + 2 * JITTER * Math.random()));
    this.attempt += 1;
    this.setState('offline', delay);
    clearTimeout(this.timer);
    this.timer = setTimeout(() => {
      if (this.state === 'offline') this.connect();
    }, delay);
  }

  /**
   * @private
   * @param {ConnState} state
   * @param {number | null} retryInMs
   */
  setState(state, retryInMs) {
    this.state = state;
    this.handlers.onState(state, retryInMs);
  }
}

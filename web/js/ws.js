// The live connection: one WebSocket, reconnecting with backoff (1 s, 2 s, 5 s,
// then every 10 s) until stopped.

/** @typedef {import('./types.js').Frame} Frame */
/** @typedef {'connecting' | 'open' | 'offline' | 'stopped'} ConnState */

const BACKOFF_MS = [1000, 2000, 5000, 10000];

/**
 * @typedef {object} ConnectionHandlers
 * @property {(frame: Frame) => void} onFrame
 * @property {(state: ConnState, retryInMs: number | null) => void} onState
 * @property {(reconnected: boolean) => void} onOpen     after every successful open
 * @property {(failures: number) => void} [onFailure]   a connect attempt closed before opening
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
    this.attempt = 0;
    this.failures = 0;
    this.everOpened = false;
  }

  get isOpen() {
    return this.state === 'open' && this.socket !== null && this.socket.readyState === WebSocket.OPEN;
  }

  start() {
    if (this.state !== 'stopped') return;
    this.everOpened = false;
    this.attempt = 0;
    this.connect();
  }

  stop() {
    clearTimeout(this.timer);
    this.setState('stopped', null);
    const socket = this.socket;
    this.socket = null;
    if (socket) {
      socket.onopen = socket.onclose = socket.onerror = socket.onmessage = null;
      socket.close(1000, 'logout');
    }
  }

  /** Skips the wait: used when the browser says the network is back. */
  reconnectNow() {
    if (this.state !== 'offline') return;
    clearTimeout(this.timer);
    this.connect();
  }

  /**
   * Sends a frame if the socket is open.
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
      socket = new WebSocket(this.url());
    } catch {
      this.scheduleReconnect();
      return;
    }
    this.socket = socket;
    let opened = false;

    socket.onopen = () => {
      if (this.socket !== socket) return;
      opened = true;
      const reconnected = this.everOpened;
      this.everOpened = true;
      this.attempt = 0;
      this.failures = 0;
      this.setState('open', null);
      this.handlers.onOpen(reconnected);
    };
    socket.onmessage = (event) => {
      if (this.socket !== socket || typeof event.data !== 'string') return;
      /** @type {unknown} */
      let frame;
      try {
        frame = JSON.parse(event.data);
      } catch {
        return; // not JSON: ignore
      }
      if (frame && typeof frame === 'object' && typeof (/** @type {any} */ (frame).type) === 'string') {
        this.handlers.onFrame(/** @type {Frame} */ (frame));
      }
    };
    socket.onerror = () => {
      // Always followed by onclose, which does the work.
    };
    socket.onclose = () => {
      if (this.socket !== socket) return;
      this.socket = null;
      if (!opened) {
        this.failures += 1;
        this.handlers.onFailure?.(this.failures);
      }
      if (this.state !== 'stopped') this.scheduleReconnect();
    };
  }

  /** @private */
  scheduleReconnect() {
    const delay = BACKOFF_MS[Math.min(this.attempt, BACKOFF_MS.length - 1)];
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

// The session: who is logged in on this page. A stored token is checked at start
// (or the login screen shows); logging in enters the app (contacts, the server's
// limits, the chat list, then the socket); logging out, a 401, the server's
// `session_revoked` and another tab dropping the token end it. Tabs share the
// token, so logging in or out in one does it in the others. When the server
// cannot be reached at start, the session of the stored token goes on from what
// the device kept of it until the socket connects.

import * as api from './api.js';
import * as people from './people.js';
import { avatar, byId } from './dom.js';

/** @typedef {import('./types.js').User} User */

/** Shown on the login screen when another device (or the server) logged this one out. */
const REVOKED_TEXT = 'This device was logged out. Log in again to continue.';
/** Shown on the login screen when the server no longer takes the token. */
const ENDED_TEXT = 'Your session has ended. Please log in again.';

/**
 * @typedef {object} SessionParts
 * @property {import('./login.js').LoginView} login
 * @property {() => import('./ws.js').Connection} connection
 * @property {(user: User, fromCache: boolean) => Promise<void>} entered  the user is in: load what the app shows, from the server or from what the device kept (the socket starts after it)
 * @property {(token: string) => Promise<User | null>} cachedUser  the user the device kept for this token, if any
 * @property {() => void} dropKept  the stored token was refused: what the device kept of its session goes
 * @property {() => void} opened  the socket started: show what the address asks for
 * @property {() => void} ended  forget everything of the session that ended
 */

export class Session {
  /** @param {SessionParts} parts */
  constructor(parts) {
    this.parts = parts;
    /** @type {User | null} */
    this.me = null;
    /** Started from what the device kept: the server has not confirmed the user yet. */
    this.fromCache = false;
    /** This device is logging out by itself: its socket closing with 4001 is expected. */
    this.loggingOut = false;
    this.boot = byId('boot');
    this.bootStatus = byId('boot-status');
    this.bootRetry = /** @type {HTMLButtonElement} */ (byId('boot-retry'));
    this.app = byId('app');
    this.meAvatar = byId('me-avatar');
    this.meName = byId('me-name');
  }

  /** Listens for what ends or starts a session, then checks the stored one. */
  start() {
    api.setUnauthorizedHandler(() => this.end(ENDED_TEXT));
    this.bootRetry.addEventListener('click', () => void this.resume());
    // Tabs share the token: logging out or in in one tab does it in the others.
    window.addEventListener('storage', (event) => {
      if (event.key !== api.TOKEN_KEY) return;
      api.reloadToken();
      if (!event.newValue && this.me) this.end('');
      else if (event.newValue && !this.me) {
        this.parts.login.hide();
        void this.resume();
      }
    });
    void this.resume();
  }

  /**
   * Logged in from the login screen.
   * @param {{ token: string, user: User }} result
   */
  loggedIn(result) {
    api.setToken(result.token);
    this.parts.login.hide();
    void this.enter(result.user, false);
  }

  /**
   * Checks a stored session, or shows the login screen.
   * @private
   */
  async resume() {
    const token = api.getToken();
    if (!token) {
      this.showLogin();
      return;
    }
    this.bootStatus.textContent = 'Loading…';
    this.bootRetry.hidden = true;
    this.boot.hidden = false;
    try {
      const user = await api.verify();
      await this.enter(user, false);
    } catch (err) {
      if (err instanceof api.ApiError && err.status === 401) {
        api.clearToken();
        this.parts.dropKept();
        this.showLogin();
        return;
      }
      if (err instanceof api.ApiError && (err.isNetwork || err.status >= 500)) {
        // Unreachable: go on from what the device kept, if it kept this session.
        const cached = await this.parts.cachedUser(token);
        if (cached && !this.me && api.getToken() === token) {
          await this.enter(cached, true);
          return;
        }
      }
      this.bootStatus.textContent = err instanceof Error ? err.message : String(err);
      this.bootRetry.hidden = false;
    }
  }

  /** @private */
  showLogin() {
    this.boot.hidden = true;
    this.app.hidden = true;
    this.parts.login.show();
  }

  /**
   * @private
   * @param {User} user
   * @param {boolean} fromCache  the user and the data shown come from the device, not the server
   */
  async enter(user, fromCache) {
    this.me = user;
    this.fromCache = fromCache;
    people.start(user.id);
    people.noteUser(user);
    this.boot.hidden = true;
    this.app.hidden = false;
    this.showMe(user);
    await this.parts.entered(user, fromCache);
    if (this.me !== user) return; // logged out meanwhile
    this.parts.connection().start();
    this.parts.opened();
  }

  /**
   * Connected after starting from what the device kept: the server's word on the
   * user replaces the kept one (a 401 ends the session through the handler).
   */
  async confirm() {
    const kept = this.me;
    if (!this.fromCache || !kept) return;
    try {
      const user = await api.verify();
      if (this.me !== kept) return;
      this.fromCache = false;
      this.updateMe(user);
    } catch {
      // Asked again after the next reconnect.
    }
  }

  /**
   * The user's own profile changed (saved here, or a `user_update` from elsewhere).
   * @param {User} user
   */
  updateMe(user) {
    this.me = user;
    people.noteUser(user);
    this.showMe(user);
  }

  /**
   * @private
   * @param {User} user
   */
  showMe(user) {
    this.meAvatar.replaceChildren(avatar(user.name, user.id, 'avatar--small'));
    this.meName.textContent = user.name;
    this.meName.title = user.phone;
  }

  /** @param {string} message  shown on the login screen, if any */
  end(message) {
    if (!this.me) return;
    this.parts.connection().stop();
    this.me = null;
    this.fromCache = false;
    this.loggingOut = false;
    this.parts.ended();
    api.clearToken();
    this.showLogin();
    if (message) this.parts.login.setError(message);
  }

  async logout() {
    if (!this.me || this.loggingOut) return;
    this.loggingOut = true;
    // The server closes this device's socket with 4001 on logout: close it first.
    this.parts.connection().stop();
    try {
      await api.logout();
    } catch {
      // The token is dropped either way.
    }
    this.end('');
  }

  /** The server ended this device's session (`session_revoked`, close 4001): no reconnecting. */
  revoked() {
    if (!this.me) return;
    this.end(this.loggingOut ? '' : REVOKED_TEXT);
  }
}

// The menu of the chat-list header (new group, contacts, settings, log out),
// and the settings panel: the profile (name and about, editable), the email
// address for login codes (emailsettings.js), who sees the last seen, message
// notifications and the theme (both kept in this
// browser), and the devices logged in to the account, each of which (but this
// one) can be logged out from here, and where a new one is linked (`js/linkconfirm.js`).

import * as api from './api.js';
import { avatar, byId, el, formatMoment, icon, menuKeys } from './dom.js';
import { LinkConfirm } from './linkconfirm.js';
import { EmailSettings } from './emailsettings.js';
import { notificationsOn, permission, setNotificationsOn } from './notifications.js';
import { PushError, subscribePush, unsubscribePush } from './push.js';
import { currentTheme, saveTheme, startTheme } from './theme.js';

/** @typedef {import('./types.js').User} User */
/** @typedef {import('./types.js').DeviceSession} DeviceSession */

/**
 * A readable name for a device from the User-Agent of its login:
 * "Chrome on Linux", "Safari on iPhone", else the text itself.
 * @param {string} ua
 */
export function deviceName(ua) {
  const browser = /Edg\//.test(ua)
    ? 'Edge'
    : /OPR\//.test(ua)
      ? 'Opera'
      : /Firefox\//.test(ua)
        ? 'Firefox'
        : /HeadlessChrome\//.test(ua)
          ? 'Headless Chrome'
          : /Chrom(e|ium)\//.test(ua)
            ? 'Chrome'
            : /Safari\//.test(ua)
              ? 'Safari'
              : null;
  const system = /iPhone/.test(ua)
    ? 'iPhone'
    : /iPad/.test(ua)
      ? 'iPad'
      : /Android/.test(ua)
        ? 'Android'
        : /Windows/.test(ua)
          ? 'Windows'
          : /Mac OS X|Macintosh/.test(ua)
            ? 'macOS'
            : /CrOS/.test(ua)
              ? 'ChromeOS'
              : /Linux/.test(ua)
                ? 'Linux'
                : null;
  if (browser && system) return `${browser} on ${system}`;
  if (browser || system) return /** @type {string} */ (browser || system);
  const text = ua.trim();
  return text ? (text.length > 60 ? `${text.slice(0, 60)}…` : text) : 'Unknown device';
}

/**
 * @typedef {object} SettingsHandlers
 * @property {() => void} onLogout  "Log out" (this device)
 * @property {() => User | null} me
 * @property {() => void} onNewGroup
 * @property {() => void} onContacts
 * @property {() => void} onAdmin  "Admin" was picked (shown to the server's admins only)
 * @property {() => void} onCalls  "Calls" was picked: the call history
 * @property {() => void} onOpen       the settings panel opens (others close)
 * @property {(user: User) => void} onProfileSaved
 */

export class SettingsView {
  /** @param {SettingsHandlers} handlers */
  constructor(handlers) {
    this.handlers = handlers;
    this.menuButton = /** @type {HTMLButtonElement} */ (byId('menu-button'));
    this.menu = byId('main-menu');
    this.menuSettings = byId('menu-settings');
    this.menuNewGroup = byId('new-group');
    this.menuContacts = byId('menu-contacts');
    this.menuLogout = /** @type {HTMLButtonElement} */ (byId('logout'));
    this.panel = byId('devices-panel');
    this.back = byId('devices-back');
    this.profileAvatar = byId('profile-avatar');
    this.profileForm = /** @type {HTMLFormElement} */ (byId('profile-form'));
    this.profileName = /** @type {HTMLInputElement} */ (byId('profile-name'));
    this.profileStatus = /** @type {HTMLInputElement} */ (byId('profile-status'));
    this.profileSave = /** @type {HTMLButtonElement} */ (byId('profile-save'));
    this.profileNote = byId('profile-note');
    this.profilePhone = byId('profile-phone');
    this.privacyLastSeen = /** @type {HTMLSelectElement} */ (byId('privacy-last-seen'));
    this.privacyNote = byId('privacy-note');
    this.notifyToggle = /** @type {HTMLInputElement} */ (byId('notifications-toggle'));
    this.notifyNote = byId('notifications-note');
    this.previewsToggle = /** @type {HTMLInputElement} */ (byId('previews-toggle'));
    this.previewsNote = byId('previews-note');
    this.themePicker = byId('theme-picker');
    this.status = byId('devices-status');
    this.list = byId('device-list');
    this.panelLogout = /** @type {HTMLButtonElement} */ (byId('panel-logout'));
    this.loadSeq = 0;
    this.linking = new LinkConfirm({
      me: () => this.handlers.me(),
      deviceName,
      onLinked: () => void this.load(),
    });
    // A QR code opened in a tab already logged in.
    window.addEventListener('hashchange', () => this.linkFromAddress());
    this.email = new EmailSettings();

    this.menuButton.addEventListener('click', () => (this.menu.hidden ? this.openMenu() : this.closeMenu(true)));
    this.menuButton.addEventListener('keydown', (event) => {
      if (event.key === 'ArrowDown' && this.menu.hidden) {
        event.preventDefault();
        this.openMenu();
      }
    });
    this.menu.addEventListener('keydown', (event) => menuKeys(this.menu, event, () => this.closeMenu(true)));
    document.addEventListener('pointerdown', (event) => {
      if (this.menu.hidden) return;
      const target = event.target instanceof Node ? event.target : null;
      if (target && (this.menu.contains(target) || this.menuButton.contains(target))) return;
      this.closeMenu(false);
    });
    this.menuSettings.addEventListener('click', () => {
      this.closeMenu(false);
      this.open();
    });
    this.menuNewGroup.addEventListener('click', () => {
      this.closeMenu(false);
      this.handlers.onNewGroup();
    });
    byId('menu-calls').addEventListener('click', () => {
      this.closeMenu(false);
      this.handlers.onCalls();
    });
    this.menuAdmin = byId('menu-admin');
    this.menuAdmin.addEventListener('click', () => {
      this.closeMenu(false);
      this.handlers.onAdmin();
    });
    this.menuContacts.addEventListener('click', () => {
      this.closeMenu(false);
      this.handlers.onContacts();
    });
    const edited = () => {
      const me = this.handlers.me();
      const changed = !!me && (this.profileName.value.trim() !== me.name || this.profileStatus.value.trim() !== me.status);
      this.profileSave.disabled = !changed;
      if (changed) this.setProfileNote('', false);
    };
    this.profileName.addEventListener('input', edited);
    this.profileStatus.addEventListener('input', edited);
    this.privacyLastSeen.addEventListener('change', () => void this.savePrivacy());
    this.notifyToggle.addEventListener('change', () => void this.toggleNotifications());
    this.previewsToggle.addEventListener('change', () => void this.savePreviews());
    this.themePicker.addEventListener('change', (event) => {
      const input = event.target;
      if (input instanceof HTMLInputElement && input.checked) saveTheme(/** @type {import('./theme.js').Theme} */ (input.value));
    });
    startTheme(() => this.showTheme());
    this.profileForm.addEventListener('submit', (event) => {
      event.preventDefault();
      void this.saveProfile();
    });
    this.menuLogout.addEventListener('click', () => {
      this.closeMenu(false);
      this.handlers.onLogout();
    });
    this.panelLogout.addEventListener('click', () => this.handlers.onLogout());
    this.back.addEventListener('click', () => this.close());
    this.panel.addEventListener('keydown', (event) => {
      if (event.key === 'Escape') {
        event.preventDefault();
        this.close();
      }
    });
    this.list.addEventListener('click', (event) => {
      const button = event.target instanceof Element ? event.target.closest('[data-revoke]') : null;
      if (button instanceof HTMLButtonElement) void this.revoke(button);
    });
  }

  /** @private */
  openMenu() {
    this.menu.hidden = false;
    this.menuButton.setAttribute('aria-expanded', 'true');
    this.menuNewGroup.focus();
  }

  /**
   * @private
   * @param {boolean} restoreFocus
   */
  closeMenu(restoreFocus) {
    if (this.menu.hidden) return;
    this.menu.hidden = true;
    this.menuButton.setAttribute('aria-expanded', 'false');
    if (restoreFocus) this.menuButton.focus();
  }

  get isOpen() {
    return !this.panel.hidden;
  }

  /**
   * The address came from a new device's QR code (`#link=CODE`): the settings open
   * at "Link a device" with the code, to confirm. Nothing while logged out.
   */
  linkFromAddress() {
    if (!this.handlers.me()) return;
    const code = this.linking.takeFromAddress();
    if (!code) return;
    if (this.panel.hidden) this.open();
    this.linking.offer(code);
  }

  /** Opens the panel and loads the devices. */
  open() {
    const me = this.handlers.me();
    if (!me) return;
    this.handlers.onOpen();
    this.showProfile(me);
    this.setProfileNote('', false);
    this.showNotifications();
    this.showTheme();
    this.panel.hidden = false;
    this.back.focus();
    void this.load();
    void this.loadPrivacy();
    void this.loadPreviews();
    void this.email.load();
  }

  /**
   * The toggle was flipped: on asks the browser's permission (this is a click).
   * The toggle stays enabled while the browser asks, so that the focus stays on it.
   * @private
   */
  async toggleNotifications() {
    const wanted = this.notifyToggle.checked;
    if (!wanted) {
      await setNotificationsOn(false);
      this.showNotifications();
      try {
        await unsubscribePush();
      } catch (err) {
        this.notifyNote.textContent = err instanceof Error ? err.message : String(err);
      }
      return;
    }
    if (permission() === 'default') this.notifyNote.textContent = 'Allow notifications when the browser asks.';
    const on = await setNotificationsOn(true);
    this.showNotifications();
    if (!on) {
      if (permission() === 'default') this.notifyNote.textContent = "Still off: the browser's permission was not given.";
      return;
    }
    this.notifyNote.textContent = 'On. Setting up notifications for when ChitChat is closed…';
    try {
      await subscribePush();
      this.notifyNote.textContent = 'On. New messages show even when ChitChat is closed.';
    } catch (err) {
      if (err instanceof PushError && err.serverOff) {
        await setNotificationsOn(false);
        this.showNotifications();
        this.notifyNote.textContent = `${err.message} Notifications stay off.`;
        return;
      }
      // The page's own notifications still work while it is open.
      const why = err instanceof Error ? err.message : String(err);
      this.notifyNote.textContent = `On while ChitChat is open in a tab. ${why}`;
    }
  }

  /**
   * @private
   * @param {boolean} [keepNote]  leave the note (an error) in place
   */
  async loadPreviews(keepNote = false) {
    if (!keepNote) this.previewsNote.textContent = '';
    this.previewsToggle.disabled = true;
    try {
      this.previewsToggle.checked = await api.getNotificationPreviews();
      this.previewsToggle.disabled = false;
    } catch (err) {
      this.previewsNote.textContent = err instanceof Error ? err.message : String(err);
    }
  }

  /** @private */
  async savePreviews() {
    const wanted = this.previewsToggle.checked;
    this.previewsToggle.disabled = true;
    this.previewsNote.classList.remove('search-status--error');
    this.previewsNote.textContent = 'Saving…';
    try {
      this.previewsToggle.checked = await api.setNotificationPreviews(wanted);
      this.previewsNote.textContent = 'Saved.';
    } catch (err) {
      this.previewsNote.classList.add('search-status--error');
      this.previewsNote.textContent = err instanceof Error ? err.message : String(err);
      void this.loadPreviews(true);
    } finally {
      this.previewsToggle.disabled = false;
    }
  }

  /** @private */
  showNotifications() {
    const allowed = permission();
    this.notifyToggle.checked = notificationsOn();
    this.notifyToggle.disabled = allowed === 'unsupported';
    this.notifyNote.textContent =
      allowed === 'unsupported'
        ? 'This browser cannot show notifications.'
        : allowed === 'denied'
          ? "Notifications are blocked for this site: allow them in the browser's site settings, then turn them on here."
          : '';
  }

  /** Marks the theme in force in the picker. @private */
  showTheme() {
    const theme = currentTheme();
    for (const input of this.themePicker.querySelectorAll('input[name="theme"]')) {
      if (input instanceof HTMLInputElement) input.checked = input.value === theme;
    }
  }

  /**
   * @private
   * @param {boolean} [keepNote]  leave the note (an error) in place
   */
  async loadPrivacy(keepNote = false) {
    if (!keepNote) this.privacyNote.textContent = '';
    this.privacyLastSeen.disabled = true;
    try {
      this.privacyLastSeen.value = await api.getLastSeenPrivacy();
      this.privacyLastSeen.disabled = false;
    } catch (err) {
      this.privacyNote.textContent = err instanceof Error ? err.message : String(err);
    }
  }

  /** @private */
  async savePrivacy() {
    const wanted = /** @type {import('./types.js').LastSeenVisibility} */ (this.privacyLastSeen.value);
    this.privacyLastSeen.disabled = true;
    this.privacyNote.classList.remove('search-status--error');
    this.privacyNote.textContent = 'Saving…';
    try {
      this.privacyLastSeen.value = await api.setLastSeenPrivacy(wanted);
      this.privacyNote.textContent = 'Saved.';
    } catch (err) {
      this.privacyNote.classList.add('search-status--error');
      this.privacyNote.textContent = err instanceof Error ? err.message : String(err);
      void this.loadPrivacy(true);
    } finally {
      this.privacyLastSeen.disabled = false;
    }
  }

  /**
   * @private
   * @param {User} me
   */
  showProfile(me) {
    this.profileAvatar.replaceChildren(avatar(me.name, me.id, 'avatar--large'));
    this.profileName.value = me.name;
    this.profileStatus.value = me.status;
    this.profilePhone.textContent = me.phone;
    this.profileSave.disabled = true;
  }

  /** @private */
  async saveProfile() {
    const me = this.handlers.me();
    if (!me || this.profileSave.disabled) return;
    const name = this.profileName.value.trim();
    const status = this.profileStatus.value.trim();
    if (!name) {
      this.setProfileNote('Your name cannot be empty.', true);
      this.profileName.focus();
      return;
    }
    /** @type {{ name?: string, status?: string }} */
    const changes = {};
    if (name !== me.name) changes.name = name;
    if (status !== me.status) changes.status = status;
    this.profileSave.disabled = true;
    this.setProfileNote('Saving…', false);
    try {
      const user = await api.updateMe(changes);
      this.handlers.onProfileSaved(user);
      this.showProfile(user);
      this.setProfileNote('Saved.', false);
    } catch (err) {
      this.profileSave.disabled = false;
      this.setProfileNote(err instanceof Error ? err.message : String(err), true);
    }
  }

  /**
   * @private
   * @param {string} text
   * @param {boolean} isError
   */
  setProfileNote(text, isError) {
    this.profileNote.textContent = text;
    this.profileNote.classList.toggle('search-status--error', isError);
  }

  close() {
    if (this.panel.hidden) return;
    this.panel.hidden = true;
    this.linking.reset();
    this.loadSeq += 1;
    this.list.replaceChildren();
    this.menuButton.focus();
  }

  /** Closes without moving the focus (the session ended). */
  reset() {
    this.closeMenu(false);
    this.panel.hidden = true;
    this.linking.reset();
    this.loadSeq += 1;
    this.list.replaceChildren();
  }

  /**
   * @private
   * @param {string} [notice]  shown once loaded
   */
  async load(notice = '') {
    const seq = ++this.loadSeq;
    if (this.list.childElementCount === 0) this.setStatus('Loading devices…', false);
    try {
      const sessions = await api.listSessions();
      if (seq !== this.loadSeq) return;
      this.setStatus(notice || (sessions.length ? '' : 'No devices.'), false);
      // This device first, then the others, newest first (the server's order).
      const ordered = [...sessions.filter((s) => s.current), ...sessions.filter((s) => !s.current)];
      this.list.replaceChildren(...ordered.map((s) => this.row(s)));
    } catch (err) {
      if (seq !== this.loadSeq) return;
      this.setStatus(err instanceof Error ? err.message : String(err), true);
    }
  }

  /**
   * @private
   * @param {DeviceSession} session
   */
  row(session) {
    const name = deviceName(session.device);
    const title = el('span', { class: 'device-name', text: name, attrs: { title: session.device } });
    const top = el('span', { class: 'device-top' }, title);
    if (session.current) top.append(el('span', { class: 'device-current', testid: 'this-device', text: 'This device' }));
    const details = el('span', { class: 'device-details', text: `Logged in ${formatMoment(session.created_at)}` });
    const body = el('span', { class: 'device-body' }, top, details);
    const mobile = /Android|iPhone|iPad|Mobile/.test(session.device);
    const item = el('li', { class: 'device-row', testid: 'device-row' }, el('span', { class: 'device-icon' }, icon(mobile ? 'phone' : 'laptop')), body);
    item.dataset.sessionId = session.id;
    item.dataset.current = String(session.current);
    if (!session.current) {
      item.append(
        el('button', {
          class: 'button button--small',
          testid: 'revoke-device',
          text: 'Log out',
          attrs: { type: 'button', 'data-revoke': session.id, 'aria-label': `Log out ${name}, logged in ${formatMoment(session.created_at)}` },
        }),
      );
    }
    return item;
  }

  /**
   * @private
   * @param {HTMLButtonElement} button
   */
  async revoke(button) {
    const id = button.dataset.revoke;
    if (!id || button.disabled) return;
    button.disabled = true;
    button.textContent = 'Logging out…';
    const name = button.closest('[data-testid="device-row"]')?.querySelector('.device-name')?.textContent ?? 'The device';
    try {
      await api.revokeSession(id);
    } catch (err) {
      // Already gone (404 session_not_found) ends up the same: the list shows the truth.
      if (!(err instanceof api.ApiError && err.status === 404)) {
        button.disabled = false;
        button.textContent = 'Log out';
        this.setStatus(err instanceof Error ? err.message : String(err), true);
        return;
      }
    }
    if (!this.panel.hidden) await this.load(`${name} was logged out.`);
  }

  /**
   * @private
   * @param {string} text
   * @param {boolean} isError
   */
  setStatus(text, isError) {
    this.status.textContent = text;
    this.status.classList.toggle('search-status--error', isError);
  }
}

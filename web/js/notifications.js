// Browser notifications of new messages while the tab is hidden. Off until the
// user turns them on in the settings: the browser's permission prompt comes
// from that click, never on page load. The choice is kept in this browser; the
// browser's permission can still be withdrawn in its site settings, and then
// nothing shows. Titles and bodies are plain text (the Notification API shows
// no markup).

/** "on" when the user turned notifications on in this browser. */
const NOTIFY_KEY = 'chitchat.notifications';

/** @typedef {NotificationPermission | 'unsupported'} Permission */

/** @returns {Permission} */
export function permission() {
  return typeof Notification === 'undefined' ? 'unsupported' : Notification.permission;
}

/** The user turned them on here (whatever the browser allows now). */
function wantedHere() {
  try {
    return localStorage.getItem(NOTIFY_KEY) === 'on';
  } catch {
    return false;
  }
}

/** @param {boolean} on */
function keepChoice(on) {
  try {
    if (on) localStorage.setItem(NOTIFY_KEY, 'on');
    else localStorage.removeItem(NOTIFY_KEY);
  } catch {
    // No storage: notifications stay off.
  }
}

/** Whether notifications show: turned on here and allowed by the browser. */
export function notificationsOn() {
  return wantedHere() && permission() === 'granted';
}

/**
 * Turns notifications on or off. Turning them on asks the browser for its
 * permission when it has not been given or refused yet, so call it from a click.
 * @param {boolean} on
 * @returns {Promise<boolean>} whether they are on now
 */
export async function setNotificationsOn(on) {
  if (!on || permission() === 'unsupported') {
    keepChoice(false);
    return false;
  }
  if (permission() === 'default') await Notification.requestPermission();
  keepChoice(permission() === 'granted');
  return notificationsOn();
}

/**
 * A new message that may call for a notification.
 * @typedef {object} Incoming
 * @property {string} chatId
 * @property {number} seq
 * @property {string} title   the sender (direct chat) or the group's name
 * @property {string} body    the preview; in groups "Sender: preview"
 */

/** Shows notifications, one per chat at a time, and takes them away once read. */
export class Notifier {
  /** @param {(chatId: string) => void} onOpen  a notification was clicked: open its chat */
  constructor(onOpen) {
    this.onOpen = onOpen;
    /** The notification shown for each chat, and the newest message it tells of. @type {Map<string, { note: Notification, seq: number }>} */
    this.shown = new Map();
  }

  /**
   * Shows a notification for a message of someone else in an unmuted chat, if
   * they are on and the tab is hidden (a visible tab shows the message itself).
   * The chat's earlier notification is replaced (same tag), not added to.
   * @param {Incoming} message
   */
  show(message) {
    if (document.visibilityState === 'visible' || !notificationsOn()) return;
    /** @type {Notification} */
    let note;
    try {
      note = new Notification(message.title, { body: message.body, tag: `chat:${message.chatId}` });
    } catch {
      return; // Some browsers allow them only from a service worker.
    }
    note.addEventListener('click', () => {
      window.focus();
      note.close();
      this.onOpen(message.chatId);
    });
    note.addEventListener('close', () => {
      if (this.shown.get(message.chatId)?.note === note) this.shown.delete(message.chatId);
    });
    // Not closed: the new one took its place (closing it could close the new one, same tag).
    this.shown.set(message.chatId, { note, seq: message.seq });
  }

  /**
   * An incoming call while the tab is hidden: a notification that stays until
   * the ringing ends (the returned function closes it); a click brings the tab,
   * where the call rings.
   * @param {string} title  the caller
   * @param {string} body   "Incoming video call", or the group's
   * @returns {() => void}
   */
  showCall(title, body) {
    if (document.visibilityState === 'visible' || !notificationsOn()) return () => undefined;
    /** @type {Notification} */
    let note;
    try {
      note = new Notification(title, { body, tag: 'call', requireInteraction: true });
    } catch {
      return () => undefined;
    }
    note.addEventListener('click', () => {
      window.focus();
      note.close();
    });
    return () => note.close();
  }

  /**
   * The user read a chat up to `seq` (on this device or another): its
   * notification goes if it tells of nothing newer.
   * @param {string} chatId
   * @param {number} seq
   */
  read(chatId, seq) {
    const shown = this.shown.get(chatId);
    if (shown && shown.seq <= seq) {
      shown.note.close();
      this.shown.delete(chatId);
    }
  }

  /** Closes them all (logging out). */
  clear() {
    for (const { note } of this.shown.values()) note.close();
    this.shown.clear();
  }
}

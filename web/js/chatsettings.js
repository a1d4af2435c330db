// The user's own settings of a chat (archived, muted until, pinned): their
// defaults, what each action of a row's menu makes of them, and reading them from
// a frame. No DOM, no network.

/** @typedef {import('./types.js').ChatSettings} ChatSettings */

/** "Mute for 8 hours", "1 week"; "Always" is a date far ahead. */
const MUTE_8H_MS = 8 * 3600_000;
const MUTE_1W_MS = 7 * 24 * 3600_000;
const MUTE_ALWAYS = '9999-12-31T23:59:59Z';

/** A chat's settings when the user never changed them. @type {ChatSettings} */
export const DEFAULT_SETTINGS = { archived: false, muted_until: null, pinned: false };

/**
 * The settings after one action of a row's menu.
 * @param {ChatSettings} before
 * @param {import('./chatlist.js').ChatAction} action
 * @param {number} now  milliseconds since the epoch
 * @returns {ChatSettings}
 */
export function settingsAfter(before, action, now) {
  const next = { ...before };
  switch (action) {
    case 'archive':
      next.archived = true;
      next.pinned = false; // archived chats are not pinned (as elsewhere)
      break;
    case 'unarchive':
      next.archived = false;
      break;
    case 'mute-8h':
      next.muted_until = new Date(now + MUTE_8H_MS).toISOString();
      break;
    case 'mute-1w':
      next.muted_until = new Date(now + MUTE_1W_MS).toISOString();
      break;
    case 'mute-always':
      next.muted_until = MUTE_ALWAYS;
      break;
    case 'unmute':
      next.muted_until = null;
      break;
    case 'pin':
      next.pinned = true;
      break;
    case 'unpin':
      next.pinned = false;
      break;
  }
  return next;
}

/**
 * Settings as a frame or the answer to `resume` carries them; null when `value` is none.
 * @param {unknown} value
 * @returns {ChatSettings | null}
 */
export function readSettings(value) {
  if (!value || typeof value !== 'object') return null;
  const v = /** @type {any} */ (value);
  return {
    archived: v.archived === true,
    muted_until: typeof v.muted_until === 'string' ? v.muted_until : null,
    pinned: v.pinned === true,
  };
}

/**
 * @param {ChatSettings} a
 * @param {ChatSettings} b
 */
export function sameSettings(a, b) {
  return a.archived === b.archived && a.muted_until === b.muted_until && a.pinned === b.pinned;
}

// Who is who: the people this page has heard of (chat members, contacts, search
// results), the names it shows for them (a contact's alias first), and whom the
// user has blocked. No DOM.
//
// The server has no list of blocks: the ones made on this device are remembered
// in localStorage (`chitchat.blocked.<user id>`, ids only), so that "Unblock" is
// offered again after a reload. Blocking and unblocking are idempotent on the
// server, so a stale memory only shows the other button.

/** @typedef {import('./types.js').User} User */
/** @typedef {import('./types.js').Contact} Contact */

/** @type {Map<string, User>} */
const users = new Map();
/** Saved contacts by `contactKey`. @type {Map<string, Contact>} */
const contacts = new Map();
/** @type {Set<string>} */
let blocked = new Set();
/** @type {string | null} */
let owner = null;

/** @param {User | null | undefined} user */
export function noteUser(user) {
  if (user && typeof user.id === 'string') users.set(user.id, user);
}

/** @param {string} id */
export function userById(id) {
  return users.get(id) ?? contacts.get(id)?.user ?? null;
}

/**
 * A saved contact's key: the person's id, or the number while the server does
 * not show who has it.
 * @param {Contact} contact
 */
export function contactKey(contact) {
  return contact.user ? contact.user.id : `tel:${contact.phone}`;
}

/**
 * The name shown for a saved contact.
 * @param {Contact} contact
 */
export function contactName(contact) {
  return contact.user ? displayName(contact.user.id, contact.user.name) : contact.alias || contact.phone;
}

/**
 * The name shown for someone: their alias in the user's contacts, else their
 * profile name, else `fallback`.
 * @param {string} id
 * @param {string} [fallback]
 */
export function displayName(id, fallback = 'Unknown') {
  const contact = contacts.get(id);
  if (contact?.alias) return contact.alias;
  return users.get(id)?.name || contact?.user?.name || fallback;
}

/** @param {Contact[]} list */
export function setContacts(list) {
  contacts.clear();
  for (const contact of list) {
    contacts.set(contactKey(contact), contact);
    noteUser(contact.user);
  }
}

/** @param {Contact} contact */
export function putContact(contact) {
  contacts.set(contactKey(contact), contact);
  noteUser(contact.user);
}

/** @param {string} key  a user id or a `contactKey` */
export function dropContact(key) {
  contacts.delete(key);
}

/** @param {string} id */
export function contactOf(id) {
  return contacts.get(id) ?? null;
}

/** The saved contacts, by shown name. */
export function contactList() {
  return [...contacts.values()].sort((a, b) =>
    contactName(a).localeCompare(contactName(b), undefined, { sensitivity: 'base' }),
  );
}

/** @param {string} id */
export function isBlocked(id) {
  return blocked.has(id);
}

/**
 * @param {string} id
 * @param {boolean} value
 */
export function noteBlocked(id, value) {
  if (value) blocked.add(id);
  else blocked.delete(id);
  if (!owner) return;
  try {
    localStorage.setItem(`chitchat.blocked.${owner}`, JSON.stringify([...blocked]));
  } catch {
    // no storage: remembered until the tab closes
  }
}

/**
 * Starts the directory for a logged-in user.
 * @param {string} userId
 */
export function start(userId) {
  owner = userId;
  blocked = new Set();
  try {
    const stored = JSON.parse(localStorage.getItem(`chitchat.blocked.${userId}`) ?? '[]');
    if (Array.isArray(stored)) for (const id of stored) if (typeof id === 'string') blocked.add(id);
  } catch {
    // unreadable: nothing remembered
  }
}

/** Forgets everything (logout). */
export function clear() {
  users.clear();
  contacts.clear();
  blocked = new Set();
  owner = null;
}

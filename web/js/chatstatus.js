// What the conversation's header and the chat list say about a chat: its title
// and member line, "typing…", online or last seen, the ticks of its last message,
// and why the user cannot write in it. Plain functions of what is known; no DOM.

import { chatTitle, otherMember } from './chatlist.js';
import { formatLastSeen } from './dom.js';
import * as people from './people.js';
import { furtherStatus, statusAt } from './thread.js';

/** @typedef {import('./types.js').ChatView} ChatView */
/** @typedef {import('./types.js').User} User */

/**
 * When a chat last saw activity (its newest message, else its creation), for ordering.
 * @param {ChatView} chat
 */
export function activity(chat) {
  return Date.parse(chat.last_message?.created_at ?? chat.created_at) || 0;
}

/**
 * @param {ChatView} chat
 * @param {string} myId
 * @returns {import('./conversation.js').HeaderInfo}
 */
export function headerInfo(chat, myId) {
  const other = otherMember(chat, myId);
  const isGroup = chat.type === 'group';
  const left = chat.membership?.status === 'left';
  const count = chat.members.length;
  const names = chat.members
    .map((m) => (m.user_id === myId ? 'You' : people.displayName(m.user_id, m.user.name)))
    .sort((a, b) => (a === 'You' ? 1 : b === 'You' ? -1 : a.localeCompare(b)));
  return {
    title: chatTitle(chat, myId),
    subtitle: isGroup ? (chat.description ?? '') : other?.phone ?? '',
    avatarKey: other?.id ?? chat.id,
    isGroup,
    members: isGroup && !left ? `${count} ${count === 1 ? 'member' : 'members'}` : '',
    membersTitle: isGroup ? names.join(', ') : '',
    callMembers: readOnlyReason(chat, myId) ? 0 : count,
  };
}

/**
 * Why the user cannot write in a chat (a former member of a group, a blocked
 * person), or null when they can.
 * @param {ChatView} chat
 * @param {string} myId
 * @returns {string | null}
 */
export function readOnlyReason(chat, myId) {
  if (chat.membership?.status === 'left') return "You're no longer a member of this group.";
  const other = otherMember(chat, myId);
  if (other && people.isBlocked(other.id)) {
    return `You blocked ${people.displayName(other.id, other.name)}. Unblock them in contact info to send messages.`;
  }
  return null;
}

/**
 * "typing…" when someone else is typing in the chat, else null.
 * @param {ChatView} chat
 * @param {string} myId
 * @param {import('./live.js').TypingBook} typingIn
 * @returns {string | null}
 */
export function typingText(chat, myId, typingIn) {
  const who = typingIn.who(chat.id).filter((id) => id !== myId);
  if (who.length === 0) return null;
  if (chat.type === 'direct') return 'typing…';
  if (who.length > 1) return `${who.length} people are typing…`;
  const member = chat.members.find((m) => m.user_id === who[0]);
  return `${people.displayName(who[0], member?.user.name || 'Someone')} is typing…`;
}

/**
 * The line under the open chat's title: typing, online, or last seen.
 * @param {ChatView} chat
 * @param {string} myId
 * @param {import('./live.js').TypingBook} typingIn
 * @param {import('./live.js').PresenceBook} presence
 * @returns {import('./conversation.js').HeaderStatus}
 */
export function headerStatus(chat, myId, typingIn, presence) {
  const typing = typingText(chat, myId, typingIn);
  const other = chat.type === 'direct' ? otherMember(chat, myId) : null;
  if (!other) return { typing, presence: '', state: 'none' };
  const known = presence.get(other.id);
  if (known?.online) return { typing, presence: 'online', state: 'online' };
  // Unknown (no frame since this page connected): the stored last seen.
  const lastSeen = known?.lastSeen ?? other.last_seen;
  return { typing, presence: lastSeen ? formatLastSeen(lastSeen) : '', state: known ? 'offline' : 'unknown' };
}

/**
 * The ticks of a chat's last message, if it is the user's own.
 * @param {ChatView} chat
 * @param {{ delivered: number, read: number } | undefined} progress  the chat's
 * @returns {'sent' | 'delivered' | 'read'}
 */
export function lastMessageStatus(chat, progress) {
  const last = chat.last_message;
  if (!last) return 'sent';
  const stored = last.status === 'read' || last.status === 'delivered' ? last.status : 'sent';
  return /** @type {'sent' | 'delivered' | 'read'} */ (furtherStatus(stored, statusAt(last.seq, progress)));
}

/**
 * People to offer first when picking: contacts, then the people of direct chats,
 * the most recently active first.
 * @param {Iterable<ChatView>} chats
 * @param {string} myId
 * @returns {User[]}
 */
export function suggestedPeople(chats, myId) {
  /** @type {Map<string, User>} */
  const out = new Map();
  for (const contact of people.contactList()) if (contact.user) out.set(contact.user.id, contact.user);
  const direct = [...chats].filter((c) => c.type === 'direct').sort((a, b) => activity(b) - activity(a));
  for (const chat of direct) {
    const other = otherMember(chat, myId);
    if (other && !out.has(other.id)) out.set(other.id, other);
  }
  return [...out.values()];
}

// Calls in words: the call records the server writes into chats once a call has
// ended (system messages with `system.action == "call"`) as the conversation,
// the chat list and the "Calls" view show them, what a ringing call says, and
// the call history gathered from the messages the page holds. No DOM.

/** @typedef {import('./types.js').CallRecord} CallRecord */
/** @typedef {import('./types.js').Message} Message */
/** @typedef {import('./thread.js').Entry} Entry */

/**
 * "0:07", "3:05", "1:02:09".
 * @param {number} seconds
 */
export function formatDuration(seconds) {
  const total = Math.max(0, Math.floor(seconds));
  const h = Math.floor(total / 3600);
  const m = Math.floor((total % 3600) / 60);
  const s = String(total % 60).padStart(2, '0');
  return h > 0 ? `${h}:${String(m).padStart(2, '0')}:${s}` : `${m}:${s}`;
}

/**
 * The call a system message records, or null.
 * @param {{ system?: import('./types.js').SystemInfo | null }} message
 * @returns {CallRecord | null}
 */
export function callOf(message) {
  const system = message.system;
  if (!system || system.action !== 'call' || !system.call || typeof system.call !== 'object') return null;
  return system.call;
}

/**
 * What a call record says to someone: "Video call · 3:05", "Missed voice call"
 * (to those called), "Voice call · No answer" (to the caller), "Declined", "Busy".
 * @param {CallRecord} call
 * @param {boolean} mine  the reader made the call
 */
export function callRecordText(call, mine) {
  const kind = call.media === 'video' ? 'Video call' : 'Voice call';
  switch (call.outcome) {
    case 'answered':
      return `${kind} · ${formatDuration(call.duration_secs ?? 0)}`;
    case 'missed':
      return mine ? `${kind} · No answer` : `Missed ${kind.toLowerCase()}`;
    case 'declined':
      return `${kind} · Declined`;
    case 'busy':
      return `${kind} · Busy`;
    default:
      return kind;
  }
}

/**
 * What a ringing call is: "Incoming video call", or "Group voice call · Trip".
 * @param {'voice' | 'video'} media
 * @param {string | null} groupName
 */
export function incomingCallText(media, groupName) {
  const kind = media === 'video' ? 'video call' : 'voice call';
  return groupName ? `Group ${kind} · ${groupName}` : `Incoming ${kind}`;
}

/**
 * One call in the history.
 * @typedef {object} CallHistoryItem
 * @property {string} chatId
 * @property {string} messageId
 * @property {number} seq
 * @property {string} at          RFC 3339, when it was recorded (its end)
 * @property {boolean} outgoing   the user made it
 * @property {CallRecord} call
 */

/**
 * The calls the page knows of, newest first: the call records among the
 * messages held of each chat and the chats' last messages, each once.
 * @param {Iterable<{ chatId: string, messages: Iterable<Entry> }>} threads
 * @param {Iterable<{ id: string, last_message?: Message | null }>} chats
 * @param {string} myId
 * @returns {CallHistoryItem[]}
 */
export function callHistory(threads, chats, myId) {
  /** @type {Map<string, CallHistoryItem>} */
  const byCall = new Map();
  /**
   * @param {string} chatId
   * @param {{ id: string | null | undefined, seq: number | null | undefined, createdAt: string, senderId: string, system?: import('./types.js').SystemInfo | null }} m
   */
  const add = (chatId, m) => {
    const call = callOf(m);
    if (!call || !m.id || byCall.has(call.call_id)) return;
    const caller = m.system?.actor_id || m.senderId;
    byCall.set(call.call_id, { chatId, messageId: m.id, seq: m.seq ?? 0, at: m.createdAt, outgoing: caller === myId, call });
  };
  for (const thread of threads) {
    for (const entry of thread.messages) add(thread.chatId, entry);
  }
  for (const chat of chats) {
    const last = chat.last_message;
    if (last) add(chat.id, { id: last.id, seq: last.seq, createdAt: last.created_at, senderId: last.sender_id, system: last.system });
  }
  return [...byCall.values()].sort((a, b) => Date.parse(b.at) - Date.parse(a.at));
}

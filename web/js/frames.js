// Incoming frames: each type read and checked, then handed to the one handler
// that acts on it; a durable event's position is noted once it has been handled.
// Live and replayed frames alike, in the order they arrive (the server keeps each
// chat gap-free). No DOM.

/** @typedef {import('./types.js').Frame} Frame */
/** @typedef {import('./types.js').Message} Message */

/**
 * @typedef {object} FrameHandlers
 * @property {() => string | undefined} myId  the user's id (their own typing and presence are not shown)
 * @property {(msg: Message, live: boolean) => void} message  a stored message (`live`: pushed, not the answer to an own send)
 * @property {(chatId: string, position: number) => void} resync
 * @property {(frameId: string | undefined) => boolean} receiptAnswered  an ack or error that answers a receipt (nothing else to do)
 * @property {(frameId: string | undefined) => void} acked  a send was acknowledged
 * @property {(frameId: string | undefined, reason: string) => void} refused  a frame was refused
 * @property {(chatId: string, payload: any) => void} statusUpdate
 * @property {(chatId: string, userId: string, typing: boolean, expiresInMs: number) => void} typing
 * @property {(userId: string, online: boolean, lastSeen: string | null) => void} presence
 * @property {(view: unknown) => void} chatUpdate
 * @property {(msg: Message, update: any) => void} messageUpdate
 * @property {(chatId: string, messageId: string) => void} messageHidden
 * @property {(chatId: string, settings: unknown) => void} chatSettings
 * @property {(userId: string, blocked: boolean) => void} blockUpdate
 * @property {(payload: unknown) => void} userUpdate
 * @property {() => void} sessionRevoked
 * @property {(chatId: string, position: number) => void} position  every event of the chat up to `position` is handled
 * @property {(frame: Frame) => void} call  a `call_*` frame (js/calls.js reads them)
 */

/** The frame types of calls (docs/protocol.md), all handed to `call`. */
const CALL_FRAME_TYPES = new Set([
  'call_ringing',
  'call_invite',
  'call_accept',
  'call_decline',
  'call_busy',
  'call_offer',
  'call_answer',
  'call_ice',
  'call_hangup',
  'call_ended',
]);

/** @param {unknown} value @returns {value is Message} */
export function isMessage(value) {
  const m = /** @type {any} */ (value);
  return (
    !!m &&
    typeof m === 'object' &&
    typeof m.id === 'string' &&
    typeof m.chat_id === 'string' &&
    typeof m.sender_id === 'string' &&
    typeof m.content === 'string' &&
    typeof m.seq === 'number'
  );
}

/**
 * The function the socket gives each frame to.
 * @param {FrameHandlers} on
 * @returns {(frame: Frame) => void}
 */
export function frameHandler(on) {
  return (frame) => {
    if (CALL_FRAME_TYPES.has(frame.type)) {
      on.call(frame);
      return; // calls are not events of the chat's log
    }
    switch (frame.type) {
      case 'message':
        if (isMessage(frame.payload)) on.message(frame.payload, true);
        break;
      case 'resync':
        if (typeof frame.room_id === 'string' && typeof frame.event_seq === 'number') {
          on.resync(frame.room_id, frame.event_seq);
        }
        return; // its event_seq is set by the resync
      case 'ack': {
        if (on.receiptAnswered(frame.id)) break;
        on.acked(frame.id);
        if (isMessage(frame.payload)) on.message(frame.payload, false);
        break;
      }
      case 'error': {
        // A receipt refused (say the chat is gone): nothing to tell the user.
        if (on.receiptAnswered(frame.id)) break;
        const payload = /** @type {any} */ (frame.payload) ?? {};
        const reason = typeof payload.message === 'string' && payload.message ? payload.message : 'Not sent';
        on.refused(frame.id, reason);
        break;
      }
      case 'status_update':
        if (typeof frame.room_id === 'string' && frame.payload && typeof frame.payload === 'object') {
          on.statusUpdate(frame.room_id, frame.payload);
        }
        break;
      case 'typing': {
        const payload = /** @type {any} */ (frame.payload) ?? {};
        if (typeof frame.room_id === 'string' && typeof frame.sender === 'string' && frame.sender !== on.myId()) {
          on.typing(frame.room_id, frame.sender, payload.typing !== false, Number(payload.expires_in_ms));
        }
        break;
      }
      case 'presence': {
        const payload = /** @type {any} */ (frame.payload) ?? {};
        const userId = typeof payload.user_id === 'string' ? payload.user_id : frame.sender;
        if (typeof userId === 'string' && typeof payload.online === 'boolean' && userId !== on.myId()) {
          on.presence(userId, payload.online, typeof payload.last_seen === 'string' ? payload.last_seen : null);
        }
        break;
      }
      case 'chat_update':
        on.chatUpdate(frame.payload);
        break;
      case 'message_update': {
        const payload = /** @type {any} */ (frame.payload) ?? {};
        if (isMessage(payload.message)) on.messageUpdate(payload.message, payload);
        break;
      }
      case 'message_hidden': {
        const payload = /** @type {any} */ (frame.payload) ?? {};
        if (typeof frame.room_id === 'string' && typeof payload.message_id === 'string') on.messageHidden(frame.room_id, payload.message_id);
        break;
      }
      case 'chat_settings':
        if (typeof frame.room_id === 'string') on.chatSettings(frame.room_id, frame.payload);
        break;
      case 'block_update': {
        const payload = /** @type {any} */ (frame.payload) ?? {};
        if (typeof payload.user_id === 'string' && typeof payload.blocked === 'boolean') on.blockUpdate(payload.user_id, payload.blocked);
        break;
      }
      case 'user_update':
        on.userUpdate(frame.payload);
        break;
      case 'session_revoked':
        on.sessionRevoked(); // the close (4001) follows; do not reconnect
        return;
      default:
        break; // unknown frame types are ignored (their position still counts)
    }
    // A durable event (any type) moves its chat's position, once it has been handled.
    if (typeof frame.room_id === 'string' && typeof frame.event_seq === 'number') {
      on.position(frame.room_id, frame.event_seq);
    }
  };
}

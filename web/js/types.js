// Shapes of the JSON the server sends, for editors and `tsc --checkJs`. No runtime code.

/**
 * @typedef {object} User
 * @property {string} id
 * @property {string} phone
 * @property {string} name
 * @property {string} status
 * @property {string} last_seen   RFC 3339
 * @property {string} created_at  RFC 3339
 */

/**
 * @typedef {object} Message
 * @property {string} id
 * @property {string} chat_id
 * @property {string} sender_id
 * @property {string} content
 * @property {string} content_type  "text"
 * @property {number} seq           1, 2, 3… per chat
 * @property {string} status        "sent" | "delivered" | "read"
 * @property {string} [client_msg_id]
 * @property {string} created_at    RFC 3339
 */

/**
 * @typedef {object} Member
 * @property {string} user_id
 * @property {string} role
 * @property {string} joined_at
 * @property {User} user
 */

/**
 * @typedef {object} ChatView
 * @property {string} id
 * @property {string} type          "direct" | "group"
 * @property {string|null} name
 * @property {string} created_by
 * @property {string} created_at
 * @property {Member[]} members
 * @property {Message|null} last_message
 * @property {number} last_event_seq  position of the chat's newest event (0 when none)
 */

/**
 * @typedef {object} LoginResult
 * @property {string} token
 * @property {User} user
 * @property {string} expires_at
 */

/**
 * A frame on the WebSocket, in either direction.
 * @typedef {object} Frame
 * @property {string} type
 * @property {string} [id]
 * @property {string} [room_id]
 * @property {string} [sender]
 * @property {number} [event_seq]  on durable events (and `resync`): the position in the chat's event log
 * @property {any} [payload]
 */

/**
 * What the server answered to a connection's `resume`.
 * @typedef {object} ResumeResult
 * @property {Map<string, number>} chats  position reached per chat
 * @property {string[]} notFound           chats the caller may not read (or malformed ids)
 * @property {boolean} failed              `resume` was refused with an `error` frame
 */

export {};

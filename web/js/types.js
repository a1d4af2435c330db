// Shapes of the JSON the server sends, for editors and `tsc --checkJs`. No runtime code.

/**
 * @typedef {object} User
 * @property {string} id
 * @property {string} phone
 * @property {string} name
 * @property {string} status
 * @property {string | null} last_seen   RFC 3339; null where their privacy setting hides it
 * @property {string} created_at  RFC 3339
 */

/**
 * Who may see when someone was last online.
 * @typedef {'everyone' | 'contacts' | 'nobody'} LastSeenVisibility
 */

/**
 * What a system message records (a change to a group, or a call). Switch on
 * `action`, not on the message's `content` (a sentence for people).
 * @typedef {object} SystemInfo
 * @property {'group_created' | 'member_added' | 'member_removed' | 'member_left' | 'role_changed' | 'group_updated' | 'call'} action
 * @property {string} actor_id  who did it (the caller, for a call)
 * @property {string[]} user_ids  who the change is about (may be empty)
 * @property {'admin' | 'member'} [role]  the new role, on `role_changed`
 * @property {CallRecord} [call]  on `call`: how the call went
 */

/**
 * A call as the chat records it once it has ended.
 * @typedef {object} CallRecord
 * @property {string} call_id
 * @property {'voice' | 'video'} media
 * @property {'answered' | 'missed' | 'declined' | 'busy'} outcome
 * @property {number | null} [duration_secs]  answered calls: from the first answer to the end
 */

/**
 * A file a message carries (and the answer to an upload, `POST /api/attachments`).
 * Download it from `/api/attachments/{id}` (and `/thumbnail`) with the bearer token.
 * @typedef {object} Attachment
 * @property {string} id
 * @property {'image' | 'video' | 'audio' | 'document'} kind
 * @property {string} mime_type   found in its bytes
 * @property {string} name        the uploader's file name, made safe
 * @property {number} size        bytes
 * @property {number | null} width   images only
 * @property {number | null} height  images only
 * @property {boolean} has_thumbnail
 */

/**
 * Signed URLs of an attachment, from `POST /api/attachments/{id}/link`.
 * @typedef {object} AttachmentLink
 * @property {string} url                    the file, without a token
 * @property {string | null} thumbnail_url   its thumbnail, when it has one
 * @property {string} expires_at             RFC 3339; both stop working then
 */

/**
 * @typedef {object} Message
 * @property {string} id
 * @property {string} chat_id
 * @property {string} sender_id
 * @property {string} content
 * @property {string} content_type  "text" | "system" | "image" | "video" | "audio" | "document"
 * @property {number} seq           1, 2, 3… per chat
 * @property {string} status        "sent" | "delivered" | "read"
 * @property {string} [client_msg_id]
 * @property {string} created_at    RFC 3339
 * @property {SystemInfo | null} [system]  on system messages only
 * @property {Attachment[]} [attachments]  the files it carries (empty for text)
 * @property {ReplyRef} [reply_to]  the message this one replies to
 * @property {boolean} [forwarded]  a forwarded copy
 * @property {string} [edited_at]   RFC 3339, when its sender last edited it
 * @property {string} [deleted_at]  RFC 3339, when it was deleted for everyone (content is then "")
 * @property {Record<string, number>} [reactions]  how many people reacted with each emoji
 * @property {string} [my_reaction]  the caller's own reaction (history pages only)
 */

/**
 * The original a reply quotes, as it is now.
 * @typedef {object} ReplyRef
 * @property {string} id
 * @property {string} sender_id
 * @property {string | null} preview  its first characters; null once deleted for everyone
 * @property {boolean} deleted
 */

/**
 * @typedef {object} Member
 * @property {string} user_id
 * @property {'admin' | 'member'} role
 * @property {string} joined_at
 * @property {User} user
 */

/**
 * The viewer's own place in a chat. A former member ("left": left or removed)
 * reads it as it was when they left, and can no longer write.
 * @typedef {object} Membership
 * @property {'active' | 'left'} status
 * @property {'admin' | 'member'} role
 * @property {string} joined_at
 * @property {number | null} left_at_seq
 */

/**
 * The viewer's own settings of a chat.
 * @typedef {object} ChatSettings
 * @property {boolean} archived      hidden from the main list (a new message brings it back unless muted)
 * @property {string | null} muted_until  RFC 3339; muted while in the future
 * @property {boolean} pinned        listed first
 */

/**
 * @typedef {object} ChatView
 * @property {string} id
 * @property {string} type          "direct" | "group"
 * @property {string|null} name
 * @property {string|null} [description]  groups: possibly ""; null for direct chats
 * @property {string} created_by
 * @property {string} created_at
 * @property {Member[]} members     the active members, longest-standing first (none for a former member)
 * @property {Message|null} last_message   its `status` is the ticks its sender sees
 * @property {number} last_event_seq  position of the chat's newest event (0 when none)
 * @property {number} [unread_count]  messages after the viewer's read position
 * @property {ChatSettings} [settings]  in REST answers, not in `chat_update` frames
 * @property {Membership} [membership]  in REST answers, not in `chat_update` frames
 */

/**
 * One message search result (`GET /api/messages/search`).
 * @typedef {object} SearchHit
 * @property {Message} message
 * @property {{ text: string, highlights: Array<[number, number]> }} snippet
 *   an excerpt; highlights are [start, end) offsets in characters (code points) of `text`
 */

/**
 * An earlier version of an edited message (`GET /api/messages/{id}/edits`).
 * @typedef {object} MessageEdit
 * @property {string} content
 * @property {string} edited_at  when an edit replaced this text
 */

/**
 * The limits the server enforces (`GET /api/config`).
 * @typedef {object} ClientConfig
 * @property {number} edit_window_seconds
 * @property {number} delete_window_seconds
 * @property {number} message_search_max_chars
 * @property {number} people_search_max_chars
 * @property {boolean} login_codes_by_email  the server mails codes: people may give an address
 * @property {number} [call_max_participants]  most people in a call (a group larger than this cannot call); absent on servers that do not say
 */

/**
 * The STUN and TURN servers for calls (`GET /api/calls/ice-servers`): `ice_servers`
 * goes to `new RTCPeerConnection({ iceServers })` as it is; the TURN credentials
 * stop working after `ttl` seconds.
 * @typedef {object} IceServersAnswer
 * @property {RTCIceServer[]} ice_servers
 * @property {number} ttl
 */

/**
 * A saved contact (`GET /api/contacts`).
 * @typedef {object} Contact
 * @property {User | null} user  null until the person shares a chat with the user or saved them
 * @property {string} phone
 * @property {string | null} alias
 * @property {string} added_at
 */

/**
 * One logged-in device of the user (`GET /api/auth/sessions`).
 * @typedef {object} DeviceSession
 * @property {string} id
 * @property {string} device      the User-Agent of the login
 * @property {string} created_at  RFC 3339
 * @property {string} expires_at  RFC 3339
 * @property {boolean} current    the session of the token that asked
 */

/**
 * Who received and read one message (`GET /api/messages/{id}/receipts`).
 * @typedef {object} Receipt
 * @property {string} user_id
 * @property {string|null} delivered_at  RFC 3339
 * @property {string|null} read_at       RFC 3339
 */

/**
 * The payload of a `status_update` frame from the server: where one member
 * (`user_id`) has got to, and where the whole chat has.
 * @typedef {object} StatusUpdatePayload
 * @property {string} user_id
 * @property {number} delivered_seq
 * @property {number} read_seq
 * @property {{ delivered_seq: number, read_seq: number }} chat  what every member has reached
 */

/**
 * @typedef {object} LoginResult
 * @property {string} token
 * @property {User} user
 * @property {string} expires_at
 */

/**
 * What a new device is given when it asks to be linked (`POST /api/auth/links`).
 * @typedef {object} NewLink
 * @property {string} link_id
 * @property {string} pairing_code  eight characters, shown as ABCD-2345
 * @property {string} qr_url        the web client's address that opens the confirmation
 * @property {string} qr_svg        `qr_url` as a QR code, an SVG document
 * @property {string} claim_secret  kept by this device only, to claim its session
 * @property {string} expires_at    RFC 3339
 */

/**
 * A device waiting to be linked, as the logged-in device sees it.
 * @typedef {object} LinkSummary
 * @property {string} link_id
 * @property {string} device      the new device's User-Agent
 * @property {string} expires_at  RFC 3339
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
 * @property {Map<string, ChatSettings> | null} settings  the user's settings of the resumed chats that are
 *   not the defaults (a resumed chat without an entry has the defaults); null when the server sent none
 */

export {};

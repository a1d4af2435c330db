// The HTTP API: JSON in, JSON out, errors as ApiError carrying the server's
// `{"error":{"code","message"}}`. The token travels as `Authorization: Bearer`.

/** @typedef {import('./types.js').User} User */
/** @typedef {import('./types.js').Message} Message */
/** @typedef {import('./types.js').ChatView} ChatView */
/** @typedef {import('./types.js').LoginResult} LoginResult */

export const TOKEN_KEY = 'chitchat.token';

export class ApiError extends Error {
  /**
   * @param {number} status  HTTP status, 0 when the server could not be reached
   * @param {string} code    the server's snake_case code
   * @param {string} message the server's human text
   */
  constructor(status, code, message) {
    super(message);
    this.name = 'ApiError';
    this.status = status;
    this.code = code;
  }

  /** True when the request never got an answer (offline, server down). */
  get isNetwork() {
    return this.status === 0;
  }
}

/** @type {string | null} */
let token = readStoredToken();
/** @type {(() => void) | null} */
let onUnauthorized = null;

function readStoredToken() {
  try {
    return localStorage.getItem(TOKEN_KEY);
  } catch {
    return null;
  }
}

/** Re-reads the token after another tab changed it. */
export function reloadToken() {
  token = readStoredToken();
}

export function getToken() {
  return token;
}

/** @param {string} value */
export function setToken(value) {
  token = value;
  try {
    localStorage.setItem(TOKEN_KEY, value);
  } catch {
    // Private mode without storage: the session lasts until the tab closes.
  }
}

export function clearToken() {
  token = null;
  try {
    localStorage.removeItem(TOKEN_KEY);
  } catch {
    // nothing stored
  }
}

/**
 * Called when an authenticated request answers 401: the session has ended.
 * @param {() => void} handler
 */
export function setUnauthorizedHandler(handler) {
  onUnauthorized = handler;
}

/**
 * @param {string} method
 * @param {string} path
 * @param {unknown} [body]
 * @returns {Promise<any>}
 */
async function request(method, path, body) {
  /** @type {Record<string, string>} */
  const headers = { Accept: 'application/json' };
  if (body !== undefined) headers['Content-Type'] = 'application/json';
  const sentToken = token;
  if (sentToken) headers.Authorization = `Bearer ${sentToken}`;

  /** @type {Response} */
  let res;
  try {
    res = await fetch(path, {
      method,
      headers,
      body: body === undefined ? undefined : JSON.stringify(body),
      cache: 'no-store',
      credentials: 'same-origin',
    });
  } catch {
    throw new ApiError(0, 'network_error', 'Cannot reach the server. Check your connection and try again.');
  }

  const text = await res.text().catch(() => '');
  /** @type {any} */
  let data = null;
  if (text) {
    try {
      data = JSON.parse(text);
    } catch {
      data = null;
    }
  }
  if (!res.ok) {
    const err = data && typeof data === 'object' ? data.error : null;
    const code = err && typeof err.code === 'string' ? err.code : `http_${res.status}`;
    const message =
      err && typeof err.message === 'string' && err.message
        ? err.message
        : `The server answered ${res.status} ${res.statusText}`.trim();
    // Only a token we sent and that is still current can have "ended".
    if (res.status === 401 && sentToken && sentToken === token && onUnauthorized) onUnauthorized();
    throw new ApiError(res.status, code, message);
  }
  return data;
}

/**
 * Asks the server to send a one-time code to the phone (202 Accepted).
 * @param {string} phone
 */
export function requestOtp(phone) {
  return request('POST', '/api/auth/otp', { phone });
}

/**
 * @param {string} phone
 * @param {string} name
 * @param {string} code
 * @returns {Promise<LoginResult>}
 */
export function register(phone, name, code) {
  return request('POST', '/api/auth/register', { phone, name, code });
}

/**
 * This (not logged-in) device asks to be linked to the person of `phone` (201).
 * @param {string} phone
 * @returns {Promise<import('./types.js').NewLink>}
 */
export function createLink(phone) {
  return request('POST', '/api/auth/links', { phone });
}

/**
 * Whether this device's link was confirmed: its login once it was (200), null
 * while it waits (202). 410 once expired or claimed.
 * @param {string} linkId
 * @param {string} claimSecret
 * @returns {Promise<LoginResult | null>}
 */
export async function claimLink(linkId, claimSecret) {
  const data = await request('POST', `/api/auth/links/${encodeURIComponent(linkId)}/claim`, { claim_secret: claimSecret });
  return data && typeof data.token === 'string' ? data : null;
}

/**
 * The device waiting with this code, before confirming it.
 * @param {string} code
 * @returns {Promise<import('./types.js').LinkSummary>}
 */
export function lookupLink(code) {
  return request('POST', '/api/auth/links/lookup', { pairing_code: code });
}

/**
 * Logs the device waiting with this code in as the user, on a session of its own.
 * @param {string} code
 * @returns {Promise<import('./types.js').LinkSummary>}
 */
export function confirmLink(code) {
  return request('POST', '/api/auth/links/confirm', { pairing_code: code });
}

/** @returns {Promise<User>} */
export async function verify() {
  const data = await request('GET', '/api/auth/verify');
  return data.user;
}

export function logout() {
  return request('POST', '/api/auth/logout');
}

/**
 * The chat list (pinned first, then by activity), or the archive.
 * @param {boolean} [archived]
 * @returns {Promise<ChatView[]>}
 */
export async function listChats(archived = false) {
  const data = await request('GET', archived ? '/api/chats?archived=true' : '/api/chats');
  return Array.isArray(data?.chats) ? data.chats : [];
}

/**
 * One chat, as the caller sees it (a former member: as it was when they left).
 * @param {string} chatId
 * @returns {Promise<ChatView>}
 */
export function getChat(chatId) {
  return request('GET', `/api/chats/${encodeURIComponent(chatId)}`);
}

/**
 * A new group with the caller as its admin (201).
 * @param {string} name
 * @param {string} description
 * @param {string[]} userIds  the other members
 * @returns {Promise<ChatView>}
 */
export function createGroup(name, description, userIds) {
  return request('POST', '/api/chats', { type: 'group', name, description, user_ids: userIds });
}

/**
 * Renames a group or changes its description (admins). Left-out fields stay.
 * @param {string} chatId
 * @param {{ name?: string, description?: string }} changes
 * @returns {Promise<ChatView>}
 */
export function updateGroup(chatId, changes) {
  return request('PATCH', `/api/chats/${encodeURIComponent(chatId)}`, changes);
}

/**
 * @param {string} chatId
 * @param {string[]} userIds
 * @returns {Promise<ChatView>}
 */
export function addMembers(chatId, userIds) {
  return request('POST', `/api/chats/${encodeURIComponent(chatId)}/members`, { user_ids: userIds });
}

/**
 * Removes a member (admins), or leaves when `userId` is the caller's own.
 * @param {string} chatId
 * @param {string} userId
 * @returns {Promise<ChatView>}  the chat as the caller now sees it
 */
export function removeMember(chatId, userId) {
  return request('DELETE', `/api/chats/${encodeURIComponent(chatId)}/members/${encodeURIComponent(userId)}`);
}

/**
 * @param {string} chatId
 * @param {string} userId
 * @param {'admin' | 'member'} role
 * @returns {Promise<ChatView>}
 */
export function setMemberRole(chatId, userId, role) {
  return request('PATCH', `/api/chats/${encodeURIComponent(chatId)}/members/${encodeURIComponent(userId)}`, { role });
}

/**
 * The caller's own settings of a chat; every field is sent (a left-out one resets).
 * @param {string} chatId
 * @param {import('./types.js').ChatSettings} settings
 * @returns {Promise<import('./types.js').ChatSettings>}
 */
export function putChatSettings(chatId, settings) {
  return request('PUT', `/api/chats/${encodeURIComponent(chatId)}/settings`, {
    archived: settings.archived,
    muted_until: settings.muted_until,
    pinned: settings.pinned,
  });
}

/**
 * @param {string} userId
 * @returns {Promise<ChatView>}
 */
export function createDirectChat(userId) {
  return request('POST', '/api/chats', { type: 'direct', user_ids: [userId] });
}

/**
 * @param {string} query
 * @returns {Promise<User[]>}
 */
export async function searchUsers(query) {
  const data = await request('GET', `/api/users/search?q=${encodeURIComponent(query)}`);
  return Array.isArray(data?.users) ? data.users : [];
}

/**
 * One page of history: the newest messages (newest first); with `before`, those
 * before that seq (newest first); with `after`, those after it (oldest first).
 * Seq cursors stay right while new messages arrive, unlike offsets.
 * @param {string} chatId
 * @param {number} limit
 * @param {{ before?: number, after?: number }} [cursor]
 * @returns {Promise<Message[]>}
 */
export async function getMessages(chatId, limit, cursor = {}) {
  const params = new URLSearchParams({ chat_id: chatId, limit: String(limit) });
  if (cursor.before !== undefined) params.set('before_seq', String(cursor.before));
  else if (cursor.after !== undefined) params.set('after_seq', String(cursor.after));
  const data = await request('GET', `/api/messages?${params}`);
  return Array.isArray(data?.messages) ? data.messages : [];
}

/**
 * Messages of the caller's chats that match, best first, with an excerpt whose
 * `highlights` are [start, end) offsets in characters (code points) of its text.
 * @param {string} query
 * @param {{ chatId?: string, limit?: number, offset?: number }} [options]
 *   `offset`: how many results earlier pages held
 * @returns {Promise<import('./types.js').SearchHit[]>}
 */
export async function searchMessages(query, options = {}) {
  const params = new URLSearchParams({ q: query, limit: String(options.limit ?? 20) });
  if (options.chatId) params.set('chat_id', options.chatId);
  if (options.offset) params.set('offset', String(options.offset));
  const data = await request('GET', `/api/messages/search?${params}`);
  return Array.isArray(data?.results) ? data.results : [];
}

/**
 * The earlier versions of an edited message, oldest first.
 * @param {string} messageId
 * @returns {Promise<import('./types.js').MessageEdit[]>}
 */
export async function getEdits(messageId) {
  const data = await request('GET', `/api/messages/${encodeURIComponent(messageId)}/edits`);
  return Array.isArray(data?.edits) ? data.edits : [];
}

/**
 * The limits the server enforces (no token needed).
 * @returns {Promise<import('./types.js').ClientConfig>}
 */
export function getConfig() {
  return request('GET', '/api/config');
}

/**
 * The STUN and TURN servers for a call, with TURN credentials of their own.
 * @returns {Promise<import('./types.js').IceServersAnswer>}
 */
export function getIceServers() {
  return request('GET', '/api/calls/ice-servers');
}

/**
 * Sends over HTTP (201 new, 200 when the client_msg_id was already used).
 * @param {string} chatId
 * @param {string} content
 * @param {string} clientMsgId
 * @param {string} [contentType]  "text", or "image" / "video" / "audio" / "document" with files
 * @param {string[]} [attachmentIds]  uploads the message carries
 * @param {string | null} [replyToId]  the message of the same chat it replies to
 * @returns {Promise<Message>}
 */
export function postMessage(chatId, content, clientMsgId, contentType = 'text', attachmentIds = [], replyToId = null) {
  return request('POST', '/api/messages', {
    chat_id: chatId,
    content,
    content_type: contentType,
    client_msg_id: clientMsgId,
    attachment_ids: attachmentIds,
    ...(replyToId ? { reply_to_id: replyToId } : {}),
  });
}

/**
 * Replaces the text of an own text message (within the edit window).
 * @param {string} messageId
 * @param {string} content
 * @returns {Promise<Message>}
 */
export function editMessage(messageId, content) {
  return request('PATCH', `/api/messages/${encodeURIComponent(messageId)}`, { content });
}

/**
 * Deletes a message for the caller only, or for everyone (a placeholder stays).
 * @param {string} messageId
 * @param {'me' | 'everyone'} scope
 * @returns {Promise<void>}
 */
export function deleteMessage(messageId, scope) {
  return request('DELETE', `/api/messages/${encodeURIComponent(messageId)}?for=${scope}`);
}

/**
 * Copies a message into 1 to 5 chats.
 * @param {string} messageId
 * @param {string[]} chatIds
 * @returns {Promise<Message[]>}
 */
export async function forwardMessage(messageId, chatIds) {
  const data = await request('POST', `/api/messages/${encodeURIComponent(messageId)}/forward`, { chat_ids: chatIds });
  return Array.isArray(data?.messages) ? data.messages : [];
}

/**
 * Sets the caller's reaction, or takes it back with `null`.
 * @param {string} messageId
 * @param {string | null} emoji
 * @returns {Promise<void>}
 */
export function setReaction(messageId, emoji) {
  const path = `/api/messages/${encodeURIComponent(messageId)}/reactions`;
  return emoji ? request('PUT', path, { emoji }) : request('DELETE', path);
}

/**
 * The user's logged-in devices, newest first.
 * @returns {Promise<import('./types.js').DeviceSession[]>}
 */
export async function listSessions() {
  const data = await request('GET', '/api/auth/sessions');
  return Array.isArray(data?.sessions) ? data.sessions : [];
}

/**
 * Logs one of the user's devices out (204); its socket is closed at once.
 * @param {string} sessionId
 */
export function revokeSession(sessionId) {
  return request('DELETE', `/api/auth/sessions/${encodeURIComponent(sessionId)}`);
}

/**
 * Who received and read an own message, and when (sender only: 403 `not_sender`).
 * @param {string} messageId
 * @returns {Promise<import('./types.js').Receipt[]>}
 */
export async function getReceipts(messageId) {
  const data = await request('GET', `/api/messages/${encodeURIComponent(messageId)}/receipts`);
  return Array.isArray(data?.receipts) ? data.receipts : [];
}

// ---------------------------------------------------------------- profile, contacts, blocks

/** @returns {Promise<User>} */
export async function getMe() {
  const data = await request('GET', '/api/users/me');
  return data.user;
}

/**
 * The caller's email address, where login codes also go once it is verified.
 * @typedef {{email: string | null, email_verified: boolean}} EmailState
 */

/** @returns {Promise<EmailState>} */
export async function getEmail() {
  const data = await request('GET', '/api/users/me');
  return { email: data.email ?? null, email_verified: data.email_verified === true };
}

/**
 * Gives the address; the server mails it a code.
 * @param {string} email
 * @returns {Promise<EmailState>}
 */
export function setEmail(email) {
  return request('PUT', '/api/users/me/email', { email });
}

/**
 * @param {string} code  the six digits mailed to the address
 * @returns {Promise<EmailState>}
 */
export function verifyEmail(code) {
  return request('POST', '/api/users/me/email/verify', { code });
}

/** @returns {Promise<void>} */
export async function removeEmail() {
  await request('DELETE', '/api/users/me/email');
}

/** @returns {Promise<import('./types.js').LastSeenVisibility>} who sees when the caller was last online */
export async function getLastSeenPrivacy() {
  const data = await request('GET', '/api/users/me');
  return data.privacy?.last_seen ?? 'everyone';
}

/**
 * @param {import('./types.js').LastSeenVisibility} lastSeen
 * @returns {Promise<import('./types.js').LastSeenVisibility>} the stored setting
 */
export async function setLastSeenPrivacy(lastSeen) {
  const data = await request('PATCH', '/api/users/me', { privacy: { last_seen: lastSeen } });
  return data.privacy.last_seen;
}

/**
 * @param {{ name?: string, status?: string }} changes  name 1-64, status 0-140 characters
 * @returns {Promise<User>}
 */
export async function updateMe(changes) {
  const data = await request('PATCH', '/api/users/me', changes);
  return data.user;
}

/** @returns {Promise<import('./types.js').Contact[]>} */
export async function listContacts() {
  const data = await request('GET', '/api/contacts');
  return Array.isArray(data?.contacts) ? data.contacts : [];
}

/**
 * Saves someone as a contact (201), or renames one (200).
 * @param {{ user_id: string } | { phone: string }} who
 * @param {string} [alias]
 * @returns {Promise<import('./types.js').Contact>}
 */
export function addContact(who, alias) {
  return request('POST', '/api/contacts', alias ? { ...who, alias } : who);
}

/** @param {string} userId */
export function removeContact(userId) {
  return request('DELETE', `/api/contacts/${encodeURIComponent(userId)}`);
}

/**
 * Removes a saved number, whether or not the server shows who has it.
 * @param {string} phone
 */
export function removeContactByPhone(phone) {
  return request('DELETE', `/api/contacts?phone=${encodeURIComponent(phone)}`);
}

/**
 * Blocks (true) or unblocks (false) someone; both are idempotent (204).
 * @param {string} userId
 * @param {boolean} blocked
 */
export function setBlocked(userId, blocked) {
  return request(blocked ? 'POST' : 'DELETE', `/api/users/${encodeURIComponent(userId)}/block`);
}

/**
 * A short-lived URL of an attachment that works without the token, for
 * `<video>` and `<audio>` (they stream and seek with ranges through it).
 * @param {string} attachmentId
 * @returns {Promise<import('./types.js').AttachmentLink>}
 */
export function attachmentLink(attachmentId) {
  return request('POST', `/api/attachments/${encodeURIComponent(attachmentId)}/link`);
}

/**
 * The server's public key for push subscriptions (VAPID), base64url. A 404 with
 * `push_disabled` when the server sends no pushes.
 * @returns {Promise<string>}
 */
export async function getPushKey() {
  const data = await request('GET', '/api/push/key');
  return String(data.public_key);
}

/**
 * Hands this browser's push subscription to the server.
 * @param {PushSubscriptionJSON} subscription  `{ endpoint, keys: { p256dh, auth } }`
 */
export function addPushSubscription(subscription) {
  return request('POST', '/api/push/subscriptions', subscription);
}

/** @param {string} endpoint  the subscription the server stops pushing to */
export function removePushSubscription(endpoint) {
  return request('DELETE', '/api/push/subscriptions', { endpoint });
}

/** @returns {Promise<boolean>} whether notifications show what messages say (default true) */
export async function getNotificationPreviews() {
  const data = await request('GET', '/api/users/me');
  return data?.notifications?.previews !== false;
}

/**
 * @param {boolean} previews  false: notifications say "New message" only
 * @returns {Promise<boolean>} the stored setting
 */
export async function setNotificationPreviews(previews) {
  const data = await request('PATCH', '/api/users/me', { notifications: { previews } });
  return data?.notifications?.previews ?? previews;
}

// ---------------------------------------------------------------- reports and administration

/**
 * Files a report about a message the caller can read, or a person.
 * @param {{ message_id?: string, user_id?: string }} target
 * @param {string} reason  1-500 characters
 */
export function fileReport(target, reason) {
  return request('POST', '/api/reports', { ...target, reason });
}

/** @returns {Promise<boolean>} whether the caller is one of the server's admins */
export async function amIAdmin() {
  const data = await request('GET', '/api/users/me');
  return data?.is_admin === true;
}

/** @returns {Promise<any>} users, messages a day, connected devices, storage */
export function adminStats() {
  return request('GET', '/api/admin/stats');
}

/** @returns {Promise<any[]>} the open reports, oldest first */
export async function adminReports() {
  const data = await request('GET', '/api/admin/reports');
  return Array.isArray(data?.reports) ? data.reports : [];
}

/**
 * @param {string} reportId
 * @param {'dismiss' | 'delete_message' | 'disable_sender'} action
 */
export function adminActOnReport(reportId, action) {
  return request('POST', `/api/admin/reports/${encodeURIComponent(reportId)}/actions`, { action });
}

/** @param {string} search @returns {Promise<any[]>} */
export async function adminUsers(search) {
  const data = await request('GET', `/api/admin/users?search=${encodeURIComponent(search)}`);
  return Array.isArray(data?.users) ? data.users : [];
}

/**
 * @param {string} userId
 * @param {boolean} disabled
 */
export function adminSetDisabled(userId, disabled) {
  return request('POST', `/api/admin/users/${encodeURIComponent(userId)}/${disabled ? 'disable' : 'enable'}`, {});
}

/** @returns {Promise<any[]>} the newest audit entries first */
export async function adminAudit() {
  const data = await request('GET', '/api/admin/audit?limit=50');
  return Array.isArray(data?.entries) ? data.entries : [];
}

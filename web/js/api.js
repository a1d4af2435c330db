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

/** @returns {Promise<User>} */
export async function verify() {
  const data = await request('GET', '/api/auth/verify');
  return data.user;
}

export function logout() {
  return request('POST', '/api/auth/logout');
}

/** @returns {Promise<ChatView[]>} */
export async function listChats() {
  const data = await request('GET', '/api/chats');
  return Array.isArray(data?.chats) ? data.chats : [];
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
 * One page of history, newest first.
 * @param {string} chatId
 * @param {number} limit
 * @param {number} [offset]
 * @returns {Promise<Message[]>}
 */
export async function getMessages(chatId, limit, offset = 0) {
  const params = new URLSearchParams({ chat_id: chatId, limit: String(limit) });
  if (offset > 0) params.set('offset', String(offset));
  const data = await request('GET', `/api/messages?${params}`);
  return Array.isArray(data?.messages) ? data.messages : [];
}

/**
 * Sends over HTTP (201 new, 200 when the client_msg_id was already used).
 * @param {string} chatId
 * @param {string} content
 * @param {string} clientMsgId
 * @returns {Promise<Message>}
 */
export function postMessage(chatId, content, clientMsgId) {
  return request('POST', '/api/messages', {
    chat_id: chatId,
    content,
    content_type: 'text',
    client_msg_id: clientMsgId,
  });
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

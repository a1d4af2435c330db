// ChitChat's service worker: the app shell from one versioned cache, and pushes
// shown as notifications, one per chat.
//
// The server writes the shell below as it serves this file: every file of the
// client with its SHA-256, and a version that is the hash of that list. A change
// to any file changes these bytes, so the browser installs a new worker, which
// caches the new files under a new name; a page never mixes files of two versions.

const SHELL = /* shell */ { version: '', files: [] };

const CACHE_PREFIX = 'chitchat-shell-';
const CACHE = `${CACHE_PREFIX}${SHELL.version}`;
const SHELL_URLS = new Set(SHELL.files.map((file) => file.url));

self.addEventListener('install', (event) => {
  event.waitUntil(cacheShell().then(() => self.skipWaiting()));
});

self.addEventListener('activate', (event) => {
  event.waitUntil(dropOtherVersions().then(() => self.clients.claim()));
});

self.addEventListener('fetch', (event) => {
  const key = shellKey(event.request);
  // Everything else (the API, the socket, attachments) goes to the network untouched.
  if (key) event.respondWith(fromShell(key, event.request));
});

/**
 * The shows of pushes, one after another. Chromium's getNotifications() deletes a
 * stored notification that the platform does not report as displayed yet, so a
 * push that reads its chat's notification while another push's is still being
 * shown would lose that one (kept on screen, gone from every later read).
 */
let showing = Promise.resolve();

self.addEventListener('push', (event) => {
  const push = readPush(event.data);
  showing = showing.then(
    () => showPush(push),
    () => showPush(push),
  );
  event.waitUntil(showing);
});

self.addEventListener('notificationclick', (event) => {
  event.notification.close();
  const chatId = event.notification.data?.chat_id;
  if (typeof chatId === 'string') event.waitUntil(openChat(chatId));
});

/** Fetches every shell file past the HTTP cache and checks it against its hash. */
async function cacheShell() {
  if (!SHELL.version) return; // served without its shell: nothing to cache
  const cache = await caches.open(CACHE);
  await Promise.all(
    SHELL.files.map(async ({ url, hash }) => {
      const response = await fetch(url, { cache: 'reload', integrity: `sha256-${base64OfHex(hash)}` });
      if (!response.ok) throw new Error(`${url}: ${response.status}`);
      await cache.put(url, response);
    }),
  );
}

async function dropOtherVersions() {
  const names = await caches.keys();
  await Promise.all(names.filter((name) => name.startsWith(CACHE_PREFIX) && name !== CACHE).map((name) => caches.delete(name)));
}

/**
 * The shell file a request asks for: a shell file by its path, or `/` for a
 * navigation to the app's page. Null for everything else.
 * @param {Request} request
 */
function shellKey(request) {
  if (request.method !== 'GET' || !SHELL.version) return null;
  const url = new URL(request.url);
  if (url.origin !== self.location.origin) return null;
  if (request.mode === 'navigate') return url.pathname === '/' || url.pathname === '/index.html' ? '/' : null;
  return SHELL_URLS.has(url.pathname) ? url.pathname : null;
}

/**
 * From this version's cache only; the network if the cache lost the file.
 * @param {string} key
 * @param {Request} request
 */
async function fromShell(key, request) {
  const cache = await caches.open(CACHE);
  return (await cache.match(key)) ?? fetch(request);
}

/** @param {string} hex */
function base64OfHex(hex) {
  const bytes = hex.match(/../g) ?? [];
  return btoa(String.fromCharCode(...bytes.map((byte) => parseInt(byte, 16))));
}

/**
 * A push's data: `{ kind, chat_id, seq, chat_name, sender_name, preview }`.
 * Null when it is not that.
 * @param {PushMessageData | null} data
 */
function readPush(data) {
  /** @type {any} */
  let push = null;
  try {
    push = data ? data.json() : null;
  } catch {
    return null;
  }
  if (!push || typeof push.chat_id !== 'string' || typeof push.chat_name !== 'string') return null;
  return {
    kind: String(push.kind ?? 'message'),
    chatId: push.chat_id,
    seq: Number(push.seq) || 0,
    chatName: push.chat_name,
    senderName: typeof push.sender_name === 'string' ? push.sender_name : '',
    preview: typeof push.preview === 'string' ? push.preview : '',
  };
}

/**
 * One notification per chat (its tag): a push replaces the chat's earlier one and
 * says how many came since it was last cleared, with the latest preview.
 * @param {ReturnType<typeof readPush>} push
 */
async function showPush(push) {
  // The browser shows its own notice when a push shows none, so an unreadable one still shows.
  if (!push) return self.registration.showNotification('ChitChat', { body: 'New activity', icon: '/icons/icon-192.png' });
  const earlier = await self.registration.getNotifications({ tag: push.chatId });
  const before = earlier.reduce(
    (most, note) => (Number(note.data?.count) > most.count ? { count: Number(note.data.count), messages: Number(note.data.messages) || 0 } : most),
    { count: 0, messages: 0 },
  );
  const count = before.count + 1;
  const messages = before.messages + (push.kind === 'message' ? 1 : 0);
  // A direct chat is named after the sender; in a group the sender goes before the preview.
  const inGroup = push.senderName !== '' && push.senderName !== push.chatName && push.kind !== 'added_to_group';
  const line = inGroup ? `${push.senderName}: ${push.preview}` : push.preview;
  const body = count === 1 ? line : `${count} new ${messages === count ? 'messages' : 'notifications'}\n${line}`;
  return self.registration.showNotification(push.chatName, {
    body,
    tag: push.chatId,
    renotify: true,
    icon: '/icons/icon-192.png',
    data: { chat_id: push.chatId, seq: push.seq, count, messages },
  });
}

/**
 * Brings an open ChitChat window to the chat (focused if the browser lets it), or
 * opens one at it.
 * @param {string} chatId
 */
async function openChat(chatId) {
  const windows = await self.clients.matchAll({ type: 'window', includeUncontrolled: true });
  const open = windows.find((client) => client.focused) ?? windows[0];
  if (!open) {
    await self.clients.openWindow(`/#/chat/${encodeURIComponent(chatId)}`);
    return;
  }
  try {
    await open.focus();
  } catch {
    // Focus is the browser's to give; the chat still opens in that window.
  }
  open.postMessage({ type: 'open_chat', chat_id: chatId });
}

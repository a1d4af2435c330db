// ChitChat web client: wires the login screen, the chat list, the conversation
// and the live connection together. Plain ES modules, no build step.

import * as api from './js/api.js';
import { Connection } from './js/ws.js';
import { Thread, furtherStatus, statusAt } from './js/thread.js';
import { LoginView } from './js/login.js';
import { ChatListView, chatTitle, isArchived, isMuted, otherMember, previewText } from './js/chatlist.js';
import { ConversationView } from './js/conversation.js';
import { MessageInfoView } from './js/info.js';
import { EditHistoryView } from './js/edithistory.js';
import { SettingsView } from './js/settings.js';
import { NewGroupView } from './js/groups.js';
import { ChatInfoView } from './js/chatinfo.js';
import { ContactsView } from './js/contacts.js';
import { cancelConfirm, confirmAction } from './js/confirm.js';
import { ForwardDialog } from './js/forward.js';
import { Notifier } from './js/notifications.js';
import * as people from './js/people.js';
import { PresenceBook, ReceiptOutbox, TypingBook, TypingSender } from './js/live.js';
import { avatar, el, formatLastSeen, uuid } from './js/dom.js';

/** @typedef {import('./js/types.js').User} User */
/** @typedef {import('./js/types.js').Message} Message */
/** @typedef {import('./js/types.js').ChatView} ChatView */
/** @typedef {import('./js/types.js').Frame} Frame */
/** @typedef {import('./js/thread.js').Entry} Entry */

/** Messages per history page. */
const PAGE = 50;
/** Messages fetched on each side of a search result that is not loaded yet. */
const WINDOW = 25;
/** A search result at most this many messages before what is loaded is reached by paging back; further ones open a window there. */
const NEAR = 200;
/** How long after a system message its chat is reloaded (several in a row make one request). */
const CHAT_RELOAD_MS = 300;
/** "Mute for 8 hours", "1 week"; "Always" is a date far ahead. */
const MUTE_8H_MS = 8 * 3600_000;
const MUTE_1W_MS = 7 * 24 * 3600_000;
const MUTE_ALWAYS = '9999-12-31T23:59:59Z';
/** How long a send waits for its ack on the socket before it is retried over HTTP. */
const ACK_TIMEOUT_MS = 10_000;
/** Screens at most this wide show one pane at a time. */
const NARROW = window.matchMedia('(max-width: 700px)');
/** After a disconnect this long, who is online is forgotten: presence changes may have been missed. */
const PRESENCE_STALE_MS = 30_000;
/** Shown on the login screen when another device (or the server) logged this one out. */
const REVOKED_TEXT = 'This device was logged out. Log in again to continue.';

const state = {
  /** @type {User | null} */
  me: null,
  /** @type {Map<string, ChatView>} */
  chats: new Map(),
  chatsLoaded: false,
  /** Messages of chats opened in this session. @type {Map<string, Thread>} */
  threads: new Map(),
  /**
   * Per chat, the newest message seq known here. With `readSeq` it gives the
   * unread count: everything after the user's read position.
   * @type {Map<string, number>}
   */
  lastSeq: new Map(),
  /**
   * Per chat, how far this user has read (on any of their devices): from the
   * chat list's `unread_count`, their own `status_update` frames, their own
   * messages (sending moves it), and what this device marks read.
   * @type {Map<string, number>}
   */
  readSeq: new Map(),
  /**
   * Per chat, what every member has received and read (`status_update`'s `chat`,
   * and the statuses of loaded messages): own messages up to `read` show blue
   * ticks, up to `delivered` two grey ticks.
   * @type {Map<string, { delivered: number, read: number }>}
   */
  progress: new Map(),
  /**
   * Per chat, the last event_seq whose event is reflected here: sent in `resume` on
   * every (re)connect so the server replays only what came after. In memory only:
   * a reloaded page starts again from the REST chat list.
   * @type {Map<string, number>}
   */
  positions: new Map(),
  /** @type {string | null} */
  openChatId: null,
  loadingOlder: false,
  loadingNewer: false,
  /** Newest-page loads in flight, by chat (a search result waits for its chat's). @type {Map<string, Promise<void>>} */
  newestLoads: new Map(),
  /** Chats to reload from the server soon (after system messages). @type {Map<string, ReturnType<typeof setTimeout>>} */
  chatReloads: new Map(),
  /** The chat was opened from inside the app, so Back can pop history. */
  openedInApp: false,
  /** When the socket was lost (null while connected). @type {number | null} */
  socketLostAt: null,
  /** This device is logging out by itself: its socket closing with 4001 is expected. */
  loggingOut: false,
};

/**
 * Sends waiting for an ack, by frame id.
 * @type {Map<string, { chatId: string, cid: string, timer: ReturnType<typeof setTimeout> }>}
 */
const outbox = new Map();
/** client_msg_ids being sent over HTTP right now. @type {Set<string>} */
const httpInFlight = new Set();

const dom = {
  boot: /** @type {HTMLElement} */ (document.getElementById('boot')),
  bootStatus: /** @type {HTMLElement} */ (document.getElementById('boot-status')),
  bootRetry: /** @type {HTMLButtonElement} */ (document.getElementById('boot-retry')),
  app: /** @type {HTMLElement} */ (document.getElementById('app')),
  banner: /** @type {HTMLElement} */ (document.getElementById('connection-banner')),
  toast: /** @type {HTMLElement} */ (document.getElementById('toast')),
  meAvatar: /** @type {HTMLElement} */ (document.getElementById('me-avatar')),
  meName: /** @type {HTMLElement} */ (document.getElementById('me-name')),
  menuButton: /** @type {HTMLElement} */ (document.getElementById('menu-button')),
};

const login = new LoginView((result) => {
  api.setToken(result.token);
  login.hide();
  void enterApp(result.user);
});

const chatList = new ChatListView({
  onOpenChat: (chatId) => openChat(chatId),
  onPickUser: (user) => void startChatWith(user),
  onOpenMessage: (chatId, seq) => openMessage(chatId, seq),
  onChatAction: (chatId, action) => void chatAction(chatId, action),
});

const conversation = new ConversationView({
  onSend: (text, files, replyTo) => {
    typingOut.stop();
    sendMessage(text, files, replyTo);
  },
  onRetry: (entry) => {
    if (state.openChatId && entry.cid) dispatch(state.openChatId, entry.cid);
  },
  onBack: () => goBack(),
  onNeedOlder: () => void loadOlder(),
  onComposerInput: (text) => {
    if (state.openChatId && conversation.canWrite()) typingOut.input(state.openChatId, text);
  },
  onViewed: () => markRead(),
  onMessageInfo: (entry) => openMessageInfo(entry),
  onEditHistory: (entry) => editHistory.open(entry),
  onNeedNewer: () => void loadNewer(),
  onJumpNewest: () => jumpToNewest(),
  onOpenInfo: () => {
    if (state.openChatId) chatInfo.open(state.openChatId);
  },
  onSearchChat: () => {
    const chat = state.openChatId ? state.chats.get(state.openChatId) : undefined;
    if (!chat || !state.me) return;
    if (NARROW.matches) goBack(); // the search box is in the list's pane
    chatList.searchIn(chat.id, chatTitle(chat, state.me.id));
  },
  onEdit: (entry, text) => editMessage(entry, text),
  onDelete: (entry, scope) => void deleteMessage(entry, scope),
  onReact: (entry, emoji) => void react(entry, emoji),
  onForward: (entry) => forwardMessage(entry),
  onQuoteMissing: (replyId) => void revealOriginal(replyId),
  isAdmin: () => {
    const chat = state.openChatId ? state.chats.get(state.openChatId) : undefined;
    return chat?.type === 'group' && chat.membership?.status !== 'left' && chat.membership?.role === 'admin';
  },
});

const forwardDialog = new ForwardDialog();

const messageInfo = new MessageInfoView();

const editHistory = new EditHistoryView();

const settings = new SettingsView({
  onLogout: () => void logout(),
  me: () => state.me,
  onNewGroup: () => {
    closeDrawers();
    newGroup.open();
  },
  onContacts: () => {
    closeDrawers();
    contactsView.open();
  },
  onOpen: () => closeDrawers(),
  onProfileSaved: (user) => {
    if (!state.me || user.id !== state.me.id) return;
    state.me = user;
    people.noteUser(user);
    showMe(user);
    chatInfo.refresh(state.openChatId ?? '');
  },
});

const newGroup = new NewGroupView({
  suggestions: () => suggestedPeople(),
  myId: () => state.me?.id ?? '',
  onCreated: (chat) => {
    applyChatView(chat);
    chatList.resetSearch();
    chatList.setArchiveView(false);
    openChat(chat.id);
  },
  onClosed: () => dom.menuButton.focus(),
});

const chatInfo = new ChatInfoView({
  me: () => state.me,
  chat: (chatId) => state.chats.get(chatId),
  onChatView: (view) => applyChatView(view),
  suggestions: () => suggestedPeople(),
  onPeopleChanged: (userId) => peopleChanged(userId),
  onClosed: () => {
    if (state.openChatId && !NARROW.matches) conversation.focusComposer();
  },
  toast: (text) => toast(text),
});

const contactsView = new ContactsView({
  onStartChat: (user) => {
    contactsView.reset();
    void startChatWith(user);
  },
  onChanged: (userId) => peopleChanged(userId),
  onClosed: () => dom.menuButton.focus(),
});

/** Delivered and read receipts this device sends. */
const receipts = new ReceiptOutbox((frame) => connection.send(frame));
/** The typing indicator this user sends. */
const typingOut = new TypingSender((frame) => connection.send(frame));
/** Who is typing in which chat. */
const typingIn = new TypingBook((chatId) => {
  renderList();
  if (chatId === state.openChatId) updateHeaderStatus();
});
/** Who is online, as far as this page has been told. */
const presence = new PresenceBook(() => updateHeaderStatus());
/** Notifications of new messages while the tab is hidden; a click opens the chat. */
const notifier = new Notifier((chatId) => {
  if (state.me && state.chats.has(chatId)) openChat(chatId);
});

const connection = new Connection(
  () => {
    const scheme = location.protocol === 'https:' ? 'wss' : 'ws';
    return `${scheme}://${location.host}/ws?token=${encodeURIComponent(api.getToken() ?? '')}`;
  },
  {
    onFrame: handleFrame,
    onState: (connState) => {
      if ((connState === 'offline' || connState === 'connecting') && connection.everOpened && state.socketLostAt === null) {
        state.socketLostAt = Date.now();
      }
      showConnectionState(connState);
    },
    positions: () => state.positions,
    onOpen: () => {
      for (const pending of outbox.values()) clearTimeout(pending.timer);
      outbox.clear(); // frames sent on an old socket will never be acked
      receipts.socketLost(); // receipts too: they go out again once caught up
      typingOut.reset();
    },
    onRevoked: () => sessionRevoked(),
    onReady: (_reconnected, result) => {
      if (state.socketLostAt !== null && Date.now() - state.socketLostAt > PRESENCE_STALE_MS) presence.clear();
      state.socketLostAt = null;
      // Every replayed event has been handled by now (they come before this answer).
      for (const [chatId, position] of result.chats) notePosition(chatId, position);
      for (const chatId of result.notFound) state.positions.delete(chatId);
      // Settings changed on another device while this one was away.
      if (result.settings) for (const chatId of result.chats.keys()) applyChatSettings(chatId, result.settings.get(chatId) ?? DEFAULT_SETTINGS);
      if (result.failed) {
        // No replay (a server without resume): catch up from the REST history.
        if (state.openChatId) void loadNewest(state.openChatId);
      }
      // Chats started by others while this device was away are in no resume: the
      // list brings them (and their positions).
      void refreshChats();
      void loadServerConfig();
      resendPending();
      receipts.flush();
      markRead();
    },
    onFailure: () => {
      // A refused upgrade looks like any other failure; ask HTTP whether the
      // session still stands (a 401 there ends it through the handler).
      if (api.getToken()) api.verify().catch(() => {});
    },
  },
);

// ---------------------------------------------------------------- session

function setup() {
  api.setUnauthorizedHandler(() => endSession('Your session has ended. Please log in again.'));
  dom.bootRetry.addEventListener('click', () => void boot());
  window.addEventListener('hashchange', () => route());
  window.addEventListener('online', () => connection.reconnectNow());
  // An open socket can outlive the network unnoticed for a long time: drop it at
  // once, show "offline", and resume when the network is back.
  window.addEventListener('offline', () => connection.drop());
  document.addEventListener('visibilitychange', () => {
    if (document.visibilityState !== 'visible') return;
    connection.reconnectNow();
    markRead(); // what arrived while the tab was hidden is on screen now
  });
  // "last seen today at …" turns into "yesterday" at midnight.
  setInterval(() => updateHeaderStatus(), 60_000);
  // Leaving the page: the others' "typing…" goes now rather than when it expires.
  window.addEventListener('pagehide', () => typingOut.stop());
  NARROW.addEventListener('change', () => syncView());
  // Tabs share the token: logging out or in in one tab does it in the others.
  window.addEventListener('storage', (event) => {
    if (event.key !== api.TOKEN_KEY) return;
    api.reloadToken();
    if (!event.newValue && state.me) endSession('');
    else if (event.newValue && !state.me) {
      login.hide();
      void boot();
    }
  });
}

/** Checks a stored session, or shows the login screen. */
async function boot() {
  if (!api.getToken()) {
    showLogin();
    return;
  }
  dom.bootStatus.textContent = 'Loading…';
  dom.bootRetry.hidden = true;
  dom.boot.hidden = false;
  try {
    const me = await api.verify();
    await enterApp(me);
  } catch (err) {
    if (err instanceof api.ApiError && err.status === 401) {
      api.clearToken();
      showLogin();
      return;
    }
    dom.bootStatus.textContent = err instanceof Error ? err.message : String(err);
    dom.bootRetry.hidden = false;
  }
}

function showLogin() {
  dom.boot.hidden = true;
  dom.app.hidden = true;
  login.show();
}

/** @param {User} me */
async function enterApp(me) {
  state.me = me;
  people.start(me.id);
  people.noteUser(me);
  dom.boot.hidden = true;
  dom.app.hidden = false;
  showMe(me);
  void loadContacts();
  void loadServerConfig();
  // The chat list first: its positions go into the socket's first `resume`, so the
  // server replays whatever happens between the two.
  await refreshChats();
  if (state.me !== me) return; // logged out meanwhile
  connection.start();
  route();
}

/** The limits the server enforces, once it has told them. @type {import('./js/types.js').ClientConfig | null} */
let serverConfig = null;

/** Asks the server for its limits (again after a reconnect, until it answers). */
async function loadServerConfig() {
  if (serverConfig) return;
  try {
    const config = await api.getConfig();
    serverConfig = config;
    conversation.setWindows({ editMs: config.edit_window_seconds * 1000, deleteMs: config.delete_window_seconds * 1000 });
    chatList.setQueryLimits(config.message_search_max_chars, config.people_search_max_chars);
  } catch {
    // Asked again on the next reconnect; meanwhile Edit and Delete for everyone wait.
  }
}

/** @param {User} me */
function showMe(me) {
  dom.meAvatar.replaceChildren(avatar(me.name, me.id, 'avatar--small'));
  dom.meName.textContent = me.name;
  dom.meName.title = me.phone;
}

/** The saved contacts (their aliases name people everywhere). */
async function loadContacts() {
  const me = state.me;
  try {
    const contacts = await api.listContacts();
    if (state.me !== me) return;
    people.setContacts(contacts);
    peopleChanged(null);
  } catch {
    // Names fall back to the profiles; the contacts panel shows the error if it persists.
  }
}

/**
 * A contact or a block changed (null: maybe all): titles, names and the
 * composer's state follow.
 * @param {string | null} _userId
 */
function peopleChanged(_userId) {
  renderList();
  contactsView.render();
  const chat = state.openChatId ? state.chats.get(state.openChatId) : undefined;
  if (chat) {
    conversation.setHeader(headerInfo(chat));
    updateComposerState(chat);
    conversation.render({ mode: 'keep-bottom' });
    chatInfo.refresh(chat.id);
  }
}

/**
 * People to offer first when picking members: contacts, then the people of direct chats.
 * @returns {User[]}
 */
function suggestedPeople() {
  const myId = state.me?.id ?? '';
  /** @type {Map<string, User>} */
  const out = new Map();
  for (const contact of people.contactList()) if (contact.user) out.set(contact.user.id, contact.user);
  const direct = [...state.chats.values()].filter((c) => c.type === 'direct').sort((a, b) => activity(b) - activity(a));
  for (const chat of direct) {
    const other = otherMember(chat, myId);
    if (other && !out.has(other.id)) out.set(other.id, other);
  }
  return [...out.values()];
}

/** @param {ChatView} chat */
function activity(chat) {
  return Date.parse(chat.last_message?.created_at ?? chat.created_at) || 0;
}

/** Closes the panels that cover the chat list (one at a time). */
function closeDrawers() {
  newGroup.reset();
  contactsView.reset();
  settings.reset();
}

/** @param {string} message  shown on the login screen, if any */
function endSession(message) {
  if (!state.me) return;
  connection.stop();
  for (const pending of outbox.values()) clearTimeout(pending.timer);
  outbox.clear();
  httpInFlight.clear();
  state.me = null;
  state.chats.clear();
  state.chatsLoaded = false;
  state.threads.clear();
  state.lastSeq.clear();
  state.readSeq.clear();
  state.progress.clear();
  state.positions.clear();
  liveProfiles.byUser.clear();
  state.openChatId = null;
  state.socketLostAt = null;
  state.loggingOut = false;
  state.newestLoads.clear();
  for (const timer of state.chatReloads.values()) clearTimeout(timer);
  state.chatReloads.clear();
  receipts.clear();
  notifier.clear();
  typingOut.reset();
  typingIn.clearAll();
  presence.clear();
  api.clearToken();
  chatList.resetSearch();
  chatList.closeMenu(false);
  chatList.setArchiveView(false);
  chatList.render([], listContext(new Map()));
  settings.reset();
  newGroup.reset();
  contactsView.reset();
  chatInfo.reset();
  cancelConfirm();
  people.clear();
  messageInfo.close();
  conversation.hide();
  dom.banner.hidden = true;
  document.title = 'ChitChat';
  if (location.hash) history.replaceState(null, '', location.pathname + location.search);
  showLogin();
  if (message) login.setError(message);
}

async function logout() {
  if (!state.me || state.loggingOut) return;
  state.loggingOut = true;
  // The server closes this device's socket with 4001 on logout: close it first.
  connection.stop();
  try {
    await api.logout();
  } catch {
    // The token is dropped either way.
  }
  endSession('');
}

/** The server ended this device's session (`session_revoked`, close 4001): no reconnecting. */
function sessionRevoked() {
  if (!state.me) return;
  endSession(state.loggingOut ? '' : REVOKED_TEXT);
}

// ---------------------------------------------------------------- chats

/** @type {Promise<void> | null} */
let refreshing = null;
let refreshAgain = false;

/** Re-fetches the chat list; concurrent calls coalesce into one more fetch. */
function refreshChats() {
  if (refreshing) {
    refreshAgain = true;
    return refreshing;
  }
  refreshing = (async () => {
    try {
      do {
        refreshAgain = false;
        const heardBefore = liveProfiles.heard;
        // The archive too: archived chats are still chats (opened, resumed, found).
        const [main, archived] = await Promise.all([api.listChats(false), api.listChats(true)]);
        const ids = new Set(main.map((c) => c.id));
        applyChats([...main, ...archived.filter((c) => !ids.has(c.id))]);
        // The answer may predate a profile change heard live while it was on its way.
        for (const { payload, heard } of liveProfiles.byUser.values()) if (heard > heardBefore) applyProfile(payload);
      } while (refreshAgain);
    } catch (err) {
      if (err instanceof api.ApiError && !err.isNetwork && err.status !== 401) toast(err.message);
    } finally {
      refreshing = null;
    }
  })();
  return refreshing;
}

/** @param {ChatView[]} chats */
function applyChats(chats) {
  if (!state.me) return;
  /** @type {Map<string, ChatView>} */
  const next = new Map();
  for (const chat of chats) next.set(chat.id, absorbChat(chat));
  // Keep chats known locally that the answer missed (created a moment ago).
  for (const [id, chat] of state.chats) if (!next.has(id)) next.set(id, chat);
  state.chats = next;
  state.chatsLoaded = true;
  renderList();
  if (state.openChatId) {
    const open = state.chats.get(state.openChatId);
    if (open) {
      conversation.setHeader(headerInfo(open));
      updateComposerState(open);
      chatInfo.refresh(open.id);
    }
    updateHeaderStatus();
  }
}

/**
 * Takes in one chat from a REST answer: its position, unread count and ticks.
 * Returns what to keep of it.
 * @param {ChatView} chat
 * @returns {ChatView}
 */
function absorbChat(chat) {
  const me = /** @type {User} */ (state.me);
  // The row is all this client holds of a chat it has not opened, so the list's
  // position is right for it. An opened chat's messages come from the socket and
  // its own history pages; its position advances only with events received.
  if (!state.threads.has(chat.id)) notePosition(chat.id, chat.last_event_seq);
  const last = chat.last_message;
  if (last) {
    // The server's unread count is "after my read position": keep the position,
    // so that live messages and receipts can move the count from here.
    const unread = typeof chat.unread_count === 'number' && chat.unread_count > 0 ? chat.unread_count : 0;
    noteSeq(chat.id, last.seq);
    raiseReadSeq(chat.id, last.seq - unread);
    if (noteProgressOf(last)) refreshTicks(chat.id);
    // The newest message reached this device with the list.
    if (unread > 0 && last.sender_id !== me.id) receipts.delivered(chat.id, last.seq);
  }
  const known = state.chats.get(chat.id);
  // A live message may be newer than the list the server had when it answered.
  if (known?.last_message && (!chat.last_message || known.last_message.seq > chat.last_message.seq)) {
    chat.last_message = known.last_message;
  }
  if (!chat.settings && known?.settings) chat.settings = known.settings;
  for (const member of chat.members) people.noteUser(member.user);
  return chat;
}

/**
 * A chat's new state from a REST answer (a group change, a reload): kept, and
 * everything that shows it redrawn.
 * @param {ChatView} view
 */
function applyChatView(view) {
  if (!state.me || !view || typeof view.id !== 'string') return;
  state.chats.set(view.id, absorbChat(view));
  chatChanged(view.id);
}

/**
 * A `chat_update` frame: a group's new state, shared by every member, so without
 * this user's membership and settings (which stay as known; the role is read
 * from the members).
 * @param {any} view
 */
function applyChatUpdate(view) {
  if (!state.me || !view || typeof view.id !== 'string' || !Array.isArray(view.members)) return;
  const known = state.chats.get(view.id);
  const mine = view.members.find((/** @type {any} */ m) => m.user_id === state.me?.id);
  if (!known || !mine) {
    // A chat this page does not hold yet, or one this user is no longer in.
    scheduleChatReload(view.id);
    return;
  }
  /** @type {ChatView} */
  const next = {
    ...view,
    membership: { status: 'active', role: mine.role, joined_at: mine.joined_at, left_at_seq: null },
    settings: known.settings,
    unread_count: known.unread_count,
    last_message: known.last_message && (!view.last_message || known.last_message.seq > view.last_message.seq) ? known.last_message : view.last_message,
  };
  for (const member of next.members) people.noteUser(member.user);
  state.chats.set(view.id, next);
  chatChanged(view.id);
}

/**
 * Redraws what shows a chat: its row, and its header, composer and info panel when open.
 * @param {string} chatId
 */
function chatChanged(chatId) {
  renderList();
  const chat = state.chats.get(chatId);
  if (chat && state.openChatId === chatId) {
    conversation.setHeader(headerInfo(chat));
    updateComposerState(chat);
    updateHeaderStatus();
  }
  chatInfo.refresh(chatId);
}

/**
 * Reloads one chat from the server soon: after a system message (the change it
 * records may have removed this user, who then gets no `chat_update`), or a
 * `chat_update` for a chat not held here.
 * @param {string} chatId
 */
function scheduleChatReload(chatId) {
  if (state.chatReloads.has(chatId)) return;
  const me = state.me;
  state.chatReloads.set(
    chatId,
    setTimeout(async () => {
      state.chatReloads.delete(chatId);
      try {
        const view = await api.getChat(chatId);
        if (state.me === me) applyChatView(view);
      } catch (err) {
        if (err instanceof api.ApiError && err.status === 404) void refreshChats();
      }
    }, CHAT_RELOAD_MS),
  );
}

/** A chat's settings when the user never changed them. @type {import('./js/types.js').ChatSettings} */
const DEFAULT_SETTINGS = { archived: false, muted_until: null, pinned: false };

/**
 * The user's own settings of a chat as the server now has them (a `chat_settings`
 * frame from any of their devices, or the answer to `resume`): the chat moves
 * between the list and the archive at once.
 * @param {string} chatId
 * @param {any} value
 */
function applyChatSettings(chatId, value) {
  const chat = state.chats.get(chatId);
  if (!chat || !value || typeof value !== 'object') return;
  const next = {
    archived: value.archived === true,
    muted_until: typeof value.muted_until === 'string' ? value.muted_until : null,
    pinned: value.pinned === true,
  };
  const before = chat.settings ?? DEFAULT_SETTINGS;
  if (before.archived === next.archived && before.muted_until === next.muted_until && before.pinned === next.pinned) return;
  chat.settings = next;
  chatChanged(chatId);
}

/**
 * The newest `user_update` heard per user, numbered in the order heard, so that a
 * chat list fetched before one arrived does not bring the old name back.
 * @type {{ heard: number, byUser: Map<string, { payload: any, heard: number }> }}
 */
const liveProfiles = { heard: 0, byUser: new Map() };

/**
 * Someone's new name or status line (a `user_update` frame): shown wherever they
 * appear, unless a contact alias stands in for the name.
 * @param {any} payload
 */
function applyProfile(payload) {
  if (!payload || typeof payload.user_id !== 'string' || typeof payload.name !== 'string') return;
  const id = payload.user_id;
  if (liveProfiles.byUser.get(id)?.payload !== payload) liveProfiles.byUser.set(id, { payload, heard: ++liveProfiles.heard });
  const change = { name: payload.name, status: typeof payload.status === 'string' ? payload.status : '' };
  const known = people.userById(id);
  if (known) people.noteUser({ ...known, ...change });
  for (const chat of state.chats.values()) {
    for (const member of chat.members) if (member.user_id === id) member.user = { ...member.user, ...change };
  }
  if (state.me && state.me.id === id) {
    state.me = { ...state.me, ...change };
    people.noteUser(state.me);
    showMe(state.me);
  }
  peopleChanged(id);
}

/**
 * Archive, mute, pin from a row's menu: the user's own settings of the chat.
 * @param {string} chatId
 * @param {import('./js/chatlist.js').ChatAction} action
 */
async function chatAction(chatId, action) {
  const chat = state.chats.get(chatId);
  if (!chat) return;
  const before = chat.settings ?? DEFAULT_SETTINGS;
  const next = { ...before };
  const now = Date.now();
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
  // At once here; put back if the server refuses.
  chat.settings = next;
  renderList();
  try {
    const saved = await api.putChatSettings(chatId, next);
    const current = state.chats.get(chatId);
    if (current && saved && typeof saved === 'object') current.settings = saved;
    renderList();
    if (action === 'archive') toast('Chat archived');
    else if (action === 'unarchive') toast('Chat unarchived');
  } catch (err) {
    const current = state.chats.get(chatId);
    if (current) current.settings = before;
    renderList();
    toast(errorText(err));
  }
}

/**
 * What the chat list needs besides the chats.
 * @param {Map<string, number>} unread
 * @returns {import('./js/chatlist.js').ListContext}
 */
function listContext(unread) {
  return {
    myId: state.me?.id ?? '',
    openChatId: state.openChatId,
    unread,
    typing: (chat) => typingText(chat),
    lastStatus: (chat) => lastMessageStatus(chat),
  };
}

function renderList() {
  if (!state.me) return;
  /** @type {Map<string, number>} */
  const unread = new Map();
  let total = 0;
  for (const [chatId, chat] of state.chats) {
    const n = unreadCount(chatId);
    if (n > 0) {
      unread.set(chatId, n);
      if (!isMuted(chat)) total += n; // muted chats do not call for attention
    }
  }
  chatList.render([...state.chats.values()], listContext(unread));
  document.title = total > 0 ? `(${total}) ChitChat` : 'ChitChat';
}

/**
 * Messages after the user's read position, counting only what is known here.
 * @param {string} chatId
 */
function unreadCount(chatId) {
  return Math.max(0, (state.lastSeq.get(chatId) ?? 0) - (state.readSeq.get(chatId) ?? 0));
}

/**
 * @param {string} chatId
 * @param {number} seq  a message of the chat that exists
 */
function noteSeq(chatId, seq) {
  if (Number.isSafeInteger(seq) && seq > (state.lastSeq.get(chatId) ?? 0)) state.lastSeq.set(chatId, seq);
}

/**
 * @param {string} chatId
 * @param {number} seq  the user has read up to here
 */
function raiseReadSeq(chatId, seq) {
  if (!Number.isSafeInteger(seq) || seq <= (state.readSeq.get(chatId) ?? 0)) return false;
  state.readSeq.set(chatId, seq);
  notifier.read(chatId, seq); // read here or elsewhere: its notification has done its job
  return true;
}

/** @param {User} user */
async function startChatWith(user) {
  try {
    const chat = await api.createDirectChat(user.id);
    people.noteUser(user);
    if (!state.chats.has(chat.id)) state.chats.set(chat.id, absorbChat(chat));
    chatList.resetSearch();
    if (isArchived(chat)) chatList.setArchiveView(true);
    renderList();
    openChat(chat.id);
  } catch (err) {
    toast(err instanceof Error ? err.message : String(err));
  }
}

/**
 * @param {ChatView} chat
 * @returns {import('./js/conversation.js').HeaderInfo}
 */
function headerInfo(chat) {
  const myId = state.me?.id ?? '';
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
  };
}

/**
 * The composer, or why there is none: a former member of a group, a blocked person.
 * @param {ChatView} chat
 */
function updateComposerState(chat) {
  if (chat.membership?.status === 'left') {
    conversation.setReadOnly("You're no longer a member of this group.");
    typingOut.stop();
    return;
  }
  const other = otherMember(chat, state.me?.id ?? '');
  if (other && people.isBlocked(other.id)) {
    conversation.setReadOnly(`You blocked ${people.displayName(other.id, other.name)}. Unblock them in contact info to send messages.`);
    typingOut.stop();
    return;
  }
  conversation.setReadOnly(null);
}

/**
 * "typing…" when someone else is typing in the chat, else null.
 * @param {ChatView} chat
 * @returns {string | null}
 */
function typingText(chat) {
  const myId = state.me?.id ?? '';
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
 * @returns {import('./js/conversation.js').HeaderStatus}
 */
function headerStatus(chat) {
  const typing = typingText(chat);
  const other = chat.type === 'direct' ? otherMember(chat, state.me?.id ?? '') : null;
  if (!other) return { typing, presence: '', state: 'none' };
  const known = presence.get(other.id);
  if (known?.online) return { typing, presence: 'online', state: 'online' };
  // Unknown (no frame since this page connected): the stored last seen.
  const lastSeen = known?.lastSeen ?? other.last_seen;
  return { typing, presence: lastSeen ? formatLastSeen(lastSeen) : '', state: known ? 'offline' : 'unknown' };
}

function updateHeaderStatus() {
  const chat = state.openChatId ? state.chats.get(state.openChatId) : undefined;
  if (chat && state.me) conversation.setStatus(headerStatus(chat));
}

/**
 * The ticks of a chat's last message, if it is the user's own.
 * @param {ChatView} chat
 * @returns {'sent' | 'delivered' | 'read'}
 */
function lastMessageStatus(chat) {
  const last = chat.last_message;
  if (!last) return 'sent';
  const stored = last.status === 'read' || last.status === 'delivered' ? last.status : 'sent';
  return /** @type {'sent' | 'delivered' | 'read'} */ (furtherStatus(stored, statusAt(last.seq, state.progress.get(chat.id))));
}

// ---------------------------------------------------------------- navigation

/**
 * Opens a chat from inside the app; the address keeps it across reloads.
 * @param {string} chatId
 */
function openChat(chatId) {
  const hash = `#/chat/${encodeURIComponent(chatId)}`;
  if (location.hash === hash) {
    route();
    return;
  }
  if (state.openChatId) {
    // From one chat to another: replace, so Back still leads to the list.
    history.replaceState(null, '', hash);
    route();
    return;
  }
  state.openedInApp = true;
  location.hash = hash; // -> hashchange -> route()
}

function goBack() {
  if (state.openedInApp) {
    state.openedInApp = false;
    history.back();
  } else {
    history.replaceState(null, '', location.pathname + location.search);
    route();
  }
}

/** Shows what the address asks for. */
function route() {
  if (!state.me) return;
  const match = /^#\/chat\/([^/]+)$/.exec(location.hash);
  const chatId = match ? decodeURIComponent(match[1]) : null;
  if (chatId && state.chats.has(chatId)) {
    showChat(chatId);
    return;
  }
  if (chatId && state.chatsLoaded) {
    history.replaceState(null, '', location.pathname + location.search); // not one of ours
  }
  if (state.openChatId) typingOut.stop();
  state.openChatId = null;
  messageInfo.close();
  chatInfo.reset();
  conversation.hide();
  syncView();
  renderList();
}

/** One pane on narrow screens: the list, or the open chat. */
function syncView() {
  dom.app.dataset.view = state.openChatId ? 'chat' : 'list';
}

/** @param {string} chatId */
function showChat(chatId) {
  const chat = state.chats.get(chatId);
  if (!chat || !state.me) return;
  const wasOpen = state.openChatId === chatId;
  if (!wasOpen) {
    typingOut.stop(); // left the previous chat
    if (chatInfo.isOpen && !chatInfo.isOpenFor(chatId)) chatInfo.reset();
  }
  state.openChatId = chatId;
  let thread = state.threads.get(chatId);
  if (!thread) {
    thread = new Thread(chatId);
    state.threads.set(chatId, thread);
  }
  conversation.show(thread, headerInfo(chat), state.me.id);
  updateComposerState(chat);
  updateHeaderStatus();
  syncView();
  renderList();
  if (!NARROW.matches && conversation.canWrite()) conversation.focusComposer();
  if ((!wasOpen || !thread.loaded) && !state.newestLoads.has(chatId)) void loadNewest(chatId);
}

/**
 * A message search result: opens its chat at that message, highlighted.
 * @param {string} chatId
 * @param {number} seq
 */
function openMessage(chatId, seq) {
  if (!state.chats.has(chatId)) {
    toast('That chat is not available.');
    return;
  }
  openChat(chatId);
  // From the list the address changes first and the chat opens on `hashchange`,
  // later: open it now, so that the message is looked for in its thread.
  if (state.openChatId !== chatId) route();
  void revealMessage(chatId, seq);
}

/**
 * Brings one message of the open chat into view: loaded already, a few pages
 * back (paged with before_seq), or further (a window around it, newer pages load
 * as the reader scrolls down).
 * @param {string} chatId
 * @param {number} seq
 */
async function revealMessage(chatId, seq) {
  const thread = state.threads.get(chatId);
  if (!thread) return;
  try {
    if (!thread.loaded) await (state.newestLoads.get(chatId) ?? loadNewest(chatId));
    if (state.openChatId !== chatId || state.threads.get(chatId) !== thread) return;
    if (!thread.hasSeq(seq)) {
      const gap = thread.minSeq() - seq;
      if (!thread.detached && Number.isFinite(gap) && gap > 0 && gap <= NEAR) {
        await pageOlderUntil(chatId, thread, () => thread.hasSeq(seq));
      } else {
        await loadWindow(chatId, seq);
      }
    }
    if (state.openChatId !== chatId) return;
    if (!conversation.focusMessage(seq)) toast('That message is no longer available.');
  } catch (err) {
    if (state.openChatId === chatId) toast(errorText(err));
  }
}

/**
 * Loads older pages of the open chat until `found()` or the start of the chat:
 * a few pages at most (NEAR / PAGE), plus waits for a load the scrolling started.
 * @param {string} chatId
 * @param {Thread} thread
 * @param {() => boolean} found
 */
async function pageOlderUntil(chatId, thread, found) {
  for (let tries = 0; tries < 40 && !found() && !thread.reachedStart && state.openChatId === chatId; tries++) {
    if (state.loadingOlder) {
      await new Promise((resolve) => setTimeout(resolve, 100));
      continue;
    }
    const before = thread.minSeq();
    await loadOlder();
    if (thread.minSeq() === before && !state.loadingOlder) break; // nothing older came
  }
}

/**
 * Shows the message a reply quotes: pages older history in (a few pages) when
 * it is not held yet, then scrolls to it and highlights it.
 * @param {string} messageId
 */
async function revealOriginal(messageId) {
  const chatId = state.openChatId;
  const thread = chatId ? state.threads.get(chatId) : undefined;
  if (!chatId || !thread) return;
  await pageOlderUntil(chatId, thread, () => thread.byId.has(messageId));
  const seq = thread.byId.get(messageId)?.seq;
  if (state.openChatId !== chatId) return;
  if (seq === undefined || seq === null || !conversation.focusMessage(seq)) toast('The original message is no longer available.');
}

/**
 * Shows a window of history around `seq` (newest first up to it, oldest first after it).
 * @param {string} chatId
 * @param {number} seq
 */
async function loadWindow(chatId, seq) {
  const thread = state.threads.get(chatId);
  if (!thread) return;
  conversation.setOlderStatus('Loading messages…');
  try {
    const [before, after] = await Promise.all([
      api.getMessages(chatId, WINDOW, { before: seq + 1 }),
      api.getMessages(chatId, WINDOW, { after: seq }),
    ]);
    if (state.threads.get(chatId) !== thread) return;
    thread.openWindow(before, after, WINDOW);
    for (const msg of [...before, ...after]) noteProgressOf(msg);
    thread.applyProgress(state.me?.id ?? '', state.progress.get(chatId));
    if (state.openChatId === chatId) conversation.render({ mode: 'keep-bottom' });
    // It reached the newest: fetch it again, for anything sent meanwhile.
    if (!thread.detached) void loadNewest(chatId);
  } finally {
    if (state.openChatId === chatId) conversation.setOlderStatus('');
  }
}

/** Back to the newest messages from a window further back. */
function jumpToNewest() {
  const chatId = state.openChatId;
  const thread = chatId ? state.threads.get(chatId) : undefined;
  if (!chatId || !thread) return;
  if (thread.detached) {
    thread.reset();
    conversation.render({ mode: 'bottom' });
    void loadNewest(chatId);
  } else {
    conversation.scrollToBottom(true);
  }
}

// ---------------------------------------------------------------- history

/**
 * Fetches the newest page and merges it (first open, and after a reconnect).
 * @param {string} chatId
 */
function loadNewest(chatId) {
  const running = fetchNewest(chatId).finally(() => {
    if (state.newestLoads.get(chatId) === running) state.newestLoads.delete(chatId);
  });
  state.newestLoads.set(chatId, running);
  return running;
}

/** @param {string} chatId */
async function fetchNewest(chatId) {
  const thread = state.threads.get(chatId);
  if (!thread) return;
  const firstLoad = !thread.loaded;
  const generation = thread.generation;
  if (firstLoad && state.openChatId === chatId) conversation.setOlderStatus('Loading messages…');
  try {
    const page = await api.getMessages(chatId, PAGE);
    if (state.threads.get(chatId) !== thread) return; // logged out meanwhile
    if (thread.generation !== generation) return; // reset meanwhile (resync); its own load follows
    thread.mergeNewest(page, PAGE);
    for (const msg of page) noteProgressOf(msg);
    thread.applyProgress(state.me?.id ?? '', state.progress.get(chatId));
    if (page.length > 0) {
      noteSeq(chatId, page[0].seq);
      noteLastMessage(page[0]);
    }
    if (state.openChatId === chatId) {
      conversation.setOlderStatus('');
      conversation.render({ mode: firstLoad ? 'bottom' : 'keep-bottom' });
      if (conversation.wantsMore()) void loadOlder();
    }
  } catch (err) {
    if (state.openChatId === chatId) {
      conversation.setOlderStatus('');
      if (!(err instanceof api.ApiError && err.status === 401)) toast(errorText(err));
    }
  }
}

/**
 * Fetches the page before the oldest loaded message (`before_seq`: new messages
 * arriving meanwhile do not shift it), keeping the scroll position.
 */
async function loadOlder() {
  const chatId = state.openChatId;
  const thread = chatId ? state.threads.get(chatId) : undefined;
  if (!chatId || !thread || state.loadingOlder || thread.reachedStart || !thread.loaded) return;
  const oldest = thread.minSeq();
  if (!Number.isFinite(oldest)) return;
  state.loadingOlder = true;
  conversation.setOlderStatus('Loading older messages…');
  let again = false;
  const generation = thread.generation;
  try {
    const page = await api.getMessages(chatId, PAGE, { before: oldest });
    if (thread.generation !== generation) return; // reset meanwhile: another page is coming
    thread.mergeOlder(page, PAGE);
    for (const msg of page) noteProgressOf(msg);
    thread.applyProgress(state.me?.id ?? '', state.progress.get(chatId));
    if (state.openChatId === chatId) {
      conversation.render({ mode: 'prepend' });
      again = conversation.wantsMore();
    }
  } catch (err) {
    if (state.openChatId === chatId) toast(errorText(err));
  } finally {
    state.loadingOlder = false;
    if (state.openChatId === chatId) conversation.setOlderStatus('');
  }
  if (again) void loadOlder();
}

/**
 * A window further back is shown and its bottom is in view: the next newer page
 * (`after_seq`). The last one attaches the window to the newest messages again.
 */
async function loadNewer() {
  const chatId = state.openChatId;
  const thread = chatId ? state.threads.get(chatId) : undefined;
  if (!chatId || !thread || state.loadingNewer || !thread.detached || !thread.loaded) return;
  state.loadingNewer = true;
  const generation = thread.generation;
  try {
    const page = await api.getMessages(chatId, PAGE, { after: thread.maxSeq() });
    if (thread.generation !== generation) return;
    thread.mergeNewer(page, PAGE);
    for (const msg of page) noteProgressOf(msg);
    thread.applyProgress(state.me?.id ?? '', state.progress.get(chatId));
    if (state.openChatId === chatId) conversation.render({ mode: 'append' });
    // Attached again: what arrived live while detached was left out; the newest page brings it.
    if (!thread.detached) void loadNewest(chatId);
  } catch (err) {
    if (state.openChatId === chatId) toast(errorText(err));
  } finally {
    state.loadingNewer = false;
  }
}

// ---------------------------------------------------------------- sending

/** Most files one message carries (the server's limit). */
const MAX_FILES_PER_MESSAGE = 10;

/**
 * Sends the text, or the uploaded files with the text as their caption: one
 * message per kind of file (a photo message carries only photos), at most ten
 * files each, the caption on the first.
 * @param {string} text
 * @param {import('./js/types.js').Attachment[]} [files]
 * @param {Entry | null} [replyTo]  the message it replies to
 */
function sendMessage(text, files = [], replyTo = null) {
  const chatId = state.openChatId;
  const thread = chatId ? state.threads.get(chatId) : undefined;
  if (!chatId || !thread || !state.me || !conversation.canWrite()) return;
  // Written while reading further back: the conversation returns to the newest messages.
  if (thread.detached) jumpToNewest();
  /** @type {{ kind: string, files: import('./js/types.js').Attachment[] }[]} */
  const groups = [];
  for (const file of files) {
    let group = groups.find((g) => g.kind === file.kind && g.files.length < MAX_FILES_PER_MESSAGE);
    if (!group) {
      group = { kind: file.kind, files: [] };
      groups.push(group);
    }
    group.files.push(file);
  }
  /** @type {import('./js/types.js').ReplyRef | null} */
  const quote =
    replyTo?.id && !replyTo.deletedAt
      ? { id: replyTo.id, sender_id: replyTo.senderId, preview: replyTo.content.slice(0, 100), deleted: false }
      : null;
  const cids = [];
  if (groups.length === 0) {
    const cid = uuid();
    thread.addPending(cid, text, state.me.id, 'text', [], quote);
    cids.push(cid);
  }
  groups.forEach((group, i) => {
    const cid = uuid();
    const caption = i === 0 && text.trim() ? text : '';
    // The reply goes with the first message of the set.
    thread.addPending(cid, caption, /** @type {User} */ (state.me).id, group.kind, group.files, i === 0 ? quote : null);
    cids.push(cid);
  });
  conversation.render({ mode: 'bottom' });
  for (const cid of cids) dispatch(chatId, cid);
}

/**
 * Sends (or re-sends) an own message: over the socket when it is open, else over
 * HTTP. The client_msg_id makes repeats safe: the server keeps one message.
 * @param {string} chatId
 * @param {string} cid
 */
function dispatch(chatId, cid) {
  const thread = state.threads.get(chatId);
  const entry = thread?.pendingByCid(cid);
  if (!thread || !entry) return;
  if (entry.status === 'failed') {
    entry.status = 'pending';
    entry.error = null;
    if (state.openChatId === chatId) conversation.render({ mode: 'keep-bottom' });
  }
  const frameId = uuid();
  const sent = connection.send({
    id: frameId,
    type: 'message',
    room_id: chatId,
    payload: {
      content: entry.content,
      content_type: entry.contentType,
      client_msg_id: cid,
      attachment_ids: entry.attachments.map((a) => a.id),
      ...(entry.replyToId ? { reply_to_id: entry.replyToId } : {}),
    },
  });
  if (!sent) {
    void sendOverHttp(chatId, cid);
    return;
  }
  const timer = setTimeout(() => {
    if (outbox.delete(frameId)) void sendOverHttp(chatId, cid);
  }, ACK_TIMEOUT_MS);
  outbox.set(frameId, { chatId, cid, timer });
}

/**
 * @param {string} chatId
 * @param {string} cid
 */
async function sendOverHttp(chatId, cid) {
  const entry = state.threads.get(chatId)?.pendingByCid(cid);
  if (!entry || httpInFlight.has(cid)) return;
  httpInFlight.add(cid);
  try {
    const ids = entry.attachments.map((a) => a.id);
    const msg = await api.postMessage(chatId, entry.content, cid, entry.contentType, ids, entry.replyToId);
    receiveMessage(msg, false);
  } catch (err) {
    // Unreachable server: stay pending, the reconnect re-sends it.
    if (!(err instanceof api.ApiError && err.isNetwork)) markFailed(chatId, cid, errorText(err));
  } finally {
    httpInFlight.delete(cid);
  }
}

/**
 * @param {string} chatId
 * @param {string} cid
 * @param {string} reason
 */
function markFailed(chatId, cid, reason) {
  const entry = state.threads.get(chatId)?.pendingByCid(cid);
  if (!entry) return;
  entry.status = 'failed';
  entry.error = reason;
  if (state.openChatId === chatId) conversation.render({ mode: 'keep-bottom' });
}

/**
 * Once caught up after a (re)connect: sends every own message still waiting, with
 * its original client_msg_id (the replay may already have confirmed some). Failed
 * ones wait for Retry.
 */
function resendPending() {
  const sent = new Set([...outbox.values()].map((pending) => pending.cid));
  for (const thread of state.threads.values()) {
    for (const entry of thread.unconfirmed()) {
      if (entry.status === 'pending' && entry.cid && !sent.has(entry.cid) && !httpInFlight.has(entry.cid)) {
        dispatch(thread.chatId, entry.cid);
      }
    }
  }
}

// ---------------------------------------------------------------- live

/** @param {unknown} value @returns {value is Message} */
function isMessage(value) {
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
 * A frame from the socket, live or replayed after a reconnect: both are handled
 * alike, in the order they arrive (the server keeps each chat gap-free).
 * @param {Frame} frame
 */
function handleFrame(frame) {
  switch (frame.type) {
    case 'message':
      if (isMessage(frame.payload)) receiveMessage(frame.payload, true);
      break;
    case 'resync':
      if (typeof frame.room_id === 'string' && typeof frame.event_seq === 'number') {
        resync(frame.room_id, frame.event_seq);
      }
      return; // its event_seq is set by resync()
    case 'ack': {
      if (receipts.answered(frame.id)) break;
      const pending = frame.id ? outbox.get(frame.id) : undefined;
      if (pending && frame.id) {
        clearTimeout(pending.timer);
        outbox.delete(frame.id);
      }
      if (isMessage(frame.payload)) receiveMessage(frame.payload, false);
      break;
    }
    case 'error': {
      // A receipt refused (say the chat is gone): nothing to tell the user.
      if (receipts.answered(frame.id)) break;
      const pending = frame.id ? outbox.get(frame.id) : undefined;
      const payload = /** @type {any} */ (frame.payload) ?? {};
      const reason = typeof payload.message === 'string' && payload.message ? payload.message : 'Not sent';
      if (pending && frame.id) {
        clearTimeout(pending.timer);
        outbox.delete(frame.id);
        markFailed(pending.chatId, pending.cid, reason);
      } else {
        toast(reason);
      }
      break;
    }
    case 'status_update':
      if (typeof frame.room_id === 'string' && frame.payload && typeof frame.payload === 'object') {
        applyStatusUpdate(frame.room_id, frame.payload);
      }
      break;
    case 'typing': {
      const payload = /** @type {any} */ (frame.payload) ?? {};
      if (typeof frame.room_id === 'string' && typeof frame.sender === 'string' && frame.sender !== state.me?.id) {
        const typing = payload.typing !== false;
        typingIn.set(frame.room_id, frame.sender, typing, Number(payload.expires_in_ms));
        // Only a connected device can be typing.
        if (typing) presence.set(frame.sender, true, null);
      }
      break;
    }
    case 'presence': {
      const payload = /** @type {any} */ (frame.payload) ?? {};
      const userId = typeof payload.user_id === 'string' ? payload.user_id : frame.sender;
      if (typeof userId === 'string' && typeof payload.online === 'boolean' && userId !== state.me?.id) {
        const lastSeen = typeof payload.last_seen === 'string' ? payload.last_seen : null;
        if (!payload.online) {
          typingIn.clearUser(userId);
          if (lastSeen) noteLastSeen(userId, lastSeen);
        }
        presence.set(userId, payload.online, lastSeen);
      }
      break;
    }
    case 'chat_update':
      applyChatUpdate(frame.payload);
      break;
    case 'message_update': {
      const payload = /** @type {any} */ (frame.payload) ?? {};
      if (isMessage(payload.message)) applyMessageUpdate(payload.message, payload);
      break;
    }
    case 'message_hidden': {
      const payload = /** @type {any} */ (frame.payload) ?? {};
      if (typeof frame.room_id === 'string' && typeof payload.message_id === 'string') hideMessage(frame.room_id, payload.message_id);
      break;
    }
    case 'chat_settings':
      if (typeof frame.room_id === 'string') applyChatSettings(frame.room_id, frame.payload);
      break;
    case 'block_update': {
      const payload = /** @type {any} */ (frame.payload) ?? {};
      if (typeof payload.user_id === 'string' && typeof payload.blocked === 'boolean') {
        people.noteBlocked(payload.user_id, payload.blocked);
        peopleChanged(payload.user_id);
      }
      break;
    }
    case 'user_update':
      applyProfile(frame.payload);
      break;
    case 'session_revoked':
      sessionRevoked(); // the close (4001) follows; do not reconnect
      return;
    default:
      break; // unknown frame types are ignored (their position still counts)
  }
  // A durable event (any type) moves its chat's position, once it has been handled.
  if (typeof frame.room_id === 'string' && typeof frame.event_seq === 'number') {
    notePosition(frame.room_id, frame.event_seq);
  }
}

/**
 * Records that every event of a chat up to `position` is reflected here.
 * @param {string} chatId
 * @param {unknown} position
 */
function notePosition(chatId, position) {
  if (typeof position !== 'number' || !Number.isSafeInteger(position) || position < 0) return;
  const known = state.positions.get(chatId);
  if (known === undefined || position > known) state.positions.set(chatId, position);
}

/**
 * The server missed too much of a chat to replay it: start that chat afresh from
 * its newest history page, at the position the server gives.
 * @param {string} chatId
 * @param {number} position
 */
function resync(chatId, position) {
  if (!state.me) return;
  state.positions.set(chatId, position);
  const thread = state.threads.get(chatId);
  if (thread) {
    thread.reset(); // an opened chat that is not open now reloads when it is opened
    if (state.openChatId === chatId) {
      conversation.render({ mode: 'bottom' });
      void loadNewest(chatId);
    }
  }
  void refreshChats(); // the row: preview of the newest message
}

/**
 * A stored message, from a live frame, an ack or an HTTP answer.
 * @param {Message} msg
 * @param {boolean} live  pushed by the server (not the answer to an own send)
 */
function receiveMessage(msg, live) {
  if (!state.me) return;
  const chat = state.chats.get(msg.chat_id);
  const thread = state.threads.get(msg.chat_id);
  const own = msg.sender_id === state.me.id;
  const unseen = msg.seq > (state.lastSeq.get(msg.chat_id) ?? 0); // not a repeat of one known here
  // Unread is "after the read position": a new message of someone else raises it
  // (a repeat does not: same seq), an own one (from any device) clears it, since
  // sending moves the sender's positions.
  noteSeq(msg.chat_id, msg.seq);
  if (own) {
    raiseReadSeq(msg.chat_id, msg.seq);
    receipts.known(msg.chat_id, msg.seq, msg.seq);
  } else {
    typingIn.clear(msg.chat_id, msg.sender_id); // they sent what they were typing
    receipts.delivered(msg.chat_id, msg.seq);
  }
  noteProgressOf(msg);
  // No gap check: the server sends each chat's events in order and without gaps,
  // replaying missed ones first. A repeat (ack and frame, or a reloaded page) merges by id.
  // A window further back takes in only what it shows; newer pages bring the rest.
  const shown = !!thread && thread.accepts(msg);
  if (thread && shown) {
    thread.upsert(msg);
    thread.applyProgress(state.me.id, state.progress.get(msg.chat_id));
  }
  if (thread && shown && state.openChatId === msg.chat_id) {
    conversation.render({ mode: own && !live ? 'bottom' : 'keep-bottom' });
  }
  if (chat) {
    // A new message brings an archived chat back to the list, unless it is muted
    // (the server does the same with the stored settings).
    const isNew = !chat.last_message || msg.seq > chat.last_message.seq;
    if (isNew && chat.settings && isArchived(chat) && !isMuted(chat)) chat.settings = { ...chat.settings, archived: false };
    noteLastMessage(msg);
    // A change to a group: its new state (for one removed, the only word of it).
    if (msg.content_type === 'system') scheduleChatReload(msg.chat_id);
    if (live && unseen && !own) notifyOf(msg);
  } else {
    // A chat someone just started with us, or a group we were added to.
    const me = state.me;
    void refreshChats().then(() => {
      if (live && !own && state.me === me) notifyOf(msg);
    });
  }
}

/**
 * A notification of someone else's new message (shown only while the tab is
 * hidden), unless its chat is muted or the user read that far on another device.
 * @param {Message} msg
 */
function notifyOf(msg) {
  const chat = state.chats.get(msg.chat_id);
  if (!chat || !state.me || msg.content_type === 'system' || isMuted(chat)) return;
  if (msg.seq <= (state.readSeq.get(msg.chat_id) ?? 0)) return;
  const member = chat.members.find((m) => m.user_id === msg.sender_id);
  const sender = people.displayName(msg.sender_id, member?.user.name || 'Someone');
  const preview = previewText(msg);
  notifier.show({
    chatId: chat.id,
    seq: msg.seq,
    title: chatTitle(chat, state.me.id),
    body: chat.type === 'group' ? `${sender}: ${preview}` : preview,
  });
}

// ---------------------------------------------------------------- receipts

/**
 * Raises what the chat as a whole has received and read. Returns whether it moved.
 * @param {string} chatId
 * @param {number} delivered
 * @param {number} read
 */
function noteProgress(chatId, delivered, read) {
  const known = state.progress.get(chatId) ?? { delivered: 0, read: 0 };
  const next = {
    delivered: Math.max(known.delivered, safeSeq(delivered), safeSeq(read)),
    read: Math.max(known.read, safeSeq(read)),
  };
  if (next.delivered === known.delivered && next.read === known.read && state.progress.has(chatId)) return false;
  state.progress.set(chatId, next);
  return true;
}

/**
 * A message's status says how far the whole chat had got when it was computed.
 * @param {Message} msg
 */
function noteProgressOf(msg) {
  if (msg.status === 'read') return noteProgress(msg.chat_id, msg.seq, msg.seq);
  if (msg.status === 'delivered') return noteProgress(msg.chat_id, msg.seq, 0);
  return false;
}

/** @param {unknown} value */
function safeSeq(value) {
  return typeof value === 'number' && Number.isSafeInteger(value) && value > 0 ? value : 0;
}

/**
 * Redraws the ticks of own messages in a chat after its progress moved.
 * @param {string} chatId
 */
function refreshTicks(chatId) {
  const thread = state.threads.get(chatId);
  if (!thread || !state.me) return;
  if (thread.applyProgress(state.me.id, state.progress.get(chatId)) && state.openChatId === chatId) {
    conversation.render({ mode: 'keep-bottom' });
  }
}

/**
 * A member's receipt position moved (`status_update`, durable, also replayed).
 * @param {string} chatId
 * @param {any} payload  {user_id, delivered_seq, read_seq, chat: {delivered_seq, read_seq}}
 */
function applyStatusUpdate(chatId, payload) {
  if (!state.me) return;
  const whole = payload.chat && typeof payload.chat === 'object' ? payload.chat : {};
  if (noteProgress(chatId, whole.delivered_seq, whole.read_seq)) refreshTicks(chatId);
  if (payload.user_id === state.me.id) {
    // This user, on this device or another: nothing up to there needs reporting,
    // and whatever they read there is read here too.
    receipts.known(chatId, safeSeq(payload.delivered_seq), safeSeq(payload.read_seq));
    raiseReadSeq(chatId, safeSeq(payload.read_seq));
  }
  renderList();
  messageInfo.refreshIf(chatId);
}

/**
 * When the open chat's newest messages are on screen in a visible tab, they are
 * read: the unread count clears here at once and a `read` receipt follows.
 */
function markRead() {
  const chatId = state.openChatId;
  if (!chatId || !state.me || document.visibilityState !== 'visible') return;
  const thread = state.threads.get(chatId);
  if (!thread || !thread.loaded || !conversation.showsNewest()) return;
  const seq = thread.maxSeq();
  // Only when it moves: a read position learnt from the server needs no receipt.
  if (!raiseReadSeq(chatId, seq)) return;
  receipts.read(chatId, seq);
  renderList();
}

/**
 * A presence frame gave someone's new last seen: the stored profiles follow.
 * @param {string} userId
 * @param {string} lastSeen
 */
function noteLastSeen(userId, lastSeen) {
  for (const chat of state.chats.values()) {
    for (const member of chat.members) if (member.user_id === userId) member.user.last_seen = lastSeen;
  }
}

/**
 * "Message info" of an own message.
 * @param {Entry} entry
 */
function openMessageInfo(entry) {
  const chat = state.openChatId ? state.chats.get(state.openChatId) : undefined;
  if (!chat || !state.me || !entry.id) return;
  /** @type {Map<string, User>} */
  const people = new Map();
  for (const member of chat.members) if (member.user_id !== state.me.id) people.set(member.user_id, member.user);
  messageInfo.open(chat.id, entry, people);
}

// ---------------------------------------------------------------- message actions

/**
 * A message as it now is (edited, deleted for everyone, reacted to): replaces
 * the one held, and the chat's preview when it is the newest.
 * @param {Message} msg
 * @param {{ action?: string, emoji?: string, user_id?: string, removed?: boolean }} update
 */
function applyMessageUpdate(msg, update) {
  const thread = state.threads.get(msg.chat_id);
  const entry = thread && state.me ? thread.applyUpdate(msg, update, state.me.id) : null;
  if (entry && state.openChatId === msg.chat_id) {
    conversation.render({ mode: 'keep-bottom' });
    conversation.noteChanged(msg.id);
  }
  const chat = state.chats.get(msg.chat_id);
  if (chat?.last_message?.id === msg.id) noteLastMessage({ ...msg, status: chat.last_message.status });
}

/**
 * A message this user deleted for themself (here or on another device).
 * @param {string} chatId
 * @param {string} messageId
 */
function hideMessage(chatId, messageId) {
  const thread = state.threads.get(chatId);
  if (thread?.remove(messageId) && state.openChatId === chatId) {
    conversation.render({ mode: 'keep-bottom' });
    conversation.noteChanged(messageId);
  }
  const chat = state.chats.get(chatId);
  if (chat?.last_message?.id === messageId) scheduleChatReload(chatId);
}

/**
 * Saves an edit; resolves whether it was saved (the update frame redraws it).
 * @param {Entry} entry
 * @param {string} text
 */
async function editMessage(entry, text) {
  if (!entry.id) return false;
  try {
    const msg = await api.editMessage(entry.id, text);
    applyMessageUpdate(msg, { action: 'edited' });
    return true;
  } catch (err) {
    toast(actionError('Could not edit the message', err));
    return false;
  }
}

/**
 * @param {Entry} entry
 * @param {'me' | 'everyone'} scope
 */
async function deleteMessage(entry, scope) {
  const chatId = state.openChatId;
  if (!entry.id || !chatId) return;
  const question = scope === 'everyone' ? 'Delete this message for everyone?' : 'Delete this message for you?';
  if (!(await confirmAction(question, scope === 'everyone' ? 'Delete for everyone' : 'Delete for me'))) return;
  try {
    await api.deleteMessage(entry.id, scope);
    if (scope === 'me') hideMessage(chatId, entry.id);
  } catch (err) {
    toast(actionError('Could not delete the message', err));
  }
}

/**
 * @param {Entry} entry
 * @param {string | null} emoji  null takes the own reaction back
 */
async function react(entry, emoji) {
  if (!entry.id) return;
  try {
    await api.setReaction(entry.id, emoji);
  } catch (err) {
    toast(actionError('Could not react', err));
  }
}

/** @param {Entry} entry */
function forwardMessage(entry) {
  const messageId = entry.id;
  if (!messageId || !state.me) return;
  const myId = state.me.id;
  const targets = [...state.chats.values()]
    .filter((chat) => {
      if (chat.membership?.status === 'left') return false;
      const other = otherMember(chat, myId);
      return !(other && people.isBlocked(other.id));
    })
    .sort((a, b) => activity(b) - activity(a))
    .map((chat) => ({ id: chat.id, title: chatTitle(chat, myId), avatarKey: otherMember(chat, myId)?.id ?? chat.id }));
  forwardDialog.open(targets, async (chatIds) => {
    try {
      const copies = await api.forwardMessage(messageId, chatIds);
      for (const msg of copies) receiveMessage(msg, false);
      toast(copies.length > 1 ? `Forwarded to ${copies.length} chats` : 'Message forwarded');
      return null;
    } catch (err) {
      return actionError('Could not forward the message', err);
    }
  });
}

/**
 * What a refused message action tells the user.
 * @param {string} what
 * @param {unknown} err
 */
function actionError(what, err) {
  if (err instanceof api.ApiError) {
    const reasons = /** @type {Record<string, string>} */ ({
      edit_window_passed: 'the time for editing it has passed',
      delete_window_passed: 'the time for deleting it for everyone has passed',
      message_deleted: 'it was deleted',
      message_not_found: 'it is no longer available',
      blocked: 'you cannot write in this chat',
      not_sender: 'it is not your message',
    });
    const reason = reasons[err.code];
    if (reason) return `${what}: ${reason}.`;
  }
  return `${what}: ${errorText(err)}`;
}

/**
 * Updates a chat's preview if `msg` is its newest message.
 * @param {Message} msg
 */
function noteLastMessage(msg) {
  const chat = state.chats.get(msg.chat_id);
  if (!chat) return;
  if (!chat.last_message || msg.seq >= chat.last_message.seq) chat.last_message = msg;
  renderList();
}

// ---------------------------------------------------------------- chrome

/**
 * @param {import('./js/ws.js').ConnState} connState
 */
function showConnectionState(connState) {
  const banner = dom.banner;
  if (connState === 'open' || connState === 'stopped') {
    banner.hidden = true;
    banner.replaceChildren();
    return;
  }
  // Hidden only once caught up (the answer to `resume`), not when the socket opens.
  const firstTry = !connection.everOpened && connection.failures === 0;
  const reached = connState === 'syncing'; // connected; missed events are arriving
  const text =
    (connState === 'connecting' || reached) && firstTry ? 'Connecting…' : reached ? 'Catching up…' : 'Offline — reconnecting';
  banner.dataset.state = firstTry || reached ? 'connecting' : 'offline';
  const children = [el('span', { class: 'banner-text', text })];
  if (connState === 'offline') {
    const retry = el('button', { class: 'banner-retry', text: 'Retry now', attrs: { type: 'button' } });
    retry.addEventListener('click', () => connection.reconnectNow());
    children.push(retry);
  }
  banner.replaceChildren(...children);
  banner.hidden = false;
}

/** @type {ReturnType<typeof setTimeout> | undefined} */
let toastTimer;

/** @param {string} text */
function toast(text) {
  dom.toast.textContent = text;
  dom.toast.hidden = false;
  clearTimeout(toastTimer);
  toastTimer = setTimeout(() => {
    dom.toast.hidden = true;
  }, 5000);
}

/** @param {unknown} err */
function errorText(err) {
  return err instanceof Error ? err.message : String(err);
}

setup();
void boot();

// ChitChat web client: the entry point. Makes the views and the parts that hold
// and move the state (the modules under js/) and wires them together; what a
// reconnect catches up and what the end of a session forgets are decided here,
// and what the device keeps for when the server cannot be reached.
// Plain ES modules, no build step.

import * as api from './js/api.js';
import { Connection } from './js/ws.js';
import { LoginView } from './js/login.js';
import { ChatListView, chatTitle, isArchived } from './js/chatlist.js';
import { ConversationView } from './js/conversation.js';
import { MessageInfoView } from './js/info.js';
import { EditHistoryView } from './js/edithistory.js';
import { SettingsView } from './js/settings.js';
import { NewGroupView } from './js/groups.js';
import { ChatInfoView } from './js/chatinfo.js';
import { ContactsView } from './js/contacts.js';
import { cancelConfirm } from './js/confirm.js';
import { ForwardDialog } from './js/forward.js';
import { Notifier, notificationsOn } from './js/notifications.js';
import { dropBrowserSubscription, subscribePush } from './js/push.js';
import { startServiceWorker } from './js/serviceworker.js';
import * as people from './js/people.js';
import { PresenceBook, ReceiptOutbox, TypingBook, TypingSender } from './js/live.js';
import { byId } from './js/dom.js';
import { CACHED_MESSAGES, ChatStore } from './js/chatstore.js';
import { ChatSync } from './js/chatsync.js';
import { DEFAULT_SETTINGS } from './js/chatsettings.js';
import { headerInfo, suggestedPeople } from './js/chatstatus.js';
import { HistoryLoader } from './js/history.js';
import { Inbox } from './js/inbox.js';
import { Outbox } from './js/outbox.js';
import { OfflineStore } from './js/offlinestore.js';
import { frameHandler } from './js/frames.js';
import { MessageActions } from './js/messageactions.js';
import { AdminPage } from './js/admin.js';
import { ReportDialog } from './js/report.js';
import { Router } from './js/router.js';
import { Screen } from './js/screen.js';
import { ConnectionBanner } from './js/banner.js';
import { Session } from './js/session.js';
import { toast } from './js/toast.js';
import { Calls } from './js/calls.js';
import { CallView } from './js/callview.js';
import { CallHistoryView } from './js/callhistory.js';
import { callHistory } from './js/callrecord.js';

/** @typedef {import('./js/types.js').User} User */
/** @typedef {import('./js/thread.js').Entry} Entry */

/** Screens at most this wide show one pane at a time. */
const NARROW = window.matchMedia('(max-width: 700px)');
/** After a disconnect this long, who is online is forgotten: presence changes may have been missed. */
const PRESENCE_STALE_MS = 30_000;
/** The chats whose recent messages are kept for offline use without being opened, and when after login. */
const KEPT_UNOPENED_CHATS = 30;
const KEEP_UNOPENED_AFTER_MS = 2000;
/** When the socket was lost (null while connected). @type {number | null} */
let socketLostAt = null;

const me = () => session.me;
const myId = () => session.me?.id ?? '';
const openChatId = () => screen.openChatId;

/** The chat list's menu button: the panels it opens give the focus back to it. */
const menuButton = byId('menu-button');

// ---------------------------------------------------------------- views

const login = new LoginView((result) => session.loggedIn(result));

/** @type {Session} */
const session = new Session({
  login,
  connection: () => connection,
  entered: (user, fromCache) => {
    // Turned on earlier: the server gets this browser's subscription again (it may be new).
    if (!fromCache && notificationsOn()) void subscribePush().catch(() => undefined);
    if (!fromCache) void adminPage.check();
    return fromCache ? showKept(user) : loadApp(user);
  },
  cachedUser: (token) => offline.cachedUser(token),
  dropKept: () => void offline.clear(),
  opened: () => {
    screen.route();
    // Opened from a new device's QR code: confirm it here.
    settings.linkFromAddress();
  },
  ended: () => {
    forgetSession();
    void dropBrowserSubscription().catch(() => undefined);
  },
});

const chatList = new ChatListView({
  onOpenChat: (chatId) => router.openChat(chatId),
  onPickUser: (user) => void startChatWith(user),
  onOpenMessage: (chatId, seq) => {
    if (!screen.openMessage(chatId, seq)) toast('That chat is not available.');
  },
  onChatAction: (chatId, action) => void chatSync.changeSettings(chatId, action),
});

/** @type {ConversationView} */
const conversation = new ConversationView({
  onSend: (text, files, replyTo) => {
    typingOut.stop();
    sendMessage(text, files, replyTo);
  },
  onRetry: (entry) => {
    if (screen.openChatId && entry.cid) outbox.dispatch(screen.openChatId, entry.cid);
  },
  onBack: () => router.goBack(),
  onNeedOlder: () => void historyLoader.loadOlder(),
  onComposerInput: (text) => {
    if (screen.openChatId && conversation.canWrite()) typingOut.input(screen.openChatId, text);
  },
  onViewed: () => inbox.markRead(),
  onMessageInfo: (entry) => openMessageInfo(entry),
  onEditHistory: (entry) => editHistory.open(entry),
  onNeedNewer: () => void historyLoader.loadNewer(),
  onJumpNewest: () => historyLoader.jumpToNewest(),
  onOpenInfo: () => {
    if (screen.openChatId) chatInfo.open(screen.openChatId);
  },
  onSearchChat: () => {
    const chat = screen.openChat();
    if (!chat || !session.me) return;
    if (NARROW.matches) router.goBack(); // the search box is in the list's pane
    chatList.searchIn(chat.id, chatTitle(chat, session.me.id));
  },
  onEdit: (entry, text) => messageActions.edit(entry, text),
  onDelete: (entry, scope) => void messageActions.delete(entry, scope),
  onReact: (entry, emoji) => void messageActions.react(entry, emoji),
  onForward: (entry) => messageActions.forward(entry),
  onReport: (entry) => {
    if (entry.id) reportDialog.open({ message_id: entry.id }, 'a message');
  },
  onQuoteMissing: (replyId) => void historyLoader.revealOriginal(replyId),
  isAdmin: () => {
    const chat = screen.openChat();
    return chat?.type === 'group' && chat.membership?.status !== 'left' && chat.membership?.role === 'admin';
  },
  onCall: (media) => {
    if (screen.openChatId) void calls.start(screen.openChatId, media);
  },
  callAllowed: (members) => calls.allows(members),
});

const forwardDialog = new ForwardDialog();

const reportDialog = new ReportDialog();

const adminPage = new AdminPage();

const messageInfo = new MessageInfoView();

const editHistory = new EditHistoryView();

const settings = new SettingsView({
  onLogout: () => void session.logout(),
  me,
  onNewGroup: () => {
    closeDrawers();
    newGroup.open();
  },
  onContacts: () => {
    closeDrawers();
    contactsView.open();
  },
  onAdmin: () => {
    closeDrawers();
    adminPage.open();
  },
  onCalls: () => {
    closeDrawers();
    callHistoryView.open();
  },
  onOpen: () => closeDrawers(),
  onProfileSaved: (user) => {
    if (!session.me || user.id !== session.me.id) return;
    session.updateMe(user);
    chatInfo.refresh(screen.openChatId ?? '');
  },
});

const newGroup = new NewGroupView({
  suggestions: () => suggestedPeople(store.chats.values(), myId()),
  myId,
  onCreated: (chat) => {
    chatSync.applyChatView(chat);
    chatList.resetSearch();
    chatList.setArchiveView(false);
    router.openChat(chat.id);
  },
  onClosed: () => menuButton.focus(),
});

const chatInfo = new ChatInfoView({
  me,
  onReport: (userId, name) => reportDialog.open({ user_id: userId }, name),
  chat: (chatId) => store.chats.get(chatId),
  onChatView: (view) => chatSync.applyChatView(view),
  suggestions: () => suggestedPeople(store.chats.values(), myId()),
  onPeopleChanged: (userId) => screen.peopleChanged(userId),
  onClosed: () => {
    if (screen.openChatId && !NARROW.matches) conversation.focusComposer();
  },
  toast,
});

const contactsView = new ContactsView({
  onStartChat: (user) => {
    contactsView.reset();
    void startChatWith(user);
  },
  onChanged: (userId) => screen.peopleChanged(userId),
  onClosed: () => menuButton.focus(),
});

/** Calls: ringing, calling, in a call (the socket carries their frames). */
const calls = new Calls(
  {
    send: (frame) => connection.send(frame),
    myId,
    chat: (roomId) => {
      const chat = store.chats.get(roomId);
      return chat ? { title: chatTitle(chat, myId()), isGroup: chat.type === 'group' } : null;
    },
    name: (userId, fallback) => people.displayName(userId, fallback),
    toast,
    notifyRinging: (title, body) => notifier.showCall(title, body),
  },
  new CallView({
    accept: () => void calls.accept(),
    decline: () => calls.decline(),
    hangup: () => calls.hangup(),
    toggleMute: () => calls.toggleMute(),
    toggleCamera: () => calls.toggleCamera(),
    switchCamera: () => void calls.switchCamera(),
    toggleScreenShare: () => void calls.toggleScreenShare(),
  }),
);

/** The "Calls" view: the call records of the chats this page holds. */
const callHistoryView = new CallHistoryView({
  calls: () =>
    callHistory(
      [...store.threads.values()].map((thread) => ({ chatId: thread.chatId, messages: thread.ordered() })),
      store.chats.values(),
      myId(),
    ),
  chatTitle: (chatId) => {
    const chat = store.chats.get(chatId);
    return chat ? chatTitle(chat, myId()) : null;
  },
  canCall: (chatId) => {
    const chat = store.chats.get(chatId);
    return !!chat && !calls.busy && headerInfo(chat, myId()).callMembers >= 2 && calls.allows(chat.members.length);
  },
  onOpenChat: (chatId) => router.openChat(chatId),
  onCall: (chatId, media) => {
    router.openChat(chatId);
    void calls.start(chatId, media);
  },
  onClosed: () => menuButton.focus(),
});

// ---------------------------------------------------------------- state and what moves it

/** Notifications of new messages while the tab is hidden; a click opens the chat. */
const notifier = new Notifier((chatId) => {
  if (session.me && store.chats.has(chatId)) router.openChat(chatId);
});

// A click on a push notification: the chat may be one this page has not loaded yet.
startServiceWorker((chatId) => {
  if (session.me) router.openChat(chatId);
});

/** What the device keeps of the session (chats, recent messages, waiting sends). */
const offline = new OfflineStore();

/** @type {ChatStore} */
const store = new ChatStore((chatId, seq) => notifier.read(chatId, seq)); // read here or elsewhere: its notification has done its job

/** Delivered and read receipts this device sends. @type {ReceiptOutbox} */
const receipts = new ReceiptOutbox((frame) => connection.send(frame));
/** The typing indicator this user sends. */
const typingOut = new TypingSender((frame) => connection.send(frame));
/** Who is typing in which chat. */
const typingIn = new TypingBook((chatId) => {
  screen.renderList();
  if (chatId === screen.openChatId) screen.updateHeaderStatus();
});
/** Who is online, as far as this page has been told. */
const presence = new PresenceBook(() => screen.updateHeaderStatus());

const router = new Router(() => screen.route(), openChatId);

/** @type {ChatSync} */
const chatSync = new ChatSync({
  store,
  me,
  listChanged: () => {
    screen.listChanged();
    cacheSoon();
  },
  chatChanged: (chatId) => {
    screen.chatChanged(chatId);
    cacheSoon();
  },
  rowsChanged: () => {
    screen.renderList();
    cacheSoon();
  },
  progressMoved: (chatId) => inbox.refreshTicks(chatId),
  delivered: (chatId, seq) => receipts.delivered(chatId, seq),
  profileChanged: (userId, change) => {
    if (session.me && session.me.id === userId) session.updateMe({ ...session.me, ...change });
    screen.peopleChanged(userId);
  },
});

/** @type {HistoryLoader} */
const historyLoader = new HistoryLoader({
  store,
  conversation,
  openChatId,
  myId,
  newestMessage: (msg) => inbox.noteLastMessage(msg),
});

/** @type {Screen} */
const screen = new Screen({
  store,
  me,
  app: byId('app'),
  narrow: NARROW,
  chatList,
  conversation,
  chatInfo,
  contactsView,
  messageInfo,
  typingIn,
  typingOut,
  presence,
  historyLoader,
  router,
});

/** @type {Inbox} */
const inbox = new Inbox({
  store,
  chatSync,
  history: historyLoader,
  conversation,
  receipts,
  typingIn,
  notifier,
  messageInfo,
  me,
  openChatId,
  renderList: () => {
    screen.renderList();
    cacheSoon();
  },
  ownStored: (cid) => outbox.settled(cid),
});

/** @type {Outbox} */
const outbox = new Outbox({
  send: (frame) => connection.send(frame),
  thread: (chatId) => store.threads.get(chatId),
  stored: (msg) => inbox.receiveMessage(msg, false),
  changed: (chatId) => {
    if (screen.openChatId === chatId) conversation.render({ mode: 'keep-bottom' });
  },
  journal: {
    keep: (chatId, entry) =>
      offline.putOutbox({
        userId: myId(),
        chatId,
        cid: entry.cid ?? '',
        content: entry.content,
        contentType: entry.contentType,
        replyTo: entry.replyTo,
        createdAt: entry.createdAt,
      }),
    forget: (cid) => void offline.deleteOutbox(cid),
  },
});

/** @type {MessageActions} */
const messageActions = new MessageActions({ store, inbox, forwardDialog, me, openChatId });

// ---------------------------------------------------------------- the socket

/** @type {Connection} */
const connection = new Connection(
  () => {
    const scheme = location.protocol === 'https:' ? 'wss' : 'ws';
    return `${scheme}://${location.host}/ws?token=${encodeURIComponent(api.getToken() ?? '')}`;
  },
  {
    onFrame: cachingAfter(frameHandler({
      myId: () => session.me?.id,
      message: (msg, live) => {
        inbox.receiveMessage(msg, live);
        if (msg.system?.action === 'call') callHistoryView.refresh();
      },
      resync: (chatId, position) => inbox.resync(chatId, position),
      receiptAnswered: (frameId) => receipts.answered(frameId),
      acked: (frameId) => outbox.acked(frameId),
      refused: (frameId, reason) => {
        if (calls.refused(frameId, reason)) return;
        if (!outbox.refused(frameId, reason)) toast(reason);
      },
      statusUpdate: (chatId, payload) => inbox.applyStatusUpdate(chatId, payload),
      typing: (chatId, userId, typing, expiresInMs) => {
        typingIn.set(chatId, userId, typing, expiresInMs);
        // Only a connected device can be typing.
        if (typing) presence.set(userId, true, null);
      },
      presence: (userId, online, lastSeen) => {
        if (!online) {
          typingIn.clearUser(userId);
          if (lastSeen) store.noteLastSeen(userId, lastSeen);
        }
        presence.set(userId, online, lastSeen);
      },
      chatUpdate: (view) => chatSync.applyChatUpdate(view),
      messageUpdate: (msg, update) => inbox.applyMessageUpdate(msg, update),
      messageHidden: (chatId, messageId) => inbox.hideMessage(chatId, messageId),
      chatSettings: (chatId, value) => chatSync.applyChatSettings(chatId, value),
      blockUpdate: (userId, blocked) => {
        people.noteBlocked(userId, blocked);
        screen.peopleChanged(userId);
      },
      userUpdate: (payload) => chatSync.applyProfile(payload),
      sessionRevoked: () => session.revoked(),
      position: (chatId, position) => store.notePosition(chatId, position),
      call: (frame) => calls.handle(frame),
    })),
    onState: (connState) => {
      if ((connState === 'offline' || connState === 'connecting') && connection.everOpened && socketLostAt === null) {
        socketLostAt = Date.now();
      }
      banner.show(connState);
    },
    positions: () => store.positions,
    onOpen: () => {
      outbox.socketReplaced(); // frames sent on an old socket will never be acked
      receipts.socketLost(); // receipts too: they go out again once caught up
      typingOut.reset();
    },
    onRevoked: () => session.revoked(),
    onReady: (_reconnected, result) => {
      if (socketLostAt !== null && Date.now() - socketLostAt > PRESENCE_STALE_MS) presence.clear();
      socketLostAt = null;
      // Every replayed event has been handled by now (they come before this answer).
      for (const [chatId, position] of result.chats) store.notePosition(chatId, position);
      for (const chatId of result.notFound) store.positions.delete(chatId);
      // Settings changed on another device while this one was away.
      if (result.settings) for (const chatId of result.chats.keys()) chatSync.applyChatSettings(chatId, result.settings.get(chatId) ?? DEFAULT_SETTINGS);
      const openThread = screen.openChatId ? store.threads.get(screen.openChatId) : undefined;
      // No replay (a server without resume), messages shown from what the device
      // kept, or a history that could not be loaded while unreachable: the REST
      // history catches the open chat up.
      const unloaded = openThread && !openThread.loaded && !historyLoader.newestLoads.has(openThread.chatId);
      if (screen.openChatId && (result.failed || session.fromCache || unloaded)) void historyLoader.loadNewest(screen.openChatId);
      // Chats started by others while this device was away are in no resume: the
      // list brings them (and their positions).
      void chatSync.refreshChats();
      void loadServerConfig();
      if (session.fromCache) {
        // Started from what the device kept: the server's word on the user now.
        void session.confirm().then(() => {
          if (session.me && !session.fromCache) void loadContacts(session.me);
        });
      }
      outbox.resendPending(store.threads.values());
      calls.socketReady();
      receipts.flush();
      inbox.markRead();
    },
    onFailure: () => {
      // A refused upgrade looks like any other failure; ask HTTP whether the
      // session still stands (a 401 there ends it through the handler).
      if (api.getToken()) api.verify().catch(() => {});
    },
  },
);

const banner = new ConnectionBanner(connection);

// ---------------------------------------------------------------- page and session

/** Listens to the page and the network, then starts the session. */
function setup() {
  window.addEventListener('online', () => connection.reconnectNow());
  // An open socket can outlive the network unnoticed for a long time: drop it at
  // once, show "offline", and resume when the network is back.
  window.addEventListener('offline', () => connection.drop());
  document.addEventListener('visibilitychange', () => {
    if (document.visibilityState !== 'visible') {
      void offline.saveNow(); // a hidden tab may be closed without another word
      return;
    }
    connection.reconnectNow();
    inbox.markRead(); // what arrived while the tab was hidden is on screen now
  });
  // "last seen today at …" turns into "yesterday" at midnight.
  setInterval(() => screen.updateHeaderStatus(), 60_000);
  // Leaving the page: the others' "typing…" goes now rather than when it expires.
  window.addEventListener('pagehide', () => {
    calls.hangup(); // the others need not wait for this device to come back
    typingOut.stop();
    void offline.saveNow();
  });
  NARROW.addEventListener('change', () => screen.syncView());
  session.start();
}

/**
 * What the app shows once the user is in; the chat list first: its positions go
 * into the socket's first `resume`, so the server replays whatever happens between
 * the two.
 * @param {User} user
 */
async function loadApp(user) {
  const token = api.getToken();
  if (token) void offline.begin(user, token);
  void loadContacts(user);
  void loadServerConfig();
  await chatSync.refreshChats();
  await restoreOutbox(user);
  // The chats not opened here are kept too, a moment later and one at a time, so
  // that all of them show their recent messages when the server cannot be reached.
  setTimeout(() => {
    if (session.me !== user) return;
    const chatIds = [...store.chats.keys()].slice(0, KEPT_UNOPENED_CHATS);
    void offline.keepUnopened(user.id, chatIds, (chatId) => api.getMessages(chatId, CACHED_MESSAGES));
  }, KEEP_UNOPENED_AFTER_MS);
}

/**
 * What the app shows when the server could not be reached at start: what the
 * device kept of the session (the chats, their recent messages, the waiting
 * sends). The socket's reconnects bring the server's word once it answers.
 * @param {User} user
 */
async function showKept(user) {
  const token = api.getToken();
  if (token) void offline.begin(user, token);
  const kept = await offline.load(user.id);
  if (session.me !== user) return;
  if (kept.state && store.restore(kept.state, kept.messages, user.id)) {
    for (const chat of store.chats.values()) for (const member of chat.members) people.noteUser(member.user);
  }
  await restoreOutbox(user);
  if (session.me === user) screen.listChanged();
}

/**
 * The own messages a previous page left waiting, back in their chats.
 * @param {User} user
 */
async function restoreOutbox(user) {
  const kept = await offline.outbox(user.id);
  if (session.me !== user || kept.length === 0) return;
  outbox.restore(kept, (chatId) => store.threadFor(chatId), user.id);
}

/** Writes what the device keeps after a change (at most every half second: several changes make one write). */
function cacheSoon() {
  if (!session.me) return;
  offline.saveSoon(() => {
    outbox.sweep(); // confirmed by a history page, say: no longer kept
    return store.snapshot();
  });
}

/**
 * Every frame may change what the device keeps.
 * @param {(frame: import('./js/types.js').Frame) => void} handle
 * @returns {(frame: import('./js/types.js').Frame) => void}  `handle`, then the cache written soon
 */
function cachingAfter(handle) {
  return (frame) => {
    handle(frame);
    cacheSoon();
  };
}

/** The server told its limits (asked again after a reconnect until it does). */
let configLoaded = false;

/** Asks the server for its limits (again after a reconnect, until it answers). */
async function loadServerConfig() {
  if (configLoaded) return;
  try {
    const config = await api.getConfig();
    configLoaded = true;
    conversation.setWindows({ editMs: config.edit_window_seconds * 1000, deleteMs: config.delete_window_seconds * 1000 });
    chatList.setQueryLimits(config.message_search_max_chars, config.people_search_max_chars);
    calls.setMaxParticipants(config.call_max_participants);
    if (screen.openChatId) screen.chatChanged(screen.openChatId); // the call buttons follow the limit
  } catch {
    // Asked again on the next reconnect; meanwhile Edit and Delete for everyone wait.
  }
}

/**
 * The saved contacts (their aliases name people everywhere).
 * @param {User} user  the session they are loaded for
 */
async function loadContacts(user) {
  try {
    const contacts = await api.listContacts();
    if (session.me !== user) return;
    people.setContacts(contacts);
    screen.peopleChanged(null);
  } catch {
    // Names fall back to the profiles; the contacts panel shows the error if it persists.
  }
}

/** Closes the panels that cover the chat list (one at a time). */
function closeDrawers() {
  newGroup.reset();
  contactsView.reset();
  settings.reset();
}

/** The session ended: everything of it is forgotten, every panel closed. */
function forgetSession() {
  calls.clear();
  callHistoryView.close();
  void offline.clear();
  outbox.clear();
  store.clear();
  chatSync.clear();
  socketLostAt = null;
  historyLoader.clear();
  receipts.clear();
  notifier.clear();
  typingOut.reset();
  typingIn.clearAll();
  presence.clear();
  chatList.resetSearch();
  chatList.closeMenu(false);
  chatList.setArchiveView(false);
  screen.clear();
  settings.reset();
  newGroup.reset();
  contactsView.reset();
  chatInfo.reset();
  cancelConfirm();
  people.clear();
  messageInfo.close();
  banner.hide();
  if (location.hash) router.clearAddress();
}

// ---------------------------------------------------------------- actions

/** @param {User} user */
async function startChatWith(user) {
  try {
    const chat = await api.createDirectChat(user.id);
    people.noteUser(user);
    if (!store.chats.has(chat.id)) store.chats.set(chat.id, chatSync.absorbChat(chat));
    chatList.resetSearch();
    if (isArchived(chat)) chatList.setArchiveView(true);
    screen.renderList();
    router.openChat(chat.id);
  } catch (err) {
    toast(err instanceof Error ? err.message : String(err));
  }
}

/**
 * "Message info" of an own message.
 * @param {Entry} entry
 */
function openMessageInfo(entry) {
  const chat = screen.openChat();
  if (!chat || !session.me || !entry.id) return;
  /** @type {Map<string, User>} */
  const others = new Map();
  for (const member of chat.members) if (member.user_id !== session.me.id) others.set(member.user_id, member.user);
  messageInfo.open(chat.id, entry, others);
}

/**
 * Sends the text, or the uploaded files with the text as their caption (see the
 * outbox), in the open chat.
 * @param {string} text
 * @param {import('./js/types.js').Attachment[]} [files]
 * @param {Entry | null} [replyTo]  the message it replies to
 */
function sendMessage(text, files = [], replyTo = null) {
  const chatId = screen.openChatId;
  const thread = chatId ? store.threads.get(chatId) : undefined;
  if (!chatId || !thread || !session.me || !conversation.canWrite()) return;
  // Written while reading further back: the conversation returns to the newest messages.
  if (thread.detached) historyLoader.jumpToNewest();
  const cids = outbox.compose(thread, session.me.id, text, files, replyTo);
  conversation.render({ mode: 'bottom' });
  void outbox.send(chatId, cids);
}

setup();

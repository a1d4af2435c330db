// The right pane: header, message history with day separators, system notices
// and sender names in groups, composer (or why there is none).

import { avatar, colorSlot, dayKey, dayLabel, el, formatTime, icon, menuKeys, reconcile } from './dom.js';
import { displayName } from './people.js';
import { attachmentsView } from './attachments.js';
import { UploadTray } from './uploads.js';
import { DELETED_TEXT } from './thread.js';
import { linkified } from './links.js';
import { callOf, callRecordText } from './callrecord.js';

/** @typedef {import('./thread.js').Thread} Thread */
/** @typedef {import('./thread.js').Entry} Entry */

/** How close to the top (px) triggers loading older history. */
const TOP_THRESHOLD = 80;
/** How close to the bottom (px) counts as "at the bottom". */
const BOTTOM_THRESHOLD = 120;
/** How long a message found by search stays highlighted. */
const HIGHLIGHT_MS = 2500;
/**
 * How long after sending the server lets its sender edit a message, and delete it
 * for everyone (from `GET /api/config`).
 * @typedef {object} MessageWindows
 * @property {number} editMs
 * @property {number} deleteMs
 */
/** The reactions offered in the message menu. */
const QUICK_REACTIONS = ['👍', '❤️', '😂', '😮', '😢', '🙏'];

/**
 * What the composer is doing besides writing a new message.
 * @typedef {{ kind: 'reply' | 'edit', entry: Entry } | null} ComposerContext
 */

/**
 * @typedef {object} ConversationHandlers
 * @property {(text: string, files: import('./types.js').Attachment[], replyTo: Entry | null) => void} onSend
 *   text, the uploaded files to send with it, and the message it replies to
 * @property {(entry: Entry) => void} onRetry
 * @property {() => void} onBack
 * @property {() => void} onNeedOlder
 * @property {(text: string) => void} onComposerInput  the draft changed (typing indicator)
 * @property {() => void} onViewed   the newest messages are in view (after a render or a scroll)
 * @property {(entry: Entry) => void} onMessageInfo  "Message info" was picked for an own message
 * @property {(entry: Entry) => void} onEditHistory  the "edited" label of a message was clicked
 * @property {() => void} onNeedNewer   a window further back is shown and its bottom is in view
 * @property {() => void} onJumpNewest  "scroll to the newest" while a window further back is shown
 * @property {() => void} onOpenInfo    the header was clicked: group or contact info
 * @property {() => void} onSearchChat  "Search in this chat" was clicked
 * @property {(entry: Entry, text: string) => Promise<boolean>} onEdit  saves an edit; resolves whether it was saved
 * @property {(entry: Entry, scope: 'me' | 'everyone') => void} onDelete
 * @property {(entry: Entry, emoji: string | null) => void} onReact  sets (or, with null, takes back) the own reaction
 * @property {(entry: Entry) => void} onForward
 * @property {(entry: Entry) => void} onReport  "Report" was picked on someone else's message
 * @property {(replyId: string) => void} onQuoteMissing  a reply's original is not among the messages held
 * @property {() => boolean} isAdmin  the user is an admin of the open group (may delete anyone's messages)
 * @property {(media: 'voice' | 'video') => void} onCall  a call button of the header was clicked
 * @property {(members: number) => boolean} callAllowed  whether a chat of this many members may call
 */

/**
 * What the header shows of a chat.
 * @typedef {object} HeaderInfo
 * @property {string} title
 * @property {string} subtitle   a tooltip for the title (the phone)
 * @property {string} avatarKey  what picks the avatar's colour
 * @property {boolean} isGroup
 * @property {string} members    a group's line under the title ("3 members"), '' otherwise
 * @property {string} membersTitle  the members' names, as a tooltip
 * @property {number} callMembers  the people a call from here would ring, the user included (0: no call from here)
 */

/**
 * The header's line under the title.
 * @typedef {object} HeaderStatus
 * @property {string | null} typing   e.g. "typing…", shown instead of the presence
 * @property {string} presence        "online", "last seen today at 14:05", or ''
 * @property {'online' | 'offline' | 'unknown' | 'none'} state  where the presence comes from:
 *   a frame said online / offline, or only the stored last seen is known
 */

/**
 * @param {string} selector
 * @returns {HTMLElement}
 */
function $(selector) {
  const node = document.querySelector(selector);
  if (!(node instanceof HTMLElement)) throw new Error(`missing ${selector}`);
  return node;
}

export class ConversationView {
  /** @param {ConversationHandlers} handlers */
  constructor(handlers) {
    this.handlers = handlers;
    this.root = $('#conversation');
    this.emptyState = $('#conversation-empty');
    this.pane = $('#conversation-pane');
    this.title = $('#conversation-title');
    this.statusLine = $('#conversation-status');
    this.typingLabel = $('#conversation-typing');
    this.presenceLabel = $('#conversation-presence');
    this.membersLabel = $('#conversation-members');
    this.infoButton = /** @type {HTMLButtonElement} */ ($('#chat-info-button'));
    this.heading = $('#conversation-heading');
    this.readonlyBar = $('#readonly-bar');
    this.readonlyText = $('#readonly-text');
    this.menu = $('#message-menu');
    this.menuInfo = /** @type {HTMLButtonElement} */ ($('#message-menu-info'));
    this.menuCopy = /** @type {HTMLButtonElement} */ ($('#message-menu-copy'));
    this.menuReply = /** @type {HTMLButtonElement} */ ($('#message-menu-reply'));
    this.menuForward = /** @type {HTMLButtonElement} */ ($('#message-menu-forward'));
    this.menuEdit = /** @type {HTMLButtonElement} */ ($('#message-menu-edit'));
    this.menuDeleteMe = /** @type {HTMLButtonElement} */ ($('#message-menu-delete-me'));
    this.menuDeleteAll = /** @type {HTMLButtonElement} */ ($('#message-menu-delete-all'));
    this.menuReport = /** @type {HTMLButtonElement} */ ($('#message-menu-report'));
    this.menuReactions = $('#message-menu-reactions');
    for (const emoji of QUICK_REACTIONS) {
      this.menuReactions.append(
        el('button', {
          class: 'reaction-choice',
          testid: 'reaction-choice',
          text: emoji,
          attrs: { type: 'button', role: 'menuitem', 'data-emoji': emoji, 'aria-label': `React ${emoji}` },
        }),
      );
    }
    this.contextBar = $('#composer-context');
    this.contextLabel = $('#composer-context-label');
    this.contextText = $('#composer-context-text');
    this.contextCancel = /** @type {HTMLButtonElement} */ ($('#composer-context-cancel'));
    /** @type {ComposerContext} */
    this.context = null;
    this.avatarSlot = $('#conversation-avatar');
    this.scroller = $('#messages');
    this.list = $('#message-list');
    this.olderStatus = $('#older-status');
    this.jumpButton = /** @type {HTMLButtonElement} */ ($('#jump-bottom'));
    this.form = /** @type {HTMLFormElement} */ ($('#composer-form'));
    this.composer = /** @type {HTMLTextAreaElement} */ ($('#composer'));
    this.sendButton = /** @type {HTMLButtonElement} */ ($('#send-button'));
    this.backButton = /** @type {HTMLButtonElement} */ ($('#back-button'));
    this.attachButton = /** @type {HTMLButtonElement} */ ($('#attach-button'));
    this.fileInput = /** @type {HTMLInputElement} */ ($('#file-input'));
    this.dropHint = $('#drop-hint');
    this.tray = new UploadTray($('#upload-tray'), () => {});

    /** @type {Thread | null} */
    this.thread = null;
    /** @type {string | null} */
    this.myId = null;
    /** @type {Map<string, HTMLElement>} */
    this.nodes = new Map();
    /** @type {Map<string, HTMLElement>} */
    this.separators = new Map();
    /** The entry the message menu is open for. @type {Entry | null} */
    this.menuEntry = null;
    /** What opened the menu, to return focus to. @type {HTMLElement | null} */
    this.menuOpener = null;
    /** Sender names are shown on others' bubbles (groups). */
    this.isGroup = false;
    /** @type {ReturnType<typeof setTimeout> | undefined} */
    this.highlightTimer = undefined;
    /** The server's windows; until they are known, Edit and Delete for everyone wait. @type {MessageWindows | null} */
    this.windows = null;

    this.form.addEventListener('submit', (event) => {
      event.preventDefault();
      this.submit();
    });
    this.composer.addEventListener('keydown', (event) => {
      if (event.key === 'Enter' && !event.shiftKey && !event.isComposing) {
        event.preventDefault();
        this.submit();
      } else if (event.key === 'Escape' && this.context) {
        event.preventDefault();
        this.cancelContext();
      }
    });
    this.contextCancel.addEventListener('click', () => this.cancelContext());
    this.composer.addEventListener('input', () => {
      this.autosize();
      this.handlers.onComposerInput(this.composer.value);
    });
    this.backButton.addEventListener('click', () => this.handlers.onBack());
    this.attachButton.addEventListener('click', () => this.fileInput.click());
    this.fileInput.addEventListener('change', () => {
      if (this.fileInput.files && this.canWrite()) this.tray.add([...this.fileInput.files]);
      this.fileInput.value = '';
    });
    // Files dropped anywhere on the conversation join the tray.
    let dragDepth = 0;
    const carriesFiles = (/** @type {DragEvent} */ event) => !!event.dataTransfer && [...event.dataTransfer.types].includes('Files');
    this.pane.addEventListener('dragenter', (event) => {
      if (!carriesFiles(event) || !this.canWrite()) return;
      event.preventDefault();
      dragDepth += 1;
      this.dropHint.hidden = false;
    });
    this.pane.addEventListener('dragover', (event) => {
      if (!carriesFiles(event) || !this.canWrite()) return;
      event.preventDefault();
      if (event.dataTransfer) event.dataTransfer.dropEffect = 'copy';
    });
    this.pane.addEventListener('dragleave', () => {
      dragDepth = Math.max(0, dragDepth - 1);
      if (dragDepth === 0) this.dropHint.hidden = true;
    });
    this.pane.addEventListener('drop', (event) => {
      dragDepth = 0;
      this.dropHint.hidden = true;
      if (!carriesFiles(event) || !this.canWrite()) return;
      event.preventDefault();
      if (event.dataTransfer) this.tray.add([...event.dataTransfer.files]);
    });
    this.infoButton.addEventListener('click', () => this.handlers.onOpenInfo());
    $('#chat-search-button').addEventListener('click', () => this.handlers.onSearchChat());
    this.voiceCallButton = /** @type {HTMLButtonElement} */ ($('#call-voice-button'));
    this.videoCallButton = /** @type {HTMLButtonElement} */ ($('#call-video-button'));
    this.voiceCallButton.addEventListener('click', () => this.handlers.onCall('voice'));
    this.videoCallButton.addEventListener('click', () => this.handlers.onCall('video'));
    // The avatar and title open the info too (the button is the keyboard's way).
    this.heading.addEventListener('click', () => this.handlers.onOpenInfo());
    this.avatarSlot.addEventListener('click', () => this.handlers.onOpenInfo());
    this.jumpButton.addEventListener('click', () => {
      if (this.thread?.detached) this.handlers.onJumpNewest();
      else this.scrollToBottom(true);
    });
    this.scroller.addEventListener(
      'scroll',
      () => {
        this.closeMenu(false);
        this.onScroll();
      },
      { passive: true },
    );
    this.list.addEventListener('click', (event) => {
      const target = event.target instanceof Element ? event.target : null;
      if (!target || !this.thread) return;
      const retry = target.closest('[data-retry]');
      if (retry) {
        const entry = this.entryByKey(retry.getAttribute('data-retry'));
        if (entry) this.handlers.onRetry(entry);
        return;
      }
      const history = target.closest('[data-history-of]');
      if (history) {
        const entry = this.entryByKey(history.getAttribute('data-history-of'));
        if (entry) this.handlers.onEditHistory(entry);
        return;
      }
      const quote = target.closest('[data-quote-of]');
      if (quote) {
        this.jumpToOriginal(quote.getAttribute('data-quote-of') ?? '');
        return;
      }
      const chip = target.closest('[data-react-to]');
      if (chip instanceof HTMLElement) {
        const entry = this.entryByKey(chip.dataset.reactTo ?? null);
        const emoji = chip.dataset.emoji ?? '';
        if (entry && emoji && this.canWrite()) this.handlers.onReact(entry, entry.myReaction === emoji ? null : emoji);
        return;
      }
      const menuButton = target.closest('[data-menu-for]');
      if (menuButton instanceof HTMLElement) {
        const entry = this.entryByKey(menuButton.getAttribute('data-menu-for'));
        if (entry) this.openMenu(entry, menuButton, null);
      }
    });
    // Right-click (and long-press, which fires contextmenu on touch screens) on a bubble.
    this.list.addEventListener('contextmenu', (event) => {
      const node = event.target instanceof Element ? event.target.closest('[data-testid="message"]') : null;
      if (!(node instanceof HTMLElement) || !this.thread) return;
      const entry = this.entryByKey(node.dataset.key ?? null);
      if (!entry || !entry.id || entry.contentType === 'system') return;
      event.preventDefault();
      const button = node.querySelector('[data-menu-for]');
      this.openMenu(entry, button instanceof HTMLElement ? button : node, { x: event.clientX, y: event.clientY });
    });
    /**
     * A menu item acting on the message the menu is open for.
     * @param {HTMLButtonElement} item
     * @param {(entry: Entry) => void} act
     * @param {boolean} [restoreFocus]  back to the message's button (nothing else takes the focus)
     */
    const onPick = (item, act, restoreFocus = false) =>
      item.addEventListener('click', () => {
        const entry = this.menuEntry;
        this.closeMenu(restoreFocus);
        if (entry) act(entry);
      });
    onPick(this.menuInfo, (entry) => this.handlers.onMessageInfo(entry));
    onPick(
      this.menuCopy,
      (entry) => {
        if (navigator.clipboard) void navigator.clipboard.writeText(entry.content).catch(() => {});
      },
      true,
    );
    onPick(this.menuReply, (entry) => this.startContext('reply', entry));
    onPick(this.menuEdit, (entry) => this.startContext('edit', entry));
    onPick(this.menuForward, (entry) => this.handlers.onForward(entry));
    onPick(this.menuDeleteMe, (entry) => this.handlers.onDelete(entry, 'me'));
    onPick(this.menuDeleteAll, (entry) => this.handlers.onDelete(entry, 'everyone'));
    onPick(this.menuReport, (entry) => this.handlers.onReport(entry));
    this.menuReactions.addEventListener('click', (event) => {
      const choice = event.target instanceof Element ? event.target.closest('[data-emoji]') : null;
      const entry = this.menuEntry;
      if (!(choice instanceof HTMLElement) || !entry) return;
      const emoji = choice.dataset.emoji ?? '';
      this.closeMenu(true);
      this.handlers.onReact(entry, entry.myReaction === emoji ? null : emoji);
    });
    this.menu.addEventListener('keydown', (event) => menuKeys(this.menu, event, () => this.closeMenu(true)));
    document.addEventListener('pointerdown', (event) => {
      if (this.menu.hidden) return;
      const target = event.target instanceof Node ? event.target : null;
      if (target && (this.menu.contains(target) || this.menuOpener?.contains(target))) return;
      this.closeMenu(false);
    });
  }

  /**
   * @private
   * @param {string | null} key
   */
  entryByKey(key) {
    return this.thread?.entries.find((e) => e.key === key) ?? null;
  }

  /**
   * Opens the options of one message, under its button or at the pointer.
   * @private
   * @param {Entry} entry
   * @param {HTMLElement} opener
   * @param {{ x: number, y: number } | null} at
   */
  openMenu(entry, opener, at) {
    if (!entry.id) return;
    if (!this.menu.hidden && this.menuEntry === entry && !at) {
      this.closeMenu(true);
      return;
    }
    this.closeMenu(false);
    const own = entry.senderId === this.myId;
    const live = !entry.deletedAt;
    const writable = live && this.canWrite();
    const age = Date.now() - Date.parse(entry.createdAt);
    const windows = this.windows;
    this.menuEntry = entry;
    this.menuOpener = opener;
    this.menuReactions.hidden = !writable;
    for (const choice of this.menuReactions.querySelectorAll('[data-emoji]')) {
      if (!(choice instanceof HTMLElement)) continue;
      // Hidden one by one too: the menu's keys skip hidden items, not hidden groups.
      choice.hidden = !writable;
      const mine = choice.dataset.emoji === entry.myReaction;
      choice.setAttribute('aria-pressed', String(mine));
      choice.setAttribute('aria-label', mine ? `Remove reaction ${entry.myReaction}` : `React ${choice.textContent}`);
    }
    this.menuReply.hidden = !writable;
    this.menuForward.hidden = !live;
    // Others' messages only: what the admins get is a copy of it.
    this.menuReport.hidden = !live || own || entry.contentType === 'system';
    this.menuEdit.hidden = !(writable && own && entry.contentType === 'text' && !entry.forwarded && !!windows && age < windows.editMs);
    this.menuInfo.hidden = !own;
    this.menuCopy.hidden = !navigator.clipboard || !live || !entry.content;
    this.menuDeleteMe.hidden = false;
    this.menuDeleteAll.hidden = !(writable && ((own && !!windows && age < windows.deleteMs) || (this.isGroup && this.handlers.isAdmin())));
    opener.setAttribute('aria-expanded', 'true');
    this.menu.hidden = false;
    const pane = this.pane.getBoundingClientRect();
    const anchor = at ?? (() => {
      const r = opener.getBoundingClientRect();
      return { x: own ? r.right : r.left, y: r.bottom };
    })();
    const width = this.menu.offsetWidth;
    const height = this.menu.offsetHeight;
    let left = own ? anchor.x - width : anchor.x;
    left = Math.min(Math.max(8, left - pane.left), pane.width - width - 8);
    let top = anchor.y - pane.top + 4;
    if (top + height > pane.height - 8) top = Math.max(8, anchor.y - pane.top - height - 28);
    this.menu.style.left = `${left}px`;
    this.menu.style.top = `${top}px`;
    const first = [...this.menu.querySelectorAll('[role="menuitem"]')].find((n) => n instanceof HTMLElement && !n.hidden);
    if (first instanceof HTMLElement) first.focus();
  }

  /**
   * @private
   * @param {boolean} restoreFocus
   */
  closeMenu(restoreFocus) {
    if (this.menu.hidden) return;
    this.menu.hidden = true;
    const opener = this.menuOpener;
    opener?.setAttribute('aria-expanded', 'false');
    this.menuEntry = null;
    this.menuOpener = null;
    if (restoreFocus && opener?.isConnected) opener.focus({ preventScroll: true });
  }

  /**
   * Shows a chat. Keeps the composer's draft only when re-showing the same chat.
   * @param {Thread} thread
   * @param {HeaderInfo} info
   * @param {string} myId
   */
  show(thread, info, myId) {
    const sameChat = this.thread?.chatId === thread.chatId;
    if (!sameChat) this.closeMenu(false);
    this.thread = thread;
    this.myId = myId;
    this.emptyState.hidden = true;
    this.pane.hidden = false;
    this.setHeader(info);
    if (!sameChat) {
      this.nodes.clear();
      this.separators.clear();
      this.list.replaceChildren();
      this.composer.value = '';
      this.setContext(null);
      this.autosize();
      this.tray.clear();
    }
    this.setOlderStatus('');
    this.render({ mode: 'bottom' });
  }

  /**
   * The edit and delete windows the server enforces.
   * @param {MessageWindows} windows
   */
  setWindows(windows) {
    this.windows = windows;
  }

  /** @param {HeaderInfo} info */
  setHeader(info) {
    if (this.title.textContent !== info.title) this.title.textContent = info.title;
    this.title.title = info.subtitle;
    const current = this.avatarSlot.firstElementChild;
    if (!(current instanceof HTMLElement) || current.dataset.key !== `${info.avatarKey}:${info.title}`) {
      const node = avatar(info.title, info.avatarKey);
      node.dataset.key = `${info.avatarKey}:${info.title}`;
      this.avatarSlot.replaceChildren(node);
    }
    this.infoButton.setAttribute('aria-label', info.isGroup ? 'Group info' : 'Contact info');
    this.infoButton.title = info.isGroup ? 'Group info' : 'Contact info';
    if (this.membersLabel.textContent !== info.members) this.membersLabel.textContent = info.members;
    this.membersLabel.title = info.membersTitle;
    this.membersLabel.dataset.shown = String(!!info.members);
    const callable = info.callMembers >= 2 && this.handlers.callAllowed(info.callMembers);
    this.voiceCallButton.hidden = !callable;
    this.videoCallButton.hidden = !callable;
    if (this.isGroup !== info.isGroup) {
      this.isGroup = info.isGroup;
      if (this.thread) this.render({ mode: 'keep-bottom' });
    }
    this.syncStatusLine();
  }

  /**
   * Hides the composer and says why (a former member of a group, a blocked
   * person), or shows it again with `null`.
   * @param {string | null} text
   */
  setReadOnly(text) {
    const readOnly = text !== null;
    if (readOnly) this.readonlyText.textContent = text;
    this.readonlyBar.hidden = !readOnly;
    const wasShown = !this.form.hidden;
    this.form.hidden = readOnly;
    if (readOnly) {
      this.tray.clear();
      this.setContext(null);
    }
    if (!readOnly && !wasShown) this.autosize();
  }

  /** Whether the composer is shown. */
  canWrite() {
    return !this.form.hidden;
  }

  /** @private The status line: typing, else presence (direct) or the members (group). */
  syncStatusLine() {
    const typing = !this.typingLabel.hidden;
    const members = this.membersLabel.dataset.shown === 'true';
    this.membersLabel.hidden = typing || !members;
    this.statusLine.hidden = this.typingLabel.hidden && this.presenceLabel.hidden && this.membersLabel.hidden;
  }

  /**
   * The line under the title: "typing…", else the presence.
   * @param {HeaderStatus} status
   */
  setStatus(status) {
    const typing = status.typing ?? '';
    if (this.typingLabel.textContent !== typing) this.typingLabel.textContent = typing;
    this.typingLabel.hidden = !typing;
    if (this.presenceLabel.textContent !== status.presence) this.presenceLabel.textContent = status.presence;
    this.presenceLabel.dataset.state = status.state;
    this.presenceLabel.hidden = !!typing || !status.presence;
    this.syncStatusLine();
  }

  /** The draft in the composer. */
  draft() {
    return this.composer.value;
  }

  hide() {
    this.closeMenu(false);
    this.setContext(null);
    this.tray.clear();
    clearTimeout(this.highlightTimer);
    this.thread = null;
    this.nodes.clear();
    this.separators.clear();
    this.list.replaceChildren();
    this.pane.hidden = true;
    this.emptyState.hidden = false;
  }

  focusComposer() {
    this.composer.focus({ preventScroll: true });
  }

  /** @param {string} text */
  setOlderStatus(text) {
    this.olderStatus.textContent = text;
    this.olderStatus.hidden = !text;
  }

  isNearBottom() {
    const s = this.scroller;
    return s.scrollHeight - s.scrollTop - s.clientHeight < BOTTOM_THRESHOLD;
  }

  /** @param {boolean} [smooth] */
  scrollToBottom(smooth = false) {
    this.scroller.scrollTo({ top: this.scroller.scrollHeight, behavior: smooth ? 'smooth' : 'auto' });
    this.jumpButton.hidden = true;
  }

  /** @private */
  onScroll() {
    if (!this.thread) return;
    const atBottom = this.isNearBottom();
    this.jumpButton.hidden = atBottom && !this.thread.detached;
    if (atBottom && this.thread.detached) this.handlers.onNeedNewer();
    else if (atBottom) this.handlers.onViewed();
    if (this.scroller.scrollTop < TOP_THRESHOLD) this.handlers.onNeedOlder();
  }

  /**
   * Scrolls a message into the middle of the view and highlights it for a moment.
   * Returns false when it is not in what is shown.
   * @param {number} seq
   */
  focusMessage(seq) {
    const node = this.list.querySelector(`[data-seq="${seq}"]`);
    if (!(node instanceof HTMLElement)) return false;
    for (const old of this.list.querySelectorAll('.msg--highlight')) {
      old.classList.remove('msg--highlight');
      if (old instanceof HTMLElement) delete old.dataset.highlighted;
    }
    node.scrollIntoView({ block: 'center' });
    node.classList.add('msg--highlight');
    node.dataset.highlighted = 'true';
    clearTimeout(this.highlightTimer);
    this.highlightTimer = setTimeout(() => {
      node.classList.remove('msg--highlight');
      delete node.dataset.highlighted;
    }, HIGHLIGHT_MS);
    this.jumpButton.hidden = this.isNearBottom() && !this.thread?.detached;
    return true;
  }

  /** Whether older history should be fetched because the list does not fill the pane yet. */
  wantsMore() {
    return !!this.thread && this.scroller.scrollHeight <= this.scroller.clientHeight + TOP_THRESHOLD;
  }

  /**
   * Redraws the history.
   * - 'bottom': scroll to the newest message
   * - 'keep-bottom': new messages; follow them only if the reader was at the bottom
   * - 'prepend': older history was added above; keep what is on screen where it is
   * - 'append': newer history was added below a window further back; nothing moves
   * @param {{ mode: 'bottom' | 'keep-bottom' | 'prepend' | 'append' }} options
   */
  render({ mode }) {
    const thread = this.thread;
    if (!thread) return;
    const wasNearBottom = this.isNearBottom();
    const oldHeight = this.scroller.scrollHeight;
    const oldTop = this.scroller.scrollTop;

    /** @type {Node[]} */
    const nodes = [];
    /** @type {Set<string>} */
    const liveKeys = new Set();
    /** @type {Set<string>} */
    const liveDays = new Set();
    let lastDay = '';
    let lastSender = '';
    for (const entry of thread.ordered()) {
      const day = dayKey(entry.createdAt);
      if (day !== lastDay) {
        nodes.push(this.separator(day, entry.createdAt));
        liveDays.add(day);
        lastDay = day;
        lastSender = '';
      }
      if (entry.contentType === 'system') {
        nodes.push(this.notice(entry));
        liveKeys.add(entry.key);
        lastSender = ''; // the next bubble starts a run again
        continue;
      }
      const node = this.bubble(entry);
      const first = entry.senderId !== lastSender;
      node.classList.toggle('msg--first', first);
      this.setSender(node, entry, first && this.isGroup && entry.senderId !== this.myId);
      lastSender = entry.senderId;
      nodes.push(node);
      liveKeys.add(entry.key);
    }
    for (const key of this.nodes.keys()) if (!liveKeys.has(key)) this.nodes.delete(key);
    for (const key of this.separators.keys()) if (!liveDays.has(key)) this.separators.delete(key);
    reconcile(this.list, nodes);

    if (mode === 'bottom' || (mode === 'keep-bottom' && wasNearBottom && !thread.detached)) {
      this.scrollToBottom();
    } else if (mode === 'prepend') {
      this.scroller.scrollTop = this.scroller.scrollHeight - oldHeight + oldTop;
    }
    const atBottom = this.isNearBottom();
    this.jumpButton.hidden = atBottom && !thread.detached;
    if (atBottom && !thread.detached) this.handlers.onViewed();
  }

  /**
   * A system message: a centred notice ("Asha added Ravi"), not a bubble.
   * @private
   * @param {Entry} entry
   */
  notice(entry) {
    let node = this.nodes.get(entry.key);
    if (!node) {
      node = el(
        'li',
        { class: 'msg-system', testid: 'system-message' },
        el('span', { class: 'msg-system-text', testid: 'system-text' }),
      );
      node.dataset.key = entry.key;
      this.nodes.set(entry.key, node);
    }
    if (entry.seq !== null) node.dataset.seq = String(entry.seq);
    if (entry.id) node.dataset.id = entry.id;
    node.dataset.action = entry.system?.action ?? '';
    const text = /** @type {HTMLElement} */ (node.firstElementChild);
    const call = callOf(entry);
    const mine = (entry.system?.actor_id || entry.senderId) === this.myId;
    const words = call ? callRecordText(call, mine) : entry.content;
    if (text.textContent !== words) text.textContent = words;
    text.title = formatTime(entry.createdAt);
    if (call) {
      node.dataset.testid = 'call-record';
      node.dataset.outcome = call.outcome;
      node.dataset.media = call.media;
      node.dataset.duration = String(call.duration_secs ?? 0);
      text.classList.toggle('msg-system-text--missed', call.outcome === 'missed' && !mine);
    }
    return node;
  }

  /**
   * The sender's name at the top of the first bubble of a run of someone else's
   * messages in a group.
   * @private
   * @param {HTMLElement} node
   * @param {Entry} entry
   * @param {boolean} shown
   */
  setSender(node, entry, shown) {
    let label = /** @type {HTMLElement | null} */ (node.querySelector('.msg-sender'));
    if (!shown) {
      label?.remove();
      return;
    }
    const name = displayName(entry.senderId, 'Former member');
    if (!label) {
      label = el('span', { class: `msg-sender msg-sender--c${colorSlot(entry.senderId)}`, testid: 'message-sender', attrs: { dir: 'auto' } });
      node.querySelector('.bubble')?.prepend(label);
    }
    if (label.textContent !== name) label.textContent = name;
  }

  /** Whether the newest messages are on screen now. */
  showsNewest() {
    return !!this.thread && !this.thread.detached && !this.pane.hidden && this.pane.offsetParent !== null && this.isNearBottom();
  }

  /**
   * @private
   * @param {string} day
   * @param {string} iso
   */
  separator(day, iso) {
    let node = this.separators.get(day);
    if (!node) {
      // A list item (a separator role is not allowed in a list): the day, read in order.
      node = el('li', { class: 'day-separator' }, el('span', { text: dayLabel(iso) }));
      this.separators.set(day, node);
    }
    return node;
  }

  /**
   * Creates or updates the node of one message.
   * @private
   * @param {Entry} entry
   */
  bubble(entry) {
    const own = entry.senderId === this.myId;
    let node = this.nodes.get(entry.key);
    if (!node) {
      const text = el('span', { class: 'msg-text', testid: 'message-text', attrs: { dir: 'auto' } });
      const head = el('div', { class: 'msg-head' });
      const edited = el('button', {
        class: 'msg-edited',
        testid: 'message-edited',
        text: 'edited',
        attrs: { type: 'button', 'data-history-of': entry.key, 'aria-label': 'Edited: show the edit history' },
      });
      edited.hidden = true;
      const time = el('time', { class: 'msg-time' });
      const status = own ? el('span', { class: 'msg-status', testid: 'ticks', attrs: { role: 'img' } }) : null;
      const meta = el('span', { class: 'msg-meta' }, edited, time, status);
      const spacer = el('span', { class: 'msg-spacer', attrs: { 'aria-hidden': 'true' } });
      const bubble = el('div', { class: 'bubble' }, head, text, spacer, meta);
      node = el('li', { class: `msg ${own ? 'msg--own' : 'msg--other'}`, testid: 'message' }, bubble);
      node.dataset.own = String(own);
      node.dataset.key = entry.key;
      this.nodes.set(entry.key, node);
    }
    this.updateBubble(node, entry, own);
    return node;
  }

  /**
   * @private
   * @param {HTMLElement} node
   * @param {Entry} entry
   * @param {boolean} own
   */
  updateBubble(node, entry, own) {
    if (entry.seq !== null) node.dataset.seq = String(entry.seq);
    else delete node.dataset.seq;
    if (entry.id) node.dataset.id = entry.id;
    node.dataset.status = entry.status;
    node.classList.toggle('msg--failed', entry.status === 'failed');
    this.syncAttachments(node, entry);

    const text = /** @type {HTMLElement} */ (node.querySelector('.msg-text'));
    const shownText = entry.deletedAt ? DELETED_TEXT : entry.content;
    if (shownTexts.get(text) !== shownText) {
      shownTexts.set(text, shownText);
      text.replaceChildren(...(entry.deletedAt ? [shownText] : linkified(shownText)));
    }
    text.classList.toggle('msg-text--deleted', !!entry.deletedAt);
    node.dataset.deleted = String(!!entry.deletedAt);
    const edited = /** @type {HTMLElement} */ (node.querySelector('.msg-edited'));
    edited.hidden = !entry.editedAt || !!entry.deletedAt;
    node.classList.toggle('msg--edited', !edited.hidden);
    if (entry.editedAt) edited.title = `Edited ${formatTime(entry.editedAt)}`;
    this.syncHead(node, entry);
    this.syncReactions(node, entry);
    const time = /** @type {HTMLTimeElement} */ (node.querySelector('.msg-time'));
    const label = formatTime(entry.createdAt);
    if (time.textContent !== label) time.textContent = label;
    time.dateTime = entry.createdAt;

    const status = /** @type {HTMLElement | null} */ (node.querySelector('.msg-status'));
    if (own && status && status.dataset.status !== entry.status) {
      status.dataset.status = entry.status;
      status.replaceChildren(statusIcon(entry.status));
      status.title = STATUS_TITLES[entry.status];
      status.setAttribute('aria-label', STATUS_TITLES[entry.status]);
    }

    // The options button, once the message is stored (info needs its id).
    let menuButton = /** @type {HTMLButtonElement | null} */ (node.querySelector('.msg-menu-button'));
    if (entry.id && !menuButton) {
      menuButton = el('button', {
        class: 'msg-menu-button',
        testid: 'message-menu',
        attrs: {
          type: 'button',
          'aria-label': 'Message options',
          'aria-haspopup': 'menu',
          'aria-expanded': 'false',
          'aria-controls': 'message-menu',
          'data-menu-for': entry.key,
        },
      });
      menuButton.append(icon('chevron'));
      node.querySelector('.bubble')?.append(menuButton);
    }

    let error = /** @type {HTMLElement | null} */ (node.querySelector('.msg-error'));
    if (entry.status === 'failed') {
      if (!error) {
        error = el('div', { class: 'msg-error', testid: 'message-error', attrs: { role: 'alert' } });
        node.append(error);
      }
      const retry = el('button', { class: 'msg-retry', text: 'Retry', attrs: { type: 'button', 'data-retry': entry.key } });
      error.replaceChildren(el('span', { text: entry.error || 'Not sent' }), retry);
    } else if (error) {
      error.remove();
    }
  }

  /**
   * The files of a bubble, drawn once per set of files (a message deleted for
   * everyone loses them).
   * @private
   * @param {HTMLElement} node
   * @param {Entry} entry
   */
  syncAttachments(node, entry) {
    const ids = entry.attachments.map((a) => a.id).join(',');
    if ((node.dataset.files ?? '') === ids) return;
    node.dataset.files = ids;
    node.querySelector('.msg-attachments')?.remove();
    node.classList.toggle('msg--media', ids !== '');
    if (ids) node.querySelector('.bubble')?.prepend(attachmentsView(entry.attachments));
  }

  /**
   * The "Forwarded" label and the reply quote at the top of a bubble, redrawn
   * when what they show changes.
   * @private
   * @param {HTMLElement} node
   * @param {Entry} entry
   */
  syncHead(node, entry) {
    const reply = entry.replyTo;
    const quoteSender = reply ? (reply.sender_id === this.myId ? 'You' : displayName(reply.sender_id, 'Former member')) : '';
    const quoteText = reply ? (reply.deleted ? DELETED_TEXT : (reply.preview ?? '')) : '';
    const key = JSON.stringify([entry.forwarded, reply?.id ?? '', quoteSender, quoteText]);
    if (node.dataset.head === key) return;
    node.dataset.head = key;
    const head = /** @type {HTMLElement} */ (node.querySelector('.msg-head'));
    /** @type {HTMLElement[]} */
    const parts = [];
    if (entry.forwarded) {
      parts.push(el('span', { class: 'msg-forwarded', testid: 'message-forwarded' }, icon('forward'), el('span', { text: 'Forwarded' })));
    }
    if (reply) {
      const quote = el(
        'button',
        {
          class: `msg-quote msg-sender--c${colorSlot(reply.sender_id)}`,
          testid: 'message-quote',
          // Named by what it shows (sender and text); what a click does is its description.
          attrs: { type: 'button', 'data-quote-of': reply.id, title: 'Show the original message' },
        },
        el('span', { class: 'msg-quote-sender', testid: 'message-quote-sender', text: quoteSender, attrs: { dir: 'auto' } }),
        el('span', {
          class: `msg-quote-text${reply.deleted ? ' msg-text--deleted' : ''}`,
          testid: 'message-quote-text',
          text: quoteText,
          attrs: { dir: 'auto' },
        }),
      );
      parts.push(quote);
    }
    head.replaceChildren(...parts);
    head.hidden = parts.length === 0;
  }

  /**
   * The reactions under a bubble: each emoji with its count, the own one marked.
   * A chip toggles the own reaction to that emoji.
   * @private
   * @param {HTMLElement} node
   * @param {Entry} entry
   */
  syncReactions(node, entry) {
    const counts = entry.deletedAt ? [] : Object.entries(entry.reactions).filter(([, n]) => n > 0);
    const key = JSON.stringify([counts, entry.myReaction]);
    let row = /** @type {HTMLElement | null} */ (node.querySelector('.msg-reactions'));
    if ((row?.dataset.key ?? '[[],null]') === key) return;
    if (counts.length === 0) {
      row?.remove();
      return;
    }
    if (!row) {
      row = el('div', { class: 'msg-reactions', testid: 'message-reactions', attrs: { role: 'group', 'aria-label': 'Reactions' } });
      node.querySelector('.bubble')?.after(row);
    }
    row.dataset.key = key;
    row.replaceChildren(
      ...counts.map(([emoji, count]) => {
        const mine = emoji === entry.myReaction;
        const chip = el(
          'button',
          {
            class: `reaction-chip${mine ? ' reaction-chip--mine' : ''}`,
            testid: 'reaction',
            attrs: {
              type: 'button',
              'data-react-to': entry.key,
              'data-emoji': emoji,
              'aria-pressed': String(mine),
              'aria-label': `${emoji} ${count}${mine ? ', including you' : ''}`,
            },
          },
          el('span', { class: 'reaction-emoji', text: emoji }),
          el('span', { class: 'reaction-count', testid: 'reaction-count', text: String(count) }),
        );
        if (mine) chip.dataset.mine = 'true';
        return chip;
      }),
    );
  }

  /**
   * Scrolls to the message a reply quotes and highlights it, when it is held.
   * @private
   * @param {string} id
   */
  jumpToOriginal(id) {
    const original = this.thread?.byId.get(id);
    if (original && original.seq !== null && this.focusMessage(original.seq)) return;
    this.handlers.onQuoteMissing(id);
  }

  /**
   * Replies to or edits a message from the composer.
   * @private
   * @param {'reply' | 'edit'} kind
   * @param {Entry} entry
   */
  startContext(kind, entry) {
    if (!this.canWrite()) return;
    this.setContext({ kind, entry });
    if (kind === 'edit') {
      this.composer.value = entry.content;
      this.autosize();
    }
    this.composer.focus({ preventScroll: true });
  }

  /** @private Leaves reply or edit mode (an edit gives its text back). */
  cancelContext() {
    if (this.context?.kind === 'edit') {
      this.composer.value = '';
      this.autosize();
    }
    this.setContext(null);
    this.composer.focus({ preventScroll: true });
  }

  /**
   * @private
   * @param {ComposerContext} context
   */
  setContext(context) {
    this.context = context;
    this.contextBar.hidden = !context;
    this.form.dataset.mode = context?.kind ?? 'new';
    this.sendButton.setAttribute('aria-label', context?.kind === 'edit' ? 'Save edit' : 'Send');
    if (!context) return;
    const { entry } = context;
    this.contextBar.dataset.kind = context.kind;
    this.contextLabel.textContent =
      context.kind === 'edit' ? 'Edit message' : `Reply to ${entry.senderId === this.myId ? 'yourself' : displayName(entry.senderId, 'Former member')}`;
    this.contextText.textContent = entry.content || (entry.attachments[0]?.name ?? '');
    this.contextCancel.setAttribute('aria-label', context.kind === 'edit' ? 'Cancel edit' : 'Cancel reply');
  }

  /**
   * The message an update touched (deleted for everyone, or hidden for this
   * user): leaves reply or edit mode when that message is gone.
   * @param {string} id
   */
  noteChanged(id) {
    const entry = this.context?.entry;
    if (entry && entry.id === id && (entry.deletedAt || !this.thread?.byId.has(id))) this.setContext(null);
  }

  /** @private Sends the text (with the files that finished uploading), or saves an edit. */
  submit() {
    const text = this.composer.value;
    const context = this.context;
    if (context?.kind === 'edit') {
      if (!text.trim()) return;
      if (text === context.entry.content) {
        this.cancelContext();
        return;
      }
      void this.handlers.onEdit(context.entry, text).then((saved) => {
        if (!saved || this.context !== context) return;
        this.composer.value = '';
        this.autosize();
        this.setContext(null);
      });
      return;
    }
    if (!this.thread || (!text.trim() && !this.tray.hasReady())) return;
    const files = this.tray.takeReady();
    this.composer.value = '';
    this.autosize();
    this.setContext(null);
    this.handlers.onSend(text, files, context?.kind === 'reply' ? context.entry : null);
    this.composer.focus({ preventScroll: true });
  }

  /** @private Grows the composer with its text, up to the CSS max-height. */
  autosize() {
    // Not rendered (the list pane is the one shown on a narrow screen): keep the
    // CSS height, a measure now would be 0.
    if (this.composer.offsetParent === null) {
      this.composer.style.height = '';
      return;
    }
    this.composer.style.height = 'auto';
    this.composer.style.height = `${this.composer.scrollHeight}px`;
  }
}

/** The text each bubble's text node shows, so that links are rebuilt only when it changes. @type {WeakMap<HTMLElement, string>} */
const shownTexts = new WeakMap();

/** @type {Record<import('./thread.js').EntryStatus, string>} */
const STATUS_TITLES = {
  pending: 'Sending…',
  sent: 'Sent',
  delivered: 'Delivered',
  read: 'Read',
  failed: 'Not sent',
};

/** @param {import('./thread.js').EntryStatus} status */
function statusIcon(status) {
  switch (status) {
    case 'pending':
      return icon('clock', 'status-icon status-icon--pending');
    case 'delivered':
      return icon('ticks', 'status-icon');
    case 'read':
      return icon('ticks', 'status-icon status-icon--read');
    case 'failed':
      return icon('alert', 'status-icon status-icon--failed');
    default:
      return icon('tick', 'status-icon');
  }
}

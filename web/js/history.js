// A chat's history from the server, into its thread and the conversation: the
// newest page, older pages as the reader scrolls up (`before_seq`), a window
// around a message further back that fills in with newer pages (`after_seq`), and
// bringing one message into view (a search result, the original of a reply).

import * as api from './api.js';
import { errorText } from './errors.js';
import { toast } from './toast.js';

/** @typedef {import('./types.js').Message} Message */
/** @typedef {import('./thread.js').Thread} Thread */

/** Messages per history page. */
const PAGE = 50;
/** Messages fetched on each side of a search result that is not loaded yet. */
const WINDOW = 25;
/** A search result at most this many messages before what is loaded is reached by paging back; further ones open a window there. */
const NEAR = 200;

/**
 * @typedef {object} HistoryHandlers
 * @property {import('./chatstore.js').ChatStore} store
 * @property {import('./conversation.js').ConversationView} conversation
 * @property {() => string | null} openChatId
 * @property {() => string} myId
 * @property {(msg: Message) => void} newestMessage  the newest message of a chat, from its newest page
 */

export class HistoryLoader {
  /** @param {HistoryHandlers} handlers */
  constructor(handlers) {
    this.store = handlers.store;
    this.conversation = handlers.conversation;
    this.handlers = handlers;
    this.loadingOlder = false;
    this.loadingNewer = false;
    /** Newest-page loads in flight, by chat (a search result waits for its chat's). @type {Map<string, Promise<void>>} */
    this.newestLoads = new Map();
  }

  /** @param {string} chatId */
  isOpen(chatId) {
    return this.handlers.openChatId() === chatId;
  }

  /** The open chat and its thread, if any. */
  openThread() {
    const chatId = this.handlers.openChatId();
    const thread = chatId ? this.store.threads.get(chatId) : undefined;
    return chatId && thread ? { chatId, thread } : null;
  }

  /** The session ended. */
  clear() {
    this.newestLoads.clear();
  }

  /**
   * Fetches the newest page and merges it (first open, and after a reconnect).
   * @param {string} chatId
   */
  loadNewest(chatId) {
    const running = this.fetchNewest(chatId).finally(() => {
      if (this.newestLoads.get(chatId) === running) this.newestLoads.delete(chatId);
    });
    this.newestLoads.set(chatId, running);
    return running;
  }

  /**
   * @private
   * @param {string} chatId
   */
  async fetchNewest(chatId) {
    const thread = this.store.threads.get(chatId);
    if (!thread) return;
    const firstLoad = !thread.loaded;
    const generation = thread.generation;
    if (firstLoad && this.isOpen(chatId)) this.conversation.setOlderStatus('Loading messages…');
    try {
      const page = await api.getMessages(chatId, PAGE);
      if (this.store.threads.get(chatId) !== thread) return; // logged out meanwhile
      if (thread.generation !== generation) return; // reset meanwhile (resync); its own load follows
      thread.mergeNewest(page, PAGE);
      this.store.absorbPage(thread, page, this.handlers.myId());
      if (page.length > 0) {
        this.store.noteSeq(chatId, page[0].seq);
        this.handlers.newestMessage(page[0]);
      }
      if (this.isOpen(chatId)) {
        this.conversation.setOlderStatus('');
        this.conversation.render({ mode: firstLoad ? 'bottom' : 'keep-bottom' });
        if (this.conversation.wantsMore()) void this.loadOlder();
      }
    } catch (err) {
      if (this.isOpen(chatId)) {
        this.conversation.setOlderStatus('');
        if (!(err instanceof api.ApiError && err.status === 401)) toast(errorText(err));
      }
    }
  }

  /**
   * Fetches the page before the oldest loaded message (`before_seq`: new messages
   * arriving meanwhile do not shift it), keeping the scroll position.
   */
  async loadOlder() {
    const open = this.openThread();
    if (!open || this.loadingOlder || open.thread.reachedStart || !open.thread.loaded) return;
    const { chatId, thread } = open;
    const oldest = thread.minSeq();
    if (!Number.isFinite(oldest)) return;
    this.loadingOlder = true;
    this.conversation.setOlderStatus('Loading older messages…');
    let again = false;
    const generation = thread.generation;
    try {
      const page = await api.getMessages(chatId, PAGE, { before: oldest });
      if (thread.generation !== generation) return; // reset meanwhile: another page is coming
      thread.mergeOlder(page, PAGE);
      this.store.absorbPage(thread, page, this.handlers.myId());
      if (this.isOpen(chatId)) {
        this.conversation.render({ mode: 'prepend' });
        again = this.conversation.wantsMore();
      }
    } catch (err) {
      if (this.isOpen(chatId)) toast(errorText(err));
    } finally {
      this.loadingOlder = false;
      if (this.isOpen(chatId)) this.conversation.setOlderStatus('');
    }
    if (again) void this.loadOlder();
  }

  /**
   * A window further back is shown and its bottom is in view: the next newer page
   * (`after_seq`). The last one attaches the window to the newest messages again.
   */
  async loadNewer() {
    const open = this.openThread();
    if (!open || this.loadingNewer || !open.thread.detached || !open.thread.loaded) return;
    const { chatId, thread } = open;
    this.loadingNewer = true;
    const generation = thread.generation;
    try {
      const page = await api.getMessages(chatId, PAGE, { after: thread.maxSeq() });
      if (thread.generation !== generation) return;
      thread.mergeNewer(page, PAGE);
      this.store.absorbPage(thread, page, this.handlers.myId());
      if (this.isOpen(chatId)) this.conversation.render({ mode: 'append' });
      // Attached again: what arrived live while detached was left out; the newest page brings it.
      if (!thread.detached) void this.loadNewest(chatId);
    } catch (err) {
      if (this.isOpen(chatId)) toast(errorText(err));
    } finally {
      this.loadingNewer = false;
    }
  }

  /**
   * Shows a window of history around `seq` (newest first up to it, oldest first after it).
   * @private
   * @param {string} chatId
   * @param {number} seq
   */
  async loadWindow(chatId, seq) {
    const thread = this.store.threads.get(chatId);
    if (!thread) return;
    this.conversation.setOlderStatus('Loading messages…');
    try {
      const [before, after] = await Promise.all([
        api.getMessages(chatId, WINDOW, { before: seq + 1 }),
        api.getMessages(chatId, WINDOW, { after: seq }),
      ]);
      if (this.store.threads.get(chatId) !== thread) return;
      thread.openWindow(before, after, WINDOW);
      this.store.absorbPage(thread, [...before, ...after], this.handlers.myId());
      if (this.isOpen(chatId)) this.conversation.render({ mode: 'keep-bottom' });
      // It reached the newest: fetch it again, for anything sent meanwhile.
      if (!thread.detached) void this.loadNewest(chatId);
    } finally {
      if (this.isOpen(chatId)) this.conversation.setOlderStatus('');
    }
  }

  /** Back to the newest messages from a window further back. */
  jumpToNewest() {
    const open = this.openThread();
    if (!open) return;
    if (open.thread.detached) {
      open.thread.reset();
      this.conversation.render({ mode: 'bottom' });
      void this.loadNewest(open.chatId);
    } else {
      this.conversation.scrollToBottom(true);
    }
  }

  /**
   * Loads older pages of the open chat until `found()` or the start of the chat:
   * a few pages at most (NEAR / PAGE), plus waits for a load the scrolling started.
   * @private
   * @param {string} chatId
   * @param {Thread} thread
   * @param {() => boolean} found
   */
  async pageOlderUntil(chatId, thread, found) {
    for (let tries = 0; tries < 40 && !found() && !thread.reachedStart && this.isOpen(chatId); tries++) {
      if (this.loadingOlder) {
        await new Promise((resolve) => setTimeout(resolve, 100));
        continue;
      }
      const before = thread.minSeq();
      await this.loadOlder();
      if (thread.minSeq() === before && !this.loadingOlder) break; // nothing older came
    }
  }

  /**
   * Brings one message of the open chat into view: loaded already, a few pages
   * back (paged with before_seq), or further (a window around it, newer pages load
   * as the reader scrolls down).
   * @param {string} chatId
   * @param {number} seq
   */
  async revealMessage(chatId, seq) {
    const thread = this.store.threads.get(chatId);
    if (!thread) return;
    try {
      if (!thread.loaded) await (this.newestLoads.get(chatId) ?? this.loadNewest(chatId));
      if (!this.isOpen(chatId) || this.store.threads.get(chatId) !== thread) return;
      if (!thread.hasSeq(seq)) {
        const gap = thread.minSeq() - seq;
        if (!thread.detached && Number.isFinite(gap) && gap > 0 && gap <= NEAR) {
          await this.pageOlderUntil(chatId, thread, () => thread.hasSeq(seq));
        } else {
          await this.loadWindow(chatId, seq);
        }
      }
      if (!this.isOpen(chatId)) return;
      if (!this.conversation.focusMessage(seq)) toast('That message is no longer available.');
    } catch (err) {
      if (this.isOpen(chatId)) toast(errorText(err));
    }
  }

  /**
   * Shows the message a reply quotes: pages older history in (a few pages) when
   * it is not held yet, then scrolls to it and highlights it.
   * @param {string} messageId
   */
  async revealOriginal(messageId) {
    const open = this.openThread();
    if (!open) return;
    const { chatId, thread } = open;
    await this.pageOlderUntil(chatId, thread, () => thread.byId.has(messageId));
    const seq = thread.byId.get(messageId)?.seq;
    if (!this.isOpen(chatId)) return;
    if (seq === undefined || seq === null || !this.conversation.focusMessage(seq)) toast('The original message is no longer available.');
  }
}

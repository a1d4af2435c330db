// The outbox: own messages not confirmed yet. Each goes over the socket when it is
// open (retried over HTTP when no ack comes), else over HTTP; unreachable, it
// waits for the reconnect. The client_msg_id makes repeats safe: the server keeps
// one message. Text messages are also kept on the device (the journal) before
// they are first sent, until the server confirms or refuses them, so that a
// reload shows them waiting and sends them again; files stay in this page only.
// No DOM.

import * as api from './api.js';
import { uuid } from './dom.js';
import { errorText } from './errors.js';

/** @typedef {import('./types.js').Message} Message */
/** @typedef {import('./types.js').Attachment} Attachment */
/** @typedef {import('./types.js').ReplyRef} ReplyRef */
/** @typedef {import('./thread.js').Thread} Thread */
/** @typedef {import('./thread.js').Entry} Entry */

/** How long a send waits for its ack on the socket before it is retried over HTTP. */
const ACK_TIMEOUT_MS = 10_000;
/** Most files one message carries (the server's limit). */
const MAX_FILES_PER_MESSAGE = 10;

/**
 * @typedef {object} OutboxHandlers
 * @property {(frame: import('./types.js').Frame) => boolean} send  over the socket; false when it is not open
 * @property {(chatId: string) => Thread | undefined} thread
 * @property {(msg: Message) => void} stored  the server's answer to an HTTP send
 * @property {(chatId: string) => void} changed  an entry of the chat changed status
 * @property {OutboxJournal} journal  where waiting text messages are kept across reloads
 */

/**
 * @typedef {object} OutboxJournal
 * @property {(chatId: string, entry: Entry) => Promise<void>} keep  resolves once it is kept
 * @property {(cid: string) => void} forget  confirmed or refused: no longer kept
 */

export class Outbox {
  /** @param {OutboxHandlers} handlers */
  constructor(handlers) {
    this.handlers = handlers;
    /**
     * Sends waiting for an ack, by frame id.
     * @type {Map<string, { chatId: string, cid: string, timer: ReturnType<typeof setTimeout> }>}
     */
    this.awaitingAck = new Map();
    /** client_msg_ids being sent over HTTP right now. @type {Set<string>} */
    this.httpInFlight = new Set();
    /** Messages kept in the journal: chat by client_msg_id. @type {Map<string, string>} */
    this.kept = new Map();
  }

  /**
   * Keeps the text messages among `cids` in the journal, then sends them all: a
   * reload in between finds them there.
   * @param {string} chatId
   * @param {string[]} cids  from `compose`
   */
  async send(chatId, cids) {
    for (const cid of cids) {
      const entry = this.handlers.thread(chatId)?.pendingByCid(cid);
      if (entry && entry.attachments.length === 0) await this.keep(chatId, entry);
    }
    for (const cid of cids) this.dispatch(chatId, cid);
  }

  /**
   * @private
   * @param {string} chatId
   * @param {Entry} entry
   */
  async keep(chatId, entry) {
    if (!entry.cid) return;
    this.kept.set(entry.cid, chatId);
    try {
      await this.handlers.journal.keep(chatId, entry);
    } catch {
      // Not kept on the device: it is still sent, and waits in this page as before.
    }
  }

  /**
   * The messages a reload found in the journal, back in their chats as waiting
   * (sent again once connected, by `resendPending`).
   * @param {{ chatId: string, cid: string, content: string, contentType: string, replyTo: ReplyRef | null, createdAt: string }[]} kept
   * @param {(chatId: string) => Thread} threadFor
   * @param {string} myId
   */
  restore(kept, threadFor, myId) {
    for (const item of kept) {
      const thread = threadFor(item.chatId);
      this.kept.set(item.cid, item.chatId);
      if (thread.byCid.has(item.cid)) continue;
      const entry = thread.addPending(item.cid, item.content, myId, item.contentType, [], item.replyTo);
      entry.createdAt = item.createdAt;
    }
  }

  /**
   * The server stored (an ack, an HTTP answer, a replay, a history page) or
   * refused an own message: the journal no longer keeps it.
   * @param {string} cid
   */
  settled(cid) {
    if (this.kept.delete(cid)) this.handlers.journal.forget(cid);
  }

  /** Forgets the kept messages that are no longer waiting, however they were confirmed. */
  sweep() {
    for (const [cid, chatId] of this.kept) {
      if (!this.handlers.thread(chatId)?.pendingByCid(cid)) this.settled(cid);
    }
  }

  /**
   * Puts the text, or the uploaded files with the text as their caption, into the
   * thread as pending messages: one message per kind of file (a photo message
   * carries only photos), at most ten files each, the caption and the reply on
   * the first. Returns their client_msg_ids, to `dispatch` once shown.
   * @param {Thread} thread
   * @param {string} myId
   * @param {string} text
   * @param {Attachment[]} files
   * @param {Entry | null} replyTo  the message it replies to
   */
  compose(thread, myId, text, files, replyTo) {
    /** @type {{ kind: string, files: Attachment[] }[]} */
    const groups = [];
    for (const file of files) {
      let group = groups.find((g) => g.kind === file.kind && g.files.length < MAX_FILES_PER_MESSAGE);
      if (!group) {
        group = { kind: file.kind, files: [] };
        groups.push(group);
      }
      group.files.push(file);
    }
    /** @type {ReplyRef | null} */
    const quote =
      replyTo?.id && !replyTo.deletedAt
        ? { id: replyTo.id, sender_id: replyTo.senderId, preview: replyTo.content.slice(0, 100), deleted: false }
        : null;
    const cids = [];
    if (groups.length === 0) {
      const cid = uuid();
      thread.addPending(cid, text, myId, 'text', [], quote);
      cids.push(cid);
    }
    groups.forEach((group, i) => {
      const cid = uuid();
      const caption = i === 0 && text.trim() ? text : '';
      thread.addPending(cid, caption, myId, group.kind, group.files, i === 0 ? quote : null);
      cids.push(cid);
    });
    return cids;
  }

  /**
   * Sends (or re-sends) an own message: over the socket when it is open, else over HTTP.
   * @param {string} chatId
   * @param {string} cid
   */
  dispatch(chatId, cid) {
    const entry = this.handlers.thread(chatId)?.pendingByCid(cid);
    if (!entry) return;
    if (entry.status === 'failed') {
      entry.status = 'pending';
      entry.error = null;
      this.handlers.changed(chatId);
      if (entry.attachments.length === 0) void this.keep(chatId, entry); // Retry: waiting again
    }
    const frameId = uuid();
    const sent = this.handlers.send({
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
      void this.sendOverHttp(chatId, cid);
      return;
    }
    const timer = setTimeout(() => {
      if (this.awaitingAck.delete(frameId)) void this.sendOverHttp(chatId, cid);
    }, ACK_TIMEOUT_MS);
    this.awaitingAck.set(frameId, { chatId, cid, timer });
  }

  /**
   * The socket acknowledged a frame (the stored message comes with the ack).
   * @param {string | undefined} frameId
   */
  acked(frameId) {
    const pending = frameId ? this.awaitingAck.get(frameId) : undefined;
    if (!pending || !frameId) return;
    clearTimeout(pending.timer);
    this.awaitingAck.delete(frameId);
  }

  /**
   * The socket refused a frame. Returns whether it was one of the outbox's sends
   * (which then shows as failed, with Retry).
   * @param {string | undefined} frameId
   * @param {string} reason
   */
  refused(frameId, reason) {
    const pending = frameId ? this.awaitingAck.get(frameId) : undefined;
    if (!pending || !frameId) return false;
    clearTimeout(pending.timer);
    this.awaitingAck.delete(frameId);
    this.markFailed(pending.chatId, pending.cid, reason);
    return true;
  }

  /**
   * @private
   * @param {string} chatId
   * @param {string} cid
   */
  async sendOverHttp(chatId, cid) {
    const entry = this.handlers.thread(chatId)?.pendingByCid(cid);
    if (!entry || this.httpInFlight.has(cid)) return;
    this.httpInFlight.add(cid);
    try {
      const ids = entry.attachments.map((a) => a.id);
      const msg = await api.postMessage(chatId, entry.content, cid, entry.contentType, ids, entry.replyToId);
      this.handlers.stored(msg);
    } catch (err) {
      // Unreachable server: stay pending, the reconnect re-sends it.
      if (!(err instanceof api.ApiError && err.isNetwork)) this.markFailed(chatId, cid, errorText(err));
    } finally {
      this.httpInFlight.delete(cid);
    }
  }

  /**
   * @private
   * @param {string} chatId
   * @param {string} cid
   * @param {string} reason
   */
  markFailed(chatId, cid, reason) {
    const entry = this.handlers.thread(chatId)?.pendingByCid(cid);
    if (!entry) return;
    entry.status = 'failed';
    entry.error = reason;
    this.settled(cid); // refused: a reload would only send it again
    this.handlers.changed(chatId);
  }

  /**
   * Once caught up after a (re)connect: sends every own message still waiting, with
   * its original client_msg_id (the replay may already have confirmed some). Failed
   * ones wait for Retry.
   * @param {Iterable<Thread>} threads
   */
  resendPending(threads) {
    const sent = new Set([...this.awaitingAck.values()].map((pending) => pending.cid));
    for (const thread of threads) {
      for (const entry of thread.unconfirmed()) {
        if (entry.status === 'pending' && entry.cid && !sent.has(entry.cid) && !this.httpInFlight.has(entry.cid)) {
          this.dispatch(thread.chatId, entry.cid);
        }
      }
    }
  }

  /** A new socket: frames sent on the old one will never be acked. */
  socketReplaced() {
    for (const pending of this.awaitingAck.values()) clearTimeout(pending.timer);
    this.awaitingAck.clear();
  }

  /** The session ended. */
  clear() {
    this.socketReplaced();
    this.httpInFlight.clear();
    this.kept.clear();
  }
}

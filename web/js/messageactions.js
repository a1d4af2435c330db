// What the message menu does with the server: edit, delete (for the user or for
// everyone, after a confirmation), react, forward to other chats. What comes back
// is applied through the inbox, as frames are.

import * as api from './api.js';
import { chatTitle, otherMember } from './chatlist.js';
import { activity } from './chatstatus.js';
import { confirmAction } from './confirm.js';
import { actionError } from './errors.js';
import * as people from './people.js';
import { toast } from './toast.js';

/** @typedef {import('./thread.js').Entry} Entry */
/** @typedef {import('./types.js').User} User */

/**
 * @typedef {object} MessageActionParts
 * @property {import('./chatstore.js').ChatStore} store
 * @property {import('./inbox.js').Inbox} inbox
 * @property {import('./forward.js').ForwardDialog} forwardDialog
 * @property {() => User | null} me
 * @property {() => string | null} openChatId
 */

export class MessageActions {
  /** @param {MessageActionParts} parts */
  constructor(parts) {
    this.parts = parts;
  }

  /**
   * Saves an edit; resolves whether it was saved (the update frame redraws it).
   * @param {Entry} entry
   * @param {string} text
   */
  async edit(entry, text) {
    if (!entry.id) return false;
    try {
      const msg = await api.editMessage(entry.id, text);
      this.parts.inbox.applyMessageUpdate(msg, { action: 'edited' });
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
  async delete(entry, scope) {
    const chatId = this.parts.openChatId();
    if (!entry.id || !chatId) return;
    const question = scope === 'everyone' ? 'Delete this message for everyone?' : 'Delete this message for you?';
    if (!(await confirmAction(question, scope === 'everyone' ? 'Delete for everyone' : 'Delete for me'))) return;
    try {
      await api.deleteMessage(entry.id, scope);
      if (scope === 'me') this.parts.inbox.hideMessage(chatId, entry.id);
    } catch (err) {
      toast(actionError('Could not delete the message', err));
    }
  }

  /**
   * @param {Entry} entry
   * @param {string | null} emoji  null takes the own reaction back
   */
  async react(entry, emoji) {
    if (!entry.id) return;
    try {
      await api.setReaction(entry.id, emoji);
    } catch (err) {
      toast(actionError('Could not react', err));
    }
  }

  /**
   * "Forward to…": the chats the user can write in, the most recently active first.
   * @param {Entry} entry
   */
  forward(entry) {
    const messageId = entry.id;
    const me = this.parts.me();
    if (!messageId || !me) return;
    const myId = me.id;
    const targets = [...this.parts.store.chats.values()]
      .filter((chat) => {
        if (chat.membership?.status === 'left') return false;
        const other = otherMember(chat, myId);
        return !(other && people.isBlocked(other.id));
      })
      .sort((a, b) => activity(b) - activity(a))
      .map((chat) => ({ id: chat.id, title: chatTitle(chat, myId), avatarKey: otherMember(chat, myId)?.id ?? chat.id }));
    this.parts.forwardDialog.open(targets, async (chatIds) => {
      try {
        const copies = await api.forwardMessage(messageId, chatIds);
        for (const msg of copies) this.parts.inbox.receiveMessage(msg, false);
        toast(copies.length > 1 ? `Forwarded to ${copies.length} chats` : 'Message forwarded');
        return null;
      } catch (err) {
        return actionError('Could not forward the message', err);
      }
    });
  }
}

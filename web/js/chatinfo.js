// The info panel beside a conversation: a group's name, description and
// members (admins edit the group, add and remove people, make and unmake
// admins; everyone can exit), or, in a direct chat, the other person (add to
// contacts, block).

import * as api from './api.js';
import { confirmAction } from './confirm.js';
import { avatar, byId, el, formatMoment, icon } from './dom.js';
import { PeoplePicker } from './groups.js';
import { contactOf, displayName, isBlocked, noteBlocked, putContact, dropContact } from './people.js';

/** @typedef {import('./types.js').ChatView} ChatView */
/** @typedef {import('./types.js').Member} Member */
/** @typedef {import('./types.js').User} User */

/**
 * @typedef {object} ChatInfoHandlers
 * @property {() => User | null} me
 * @property {(chatId: string) => ChatView | undefined} chat
 * @property {(view: ChatView) => void} onChatView     an answer of the server with the chat's new state
 * @property {() => User[]} suggestions                people to offer when adding members
 * @property {(userId: string) => void} onPeopleChanged  a contact or block changed: names and states to redraw
 * @property {() => void} onClosed
 * @property {(text: string) => void} toast
 * @property {(userId: string, name: string) => void} onReport  "Report" was picked for the other person
 */

export class ChatInfoView {
  /** @param {ChatInfoHandlers} handlers */
  constructor(handlers) {
    this.handlers = handlers;
    this.panel = byId('chat-info');
    this.title = byId('chat-info-title');
    this.body = byId('chat-info-body');
    this.closeButton = byId('chat-info-close');
    /** @type {string | null} */
    this.chatId = null;
    /** The admin's edit form is open. */
    this.editing = false;
    /** The admin's "add members" picker is open. */
    this.adding = false;
    this.busy = false;
    /** What to focus after the next redraw (its data-focus-key). @type {string | null} */
    this.focusNext = null;

    // Kept across redraws, so that a live update does not wipe what is being typed.
    this.editName = /** @type {HTMLInputElement} */ (
      el('input', { class: 'info-input', testid: 'group-name-edit', attrs: { type: 'text', maxlength: '100', 'aria-label': 'Group name', autocomplete: 'off' } })
    );
    this.editDescription = /** @type {HTMLTextAreaElement} */ (
      el('textarea', { class: 'info-input info-textarea', testid: 'group-description-edit', attrs: { rows: '3', maxlength: '500', 'aria-label': 'Group description' } })
    );
    this.editError = el('p', { class: 'form-error', attrs: { role: 'alert' } });
    this.editError.hidden = true;
    this.pickInput = /** @type {HTMLInputElement} */ (
      el('input', { class: 'info-input', testid: 'add-members-search', attrs: { type: 'search', placeholder: 'Search name or phone number', 'aria-label': 'Search people to add', autocomplete: 'off', maxlength: '64' } })
    );
    this.pickChips = el('ul', { class: 'chips', attrs: { 'aria-label': 'To be added' } });
    this.pickResults = el('ul', { class: 'pick-list', attrs: { 'aria-label': 'People to add' } });
    this.pickStatus = el('p', { class: 'search-status', attrs: { role: 'status' } });
    this.picker = new PeoplePicker(
      { input: this.pickInput, chips: this.pickChips, results: this.pickResults, status: this.pickStatus },
      {
        suggestions: () => handlers.suggestions(),
        exclude: () => {
          const chat = this.chatId ? handlers.chat(this.chatId) : undefined;
          return new Set([handlers.me()?.id ?? '', ...(chat?.members.map((m) => m.user_id) ?? [])]);
        },
      },
    );

    this.closeButton.addEventListener('click', () => this.close());
    // Escape with the focus nowhere in particular (after a click on the page) closes it too.
    document.addEventListener('keydown', (event) => {
      if (event.key === 'Escape' && !this.panel.hidden && document.activeElement === document.body) this.close();
    });
    this.panel.addEventListener('keydown', (event) => {
      if (event.key === 'Escape' && !(event.target instanceof HTMLInputElement && event.target.value)) {
        event.preventDefault();
        this.close();
      }
    });
  }

  get isOpen() {
    return !this.panel.hidden;
  }

  /** @param {string} chatId */
  isOpenFor(chatId) {
    return this.isOpen && this.chatId === chatId;
  }

  /** @param {string} chatId */
  open(chatId) {
    if (this.chatId !== chatId) {
      this.editing = false;
      this.adding = false;
      this.picker.reset();
    }
    this.chatId = chatId;
    this.panel.hidden = false;
    this.render();
    this.closeButton.focus();
  }

  close() {
    if (this.panel.hidden) return;
    this.reset();
    this.handlers.onClosed();
  }

  /** Closes without moving the focus (another chat opened, the session ended). */
  reset() {
    this.panel.hidden = true;
    this.chatId = null;
    this.editing = false;
    this.adding = false;
    this.picker.reset();
    this.body.replaceChildren();
  }

  /**
   * Redraws if the panel shows this chat.
   * @param {string} chatId
   */
  refresh(chatId) {
    if (this.isOpenFor(chatId)) this.render();
  }

  /** @private */
  render() {
    const chat = this.chatId ? this.handlers.chat(this.chatId) : undefined;
    const me = this.handlers.me();
    if (!chat || !me) {
      this.reset();
      return;
    }
    const focused = document.activeElement;
    const hadFocus = focused instanceof HTMLElement && this.body.contains(focused) ? focused : null;
    const wanted = this.focusNext;
    const focusKey = wanted ?? hadFocus?.dataset.focusKey;
    this.focusNext = null;
    const scrolled = this.body.scrollTop;
    if (chat.type === 'group') {
      this.panel.dataset.testid = 'group-info';
      this.title.textContent = 'Group info';
      this.body.replaceChildren(...this.groupParts(chat, me));
    } else {
      this.panel.dataset.testid = 'contact-info';
      this.title.textContent = 'Contact info';
      this.body.replaceChildren(...this.contactParts(chat, me));
    }
    this.body.scrollTop = scrolled;
    // The same element (the inputs are kept across redraws), or its new twin.
    const again = focusKey ? this.body.querySelector(`[data-focus-key="${CSS.escape(focusKey)}"]`) : null;
    if (hadFocus && this.body.contains(hadFocus) && !wanted) {
      hadFocus.focus({ preventScroll: true });
    } else if (again instanceof HTMLElement) {
      again.focus({ preventScroll: true });
    } else if ((hadFocus || wanted) && !this.panel.hidden) {
      this.closeButton.focus({ preventScroll: true }); // its button went away: stay in the panel
    }
  }

  /**
   * @private
   * @param {ChatView} chat
   * @param {User} me
   * @returns {HTMLElement[]}
   */
  groupParts(chat, me) {
    const active = chat.membership?.status !== 'left';
    const admin = active && chat.membership?.role === 'admin';
    const name = chat.name || 'Group';
    const count = chat.members.length;

    const head = el(
      'div',
      { class: 'profile info-head' },
      avatar(name, chat.id, 'avatar--large'),
      el('h3', { class: 'profile-name', testid: 'group-info-name', text: name, attrs: { dir: 'auto' } }),
      el('p', { class: 'profile-phone', text: active ? `Group · ${count} ${count === 1 ? 'member' : 'members'}` : 'Group' }),
    );
    /** @type {HTMLElement[]} */
    const parts = [head];

    if (this.editing && admin) {
      parts.push(this.editForm(chat));
    } else {
      const description = (chat.description ?? '').trim();
      const about = el(
        'section',
        { class: 'info-section' },
        el('h4', { class: 'info-label', text: 'Description' }),
        el('p', {
          class: `info-description${description ? '' : ' info-description--empty'}`,
          testid: 'group-info-description',
          text: description || (admin ? 'Add a group description' : 'No description'),
          attrs: { dir: 'auto' },
        }),
        el('p', { class: 'info-meta', text: `Created ${formatMoment(chat.created_at)}` }),
      );
      if (admin) {
        const edit = el('button', {
          class: 'button button--small info-edit',
          testid: 'group-edit',
          text: 'Edit name and description',
          attrs: { type: 'button', 'data-focus-key': 'edit' },
        });
        edit.prepend(icon('edit'));
        edit.addEventListener('click', () => {
          this.editing = true;
          this.editName.value = chat.name ?? '';
          this.editDescription.value = chat.description ?? '';
          this.editError.hidden = true;
          this.render();
          this.editName.focus();
        });
        about.append(edit);
      }
      parts.push(about);
    }

    if (!active) {
      parts.push(
        el(
          'section',
          { class: 'info-section' },
          el('p', { class: 'info-left', testid: 'former-member-note', text: "You're no longer a member of this group." }),
        ),
      );
      return parts;
    }

    const members = el('section', { class: 'info-section info-section--members', attrs: { 'aria-label': 'Members' } });
    members.append(el('h4', { class: 'info-label', text: `${count} ${count === 1 ? 'member' : 'members'}` }));
    if (admin) {
      if (this.adding) {
        members.append(this.addForm(chat));
      } else {
        const add = el(
          'button',
          { class: 'info-action', testid: 'add-members', attrs: { type: 'button', 'data-focus-key': 'add' } },
          el('span', { class: 'info-action-icon' }, icon('personAdd')),
          el('span', { text: 'Add members' }),
        );
        add.addEventListener('click', () => {
          this.adding = true;
          this.picker.reset();
          this.render();
          this.pickInput.focus();
        });
        members.append(add);
      }
    }
    const list = el('ul', { class: 'member-list' });
    for (const member of orderMembers(chat.members, me.id)) list.append(this.memberRow(chat, member, me.id, admin));
    members.append(list);
    parts.push(members);

    const exit = el(
      'button',
      { class: 'info-action info-action--danger', testid: 'exit-group', attrs: { type: 'button', 'data-focus-key': 'exit' } },
      el('span', { class: 'info-action-icon' }, icon('exit')),
      el('span', { text: 'Exit group' }),
    );
    exit.addEventListener('click', () => void this.exit(chat, me));
    parts.push(el('section', { class: 'info-section' }, exit));
    return parts;
  }

  /**
   * @private
   * @param {ChatView} chat
   */
  editForm(chat) {
    const form = el(
      'form',
      { class: 'info-section info-form', attrs: { 'aria-label': 'Edit group' } },
      el('label', { class: 'field' }, el('span', { class: 'field-label', text: 'Group name' }), this.editName),
      el('label', { class: 'field' }, el('span', { class: 'field-label', text: 'Description' }), this.editDescription),
      this.editError,
    );
    const save = el('button', { class: 'button button--primary button--small', testid: 'group-save', text: 'Save', attrs: { type: 'submit' } });
    const cancel = el('button', { class: 'button button--small', text: 'Cancel', attrs: { type: 'button' } });
    form.append(el('div', { class: 'info-buttons' }, cancel, save));
    cancel.addEventListener('click', () => {
      this.editing = false;
      this.focusNext = 'edit';
      this.render();
    });
    form.addEventListener('submit', (event) => {
      event.preventDefault();
      void this.saveEdit(chat, save);
    });
    return form;
  }

  /**
   * @private
   * @param {ChatView} chat
   * @param {HTMLButtonElement} save
   */
  async saveEdit(chat, save) {
    const name = this.editName.value.trim();
    const description = this.editDescription.value.trim();
    if (!name) {
      this.editError.textContent = 'The group needs a name.';
      this.editError.hidden = false;
      this.editName.focus();
      return;
    }
    /** @type {{ name?: string, description?: string }} */
    const changes = {};
    if (name !== chat.name) changes.name = name;
    if (description !== (chat.description ?? '')) changes.description = description;
    if (Object.keys(changes).length === 0) {
      this.editing = false;
      this.focusNext = 'edit';
      this.render();
      return;
    }
    save.disabled = true;
    try {
      const view = await api.updateGroup(chat.id, changes);
      this.editing = false;
      this.focusNext = 'edit';
      this.handlers.onChatView(view);
    } catch (err) {
      save.disabled = false;
      this.editError.textContent = err instanceof Error ? err.message : String(err);
      this.editError.hidden = false;
    }
  }

  /**
   * @private
   * @param {ChatView} chat
   */
  addForm(chat) {
    const add = el('button', { class: 'button button--primary button--small', testid: 'add-members-confirm', text: 'Add', attrs: { type: 'button' } });
    const cancel = el('button', { class: 'button button--small', text: 'Cancel', attrs: { type: 'button' } });
    cancel.addEventListener('click', () => {
      this.adding = false;
      this.picker.reset();
      this.focusNext = 'add';
      this.render();
    });
    add.addEventListener('click', async () => {
      const ids = this.picker.ids();
      if (ids.length === 0) {
        this.pickStatus.textContent = 'Pick at least one person.';
        return;
      }
      add.disabled = true;
      try {
        const view = await api.addMembers(chat.id, ids);
        this.adding = false;
        this.picker.reset();
        this.focusNext = 'add';
        this.handlers.onChatView(view);
      } catch (err) {
        add.disabled = false;
        this.pickStatus.textContent = err instanceof Error ? err.message : String(err);
      }
    });
    this.picker.render();
    return el(
      'div',
      { class: 'info-add' },
      this.pickChips,
      this.pickInput,
      this.pickStatus,
      this.pickResults,
      el('div', { class: 'info-buttons' }, cancel, add),
    );
  }

  /**
   * @private
   * @param {ChatView} chat
   * @param {Member} member
   * @param {string} myId
   * @param {boolean} admin  the viewer is an admin
   */
  memberRow(chat, member, myId, admin) {
    const self = member.user_id === myId;
    const name = self ? 'You' : displayName(member.user_id, member.user.name);
    const body = el(
      'span',
      { class: 'member-body' },
      el('span', { class: 'member-name', text: name, attrs: { dir: 'auto' } }),
      el('span', { class: 'member-sub', text: member.user.status || member.user.phone, attrs: { dir: 'auto' } }),
    );
    const row = el('li', { class: 'member-row', testid: 'member-row' }, avatar(self ? member.user.name : name, member.user_id), body);
    row.dataset.userId = member.user_id;
    row.dataset.role = member.role;
    if (member.role === 'admin') row.append(el('span', { class: 'member-admin', testid: 'member-admin', text: 'Group admin' }));
    if (admin && !self) {
      const makeAdmin = member.role !== 'admin';
      const role = el('button', {
        class: 'button button--small',
        testid: 'member-role',
        text: makeAdmin ? 'Make admin' : 'Dismiss as admin',
        attrs: { type: 'button', 'aria-label': makeAdmin ? `Make admin: ${name}` : `Dismiss as admin: ${name}`, 'data-focus-key': `role:${member.user_id}` },
      });
      role.addEventListener('click', () => void this.run(role, () => api.setMemberRole(chat.id, member.user_id, makeAdmin ? 'admin' : 'member')));
      const remove = el('button', {
        class: 'button button--small button--danger',
        testid: 'member-remove',
        text: 'Remove',
        attrs: { type: 'button', 'aria-label': `Remove ${name} from the group`, 'data-focus-key': `remove:${member.user_id}` },
      });
      remove.addEventListener('click', async () => {
        if (!(await confirmAction(`Remove ${name} from “${chat.name}”?`, 'Remove'))) return;
        await this.run(remove, () => api.removeMember(chat.id, member.user_id));
      });
      row.append(el('span', { class: 'member-actions' }, role, remove));
    }
    return row;
  }

  /**
   * Runs one change with its button disabled; the answer is the chat's new state.
   * @private
   * @param {HTMLButtonElement} button
   * @param {() => Promise<ChatView>} work
   */
  async run(button, work) {
    if (this.busy) return;
    this.busy = true;
    button.disabled = true;
    try {
      this.handlers.onChatView(await work());
    } catch (err) {
      button.disabled = false;
      this.handlers.toast(err instanceof Error ? err.message : String(err));
    } finally {
      this.busy = false;
    }
  }

  /**
   * @private
   * @param {ChatView} chat
   * @param {User} me
   */
  async exit(chat, me) {
    if (!(await confirmAction(`Exit “${chat.name}”? You will no longer get its messages.`, 'Exit group'))) return;
    try {
      this.handlers.onChatView(await api.removeMember(chat.id, me.id));
    } catch (err) {
      this.handlers.toast(err instanceof Error ? err.message : String(err));
    }
  }

  /**
   * @private
   * @param {ChatView} chat
   * @param {User} me
   * @returns {HTMLElement[]}
   */
  contactParts(chat, me) {
    const other = chat.members.find((m) => m.user_id !== me.id)?.user;
    if (!other) return [el('p', { class: 'info-left', text: 'This person is no longer here.' })];
    const name = displayName(other.id, other.name);
    const contact = contactOf(other.id);
    const blocked = isBlocked(other.id);
    const head = el(
      'div',
      { class: 'profile info-head' },
      avatar(name, other.id, 'avatar--large'),
      el('h3', { class: 'profile-name', testid: 'contact-info-name', text: name, attrs: { dir: 'auto' } }),
      el('p', { class: 'profile-phone', text: name !== other.name ? `${other.phone} · ~${other.name}` : other.phone }),
    );
    const about = el(
      'section',
      { class: 'info-section' },
      el('h4', { class: 'info-label', text: 'About' }),
      el('p', { class: 'info-description', text: other.status || '—' }),
    );
    const toggleContact = el(
      'button',
      { class: 'info-action', testid: 'contact-toggle', attrs: { type: 'button', 'data-focus-key': 'contact' } },
      el('span', { class: 'info-action-icon' }, icon(contact ? 'trash' : 'personAdd')),
      el('span', { text: contact ? 'Remove from contacts' : 'Add to contacts' }),
    );
    toggleContact.addEventListener('click', async () => {
      toggleContact.disabled = true;
      try {
        if (contact) {
          await api.removeContact(other.id);
          dropContact(other.id);
        } else {
          putContact(await api.addContact({ user_id: other.id }));
        }
        this.handlers.onPeopleChanged(other.id);
      } catch (err) {
        toggleContact.disabled = false;
        this.handlers.toast(err instanceof Error ? err.message : String(err));
      }
    });
    const block = el(
      'button',
      { class: 'info-action info-action--danger', testid: 'block-user', attrs: { type: 'button', 'data-focus-key': 'block', 'aria-pressed': String(blocked) } },
      el('span', { class: 'info-action-icon' }, icon('block')),
      el('span', { text: blocked ? `Unblock ${name}` : `Block ${name}` }),
    );
    block.addEventListener('click', async () => {
      if (!blocked && !(await confirmAction(`Block ${name}? They will not be able to message you in this chat.`, 'Block'))) return;
      block.disabled = true;
      try {
        await api.setBlocked(other.id, !blocked);
        noteBlocked(other.id, !blocked);
        this.handlers.onPeopleChanged(other.id);
      } catch (err) {
        block.disabled = false;
        this.handlers.toast(err instanceof Error ? err.message : String(err));
      }
    });
    const report = el(
      'button',
      { class: 'info-action info-action--danger', testid: 'report-user', attrs: { type: 'button', 'data-focus-key': 'report' } },
      el('span', { class: 'info-action-icon' }, icon('block')),
      el('span', { text: `Report ${name}` }),
    );
    report.addEventListener('click', () => this.handlers.onReport(other.id, name));
    return [head, about, el('section', { class: 'info-section' }, toggleContact, block, report)];
  }
}

/**
 * You first, then the admins, then everyone else, by name.
 * @param {Member[]} members
 * @param {string} myId
 */
function orderMembers(members, myId) {
  const rank = (/** @type {Member} */ m) => (m.user_id === myId ? 0 : m.role === 'admin' ? 1 : 2);
  return [...members].sort(
    (a, b) => rank(a) - rank(b) || displayName(a.user_id, a.user.name).localeCompare(displayName(b.user_id, b.user.name)),
  );
}

// The contacts panel: the people the user saved (with the name they gave them),
// adding one by phone number, removing, blocking and unblocking, and starting a
// chat with one.

import * as api from './api.js';
import { confirmAction } from './confirm.js';
import { avatar, byId, el, icon } from './dom.js';
import { contactKey, contactList, contactName, displayName, dropContact, isBlocked, noteBlocked, putContact, setContacts } from './people.js';

/** @typedef {import('./types.js').User} User */
/** @typedef {import('./types.js').Contact} Contact */

/**
 * @typedef {object} ContactsHandlers
 * @property {(user: User) => void} onStartChat
 * @property {(userId: string | null) => void} onChanged  contacts or blocks changed (null: all of them)
 * @property {() => void} onClosed
 */

export class ContactsView {
  /** @param {ContactsHandlers} handlers */
  constructor(handlers) {
    this.handlers = handlers;
    this.panel = byId('contacts-panel');
    this.back = byId('contacts-back');
    this.form = /** @type {HTMLFormElement} */ (byId('contact-form'));
    this.phone = /** @type {HTMLInputElement} */ (byId('contact-phone'));
    this.alias = /** @type {HTMLInputElement} */ (byId('contact-alias'));
    this.addButton = /** @type {HTMLButtonElement} */ (byId('contact-add'));
    this.status = byId('contact-status');
    this.list = byId('contact-list');
    this.listStatus = byId('contact-list-status');
    this.loadSeq = 0;
    /**
     * The contact whose name is being changed, and the name typed so far: a redraw
     * (the panel's own load answering, a frame changing people) keeps the field.
     * @type {{ key: string, text: string } | null}
     */
    this.renaming = null;

    this.back.addEventListener('click', () => this.close());
    this.panel.addEventListener('keydown', (event) => {
      if (event.key === 'Escape') {
        event.preventDefault();
        this.close();
      }
    });
    this.form.addEventListener('submit', (event) => {
      event.preventDefault();
      void this.add();
    });
    this.list.addEventListener('click', (event) => {
      const button = event.target instanceof Element ? event.target.closest('button[data-do]') : null;
      if (!(button instanceof HTMLButtonElement)) return;
      const row = button.closest('[data-contact-key]');
      const key = row instanceof HTMLElement ? row.dataset.contactKey ?? '' : '';
      const contact = contactList().find((c) => contactKey(c) === key);
      if (!contact) return;
      if (button.dataset.do === 'message' && contact.user) this.handlers.onStartChat(contact.user);
      else if (button.dataset.do === 'block') void this.toggleBlock(contact, button);
      else if (button.dataset.do === 'remove') void this.remove(contact, button);
      else if (button.dataset.do === 'rename') this.startRename(contact);
    });
  }

  get isOpen() {
    return !this.panel.hidden;
  }

  open() {
    this.setStatus('', false);
    this.panel.hidden = false;
    this.render();
    this.phone.focus();
    void this.load();
  }

  close() {
    if (this.panel.hidden) return;
    this.panel.hidden = true;
    this.loadSeq += 1;
    this.renaming = null;
    this.handlers.onClosed();
  }

  /** Closes without moving the focus (the session ended). */
  reset() {
    this.panel.hidden = true;
    this.loadSeq += 1;
    this.renaming = null;
    this.list.replaceChildren();
    this.phone.value = '';
    this.alias.value = '';
  }

  /** Loads the contacts from the server into the directory and redraws. */
  async load() {
    const seq = ++this.loadSeq;
    if (contactList().length === 0) this.listStatus.textContent = 'Loading contacts…';
    try {
      const contacts = await api.listContacts();
      if (seq !== this.loadSeq) return;
      setContacts(contacts);
      this.handlers.onChanged(null);
      this.render();
    } catch (err) {
      if (seq !== this.loadSeq) return;
      this.listStatus.textContent = err instanceof Error ? err.message : String(err);
    }
  }

  /** Redraws the list from the directory. */
  render() {
    if (this.panel.hidden) return;
    const contacts = contactList();
    const renaming = this.renaming;
    const field = renaming ? this.list.querySelector('[data-testid="contact-alias-input"]') : null;
    const hadFocus = !!field && field === document.activeElement;
    this.listStatus.textContent = contacts.length ? '' : 'No contacts yet. Add someone by their phone number.';
    this.list.replaceChildren(...contacts.map((c) => this.row(c)));
    const stillThere = renaming ? contacts.find((c) => contactKey(c) === renaming.key) : undefined;
    const row = stillThere ? this.list.querySelector(`[data-contact-key="${CSS.escape(contactKey(stillThere))}"]`) : null;
    if (stillThere && row instanceof HTMLElement) this.showRenameForm(stillThere, row, hadFocus);
    else this.renaming = null;
  }

  /**
   * @private
   * @param {Contact} contact
   */
  row(contact) {
    const user = contact.user;
    const name = contactName(contact);
    const rename = iconButton('edit', `Change the name you gave ${name}`, 'contact-rename', 'rename');
    const remove = iconButton('trash', `Remove ${name} from contacts`, 'contact-remove', 'remove');
    /** @type {HTMLElement[]} */
    let actions = [rename, remove];
    let sub = contact.phone;
    let badge = null;
    if (user) {
      const blocked = isBlocked(user.id);
      if (contact.alias && contact.alias !== user.name) sub = `${user.name} · ${contact.phone}`;
      badge = blocked ? el('span', { class: 'device-current contact-blocked', text: 'Blocked' }) : null;
      const block = iconButton('block', blocked ? `Unblock ${name}` : `Block ${name}`, 'contact-block', 'block');
      block.setAttribute('aria-pressed', String(blocked));
      actions = [iconButton('chat', `Message ${name}`, 'contact-message', 'message'), rename, block, remove];
    } else {
      sub = `${contact.phone} · shown once you share a chat or they save your number`;
    }
    const body = el(
      'span',
      { class: 'device-body' },
      el('span', { class: 'device-top' }, el('span', { class: 'device-name', testid: 'contact-name', text: name, attrs: { dir: 'auto' } }), badge),
      el('span', { class: 'device-details', text: sub, attrs: { dir: 'auto' } }),
    );
    const item = el('li', { class: 'device-row contact-row', testid: 'contact-row' }, avatar(name, user?.id ?? contact.phone), body, el('span', { class: 'contact-actions' }, ...actions));
    item.dataset.contactKey = contactKey(contact);
    if (user) item.dataset.userId = user.id;
    item.dataset.blocked = String(user ? isBlocked(user.id) : false);
    return item;
  }

  /**
   * Starts changing the contact's name (the alias): a field in place of the row's body.
   * @private
   * @param {Contact} contact
   */
  startRename(contact) {
    this.renaming = { key: contactKey(contact), text: contact.alias ?? '' };
    // One field at a time: the redraw puts back the row another one replaced.
    this.render();
    const input = this.list.querySelector('[data-testid="contact-alias-input"]');
    if (input instanceof HTMLInputElement) {
      input.focus();
      input.select();
    }
  }

  /**
   * Puts the field for the name being changed in place of the row's body.
   * @private
   * @param {Contact} contact
   * @param {HTMLElement} row
   * @param {boolean} focus
   */
  showRenameForm(contact, row, focus) {
    const renaming = this.renaming;
    const body = row.querySelector('.device-body');
    if (!renaming || !(body instanceof HTMLElement)) return;
    const name = contactName(contact);
    const input = el('input', {
      class: 'info-input',
      testid: 'contact-alias-input',
      attrs: { type: 'text', maxlength: '64', autocomplete: 'off', dir: 'auto', 'aria-label': `Name for ${name} (only you see it; empty for none)` },
    });
    input.value = renaming.text;
    input.addEventListener('input', () => {
      renaming.text = input.value;
    });
    const save = el('button', { class: 'button button--primary button--small', testid: 'contact-alias-save', text: 'Save', attrs: { type: 'submit' } });
    const cancel = el('button', { class: 'button button--small', text: 'Cancel', attrs: { type: 'button' } });
    const form = el('form', { class: 'contact-alias-form', attrs: { 'aria-label': `Rename ${name}` } }, input, save, cancel);
    body.replaceWith(form);
    if (focus) input.focus();
    const stop = () => {
      this.renaming = null;
      this.render();
    };
    cancel.addEventListener('click', stop);
    form.addEventListener('keydown', (event) => {
      if (event.key !== 'Escape') return;
      event.preventDefault();
      event.stopPropagation(); // the field closes, not the panel
      stop();
    });
    form.addEventListener('submit', (event) => {
      event.preventDefault();
      void this.rename(contact, input.value.trim(), save);
    });
  }

  /**
   * Saves a contact's name (empty: none, their own name shows).
   * @private
   * @param {Contact} contact
   * @param {string} alias
   * @param {HTMLButtonElement} save
   */
  async rename(contact, alias, save) {
    save.disabled = true;
    try {
      const saved = await api.addContact(contact.user ? { user_id: contact.user.id } : { phone: contact.phone }, alias || undefined);
      putContact(saved);
      this.renaming = null;
      this.setStatus(`Saved as ${contactName(saved)}.`, false);
      this.handlers.onChanged(saved.user?.id ?? null);
      this.render();
    } catch (err) {
      save.disabled = false;
      this.setStatus(err instanceof Error ? err.message : String(err), true);
    }
  }

  /** @private */
  async add() {
    const phone = this.phone.value.trim();
    if (!phone) {
      this.setStatus('Enter a phone number, for example +919876543210.', true);
      this.phone.focus();
      return;
    }
    this.addButton.disabled = true;
    this.setStatus('Adding…', false);
    try {
      const contact = await api.addContact({ phone }, this.alias.value.trim() || undefined);
      putContact(contact);
      this.phone.value = '';
      this.alias.value = '';
      this.setStatus(`${contactName(contact)} is in your contacts.`, false);
      this.handlers.onChanged(contact.user?.id ?? null);
      this.render();
    } catch (err) {
      this.setStatus(err instanceof Error ? err.message : String(err), true);
    } finally {
      this.addButton.disabled = false;
    }
  }

  /**
   * @private
   * @param {Contact} contact
   * @param {HTMLButtonElement} button
   */
  async toggleBlock(contact, button) {
    if (!contact.user) return;
    const id = contact.user.id;
    const name = displayName(id, contact.user.name);
    const block = !isBlocked(id);
    if (block && !(await confirmAction(`Block ${name}? They will not be able to message you in your direct chat.`, 'Block'))) return;
    button.disabled = true;
    try {
      await api.setBlocked(id, block);
      noteBlocked(id, block);
      this.setStatus(block ? `${name} is blocked.` : `${name} is unblocked.`, false);
      this.handlers.onChanged(id);
      this.render();
    } catch (err) {
      button.disabled = false;
      this.setStatus(err instanceof Error ? err.message : String(err), true);
    }
  }

  /**
   * @private
   * @param {Contact} contact
   * @param {HTMLButtonElement} button
   */
  async remove(contact, button) {
    const name = contactName(contact);
    if (!(await confirmAction(`Remove ${name} from your contacts?`, 'Remove'))) return;
    button.disabled = true;
    try {
      await api.removeContactByPhone(contact.phone);
    } catch (err) {
      if (!(err instanceof api.ApiError && err.status === 404)) {
        button.disabled = false;
        this.setStatus(err instanceof Error ? err.message : String(err), true);
        return;
      }
    }
    dropContact(contactKey(contact));
    this.setStatus(`${name} was removed from your contacts.`, false);
    this.handlers.onChanged(contact.user?.id ?? null);
    this.render();
  }

  /**
   * @private
   * @param {string} text
   * @param {boolean} isError
   */
  setStatus(text, isError) {
    this.status.textContent = text;
    this.status.classList.toggle('search-status--error', isError);
  }
}

/**
 * @param {import('./dom.js').IconName} name
 * @param {string} label
 * @param {string} testid
 * @param {string} action
 */
function iconButton(name, label, testid, action) {
  const button = el('button', { class: 'icon-button', testid, attrs: { type: 'button', 'aria-label': label, title: label, 'data-do': action } });
  button.append(icon(name));
  return button;
}

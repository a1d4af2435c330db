// Picking people (for a new group, or to add to one) and the "New group" panel.

import * as api from './api.js';
import { avatar, byId, debounce, el, icon } from './dom.js';
import { displayName, noteUser } from './people.js';

/** @typedef {import('./types.js').User} User */
/** @typedef {import('./types.js').ChatView} ChatView */

const SEARCH_DELAY_MS = 250;

/**
 * @typedef {object} PickerParts
 * @property {HTMLInputElement} input    what to search for
 * @property {HTMLElement} chips         who is picked, each removable
 * @property {HTMLElement} results       whom to pick from
 * @property {HTMLElement} status
 */

/**
 * @typedef {object} PickerSource
 * @property {() => User[]} suggestions   shown before anything is typed (contacts, people chatted with)
 * @property {() => Set<string>} exclude  never offered (the user, members already in)
 * @property {() => void} [onChange]      the selection changed
 */

/** Search people by name or phone, pick several. */
export class PeoplePicker {
  /**
   * @param {PickerParts} parts
   * @param {PickerSource} source
   */
  constructor(parts, source) {
    this.parts = parts;
    this.source = source;
    /** @type {Map<string, User>} */
    this.selected = new Map();
    /** @type {User[]} */
    this.found = [];
    this.searchSeq = 0;
    const run = debounce((/** @type {string} */ q) => void this.search(q), SEARCH_DELAY_MS);
    this.run = run;
    parts.input.addEventListener('input', () => {
      const q = parts.input.value.trim();
      this.found = [];
      this.searchSeq += 1;
      this.renderResults();
      if (q) {
        parts.status.textContent = 'Searching…';
        run(q);
      } else {
        run.cancel();
      }
    });
    parts.input.addEventListener('keydown', (event) => {
      // Enter picks the first person shown rather than submitting the form.
      if (event.key !== 'Enter') return;
      event.preventDefault();
      const first = parts.results.querySelector('button[data-user-id]');
      if (first instanceof HTMLButtonElement) first.click();
    });
    parts.results.addEventListener('click', (event) => {
      const button = event.target instanceof Element ? event.target.closest('button[data-user-id]') : null;
      if (!(button instanceof HTMLButtonElement)) return;
      const id = button.dataset.userId ?? '';
      const user = this.candidates().find((u) => u.id === id) ?? this.selected.get(id);
      if (!user) return;
      if (this.selected.has(id)) this.selected.delete(id);
      else this.selected.set(id, user);
      this.render();
      this.source.onChange?.();
      button.focus({ preventScroll: true });
    });
    parts.chips.addEventListener('click', (event) => {
      const button = event.target instanceof Element ? event.target.closest('button[data-unpick]') : null;
      if (!(button instanceof HTMLButtonElement)) return;
      this.selected.delete(button.dataset.unpick ?? '');
      this.render();
      this.source.onChange?.();
      parts.input.focus();
    });
  }

  /** The ids picked. */
  ids() {
    return [...this.selected.keys()];
  }

  /** Empties the search and the selection. */
  reset() {
    this.run.cancel();
    this.searchSeq += 1;
    this.selected.clear();
    this.found = [];
    this.parts.input.value = '';
    this.render();
  }

  render() {
    this.renderChips();
    this.renderResults();
  }

  /**
   * Whom to offer for what is typed: matching suggestions, then what the server found.
   * @private
   */
  candidates() {
    const q = this.parts.input.value.trim().toLocaleLowerCase();
    const exclude = this.source.exclude();
    /** @type {Map<string, User>} */
    const out = new Map();
    for (const user of this.source.suggestions()) {
      if (exclude.has(user.id)) continue;
      const name = displayName(user.id, user.name).toLocaleLowerCase();
      if (!q || name.includes(q) || user.name.toLocaleLowerCase().includes(q) || user.phone.includes(q)) out.set(user.id, user);
    }
    for (const user of this.found) if (!exclude.has(user.id)) out.set(user.id, user);
    return [...out.values()];
  }

  /** @private */
  renderChips() {
    this.parts.chips.replaceChildren(
      ...[...this.selected.values()].map((user) => {
        const name = displayName(user.id, user.name);
        const remove = el('button', {
          class: 'chip-remove',
          attrs: { type: 'button', 'data-unpick': user.id, 'aria-label': `Remove ${name}` },
        });
        remove.append(icon('close'));
        return el('li', { class: 'chip', testid: 'picked-person' }, avatar(name, user.id, 'avatar--tiny'), el('span', { class: 'chip-name', text: name }), remove);
      }),
    );
    this.parts.chips.hidden = this.selected.size === 0;
  }

  /** @private */
  renderResults() {
    const people = this.candidates();
    const q = this.parts.input.value.trim();
    this.parts.results.replaceChildren(
      ...people.map((user) => {
        const name = displayName(user.id, user.name);
        const picked = this.selected.has(user.id);
        const button = el(
          'button',
          {
            class: 'pick-row',
            testid: 'pick-person',
            attrs: { type: 'button', 'data-user-id': user.id, 'aria-pressed': String(picked) },
          },
          avatar(name, user.id),
          el(
            'span',
            { class: 'pick-body' },
            el('span', { class: 'pick-name', text: name }),
            el('span', { class: 'pick-sub', text: name !== user.name ? `${user.name} · ${user.phone}` : user.status || user.phone }),
          ),
          el('span', { class: 'pick-check', attrs: { 'aria-hidden': 'true' } }, icon('tick')),
        );
        return el('li', {}, button);
      }),
    );
    if (this.parts.status.textContent !== 'Searching…' || !q) {
      this.parts.status.textContent = people.length ? '' : q ? `No people found for “${q}”` : 'Search for people by name or phone number.';
    }
  }

  /**
   * @private
   * @param {string} q
   */
  async search(q) {
    const seq = ++this.searchSeq;
    try {
      const users = await api.searchUsers(q.slice(0, 64));
      if (seq !== this.searchSeq) return;
      for (const u of users) noteUser(u);
      this.found = users;
      this.parts.status.textContent = '';
      this.renderResults();
    } catch (err) {
      if (seq !== this.searchSeq) return;
      this.parts.status.textContent = err instanceof Error ? err.message : 'Search failed';
    }
  }
}

/**
 * @typedef {object} NewGroupHandlers
 * @property {() => User[]} suggestions  people to offer first
 * @property {() => string} myId
 * @property {(chat: ChatView) => void} onCreated
 * @property {() => void} onClosed
 */

/** The "New group" panel: name, description, people, create. */
export class NewGroupView {
  /** @param {NewGroupHandlers} handlers */
  constructor(handlers) {
    this.handlers = handlers;
    this.panel = byId('new-group-panel');
    this.back = byId('new-group-back');
    this.form = /** @type {HTMLFormElement} */ (byId('new-group-form'));
    this.name = /** @type {HTMLInputElement} */ (byId('group-name-input'));
    this.description = /** @type {HTMLTextAreaElement} */ (byId('group-description-input'));
    this.create = /** @type {HTMLButtonElement} */ (byId('group-create'));
    this.error = byId('new-group-error');
    this.busy = false;
    this.picker = new PeoplePicker(
      {
        input: /** @type {HTMLInputElement} */ (byId('group-member-search')),
        chips: byId('group-picked'),
        results: byId('group-candidates'),
        status: byId('group-pick-status'),
      },
      {
        suggestions: () => handlers.suggestions(),
        exclude: () => new Set([handlers.myId()]),
        onChange: () => this.setError(''),
      },
    );
    this.back.addEventListener('click', () => this.close());
    this.panel.addEventListener('keydown', (event) => {
      if (event.key === 'Escape') {
        event.preventDefault();
        this.close();
      }
    });
    this.form.addEventListener('submit', (event) => {
      event.preventDefault();
      void this.submit();
    });
  }

  get isOpen() {
    return !this.panel.hidden;
  }

  open() {
    this.name.value = '';
    this.description.value = '';
    this.setError('');
    this.picker.reset();
    this.panel.hidden = false;
    this.name.focus();
  }

  close() {
    if (this.panel.hidden) return;
    this.panel.hidden = true;
    this.picker.reset();
    this.handlers.onClosed();
  }

  /** Closes without moving the focus (the session ended). */
  reset() {
    this.panel.hidden = true;
    this.picker.reset();
  }

  /**
   * @private
   * @param {string} text
   */
  setError(text) {
    this.error.textContent = text;
    this.error.hidden = !text;
  }

  /** @private */
  async submit() {
    if (this.busy) return;
    const name = this.name.value.trim();
    if (!name) {
      this.setError('Give the group a name.');
      this.name.focus();
      return;
    }
    this.busy = true;
    this.create.disabled = true;
    this.create.textContent = 'Creating…';
    this.setError('');
    try {
      const chat = await api.createGroup(name, this.description.value.trim(), this.picker.ids());
      this.panel.hidden = true;
      this.picker.reset();
      this.handlers.onCreated(chat);
    } catch (err) {
      this.setError(err instanceof Error ? err.message : String(err));
    } finally {
      this.busy = false;
      this.create.disabled = false;
      this.create.textContent = 'Create group';
    }
  }
}

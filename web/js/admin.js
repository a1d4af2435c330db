// The Admin page, for the server's admins (ADMIN_PHONES) only: the server's
// figures, open reports with the reported message's copy and what to do about
// each, users (search, disable, enable) and the audit log. The server decides
// who is an admin; this page only shows what it answers.

import * as api from './api.js';
import { byId, el, formatTime } from './dom.js';
import { actionError } from './errors.js';
import { confirmAction } from './confirm.js';

const ACTIONS = /** @type {const} */ ([
  ['delete_message', 'Delete for everyone', 'admin-delete-message'],
  ['disable_sender', 'Disable sender', 'admin-disable-sender'],
  ['dismiss', 'Dismiss', 'admin-dismiss'],
]);

export class AdminPage {
  constructor() {
    this.menuItem = byId('menu-admin');
    this.dialog = /** @type {HTMLDialogElement} */ (byId('admin-dialog'));
    this.figures = byId('admin-figures');
    this.reports = byId('admin-reports');
    this.users = byId('admin-users');
    this.audit = byId('admin-audit');
    this.status = byId('admin-status');
    this.search = /** @type {HTMLInputElement} */ (byId('admin-user-search'));
    byId('admin-close').addEventListener('click', () => this.dialog.close());
    let searching = 0;
    this.search.addEventListener('input', () => {
      window.clearTimeout(searching);
      searching = window.setTimeout(() => void this.loadUsers(), 250);
    });
  }

  /** Shows "Admin" in the menu when the server says the user is an admin. */
  async check() {
    try {
      this.menuItem.hidden = !(await api.amIAdmin());
    } catch {
      this.menuItem.hidden = true;
    }
  }

  open() {
    if (!this.dialog.open) this.dialog.showModal();
    void this.refresh();
  }

  async refresh() {
    this.status.textContent = 'Loading…';
    try {
      await Promise.all([this.loadFigures(), this.loadReports(), this.loadUsers(), this.loadAudit()]);
      this.status.textContent = '';
    } catch (err) {
      this.status.textContent = actionError('Could not load the admin page', err);
    }
  }

  async loadFigures() {
    const f = await api.adminStats();
    const today = Array.isArray(f.messages_per_day) ? f.messages_per_day.at(-1)?.messages ?? 0 : 0;
    const week = Array.isArray(f.messages_per_day)
      ? f.messages_per_day.reduce((/** @type {number} */ sum, /** @type {any} */ d) => sum + d.messages, 0)
      : 0;
    const rows = [
      ['Users', `${f.users} (${f.disabled_users} disabled)`],
      ['Messages today', String(today)],
      ['Messages, 7 days', String(week)],
      ['Connected devices', String(f.connected_devices)],
      ['Storage', `${f.attachments} files, ${formatBytes(f.attachment_bytes)}`],
    ];
    this.figures.replaceChildren(...rows.flatMap(([term, value]) => [el('dt', { text: term }), el('dd', { text: value })]));
  }

  async loadReports() {
    const reports = await api.adminReports();
    if (reports.length === 0) {
      this.reports.replaceChildren(el('li', { class: 'admin-empty', text: 'No open reports' }));
      return;
    }
    this.reports.replaceChildren(...reports.map((report) => this.reportItem(report)));
  }

  /** @param {any} report */
  reportItem(report) {
    const copy = report.message;
    const about = copy
      ? el(
          'blockquote',
          { class: 'admin-copy', attrs: { 'data-testid': 'admin-report-copy', dir: 'auto' } },
          el('span', { text: copy.content || (copy.attachments?.length ? `${copy.attachments.length} file(s)` : '') }),
          el('small', { class: 'admin-meta', text: `sent ${formatTime(copy.sent_at)} by ${copy.sender_id}` }),
        )
      : el('p', { class: 'admin-meta', text: `About the person ${report.subject_id}` });
    const buttons = ACTIONS.filter(([action]) => copy || action !== 'delete_message').map(([action, label, testid]) => {
      const button = el('button', { class: 'button', text: label, attrs: { type: 'button', 'data-testid': testid } });
      button.addEventListener('click', () => void this.act(report.id, action, label));
      return button;
    });
    return el(
      'li',
      { class: 'admin-item', attrs: { 'data-testid': 'admin-report', 'data-report-id': report.id } },
      el('p', { class: 'admin-reason', text: `“${report.reason}”`, attrs: { dir: 'auto' } }),
      about,
      el('div', { class: 'admin-actions' }, ...buttons),
    );
  }

  /**
   * @param {string} reportId
   * @param {'dismiss' | 'delete_message' | 'disable_sender'} action
   * @param {string} label
   */
  async act(reportId, action, label) {
    if (action !== 'dismiss' && !(await confirmAction(`${label}?`, label))) return;
    try {
      await api.adminActOnReport(reportId, action);
      this.status.textContent = `${label}: done`;
    } catch (err) {
      this.status.textContent = actionError(`Could not ${label.toLowerCase()}`, err);
    }
    await Promise.all([this.loadReports(), this.loadAudit(), this.loadUsers(), this.loadFigures()]).catch(() => undefined);
  }

  async loadUsers() {
    const users = await api.adminUsers(this.search.value.trim());
    this.users.replaceChildren(
      ...users.map((user) => {
        const disabled = !!user.disabled_at;
        const toggle = el('button', {
          class: 'button',
          text: disabled ? 'Enable' : 'Disable',
          attrs: { type: 'button', 'data-testid': disabled ? 'admin-enable' : 'admin-disable' },
        });
        toggle.addEventListener('click', async () => {
          try {
            await api.adminSetDisabled(user.id, !disabled);
          } catch (err) {
            this.status.textContent = actionError('Could not change the user', err);
          }
          await Promise.all([this.loadUsers(), this.loadAudit()]).catch(() => undefined);
        });
        return el(
          'li',
          { class: 'admin-item admin-user', attrs: { 'data-testid': 'admin-user' } },
          el('span', { class: 'admin-user-name', text: user.name, attrs: { dir: 'auto' } }),
          el('span', { class: 'admin-meta', text: `${user.phone}${disabled ? ' · disabled' : ''}` }),
          toggle,
        );
      }),
    );
  }

  async loadAudit() {
    const entries = await api.adminAudit();
    if (entries.length === 0) {
      this.audit.replaceChildren(el('li', { class: 'admin-empty', text: 'Nothing yet' }));
      return;
    }
    this.audit.replaceChildren(
      ...entries.map((entry) =>
        el(
          'li',
          { class: 'admin-item', attrs: { 'data-testid': 'admin-audit-entry' } },
          el('span', { text: `${entry.action} · ${entry.target}` }),
          el('small', { class: 'admin-meta', text: `${formatTime(entry.at)} by ${entry.actor} ${entry.details}` }),
        ),
      ),
    );
  }
}

/** @param {number} bytes */
function formatBytes(bytes) {
  if (bytes < 1024) return `${bytes} B`;
  if (bytes < 1024 * 1024) return `${(bytes / 1024).toFixed(1)} KiB`;
  return `${(bytes / (1024 * 1024)).toFixed(1)} MiB`;
}

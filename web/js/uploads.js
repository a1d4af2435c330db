// Files on their way into a message: the tray above the composer, filled from the
// attach button or by dropping files on the conversation. Each file uploads at
// once (XMLHttpRequest, for its progress events) and can be cancelled; the ones
// that finished go with the next send.

import { ApiError, getToken } from './api.js';
import { el, icon } from './dom.js';

/** @typedef {import('./types.js').Attachment} Attachment */

/**
 * @typedef {object} TrayItem
 * @property {string} key
 * @property {File} file
 * @property {'uploading' | 'ready' | 'failed'} state
 * @property {number} progress  0..1
 * @property {Attachment | null} attachment  once uploaded
 * @property {string} error
 * @property {XMLHttpRequest | null} request
 * @property {HTMLElement} node
 */

let counter = 0;

/**
 * Uploads one file to `POST /api/attachments`, reporting progress.
 * @param {File} file
 * @param {(fraction: number) => void} onProgress
 * @returns {{ request: XMLHttpRequest, done: Promise<Attachment> }}
 */
export function uploadFile(file, onProgress) {
  const request = new XMLHttpRequest();
  const done = new Promise((resolve, reject) => {
    request.open('POST', '/api/attachments');
    const token = getToken();
    if (token) request.setRequestHeader('Authorization', `Bearer ${token}`);
    request.responseType = 'json';
    request.upload.addEventListener('progress', (event) => {
      if (event.lengthComputable && event.total > 0) onProgress(event.loaded / event.total);
    });
    request.addEventListener('load', () => {
      const body = request.response;
      if (request.status === 201 && body && typeof body.id === 'string') {
        resolve(/** @type {Attachment} */ (body));
        return;
      }
      const err = body && typeof body === 'object' ? body.error : null;
      const message = err && typeof err.message === 'string' ? err.message : `The server answered ${request.status}`;
      reject(new ApiError(request.status, err?.code ?? `http_${request.status}`, message));
    });
    request.addEventListener('error', () => reject(new ApiError(0, 'network_error', 'Cannot reach the server.')));
    request.addEventListener('abort', () => reject(new ApiError(0, 'cancelled', 'Cancelled')));
    const form = new FormData();
    form.append('file', file, file.name);
    request.send(form);
  });
  return { request, done };
}

/** @param {number} bytes */
export function formatSize(bytes) {
  if (bytes < 1024) return `${bytes} B`;
  if (bytes < 1024 * 1024) return `${(bytes / 1024).toFixed(0)} KB`;
  return `${(bytes / (1024 * 1024)).toFixed(1)} MB`;
}

export class UploadTray {
  /**
   * @param {HTMLElement} root        the tray above the composer
   * @param {() => void} onChange     the set of ready files changed
   */
  constructor(root, onChange) {
    this.root = root;
    this.onChange = onChange;
    /** @type {TrayItem[]} */
    this.items = [];
  }

  /** @param {Iterable<File>} files */
  add(files) {
    for (const file of files) {
      const key = `u${++counter}`;
      const progress = el('progress', { class: 'upload-progress', testid: 'upload-progress', attrs: { max: '1', value: '0' } });
      const cancel = el('button', {
        class: 'icon-button upload-cancel',
        testid: 'upload-cancel',
        attrs: { type: 'button', 'aria-label': `Cancel ${file.name}`, title: 'Cancel' },
      });
      cancel.append(icon('close'));
      const status = el('span', { class: 'upload-status', testid: 'upload-status' });
      const node = el(
        'li',
        { class: 'upload-item', testid: 'upload-item' },
        el('span', { class: 'upload-name', text: file.name }),
        el('span', { class: 'upload-size', text: formatSize(file.size) }),
        progress,
        status,
        cancel,
      );
      /** @type {TrayItem} */
      const item = { key, file, state: 'uploading', progress: 0, attachment: null, error: '', request: null, node };
      cancel.addEventListener('click', () => this.remove(item));
      this.items.push(item);
      this.root.append(node);
      this.sync(item);
      const { request, done } = uploadFile(file, (fraction) => {
        item.progress = fraction;
        this.sync(item);
      });
      item.request = request;
      done.then(
        (attachment) => {
          item.attachment = attachment;
          item.state = 'ready';
          item.request = null;
          this.sync(item);
          this.onChange();
        },
        (err) => {
          item.request = null;
          if (err instanceof ApiError && err.code === 'cancelled') return;
          item.state = 'failed';
          item.error = err instanceof Error ? err.message : 'Upload failed';
          this.sync(item);
        },
      );
    }
    this.root.hidden = this.items.length === 0;
  }

  /**
   * @private
   * @param {TrayItem} item
   */
  sync(item) {
    item.node.dataset.state = item.state;
    const progress = /** @type {HTMLProgressElement} */ (item.node.querySelector('progress'));
    progress.value = item.state === 'ready' ? 1 : item.progress;
    progress.hidden = item.state === 'failed';
    const status = /** @type {HTMLElement} */ (item.node.querySelector('.upload-status'));
    status.textContent = item.state === 'failed' ? item.error : item.state === 'ready' ? 'Ready' : `${Math.round(item.progress * 100)}%`;
    const cancel = /** @type {HTMLElement} */ (item.node.querySelector('.upload-cancel'));
    cancel.setAttribute('aria-label', `${item.state === 'uploading' ? 'Cancel' : 'Remove'} ${item.file.name}`);
  }

  /**
   * Stops (or forgets) one file.
   * @param {TrayItem} item
   */
  remove(item) {
    item.request?.abort();
    item.node.remove();
    this.items = this.items.filter((i) => i !== item);
    this.root.hidden = this.items.length === 0;
    this.onChange();
  }

  /** Whether some files are ready to go. */
  hasReady() {
    return this.items.some((i) => i.state === 'ready');
  }

  /**
   * Takes the uploaded files out of the tray for sending.
   * @returns {Attachment[]}
   */
  takeReady() {
    const ready = this.items.filter((i) => i.state === 'ready');
    for (const item of ready) item.node.remove();
    this.items = this.items.filter((i) => i.state !== 'ready');
    this.root.hidden = this.items.length === 0;
    return ready.map((i) => /** @type {Attachment} */ (i.attachment));
  }

  /** Cancels everything (another chat was opened). */
  clear() {
    for (const item of [...this.items]) this.remove(item);
  }
}

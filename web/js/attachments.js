// Files in message bubbles: photos (their thumbnail, opened large in a viewer),
// videos and voice notes (played in the page), documents (downloaded). The
// token is not a cookie, so <img src="/api/..."> cannot send it: photos and
// documents are fetched with the bearer token and shown through blob: URLs;
// videos and voice notes play from a short-lived signed link, so that they
// stream and seek (range requests) instead of downloading whole first.

import { attachmentLink, getToken } from './api.js';
import { el, icon } from './dom.js';
import { formatSize } from './uploads.js';

/** @typedef {import('./types.js').Attachment} Attachment */

/** Thumbnails (and photos without one) already fetched: id → blob: URL. @type {Map<string, Promise<string>>} */
const cache = new Map();

/**
 * A file of an attachment as a blob: URL.
 * @param {string} id
 * @param {'original' | 'thumbnail'} variant
 * @returns {Promise<string>}
 */
async function blobUrl(id, variant) {
  const path = `/api/attachments/${encodeURIComponent(id)}${variant === 'thumbnail' ? '/thumbnail' : ''}`;
  const token = getToken();
  const res = await fetch(path, { headers: token ? { Authorization: `Bearer ${token}` } : {}, credentials: 'same-origin' });
  if (!res.ok) throw new Error(res.status === 404 ? 'This file is no longer available' : `Could not load the file (${res.status})`);
  return URL.createObjectURL(await res.blob());
}

/**
 * The cached preview of a photo: its thumbnail, or the photo itself without one.
 * @param {Attachment} attachment
 */
function preview(attachment) {
  const key = attachment.id;
  let url = cache.get(key);
  if (!url) {
    url = blobUrl(attachment.id, attachment.has_thumbnail ? 'thumbnail' : 'original');
    cache.set(key, url);
    url.catch(() => cache.delete(key));
  }
  return url;
}

/** @type {HTMLDialogElement | null} */
let viewer = null;

/** The photo viewer: a dialog with the full image, its name and a download button. */
function photoViewer() {
  if (viewer) return viewer;
  const image = el('img', { class: 'viewer-image', testid: 'viewer-image', attrs: { alt: '' } });
  const title = el('span', { class: 'viewer-title', testid: 'viewer-title' });
  const close = el('button', { class: 'icon-button', testid: 'viewer-close', attrs: { type: 'button', 'aria-label': 'Close' } });
  close.append(icon('close'));
  const download = el('button', { class: 'viewer-download', testid: 'viewer-download', text: 'Download', attrs: { type: 'button' } });
  const status = el('p', { class: 'viewer-status', attrs: { role: 'status' } });
  const dialog = el(
    'dialog',
    { class: 'viewer', testid: 'image-viewer', attrs: { 'aria-label': 'Photo' } },
    el('header', { class: 'bar viewer-bar' }, close, title, download),
    el('div', { class: 'viewer-body' }, image, status),
  );
  close.addEventListener('click', () => dialog.close());
  dialog.addEventListener('close', () => {
    const url = image.getAttribute('src');
    image.removeAttribute('src');
    if (url) URL.revokeObjectURL(url);
  });
  document.body.append(dialog);
  viewer = dialog;
  return dialog;
}

/**
 * Opens a photo large.
 * @param {Attachment} attachment
 */
async function openPhoto(attachment) {
  const dialog = photoViewer();
  const image = /** @type {HTMLImageElement} */ (dialog.querySelector('.viewer-image'));
  const status = /** @type {HTMLElement} */ (dialog.querySelector('.viewer-status'));
  const title = /** @type {HTMLElement} */ (dialog.querySelector('.viewer-title'));
  const download = /** @type {HTMLButtonElement} */ (dialog.querySelector('.viewer-download'));
  title.textContent = attachment.name;
  image.alt = attachment.name;
  status.textContent = 'Loading…';
  download.onclick = () => void save(attachment);
  if (!dialog.open) dialog.showModal();
  try {
    const url = await blobUrl(attachment.id, 'original');
    if (!dialog.open) {
      URL.revokeObjectURL(url);
      return;
    }
    image.src = url;
    status.textContent = '';
  } catch (err) {
    status.textContent = err instanceof Error ? err.message : 'Could not load the photo';
  }
}

/**
 * Downloads a file under its name.
 * @param {Attachment} attachment
 */
async function save(attachment) {
  const url = await blobUrl(attachment.id, 'original');
  const link = el('a', { attrs: { href: url, download: attachment.name } });
  document.body.append(link);
  link.click();
  link.remove();
  // The download has its own copy once started.
  setTimeout(() => URL.revokeObjectURL(url), 60_000);
}

/**
 * What a player says when its file cannot be had.
 * @param {HTMLElement} holder
 * @param {unknown} err
 */
function playbackFailed(holder, err) {
  holder.dataset.state = 'failed';
  holder.title = err instanceof Error && err.message ? err.message : 'Could not load the file';
}

/**
 * Replaces what `holder` shows by a player that streams the file from a signed
 * link. A link lasts minutes: when the player reports an error (the link
 * expired, or the connection dropped), it gets a fresh link and carries on from
 * where it was, once per link that had worked.
 * @param {HTMLElement} holder
 * @param {Attachment} attachment
 * @param {'video' | 'audio'} tag
 */
async function play(holder, attachment, tag) {
  holder.dataset.state = 'loading';
  let link;
  try {
    link = await attachmentLink(attachment.id);
  } catch (err) {
    playbackFailed(holder, err);
    return;
  }
  const player = /** @type {HTMLMediaElement} */ (
    el(tag, { class: `msg-${tag}-player`, testid: `${tag}-player`, attrs: { controls: '', autoplay: '', preload: 'metadata', src: link.url } })
  );
  // Renewed only after the current link has played something, so a file that
  // cannot be played at all does not ask again and again.
  let worked = false;
  player.addEventListener('loadedmetadata', () => (worked = true));
  player.addEventListener('error', async () => {
    if (!worked) {
      playbackFailed(holder, new Error(player.error?.message || 'Could not play the file'));
      return;
    }
    worked = false;
    const at = player.currentTime;
    const wasPlaying = !player.paused;
    try {
      const fresh = await attachmentLink(attachment.id);
      player.src = fresh.url;
      player.addEventListener(
        'loadedmetadata',
        () => {
          player.currentTime = at;
          if (wasPlaying) void player.play().catch(() => {});
        },
        { once: true },
      );
    } catch (err) {
      playbackFailed(holder, err);
    }
  });
  holder.replaceChildren(player);
  holder.dataset.state = 'playing';
}

/**
 * One attachment as shown in a bubble.
 * @param {Attachment} attachment
 */
function view(attachment) {
  const label = `${attachment.name}, ${formatSize(attachment.size)}`;
  switch (attachment.kind) {
    case 'image': {
      const image = el('img', { class: 'msg-image', attrs: { alt: attachment.name } });
      // The size is known: the bubble keeps its place while the picture loads.
      if (attachment.width && attachment.height) {
        image.width = attachment.width;
        image.height = attachment.height;
      }
      const button = el('button', { class: 'msg-media msg-photo', testid: 'attachment-image', attrs: { type: 'button', 'aria-label': `Open photo ${attachment.name}` } }, image);
      button.addEventListener('click', () => void openPhoto(attachment));
      preview(attachment).then(
        (url) => (image.src = url),
        () => (button.dataset.state = 'failed'),
      );
      return button;
    }
    case 'video':
    case 'audio': {
      const tag = attachment.kind;
      const start = el('button', { class: `msg-play msg-play--${tag}`, testid: `attachment-${tag}`, attrs: { type: 'button', 'aria-label': `Play ${label}` } });
      start.append(el('span', { class: 'msg-play-icon' }, icon('play')), el('span', { class: 'msg-file-name', text: attachment.name }), el('span', { class: 'msg-file-size', text: formatSize(attachment.size) }));
      const holder = el('div', { class: `msg-media msg-${tag}` }, start);
      start.addEventListener('click', () => void play(holder, attachment, tag));
      return holder;
    }
    default: {
      const button = el('button', { class: 'msg-document', testid: 'attachment-document', attrs: { type: 'button', 'aria-label': `Download ${label}` } });
      button.append(el('span', { class: 'msg-document-icon' }, icon('file')), el('span', { class: 'msg-file-name', text: attachment.name }), el('span', { class: 'msg-file-size', text: `${formatSize(attachment.size)} · ${attachment.mime_type}` }));
      button.addEventListener('click', () => void save(attachment).catch(() => (button.dataset.state = 'failed')));
      return button;
    }
  }
}

/**
 * The files of a message, in the order sent.
 * @param {Attachment[]} attachments
 * @returns {HTMLElement}
 */
export function attachmentsView(attachments) {
  return el('div', { class: 'msg-attachments', testid: 'attachments' }, ...attachments.map(view));
}

/**
 * What the chat list says for a message with files and no caption.
 * @param {string} contentType
 */
export function mediaLabel(contentType) {
  switch (contentType) {
    case 'image':
      return 'Photo';
    case 'video':
      return 'Video';
    case 'audio':
      return 'Audio';
    case 'document':
      return 'Document';
    default:
      return '';
  }
}

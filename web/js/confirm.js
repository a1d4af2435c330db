// A small confirmation dialog ("Exit group?", "Block …?") made of page
// elements: no window.confirm, so it looks like the rest and can be styled.

import { byId } from './dom.js';

/** @type {((ok: boolean) => void) | null} */
let settle = null;

let wired = false;

function wire() {
  if (wired) return;
  wired = true;
  const dialog = /** @type {HTMLDialogElement} */ (byId('confirm-dialog'));
  byId('confirm-ok').addEventListener('click', () => dialog.close('ok'));
  byId('confirm-cancel').addEventListener('click', () => dialog.close('cancel'));
  dialog.addEventListener('click', (event) => {
    if (event.target === dialog) dialog.close('cancel');
  });
  dialog.addEventListener('close', () => {
    const done = settle;
    settle = null;
    done?.(dialog.returnValue === 'ok');
  });
}

/**
 * Asks before something that cannot simply be undone. Resolves true for OK.
 * @param {string} text     the question, as text
 * @param {string} okLabel  the button that does it ("Exit", "Block")
 * @returns {Promise<boolean>}
 */
export function confirmAction(text, okLabel) {
  wire();
  const dialog = /** @type {HTMLDialogElement} */ (byId('confirm-dialog'));
  if (dialog.open) dialog.close('cancel');
  byId('confirm-text').textContent = text;
  byId('confirm-ok').textContent = okLabel;
  dialog.returnValue = '';
  return new Promise((resolve) => {
    settle = resolve;
    dialog.showModal();
    byId('confirm-cancel').focus();
  });
}

/** Closes an open confirmation as cancelled (the session ended). */
export function cancelConfirm() {
  const node = document.getElementById('confirm-dialog');
  if (node instanceof HTMLDialogElement && node.open) node.close('cancel');
}

// The toast: one short line at the bottom of the page, gone after a few seconds.

import { byId } from './dom.js';

/** How long a toast stays. */
const TOAST_MS = 5000;

/** @type {ReturnType<typeof setTimeout> | undefined} */
let toastTimer;

/** @param {string} text */
export function toast(text) {
  const box = byId('toast');
  box.textContent = text;
  box.hidden = false;
  clearTimeout(toastTimer);
  toastTimer = setTimeout(() => {
    box.hidden = true;
  }, TOAST_MS);
}

// What a failure tells the user: an error's text, and why the server refused a
// message action in words.

import { ApiError } from './api.js';

/** @param {unknown} err */
export function errorText(err) {
  return err instanceof Error ? err.message : String(err);
}

/** The server's refusals of message actions, by error code, as the user reads them. */
const ACTION_REASONS = /** @type {Record<string, string>} */ ({
  edit_window_passed: 'the time for editing it has passed',
  delete_window_passed: 'the time for deleting it for everyone has passed',
  message_deleted: 'it was deleted',
  message_not_found: 'it is no longer available',
  blocked: 'you cannot write in this chat',
  not_sender: 'it is not your message',
});

/**
 * What a refused message action tells the user.
 * @param {string} what
 * @param {unknown} err
 */
export function actionError(what, err) {
  if (err instanceof ApiError) {
    const reason = ACTION_REASONS[err.code];
    if (reason) return `${what}: ${reason}.`;
  }
  return `${what}: ${errorText(err)}`;
}

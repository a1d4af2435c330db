// Push notifications: this browser's push subscription, made with the server's
// key and handed to the server, or taken back. The service worker (`sw.js`)
// shows what arrives. The permission prompt comes from the settings switch.

import * as api from './api.js';

/** Thrown when push cannot be set up; `message` says why, in words. */
export class PushError extends Error {
  /**
   * @param {string} message
   * @param {boolean} serverOff  the server sends no pushes at all
   */
  constructor(message, serverOff = false) {
    super(message);
    this.name = 'PushError';
    this.serverOff = serverOff;
  }
}

/** Whether this browser can receive pushes at all. */
export function pushSupported() {
  return 'serviceWorker' in navigator && typeof PushManager !== 'undefined';
}

/** @param {string} base64url */
function bytesOf(base64url) {
  const base64 = base64url.replace(/-/g, '+').replace(/_/g, '/');
  const binary = atob(base64 + '='.repeat((4 - (base64.length % 4)) % 4));
  return Uint8Array.from(binary, (char) => char.charCodeAt(0));
}

/**
 * Subscribes this browser and gives the subscription to the server. Call it once
 * the notification permission is granted.
 * @throws {PushError}
 */
export async function subscribePush() {
  if (!pushSupported()) throw new PushError('This browser cannot receive push notifications.');
  let key;
  try {
    key = await api.getPushKey();
  } catch (err) {
    if (err instanceof api.ApiError && err.code === 'push_disabled') {
      throw new PushError('This server does not send push notifications.', true);
    }
    throw new PushError(`The server's push key could not be fetched: ${err instanceof Error ? err.message : String(err)}`);
  }
  let subscription;
  try {
    const registration = await navigator.serviceWorker.ready;
    subscription =
      (await registration.pushManager.getSubscription()) ??
      (await registration.pushManager.subscribe({ userVisibleOnly: true, applicationServerKey: bytesOf(key) }));
  } catch (err) {
    throw new PushError(`The browser's push service refused: ${err instanceof Error ? err.message : String(err)}`);
  }
  try {
    await api.addPushSubscription(subscription.toJSON());
  } catch (err) {
    await subscription.unsubscribe().catch(() => false);
    throw new PushError(`The server did not take the subscription: ${err instanceof Error ? err.message : String(err)}`);
  }
}

/**
 * Takes the subscription back from the server and the browser. The browser's
 * side goes even when the server cannot be told.
 * @throws {PushError} when the server could not be told
 */
export async function unsubscribePush() {
  if (!pushSupported()) return;
  const registration = await navigator.serviceWorker.getRegistration();
  const subscription = await registration?.pushManager.getSubscription();
  if (!subscription) return;
  /** @type {unknown} */
  let failure = null;
  try {
    await api.removePushSubscription(subscription.endpoint);
  } catch (err) {
    failure = err;
  }
  await subscription.unsubscribe().catch(() => false);
  if (failure) {
    throw new PushError(`The server could not be told to stop: ${failure instanceof Error ? failure.message : String(failure)}`);
  }
}

/**
 * The session ended: this browser stops receiving the person's pushes (the
 * push service then refuses the server's next one, so the server drops it too).
 */
export async function dropBrowserSubscription() {
  if (!pushSupported()) return;
  const registration = await navigator.serviceWorker.getRegistration();
  const subscription = await registration?.pushManager.getSubscription();
  await subscription?.unsubscribe();
}

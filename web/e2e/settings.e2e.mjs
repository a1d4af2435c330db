// Browser test of two settings kept in the browser, against a running server.
// Theme: "Dark" and "Light" change the page's colours at once, from the mouse
// and from the keyboard, survive a reload (applied before the app's modules
// run), and "System" follows the system's preference. Notifications: nothing
// asks for the permission on page load; the toggle turns them on (the
// permission granted through the browser context); while the tab is hidden a
// message from Bob shows one notification with his name and the text as it
// was written, a group's names the group and the sender; a muted chat, Alice's
// own message from another device and the chat open in a visible tab show
// none; a click on a notification opens its chat; turned off, none show.
//
//   cd web/e2e && npm ci && BASE_URL=http://127.0.0.1:18080 node settings.e2e.mjs
//
// Env: BASE_URL, OTP_CODE (default 123456), CHROMIUM (default /usr/bin/chromium),
// E2E_TIMEOUT_MS (default 15000). Prints "settings: 1 passed, 0 failed" on success.

import { BASE_URL, TIMEOUT, api, openAs, register, runTest, say } from './support.mjs';

/** --bg-app of each theme, as the browser computes it. */
const LIGHT_BG = 'rgb(234, 230, 223)';
const DARK_BG = 'rgb(12, 19, 23)';
const MUTE_ALWAYS = '9999-12-31T23:59:59Z';

const log = (text) => console.log(`settings: ${text}`);

/**
 * Stands in for the browser's Notification: records every notification the
 * page makes (title, body, tag) instead of showing it; the permission is the
 * browser's, and asking for it is counted.
 */
function recordNotifications() {
  const Real = window.Notification;
  /** @type {any[]} */
  const made = [];
  const w = /** @type {any} */ (window);
  w.__notifications = made;
  w.__permissionAsked = 0;
  class Recorded extends EventTarget {
    static get permission() {
      return Real.permission;
    }
    static requestPermission() {
      w.__permissionAsked += 1;
      return Real.requestPermission();
    }
    constructor(title, options = {}) {
      super();
      this.title = title;
      this.body = options.body ?? '';
      this.tag = options.tag ?? '';
      this.closed = false;
      made.push(this);
    }
    close() {
      this.closed = true;
      this.dispatchEvent(new Event('close'));
    }
  }
  w.Notification = Recorded;
}

/** Lets the test hide and show the tab: `__setHidden(true)` as if another tab were in front. */
function controlVisibility() {
  let hidden = false;
  Object.defineProperty(Document.prototype, 'visibilityState', { configurable: true, get: () => (hidden ? 'hidden' : 'visible') });
  Object.defineProperty(Document.prototype, 'hidden', { configurable: true, get: () => hidden });
  /** @type {any} */ (window).__setHidden = (value) => {
    hidden = value;
    document.dispatchEvent(new Event('visibilitychange'));
  };
}

/** Notes the theme on <html> when the page is parsed, before any module (the app) runs. */
function noteThemeAtParse() {
  document.addEventListener('readystatechange', () => {
    if (document.readyState === 'interactive') /** @type {any} */ (window).__themeAtParse = document.documentElement.dataset.theme ?? 'none';
  });
}

const background = (page) => page.evaluate(() => getComputedStyle(document.body).backgroundColor);

async function expectBackground(page, want, when) {
  try {
    await page.waitForFunction((bg) => getComputedStyle(document.body).backgroundColor === bg, want, { timeout: TIMEOUT });
  } catch {
    throw new Error(`${when}: the page's background is ${await background(page)}, not ${want}`);
  }
}

/** The notifications made so far: title, body, tag, closed. */
const notifications = (page) =>
  page.evaluate(() => /** @type {any} */ (window).__notifications.map((n) => ({ title: n.title, body: n.body, tag: n.tag, closed: n.closed })));

async function expectNotifications(page, count, when) {
  try {
    await page.waitForFunction((n) => /** @type {any} */ (window).__notifications.length === n, count, { timeout: TIMEOUT });
  } catch {
    throw new Error(`${when}: ${JSON.stringify(await notifications(page))} instead of ${count} notification(s)`);
  }
}

async function openSettings(page) {
  await page.getByTestId('menu-button').click();
  await page.getByTestId('menu-settings').click();
  await page.getByTestId('devices-panel').waitFor({ state: 'visible' });
}

/** Waits until a chat's row in the list previews `text` (the message reached the page). */
async function waitPreview(page, chatName, text) {
  const row = page.locator('.chat-item').filter({ has: page.getByTestId('chat-name').getByText(chatName, { exact: true }) });
  await row.getByTestId('chat-preview').filter({ hasText: text }).waitFor();
}

await runTest('settings', async (browser, people) => {
  const alice = await register('Alice Settings');
  const bob = await register('Bob Settings');
  const carol = await register('Carol Settings');
  const withBob = await api('POST', '/api/chats', alice.token, { type: 'direct', user_ids: [bob.user.id] });
  const withCarol = await api('POST', '/api/chats', alice.token, { type: 'direct', user_ids: [carol.user.id] });
  await api('PUT', `/api/chats/${withCarol.id}/settings`, alice.token, { archived: false, muted_until: MUTE_ALWAYS, pinned: false });
  const groupName = 'Weekend plans';
  const group = await api('POST', '/api/chats', alice.token, { type: 'group', name: groupName, user_ids: [bob.user.id, carol.user.id] });

  const a = await openAs(browser, 'Alice', alice, {
    contextOptions: { colorScheme: 'light' },
    initScripts: [recordNotifications, controlVisibility, noteThemeAtParse],
  });
  people.push(a);
  const { page } = a;
  await page.getByTestId('chat-row').nth(2).waitFor();
  await page.getByTestId('connection-banner').waitFor({ state: 'hidden' });

  // Theme.
  await expectBackground(page, LIGHT_BG, 'System theme, light system');
  await openSettings(page);
  const radio = (name) => page.getByTestId('theme-picker').getByRole('radio', { name, exact: true });
  if (!(await radio('System').isChecked())) throw new Error('"System" is not the theme picked at first');
  await radio('Dark').check();
  await expectBackground(page, DARK_BG, 'after picking Dark');
  log('picking Dark turns the page dark on a light system');
  await page.keyboard.press('ArrowLeft');
  await expectBackground(page, LIGHT_BG, 'after ArrowLeft from Dark');
  if (!(await radio('Light').isChecked())) throw new Error('ArrowLeft from Dark did not pick Light');
  await page.keyboard.press('ArrowRight');
  await expectBackground(page, DARK_BG, 'after ArrowRight from Light');
  const focused = await page.evaluate(() => document.activeElement?.getAttribute('data-testid'));
  if (focused !== 'theme-dark') throw new Error(`the focus is on ${focused}, not on the Dark choice`);
  log('the arrow keys move between Light and Dark, the focus stays on the picker');

  await page.reload();
  await page.getByTestId('chat-row').nth(2).waitFor();
  const atParse = await page.evaluate(() => /** @type {any} */ (window).__themeAtParse);
  if (atParse !== 'dark') throw new Error(`after the reload the page was parsed with theme ${atParse}: it would show light first`);
  await expectBackground(page, DARK_BG, 'after the reload');
  log('Dark survives a reload, applied before the app runs');

  await openSettings(page);
  if (!(await radio('Dark').isChecked())) throw new Error('after the reload the picker does not show Dark');
  await page.emulateMedia({ colorScheme: 'dark' });
  await radio('Light').check();
  await expectBackground(page, LIGHT_BG, 'Light on a dark system');
  await radio('System').check();
  await expectBackground(page, DARK_BG, 'System on a dark system');
  await page.emulateMedia({ colorScheme: 'light' });
  await expectBackground(page, LIGHT_BG, 'System after the system turned light');
  log('Light holds on a dark system; System follows the system both ways');

  // Notifications.
  const asked = await page.evaluate(() => /** @type {any} */ (window).__permissionAsked);
  if (asked !== 0) throw new Error(`the page asked for the notification permission ${asked} time(s) without a click`);
  await a.context.grantPermissions(['notifications'], { origin: BASE_URL });
  const toggle = page.getByRole('switch', { name: 'Message notifications' });
  if (await toggle.isChecked()) throw new Error('notifications are on before being turned on');
  await toggle.check();
  await page.getByTestId('notifications-note').filter({ hasText: /^On\b/ }).waitFor();
  log('nothing asked on page load; the toggle turns notifications on');
  await page.keyboard.press('Escape');
  await page.getByTestId('devices-panel').waitFor({ state: 'hidden' });

  // The chat open in a visible tab: no notification.
  await page.locator('.chat-item').filter({ has: page.getByTestId('chat-name').getByText('Bob Settings', { exact: true }) }).getByTestId('chat-row').click();
  await say(bob, withBob.id, 'seen right here');
  await page.getByTestId('message-text').filter({ hasText: 'seen right here' }).waitFor();
  await expectNotifications(page, 0, 'a message in the chat open in a visible tab');

  await page.evaluate(() => /** @type {any} */ (window).__setHidden(true));
  const lunch = '<b>Lunch?</b> at 1 & bring <i>nothing</i>';
  await say(bob, withBob.id, lunch);
  await expectNotifications(page, 1, "Bob's message while the tab is hidden");
  const [first] = await notifications(page);
  if (first.title !== 'Bob Settings' || first.body !== lunch) throw new Error(`the notification says ${JSON.stringify(first)}`);
  log('a hidden tab shows one notification for Bob: his name, the text as written');

  await say(carol, withCarol.id, 'muted hello');
  await waitPreview(page, 'Carol Settings', 'muted hello');
  await say(alice, withBob.id, 'sent from my phone');
  await page.getByTestId('message-text').filter({ hasText: 'sent from my phone' }).waitFor();
  await expectNotifications(page, 1, "a muted chat's message and Alice's own from another device");
  await say(bob, group.id, 'Saturday works for me');
  await expectNotifications(page, 2, "Bob's group message");
  const all = await notifications(page);
  if (all[1].title !== groupName || all[1].body !== 'Bob Settings: Saturday works for me') throw new Error(`the group's notification says ${JSON.stringify(all[1])}`);
  log("the muted chat and Alice's own message make none; the group's names the group and Bob");

  // Clicking it (which brings the tab to the front) opens the group.
  await page.evaluate(() => {
    const w = /** @type {any} */ (window);
    w.__notifications[1].dispatchEvent(new Event('click'));
    w.__setHidden(false);
  });
  await page.getByTestId('conversation-title').filter({ hasText: groupName }).waitFor();
  if (!page.url().endsWith(`#/chat/${group.id}`)) throw new Error(`the click opened ${page.url()}`);
  const afterClick = await notifications(page);
  if (!afterClick[1].closed) throw new Error('the clicked notification is still open');
  log('clicking the notification opens the group');

  // Off: nothing.
  await openSettings(page);
  await toggle.uncheck();
  await page.keyboard.press('Escape');
  await page.evaluate(() => /** @type {any} */ (window).__setHidden(true));
  await say(bob, withBob.id, 'after turning them off');
  await waitPreview(page, 'Bob Settings', 'after turning them off');
  const atEnd = await notifications(page);
  if (atEnd.length !== 2) throw new Error(`turned off, yet: ${JSON.stringify(atEnd.slice(2))}`);
  log('turned off, a new message shows none');
});

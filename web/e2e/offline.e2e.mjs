// Browser test of the web client without a server, against a running server:
// Asha chats with Ravi and Meera (and Dev wrote to her; she never opens that
// chat here). Offline, she writes to Ravi: the message waits
// (pending), still waits after a reload, and once she is online again Ravi gets it
// exactly once and her bubble shows it sent. Then her page starts with the server
// unreachable: it shows the chat list and every chat's recent messages from what
// the device kept, says it is offline, and catches up by itself once the server
// answers again. Logging out leaves nothing of hers on the device.
//
// A reload without a network needs the page itself from the service worker's
// cache. Where no service worker controls the page, the reload happens online
// with the server's API (or only /api/messages) and WebSocket refused, and the
// page is offline again right after.
//
//   cd web/e2e && npm ci && BASE_URL=http://127.0.0.1:18080 node offline.e2e.mjs
//
// Env: BASE_URL, OTP_CODE (default 123456), CHROMIUM (default /usr/bin/chromium),
// E2E_TIMEOUT_MS (default 15000). Prints "offline: 1 passed, 0 failed" on success.

import { TIMEOUT, api, openAs, register, runTest, say } from './support.mjs';

const log = (text) => console.log(`offline: ${text}`);
/** The cache is written at most every half second: what was just shown waits this long to be sure it is kept. */
const CACHE_WRITTEN_MS = 1000;
/** How long a repeat would take to show up once the message arrived. */
const SETTLE_MS = 1500;

/** Whether the page's offline database keeps recent messages of the chat. */
function keptChat(page, userId, chatId) {
  return page.evaluate(
    async ([user, chat]) => {
      const db = await new Promise((resolve, reject) => {
        const request = indexedDB.open('chitchat-offline');
        request.onsuccess = () => resolve(request.result);
        request.onerror = () => reject(request.error);
      });
      const row = await new Promise((resolve, reject) => {
        const request = db.transaction('messages').objectStore('messages').get([user, chat]);
        request.onsuccess = () => resolve(request.result);
        request.onerror = () => reject(request.error);
      });
      db.close();
      return Boolean(row);
    },
    [userId, chatId],
  );
}

/** How many records the page's offline database holds, over all its stores. */
function keptRecords(page) {
  return page.evaluate(async () => {
    const db = await new Promise((resolve, reject) => {
      const request = indexedDB.open('chitchat-offline');
      request.onsuccess = () => resolve(request.result);
      request.onerror = () => reject(request.error);
    });
    let total = 0;
    for (const name of db.objectStoreNames) {
      total += await new Promise((resolve, reject) => {
        const request = db.transaction(name).objectStore(name).count();
        request.onsuccess = () => resolve(request.result);
        request.onerror = () => reject(request.error);
      });
    }
    db.close();
    return total;
  });
}

/** The list item of the chat whose row is titled exactly `title`. */
function chatItem(page, title) {
  return page.locator('.chat-item').filter({ has: page.getByTestId('chat-name').getByText(title, { exact: true }) });
}

/** The bubbles whose text is exactly `text`. */
function bubbles(page, text) {
  return page.getByTestId('message').filter({ has: page.getByTestId('message-text').getByText(text, { exact: true }) });
}

/** Waits until `locator`'s `name` attribute satisfies `ok`. */
async function attributeBecomes(label, locator, name, ok) {
  const deadline = Date.now() + TIMEOUT;
  let value = null;
  while (Date.now() < deadline) {
    value = await locator.getAttribute(name).catch(() => null);
    if (value !== null && ok(value)) return value;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  throw new Error(`${label}: ${name} stayed ${JSON.stringify(value)}`);
}

/**
 * Takes `person`'s network away from here on: none at all, and, while the page
 * needs the network to load (no service worker), the server's API (`blocked`)
 * and WebSocket refused.
 */
async function cutOff(person, blocked) {
  person.serverBlocked = true;
  if (!person.routed) {
    person.routed = true;
    // Refused while cut off, passed through to the server afterwards.
    await person.page.routeWebSocket(/\/ws\?/, (ws) => {
      if (person.serverBlocked) ws.close();
      else ws.connectToServer();
    });
  }
  await person.page.unrouteAll();
  await person.page.route(blocked, (route) => route.abort('internetdisconnected'));
  await person.context.setOffline(true);
}

/** Reloads `person`'s page without the server (see `cutOff`), and waits for the app. */
async function reloadCutOff(person) {
  const { page, context } = person;
  const shellCached = await page.evaluate(() => !!navigator.serviceWorker?.controller);
  if (!shellCached) await context.setOffline(false); // only the page itself comes through
  await page.reload();
  await page.locator('#app').waitFor({ state: 'visible' });
  if (!shellCached) await context.setOffline(true);
}

/** Gives `person` their network and the server back. */
async function reconnect(person) {
  person.serverBlocked = false;
  await person.page.unrouteAll();
  await person.context.setOffline(false);
}

await runTest('offline', async (browser, people) => {
  const asha = await register('Asha Offline');
  const ravi = await register('Ravi Offline');
  const meera = await register('Meera Offline');
  const withRavi = await api('POST', '/api/chats', asha.token, { type: 'direct', user_ids: [ravi.user.id] });
  const withMeera = await api('POST', '/api/chats', asha.token, { type: 'direct', user_ids: [meera.user.id] });
  await say(ravi, withRavi.id, 'hello Asha');
  await say(meera, withMeera.id, 'lunch at one?');
  // A chat Asha never opens on this device: its recent messages are kept all the same.
  const dev = await register('Dev Offline');
  const withDev = await api('POST', '/api/chats', dev.token, { type: 'direct', user_ids: [asha.user.id] });
  await say(dev, withDev.id, 'the keys are under the mat');

  const A = await openAs(browser, 'Asha', asha);
  const R = await openAs(browser, 'Ravi', ravi);
  people.push(A, R);
  // Asha opens both chats (what she opened is what the device keeps messages of).
  await chatItem(A.page, 'Meera Offline').getByTestId('chat-row').click();
  await bubbles(A.page, 'lunch at one?').waitFor();
  await chatItem(A.page, 'Ravi Offline').getByTestId('chat-row').click();
  await bubbles(A.page, 'hello Asha').waitFor();
  await chatItem(R.page, 'Asha Offline').getByTestId('chat-row').click();
  await bubbles(R.page, 'hello Asha').waitFor();
  await A.page.getByTestId('connection-banner').waitFor({ state: 'hidden' });
  await A.page.waitForTimeout(CACHE_WRITTEN_MS);
  const keptBy = Date.now() + TIMEOUT;
  while (!(await keptChat(A.page, asha.user.id, withDev.id))) {
    if (Date.now() > keptBy) throw new Error("Asha: the chat she did not open was not kept on the device");
    await A.page.waitForTimeout(100);
  }
  log("Asha has her chats with Ravi and Meera open in turn (Dev's, not opened, is kept too); Ravi has his with her open");

  // Offline, she writes to Ravi: the message waits.
  await cutOff(A, '**/api/messages**');
  await A.page.locator('[data-testid="connection-banner"][data-state="offline"]').waitFor({ state: 'visible' });
  const text = 'written on the train';
  await A.page.getByTestId('composer').fill(text);
  await A.page.getByTestId('composer').press('Enter');
  await attributeBecomes('Asha: the message written offline', bubbles(A.page, text), 'data-status', (s) => s === 'pending');
  log('offline, Asha wrote to Ravi: her message shows pending');

  await reloadCutOff(A);
  await bubbles(A.page, text).waitFor();
  await attributeBecomes('Asha after the reload', bubbles(A.page, text), 'data-status', (s) => s === 'pending');
  if ((await bubbles(R.page, text).count()) !== 0) throw new Error('Ravi: the message arrived while Asha was offline');
  log('after a reload, still offline, the message is still there and still pending; Ravi has nothing yet');

  await reconnect(A);
  await bubbles(R.page, text).waitFor();
  await attributeBecomes('Asha once online', bubbles(A.page, text), 'data-status', (s) => ['sent', 'delivered', 'read'].includes(s));
  await R.page.waitForTimeout(SETTLE_MS);
  const onRavi = await bubbles(R.page, text).count();
  if (onRavi !== 1) throw new Error(`Ravi shows Asha's message ${onRavi} times`);
  const onAsha = await bubbles(A.page, text).count();
  if (onAsha !== 1) throw new Error(`Asha shows her message ${onAsha} times`);
  const stored = await api('GET', `/api/messages?chat_id=${withRavi.id}&limit=50`, ravi.token);
  const copies = stored.messages.filter((m) => m.content === text).length;
  if (copies !== 1) throw new Error(`the server stored the message ${copies} times`);
  log('back online, the message went out once: Ravi shows it once, the server stored it once, Asha sees it sent');

  // The page starts with the server unreachable: what the device kept shows.
  await A.page.getByTestId('connection-banner').waitFor({ state: 'hidden' });
  await A.page.waitForTimeout(CACHE_WRITTEN_MS);
  await cutOff(A, '**/api/**');
  await say(ravi, withRavi.id, 'sent while Asha was away');
  await reloadCutOff(A);
  await chatItem(A.page, 'Ravi Offline').waitFor();
  await chatItem(A.page, 'Meera Offline').waitFor();
  await bubbles(A.page, 'hello Asha').waitFor();
  await bubbles(A.page, text).waitFor();
  await A.page.locator('[data-testid="connection-banner"][data-state="offline"]').waitFor({ state: 'visible' });
  await chatItem(A.page, 'Meera Offline').getByTestId('chat-row').click();
  await bubbles(A.page, 'lunch at one?').waitFor();
  await chatItem(A.page, 'Dev Offline').getByTestId('chat-row').click();
  await bubbles(A.page, 'the keys are under the mat').waitFor();
  log("started with the server unreachable: the chat list and every chat's recent messages show (also one never opened), and the banner says offline");

  await chatItem(A.page, 'Ravi Offline').getByTestId('chat-row').click();
  await bubbles(A.page, text).waitFor();
  await reconnect(A);
  await A.page.getByTestId('connection-banner').waitFor({ state: 'hidden', timeout: 3 * TIMEOUT });
  await bubbles(A.page, 'sent while Asha was away').waitFor();
  await A.page.waitForTimeout(SETTLE_MS);
  const shown = (await A.page.getByTestId('message-text').allTextContents()).map((t) => t.trim());
  const expected = ['hello Asha', text, 'sent while Asha was away'];
  if (JSON.stringify(shown) !== JSON.stringify(expected)) throw new Error(`Asha shows ${JSON.stringify(shown)}, expected ${JSON.stringify(expected)}`);
  log('the server answers again: the page caught up by itself, each message once, in order');

  if ((await keptRecords(A.page)) === 0) throw new Error('Asha: nothing is kept on the device while she is logged in');
  await A.page.getByTestId('menu-button').click();
  await A.page.getByTestId('logout').click();
  await A.page.getByTestId('phone-input').waitFor({ state: 'visible' });
  const deadline = Date.now() + TIMEOUT;
  let left = await keptRecords(A.page);
  while (left !== 0 && Date.now() < deadline) {
    await A.page.waitForTimeout(100);
    left = await keptRecords(A.page);
  }
  if (left !== 0) throw new Error(`Asha: ${left} records of hers stay on the device after logging out`);
  log('Asha logged out: nothing of hers stays on the device');
});

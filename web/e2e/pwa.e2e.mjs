// Browser test of the installable app, against a running server. The manifest is
// linked and served with its icons; the service worker installs, controls the
// page that registered it (without reloading it) and, after a reload, serves the shell from one cache named after the
// version the server wrote into sw.js, holding every shell file; pushes handed to
// the worker through the DevTools protocol show one notification per chat (the
// chat's name, the preview, then the count with the latest preview); a click on
// one brings the open page to its chat; the settings show both switches and
// nothing asks for the permission on page load.
//
// Headless Chromium has no way to click a shown notification, so this test
// dispatches the `notificationclick` event inside the worker (through Playwright,
// not through anything in the client); notification-click.e2e.mjs clicks a real
// one on a desktop, also with no window open.
//
//   cd web/e2e && npm ci && BASE_URL=http://127.0.0.1:18080 node pwa.e2e.mjs
//
// Env: BASE_URL, OTP_CODE (default 123456), CHROMIUM (the browser to run),
// E2E_TIMEOUT_MS (default 15000). Prints "pwa: 1 passed, 0 failed" on success.

import { BASE_URL, TIMEOUT, api, openAs, register, runTest } from './support.mjs';

const log = (text) => console.log(`pwa: ${text}`);

/** Counts the page's requests for the notification permission. */
function countPermissionRequests() {
  const w = /** @type {any} */ (window);
  w.__permissionAsked = 0;
  if (typeof Notification === 'undefined') return;
  const real = Notification.requestPermission.bind(Notification);
  Notification.requestPermission = (...args) => {
    w.__permissionAsked += 1;
    return real(...args);
  };
}

/** Waits until `check()` returns something truthy, and returns it. */
async function waitFor(what, check) {
  const deadline = Date.now() + TIMEOUT;
  let last;
  while (Date.now() < deadline) {
    last = await check();
    if (last) return last;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  throw new Error(`timed out waiting for ${what}`);
}

/** Width and height from a PNG's header. */
function pngSize(bytes) {
  if (bytes.toString('latin1', 1, 4) !== 'PNG') throw new Error('not a PNG');
  return `${bytes.readUInt32BE(16)}x${bytes.readUInt32BE(20)}`;
}

/**
 * The notifications on display, read inside the worker once it has shown every push
 * it has begun (sw.js chains them in `showing`). Chromium's getNotifications()
 * deletes a notification that is stored but not yet displayed, so a read while the
 * worker is still showing one (as polling from the page did) could lose it.
 */
const shownNotifications = (worker) =>
  worker.evaluate(async () => {
    // `showing` is sw.js's own top-level binding, seen from the worker's global scope.
    await showing.catch(() => {});
    const notes = await self.registration.getNotifications();
    return notes.map((n) => ({ title: n.title, body: n.body, tag: n.tag }));
  });

await runTest('pwa', async (browser, people) => {
  const alice = await register('Alice Pwa');
  const bob = await register('Bob Pwa');
  const direct = await api('POST', '/api/chats', alice.token, { type: 'direct', user_ids: [bob.user.id] });
  const groupName = 'Weekend plans';
  const group = await api('POST', '/api/chats', alice.token, { type: 'group', name: groupName, user_ids: [bob.user.id] });

  const a = await openAs(browser, 'Alice', alice, { initScripts: [countPermissionRequests] });
  people.push(a);
  const { page, context } = a;
  await page.getByTestId('chat-row').nth(1).waitFor();

  // The manifest.
  const manifestUrl = await page.evaluate(() => document.querySelector('link[rel="manifest"]')?.getAttribute('href'));
  if (!manifestUrl) throw new Error('the page links no manifest');
  const manifestResponse = await context.request.get(new URL(manifestUrl, `${BASE_URL}/`).href);
  const manifestType = manifestResponse.headers()['content-type'];
  if (manifestType !== 'application/manifest+json') throw new Error(`the manifest is served as ${manifestType}`);
  const manifest = await manifestResponse.json();
  if (manifest.name !== 'ChitChat' || manifest.start_url !== '/' || manifest.display !== 'standalone' || !manifest.short_name) {
    throw new Error(`the manifest says ${JSON.stringify(manifest)}`);
  }
  const icons = [];
  for (const icon of manifest.icons) {
    const response = await context.request.get(new URL(icon.src, `${BASE_URL}/`).href);
    if (response.headers()['content-type'] !== 'image/png') throw new Error(`${icon.src} is not served as a PNG`);
    const size = pngSize(await response.body());
    if (size !== icon.sizes) throw new Error(`${icon.src} is ${size}, the manifest says ${icon.sizes}`);
    icons.push(`${icon.sizes} ${icon.purpose ?? 'any'}`);
  }
  for (const wanted of ['192x192 any', '512x512 any', '512x512 maskable']) {
    if (!icons.includes(wanted)) throw new Error(`no ${wanted} icon among ${icons.join(', ')}`);
  }
  log('the manifest is linked and served, with its 192 and 512 icons and a maskable one');

  // The service worker and its cache.
  const workerResponse = await context.request.get(`${BASE_URL}/sw.js`);
  if (workerResponse.headers()['cache-control'] !== 'no-cache') throw new Error('sw.js may be cached without revalidation');
  const shellJson = /const SHELL = (\{.*\});/.exec(await workerResponse.text())?.[1];
  if (!shellJson) throw new Error('sw.js holds no shell');
  const shell = JSON.parse(shellJson);
  if (!shell.version || shell.files.length < 10) throw new Error(`sw.js holds the shell ${shellJson}`);
  // The first worker claims the page that registered it; that page must not reload (it runs this version already).
  await page.waitForFunction(() => navigator.serviceWorker.controller !== null);
  await page.waitForTimeout(500);
  const loads = await page.evaluate(() => performance.getEntriesByType('navigation').map((entry) => /** @type {any} */ (entry).type));
  if (JSON.stringify(loads) !== '["navigate"]') throw new Error(`the first worker's takeover reloaded the page: ${loads}`);
  const fromWorker = [];
  page.on('response', (response) => {
    if (response.fromServiceWorker()) fromWorker.push(new URL(response.url()).pathname);
  });
  await page.reload();
  await page.getByTestId('chat-row').nth(1).waitFor();
  const controller = await page.evaluate(() => navigator.serviceWorker.controller?.scriptURL ?? null);
  if (controller !== `${BASE_URL}/sw.js`) throw new Error(`after a reload the page is controlled by ${controller}`);
  for (const path of ['/', '/app.js', '/style.css']) {
    if (!fromWorker.includes(path)) throw new Error(`${path} did not come from the worker: ${fromWorker.join(', ')}`);
  }
  const cached = await page.evaluate(async () => {
    const names = (await caches.keys()).filter((name) => name.startsWith('chitchat-shell-'));
    const keys = names.length === 1 ? await (await caches.open(names[0])).keys() : [];
    return { names, paths: keys.map((request) => new URL(request.url).pathname).sort() };
  });
  const shellPaths = shell.files.map((file) => file.url).sort();
  if (JSON.stringify(cached.names) !== JSON.stringify([`chitchat-shell-${shell.version}`])) {
    throw new Error(`the shell caches are ${JSON.stringify(cached.names)}, not this version's only`);
  }
  if (JSON.stringify(cached.paths) !== JSON.stringify(shellPaths)) {
    throw new Error(`the cache holds ${cached.paths.join(', ')}\ninstead of ${shellPaths.join(', ')}`);
  }
  log(`the worker controls the page after a reload and serves it from chitchat-shell-${shell.version} (${shellPaths.length} files)`);

  // Pushes.
  await context.grantPermissions(['notifications'], { origin: BASE_URL });
  // The grant reaches the page and its worker a moment later; a push before that
  // could not show its notification.
  await waitFor('the notification permission', () => page.evaluate(() => Notification.permission === 'granted'));
  const cdp = await context.newCDPSession(page);
  const registrations = new Map();
  cdp.on('ServiceWorker.workerRegistrationUpdated', ({ registrations: updated }) => {
    for (const r of updated) registrations.set(r.registrationId, r);
  });
  await cdp.send('ServiceWorker.enable');
  const registration = await waitFor('the worker registration', () =>
    [...registrations.values()].find((r) => r.scopeURL === `${BASE_URL}/` && !r.isDeleted),
  );
  const worker = await waitFor('the worker in Playwright', () =>
    context.serviceWorkers().find((w) => w.url() === `${BASE_URL}/sw.js`),
  );
  const push = (data) =>
    cdp.send('ServiceWorker.deliverPushMessage', { origin: BASE_URL, registrationId: registration.registrationId, data: JSON.stringify(data) });
  const fromBob = { kind: 'message', chat_id: direct.id, chat_name: 'Bob Pwa', sender_name: 'Bob Pwa' };

  await push({ ...fromBob, seq: 1, preview: 'See you at six' });
  const first = await waitFor('the first notification', async () => (await shownNotifications(worker))[0]);
  if (first.title !== 'Bob Pwa' || first.body !== 'See you at six' || first.tag !== direct.id) {
    throw new Error(`the first push shows ${JSON.stringify(first)}`);
  }
  log("a push shows a notification: the sender's name, the preview");

  await push({ ...fromBob, seq: 2, preview: 'Running late' });
  const replaced = await waitFor('the second push to replace the first', async () => {
    const notes = await shownNotifications(worker);
    return notes.length === 1 && notes[0].body !== first.body ? notes[0] : null;
  });
  if (replaced.title !== 'Bob Pwa' || replaced.body !== '2 new messages\nRunning late') {
    throw new Error(`the second push shows ${JSON.stringify(replaced)}`);
  }
  log('a second push of the chat replaces it: "2 new messages" and the latest preview');

  await push({ kind: 'message', chat_id: group.id, seq: 3, chat_name: groupName, sender_name: 'Bob Pwa', preview: 'Saturday?' });
  const inGroup = await waitFor("the group's notification", async () =>
    (await shownNotifications(worker)).find((note) => note.tag === group.id),
  );
  if (inGroup.title !== groupName || inGroup.body !== 'Bob Pwa: Saturday?') throw new Error(`the group's push shows ${JSON.stringify(inGroup)}`);
  if ((await shownNotifications(worker)).length !== 2) throw new Error('a push of another chat replaced the first chat\'s notification');
  log("another chat's push shows beside it: the group's name, the sender before the preview");

  // A click on the group's notification, dispatched inside the worker.
  await worker.evaluate(async (tag) => {
    const [notification] = await self.registration.getNotifications({ tag });
    const event = new NotificationEvent('notificationclick', { notification });
    // An event the page makes may not extend itself; the test waits for the handler's work instead.
    const work = [];
    Object.defineProperty(event, 'waitUntil', { value: (promise) => work.push(promise) });
    self.dispatchEvent(event);
    await Promise.all(work);
  }, group.id);
  await page.waitForFunction((hash) => location.hash === hash, `#/chat/${group.id}`);
  await page.getByTestId('conversation-title').filter({ hasText: groupName }).waitFor();
  const left = await shownNotifications(worker);
  if (left.length !== 1 || left[0].tag !== direct.id) throw new Error(`after the click these show: ${JSON.stringify(left)}`);
  log('a click on it opens the group in the open page and closes it');

  // The settings.
  const asked = await page.evaluate(() => /** @type {any} */ (window).__permissionAsked);
  if (asked !== 0) throw new Error(`the page asked for the notification permission ${asked} time(s) without a click`);
  await page.getByTestId('menu-button').click();
  await page.getByTestId('menu-settings').click();
  const notifications = page.getByRole('switch', { name: 'Message notifications' });
  const previews = page.getByRole('switch', { name: 'Show message previews' });
  await notifications.waitFor();
  await previews.waitFor();
  if (await notifications.isChecked()) throw new Error('notifications are on before being turned on');
  await waitFor('the previews switch to load', () => previews.isEnabled());
  if (!(await previews.isChecked())) throw new Error('message previews are off before being turned off');
  if ((await page.evaluate(() => /** @type {any} */ (window).__permissionAsked)) !== 0) {
    throw new Error('opening the settings asked for the notification permission');
  }
  log('the settings show both switches, previews on by default; nothing asked for the permission');

  const keyAsked = page.waitForRequest((request) => new URL(request.url()).pathname === '/api/push/key');
  await notifications.check();
  await keyAsked;
  await page.getByTestId('notifications-note').filter({ hasText: /\S/ }).filter({ hasNotText: /Setting up|Allow/ }).waitFor();
  log(`turning notifications on asks the server for its push key: "${await page.getByTestId('notifications-note').textContent()}"`);

  const patched = page.waitForRequest((request) => request.method() === 'PATCH' && new URL(request.url()).pathname === '/api/users/me');
  await previews.uncheck();
  const patch = (await patched).postDataJSON();
  if (JSON.stringify(patch) !== JSON.stringify({ notifications: { previews: false } })) throw new Error(`the switch sent ${JSON.stringify(patch)}`);
  await page.getByTestId('previews-note').filter({ hasText: /\S/ }).filter({ hasNotText: 'Saving…' }).waitFor();
  log(`turning previews off saves it: "${await page.getByTestId('previews-note').textContent()}"`);
});

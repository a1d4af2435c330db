// Screenshots of the installed app and of a push notification, for the README.
// Needs a real desktop: the app runs in its own window (Chromium's --app mode,
// as an installed web app does, no tabs and no address bar), and the push is
// shown by the desktop's notification daemon, as a person would see it. On a
// machine without a desktop, give it one (Debian's xvfb, openbox, dunst and
// imagemagick):
//
//   Xvfb :99 -screen 0 1280x800x24 & export DISPLAY=:99
//   cd web/e2e && dbus-run-session -- sh -c 'openbox & dunst -config media/dunstrc &
//     sleep 1; BASE_URL=http://127.0.0.1:18080 node push-tour.mjs'
//
// The push is handed to the service worker through the DevTools protocol
// (`ServiceWorker.deliverPushMessage`) with the payload the server sends; no
// push service is needed. Writes docs/screenshots/installed-app.png and
// docs/screenshots/push-notification.png. Env: BASE_URL, OTP_CODE, CHROMIUM.

import { chromium } from 'playwright-core';
import { execFileSync } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { BASE_URL, CHROMIUM, TIMEOUT, api, register, say } from './support.mjs';

const HERE = path.dirname(fileURLToPath(import.meta.url));
const DOCS_DIR = path.join(HERE, '..', '..', 'docs', 'screenshots');

/** The whole screen, as the person sees it. */
function screen(name) {
  execFileSync('import', ['-window', 'root', path.join(DOCS_DIR, `${name}.png`)]);
  console.log(`push-tour: ${name}.png`);
}

async function main() {
  const asha = await register('Asha');
  const ravi = await register('Ravi');
  const chat = await api('POST', '/api/chats', ravi.token, { type: 'direct', user_ids: [asha.user.id] });
  await say(asha, chat.id, 'Landed! Taking a cab home.');
  await say(ravi, chat.id, 'Great, dinner is at eight.');
  const family = await api('POST', '/api/chats', ravi.token, { type: 'group', name: 'Family', user_ids: [asha.user.id] });
  await say(ravi, family.id, 'Who is bringing dessert?');

  const profile = mkdtempSync(path.join(tmpdir(), 'chitchat-app-'));
  const context = await chromium.launchPersistentContext(profile, {
    executablePath: CHROMIUM,
    headless: false,
    viewport: null,
    args: ['--no-sandbox', '--test-type', '--no-first-run', `--app=${BASE_URL}/`, '--window-position=40,40', '--window-size=900,680'],
  });
  context.setDefaultTimeout(TIMEOUT);
  try {
    await context.grantPermissions(['notifications'], { origin: BASE_URL });
    await context.addInitScript((token) => localStorage.setItem('chitchat.token', token), ravi.token);
    const page = context.pages()[0] ?? (await context.waitForEvent('page'));
    await page.goto(`${BASE_URL}/`);
    await page.waitForFunction(() => navigator.serviceWorker?.controller !== null || false, null, { timeout: TIMEOUT }).catch(() => page.reload());
    await page.waitForFunction(() => navigator.serviceWorker?.controller !== null, null, { timeout: TIMEOUT });
    await page.getByText('Family').first().waitFor();
    await page.waitForTimeout(500);
    screen('installed-app');

    const cdp = await context.newCDPSession(page);
    const registrations = new Map();
    cdp.on('ServiceWorker.workerRegistrationUpdated', ({ registrations: list }) => {
      for (const r of list) registrations.set(r.registrationId, r);
    });
    await cdp.send('ServiceWorker.enable');
    let registration;
    for (let i = 0; i < 50 && !registration; i += 1) {
      registration = [...registrations.values()].find((r) => r.scopeURL === `${BASE_URL}/` && !r.isDeleted);
      if (!registration) await page.waitForTimeout(100);
    }
    if (!registration) throw new Error('no service worker registration');
    const push = { kind: 'message', chat_id: chat.id, seq: 3, chat_name: 'Asha', sender_name: 'Asha', preview: 'The cab is here, see you in twenty minutes!' };
    await cdp.send('ServiceWorker.deliverPushMessage', { origin: BASE_URL, registrationId: registration.registrationId, data: JSON.stringify(push) });
    await page.waitForTimeout(1500);
    screen('push-notification');
  } finally {
    await context.close();
  }
}

main().catch((error) => {
  console.error(`push-tour: ${error.stack || error}`);
  process.exit(1);
});

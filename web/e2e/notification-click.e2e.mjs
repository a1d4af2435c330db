// A real click on a push notification. The browser runs with a window on a
// virtual display (Xvfb) whose notification daemon (dunst, on its own D-Bus
// session) shows Chromium's notifications as a desktop does; the test clicks
// the popup with the mouse (xdotool), and the browser hands the click to the
// service worker. Checked: a click brings the open ChitChat page to the chat,
// and with no ChitChat window open, a click opens one at the chat.
//
// Needs Debian's xvfb, dunst, dbus and xdotool besides Chromium.
//
//   cd web/e2e && BASE_URL=http://127.0.0.1:18080 node notification-click.e2e.mjs

import { chromium } from 'playwright-core';
import { execFile, spawn } from 'node:child_process';
import { once } from 'node:events';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { BASE_URL, CHROMIUM, TIMEOUT, api, register, say } from './support.mjs';

const run = promisify(execFile);
const NAME = 'notification-click';

/** Starts a display, a session bus and the notification daemon; resolves to their environment. */
async function desktop(started) {
  const xvfb = spawn('Xvfb', ['-displayfd', '3', '-screen', '0', '1280x800x24', '-nolisten', 'tcp'], {
    stdio: ['ignore', 'ignore', 'ignore', 'pipe'],
  });
  started.push(xvfb);
  const [number] = await Promise.race([once(xvfb.stdio[3], 'data'), once(xvfb, 'exit').then(() => { throw new Error('Xvfb did not start'); })]);
  const bus = spawn('dbus-daemon', ['--session', '--nofork', '--print-address=1'], { stdio: ['ignore', 'pipe', 'ignore'] });
  started.push(bus);
  const [address] = await once(bus.stdout, 'data');
  const env = { ...process.env, DISPLAY: `:${String(number).trim()}`, DBUS_SESSION_BUS_ADDRESS: String(address).trim().split('\n')[0] };
  started.push(spawn('dunst', ['-config', 'media/dunstrc'], { env, stdio: 'ignore' }));
  // Ready once it owns the notification service's name.
  for (let i = 0; i < 50; i += 1) {
    const { stdout } = await run('dbus-send', ['--session', '--print-reply', '--dest=org.freedesktop.DBus', '/org/freedesktop/DBus', 'org.freedesktop.DBus.NameHasOwner', 'string:org.freedesktop.Notifications'], { env });
    if (stdout.includes('boolean true')) return env;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  throw new Error('the notification daemon did not start');
}

/** Waits for the notification popup and clicks its middle, as a person would. */
async function clickNotification(env) {
  const { stdout } = await run('xdotool', ['search', '--sync', '--onlyvisible', '--class', 'Dunst'], { env, timeout: TIMEOUT });
  const window = stdout.trim().split('\n')[0];
  const geometry = (await run('xdotool', ['getwindowgeometry', '--shell', window], { env })).stdout;
  const value = (key) => Number(new RegExp(`${key}=(\\d+)`).exec(geometry)?.[1]);
  const [x, y] = [value('X') + value('WIDTH') / 2, value('Y') + value('HEIGHT') / 2].map(Math.round);
  // From elsewhere onto the popup, as a hand moves: a pointer already resting
  // there (after an earlier click) would enter nothing.
  await run('xdotool', ['mousemove', '--sync', '0', '0'], { env });
  await run('xdotool', ['mousemove', '--sync', String(x), String(y), 'click', '1'], { env });
}

async function main() {
  const started = [];
  let context;
  try {
    const env = await desktop(started);
    const asha = await register('Asha Click');
    const ravi = await register('Ravi Click');
    const chat = await api('POST', '/api/chats', asha.token, { type: 'direct', user_ids: [ravi.user.id] });
    await say(asha, chat.id, 'Are you there?');

    // A profile of its own on disk: the browser drops clicks on notifications of
    // incognito-like contexts, which is what newContext() makes.
    context = await chromium.launchPersistentContext(mkdtempSync(path.join(tmpdir(), 'chitchat-click-')), {
      executablePath: CHROMIUM,
      headless: false,
      env,
      viewport: { width: 900, height: 700 },
      args: ['--no-sandbox', '--test-type'],
    });
    context.setDefaultTimeout(TIMEOUT);
    await context.grantPermissions(['notifications'], { origin: BASE_URL });
    await context.addInitScript((token) => localStorage.setItem('chitchat.token', token), ravi.token);
    const page = context.pages()[0] ?? (await context.newPage());
    await page.goto(`${BASE_URL}/`);
    await page.evaluate(() => navigator.serviceWorker.ready);
    const [worker] = context.serviceWorkers().length ? context.serviceWorkers() : [await context.waitForEvent('serviceworker')];
    // A push as the push service hands it to the worker: the worker's own push handler shows it.
    const push = (seq, preview) =>
      worker.evaluate(
        (data) => self.dispatchEvent(new PushEvent('push', { data: JSON.stringify(data) })),
        { kind: 'message', chat_id: chat.id, seq, chat_name: 'Asha Click', sender_name: 'Asha Click', preview },
      );

    // A click brings the open page to the chat.
    await page.getByText('Asha Click').first().waitFor();
    if (page.url().includes(chat.id)) throw new Error('the chat was open before the click');
    await push(2, 'Dinner at eight?');
    await clickNotification(env);
    await page.waitForURL(`**/#/chat/${chat.id}`);
    await page.getByText('Are you there?').first().waitFor();
    console.log(`${NAME}: a click on a notification opens its chat in the open page`);

    // No ChitChat window, the browser still running (as it must be to get pushes):
    // a click opens one at the chat.
    await context.newPage();
    await page.close();
    await push(3, 'Call me when you land');
    const [fresh] = await Promise.all([context.waitForEvent('page'), clickNotification(env)]);
    await fresh.waitForURL(`**/#/chat/${chat.id}`);
    await fresh.getByText('Are you there?').first().waitFor();
    console.log(`${NAME}: with no window open, a click opens one at the chat`);
    console.log(`${NAME}: 1 passed, 0 failed`);
  } catch (error) {
    console.error(`${NAME}: FAILED: ${error instanceof Error ? error.stack : String(error)}`);
    console.log(`${NAME}: 0 passed, 1 failed`);
    process.exitCode = 1;
  } finally {
    await context?.close().catch(() => {});
    for (const process of started.reverse()) process.kill();
  }
}

await main();

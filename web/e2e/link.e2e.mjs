// Browser test of linking a new device, against a running server: a new browser
// (phone-sized, dark theme) opens the login screen, chooses "Link with another
// device" for Alice's number and shows a code; Alice, logged in on her laptop,
// types that code in the settings and confirms "Log in as Alice on …?"; the new
// browser ends up logged in, showing her chats, on a session of its own. A QR
// code's address opened in the laptop asks the same question. A code left for two
// minutes (the page's clock moved on) is replaced by a new one.
//
//   cd web/e2e && npm ci && BASE_URL=http://127.0.0.1:18080 node link.e2e.mjs
//
// Env: BASE_URL, OTP_CODE (default 123456), CHROMIUM (default /usr/bin/chromium),
// E2E_TIMEOUT_MS (default 15000), SCREENSHOT_DIR (optional: pictures of the new
// browser's screens). Prints "link: 1 passed, 0 failed" on success.

import { BASE_URL, TIMEOUT, api, openAs, register, runTest, say } from './support.mjs';

const log = (text) => console.log(`link: ${text}`);

/** A browser context nobody is logged in to, with the same watch for problems as `openAs`. */
async function openNew(browser, label, contextOptions) {
  const context = await browser.newContext(contextOptions);
  context.setDefaultTimeout(TIMEOUT);
  const page = await context.newPage();
  const problems = [];
  page.on('pageerror', (err) => problems.push(`${label}: page error: ${err.message}`));
  page.on('console', (msg) => {
    if (msg.type() === 'error' && /Content.Security.Policy|Refused to/i.test(msg.text())) problems.push(`${label}: ${msg.text()}`);
  });
  page.on('dialog', (dialog) => {
    problems.push(`${label}: a dialog opened`);
    void dialog.dismiss();
  });
  await page.goto(`${BASE_URL}/`);
  return { label, context, page, problems };
}

async function shoot(page, name) {
  if (process.env.SCREENSHOT_DIR) await page.screenshot({ path: `${process.env.SCREENSHOT_DIR}/link-${name}.png` });
}

await runTest('link', async (browser, people) => {
  const alice = await register('Alice Link');
  const bob = await register('Bob Link');
  const chat = await api('POST', '/api/chats', alice.token, { type: 'direct', user_ids: [bob.user.id] });
  await say(bob, chat.id, 'hello from Bob');

  const laptop = await openAs(browser, 'Alice (laptop)', alice);
  const fresh = await openNew(browser, 'new phone', {
    viewport: { width: 390, height: 844 },
    colorScheme: 'dark',
    userAgent: 'Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/126.0 Mobile Safari/537.36',
  });
  people.push(laptop, fresh);

  // The new browser: the login screen, its number, then "Link with another device".
  const phonePage = fresh.page;
  await phonePage.getByTestId('phone-input').fill(alice.user.phone);
  await shoot(phonePage, 'login');
  await phonePage.getByTestId('link-instead').click();
  const codeNode = phonePage.getByTestId('link-code');
  await phonePage.waitForFunction(
    () => /^[2-9A-HJ-NP-Z]{4}-[2-9A-HJ-NP-Z]{4}$/.test(document.querySelector('[data-testid="link-code"]')?.textContent ?? ''),
  );
  const shown = (await codeNode.textContent()) ?? '';
  const qrSrc = await phonePage.getByTestId('link-qr').getAttribute('src');
  if (!qrSrc?.startsWith('blob:')) throw new Error(`the QR code is not shown: ${qrSrc}`);
  const qrLoaded = await phonePage.getByTestId('link-qr').evaluate((img) => img.complete && img.naturalWidth > 0);
  if (!qrLoaded) throw new Error('the QR code image did not load');
  const countdown = (await phonePage.getByTestId('link-countdown').textContent()) ?? '';
  if (!/The code changes in [12]:\d\d/.test(countdown)) throw new Error(`no countdown: ${countdown}`);
  const box = await codeNode.boundingBox();
  if (!box || box.x < 0 || box.x + box.width > 390) throw new Error(`the code does not fit a phone's width: ${JSON.stringify(box)}`);
  const colors = await codeNode.evaluate((node) => {
    const card = node.closest('.login-card');
    return [getComputedStyle(node).color, card ? getComputedStyle(card).backgroundColor : ''];
  });
  if (colors[0] === colors[1]) throw new Error(`the code is invisible in the dark theme: ${colors}`);
  await shoot(phonePage, 'code');
  log(`the new browser shows ${shown}, its QR code and a countdown (${countdown})`);

  // The laptop: settings, "Link a device", the code as typed, and the question.
  await laptop.page.getByTestId('menu-button').click();
  await laptop.page.getByTestId('menu-settings').click();
  await laptop.page.getByTestId('devices-panel').waitFor({ state: 'visible' });
  await laptop.page.getByTestId('link-code-input').fill(shown.toLowerCase());
  await laptop.page.getByTestId('link-device').click();
  const question = laptop.page.locator('#confirm-text');
  await question.waitFor({ state: 'visible' });
  const asked = (await question.textContent()) ?? '';
  await shoot(laptop.page, 'question');
  if (!/^Log in as Alice Link on Chrome on Android\?$/.test(asked)) throw new Error(`unexpected question: ${asked}`);
  await laptop.page.getByTestId('confirm-ok').click();
  await laptop.page.getByTestId('link-confirm-status').getByText('is now logged in as you').waitFor();
  await laptop.page.getByTestId('device-row').nth(1).waitFor();
  await shoot(laptop.page, 'linked');
  const rows = await laptop.page.getByTestId('device-row').count();
  if (rows !== 2) throw new Error(`the laptop lists ${rows} devices, not 2`);
  log(`the laptop asked "${asked}", confirmed, and lists the new device`);

  // The new browser is logged in as Alice, showing her chats.
  await phonePage.getByTestId('chat-row').filter({ hasText: 'Bob Link' }).first().waitFor();
  await phonePage.getByText('hello from Bob').first().waitFor();
  const token = await phonePage.evaluate(() => localStorage.getItem('chitchat.token'));
  if (!token || token === alice.token) throw new Error('the new browser has no session of its own');
  const sessions = await api('GET', '/api/auth/sessions', token);
  const current = sessions.sessions.find((s) => s.current);
  if (!current || !/Android/.test(current.device)) throw new Error(`its session: ${JSON.stringify(sessions)}`);
  await shoot(phonePage, 'logged-in');
  log('the new browser is logged in on its own session and shows her chats');

  // A QR code's address opened in the laptop asks the same question; cancelled, nothing happens.
  const other = await api('POST', '/api/auth/links', null, { phone: alice.user.phone });
  if (!other.qr_url.endsWith(`/#link=${other.pairing_code}`)) throw new Error(`qr_url: ${other.qr_url}`);
  await laptop.page.goto(other.qr_url.replace(/^https?:\/\/[^/]+/, BASE_URL));
  await question.waitFor({ state: 'visible' });
  const again = (await question.textContent()) ?? '';
  if (!again.startsWith('Log in as Alice Link on')) throw new Error(`unexpected question: ${again}`);
  await laptop.page.getByTestId('confirm-cancel').click();
  const hash = await laptop.page.evaluate(() => location.hash);
  if (hash) throw new Error(`the code stayed in the address: ${hash}`);
  const still = await api('POST', `/api/auth/links/${other.link_id}/claim`, null, { claim_secret: other.claim_secret });
  if (still.status !== 'pending') throw new Error(`a cancelled link was confirmed: ${JSON.stringify(still)}`);
  log('the QR code address opened in a logged-in tab asks to confirm; cancelling leaves it waiting');

  // Left alone (light theme this time), a code is replaced when its two minutes are up.
  const idle = await browser.newContext({ viewport: { width: 390, height: 844 }, colorScheme: 'light' });
  idle.setDefaultTimeout(TIMEOUT);
  const idlePage = await idle.newPage();
  await idlePage.clock.install();
  await idlePage.goto(`${BASE_URL}/`);
  await idlePage.getByTestId('phone-input').fill(alice.user.phone);
  await idlePage.getByTestId('link-instead').click();
  const codePattern = /^[2-9A-HJ-NP-Z]{4}-[2-9A-HJ-NP-Z]{4}$/;
  await idlePage.getByTestId('link-code').getByText(codePattern).waitFor();
  const first = await idlePage.getByTestId('link-code').textContent();
  await idlePage.clock.fastForward('02:01');
  await idlePage.waitForFunction(
    (old) => {
      const now = document.querySelector('[data-testid="link-code"]')?.textContent ?? '';
      return /^[2-9A-HJ-NP-Z]{4}-[2-9A-HJ-NP-Z]{4}$/.test(now) && now !== old;
    },
    first,
  );
  const renewed = (await idlePage.getByTestId('link-countdown').textContent()) ?? '';
  if (!/The code changes in (2:00|1:5\d)/.test(renewed)) throw new Error(`the new code's countdown: ${renewed}`);
  await shoot(idlePage, 'renewed');
  await idle.close();
  log(`after two minutes the code ${first} was replaced by a new one (${renewed})`);
});

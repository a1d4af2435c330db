// A look at the UI: seeds a few people, chats and groups through the HTTP API,
// then takes screenshots of the login screen, the chat list, the settings, the
// search results, a chat's menu, a conversation, a group, its info panel, a
// group one was removed from, an incoming call and a video call (Chromium's fake
// camera), at desktop (1280×800) and phone (390×844) sizes,
// light and dark (the system's preference, which the "System" theme follows).
// Checks that scrolling up loads older history without moving what is on
// screen, and that a search result far back in a long chat opens a window
// there that fills in downwards to the newest message without gaps.
//
//   cd web/e2e && BASE_URL=http://127.0.0.1:18080 SHOTS_DIR="$(mktemp -d)" node ui-tour.mjs
//   cd web/e2e && BASE_URL=http://127.0.0.1:18080 SHOTS_DIR="$(mktemp -d)" node ui-tour.mjs --docs
//
// With --docs the people have plain names (no run tag: use a fresh server) and
// the screenshots shown in the README are written to docs/screenshots too.
// Env: BASE_URL, OTP_CODE (default 123456), CHROMIUM, SHOTS_DIR (default
// web/e2e/test-results/shots). Exits 1 if a check fails.

import { chromium } from 'playwright-core';
import { randomInt, randomBytes } from 'node:crypto';
import { mkdirSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { BASE_URL, CHROMIUM, FAKE_MEDIA_ARGS, TIMEOUT, api, openAs, register, say } from './support.mjs';

const HERE = path.dirname(fileURLToPath(import.meta.url));
const SHOTS_DIR = process.env.SHOTS_DIR || path.join(HERE, 'test-results', 'shots');
const DOCS = process.argv.includes('--docs');
const DOCS_DIR = path.join(HERE, '..', '..', 'docs', 'screenshots');
/** The screenshots the README shows (size-scheme-name.png). */
const DOCS_SHOTS = new Set([
  'desktop-light-login',
  'desktop-dark-login',
  'desktop-light-conversation',
  'desktop-dark-conversation',
  'desktop-light-group-info',
  'desktop-dark-group-info',
  'desktop-light-settings',
  'desktop-dark-settings',
  'phone-light-list',
  'phone-dark-list',
  'phone-light-conversation',
  'phone-dark-conversation',
  'desktop-light-incoming-call',
  'desktop-dark-incoming-call',
  'desktop-light-video-call',
  'desktop-dark-video-call',
]);

const SIZES = [
  { name: 'desktop', viewport: { width: 1280, height: 800 } },
  { name: 'phone', viewport: { width: 390, height: 844 } },
];

function randomPhone() {
  let digits = '';
  for (let i = 0; i < 8; i++) digits += String(randomInt(10));
  return `+9197${digits}`;
}

async function person(name) {
  return { name, ...(await register(name)) };
}

/**
 * Saves a screenshot as `<prefix>-<name>.png` in SHOTS_DIR, and with --docs in
 * docs/screenshots too when the README shows it.
 * @param {import('playwright-core').Page} page
 * @param {string} prefix  size and scheme: "desktop-light"
 * @param {string} name
 */
async function shot(page, prefix, name) {
  const file = `${prefix}-${name}.png`;
  await page.screenshot({ path: path.join(SHOTS_DIR, file) });
  if (DOCS && DOCS_SHOTS.has(`${prefix}-${name}`)) await page.screenshot({ path: path.join(DOCS_DIR, file) });
}

async function main() {
  mkdirSync(SHOTS_DIR, { recursive: true });
  if (DOCS) mkdirSync(DOCS_DIR, { recursive: true });
  const tag = randomBytes(2).toString('hex');
  // A run's tag tells its people apart from earlier runs' on the same server.
  const named = (name) => (DOCS ? name : `${name} ${tag}`);
  const alice = await person(named('Alice Sharma'));
  const bob = await person(named('Bob Mehta'));
  const carol = await person(named("Carol D'Souza"));
  const dave = await person(named('Dave'));

  const ab = await api('POST', '/api/chats', alice.token, { type: 'direct', user_ids: [bob.user.id] });
  await say(alice, ab.id, 'Hi Bob! Are we still on for tomorrow?');
  await say(bob, ab.id, 'Yes! 10am at the usual place ☕');
  await say(bob, ab.id, 'I will bring the slides.\nAnd the charger you forgot last time 😄');
  await say(alice, ab.id, 'Perfect, thanks.');
  await say(alice, ab.id, 'This one is a longer message to see how wrapping looks inside a bubble when the text goes on for quite a while and does not fit on one line at all.');
  await say(bob, ab.id, DOCS ? 'See you there 👋' : '<b>not bold</b> & <script>alert(1)</script>');
  await say(alice, ab.id, 'ok');

  const ac = await api('POST', '/api/chats', carol.token, { type: 'direct', user_ids: [alice.user.id] });
  await say(carol, ac.id, 'Did you see the game last night?');

  // A long chat for the paging check (archived by Alice, so the list shows "Archived").
  const ad = await api('POST', '/api/chats', alice.token, { type: 'direct', user_ids: [dave.user.id] });
  for (let i = 1; i <= 120; i++) await say(i % 3 ? dave : alice, ad.id, `Message number ${i}`);
  await api('PUT', `/api/chats/${ad.id}/settings`, alice.token, { archived: true, muted_until: null, pinned: false });
  await api('PUT', `/api/chats/${ac.id}/settings`, alice.token, { archived: false, muted_until: '9999-12-31T23:59:59Z', pinned: false });

  // A group: created by Alice, Bob made admin, a description change, people talking.
  const groupName = 'Goa trip 🌴';
  const group = await api('POST', '/api/chats', alice.token, { type: 'group', name: groupName, description: 'Flights on Friday, 7:40 from BOM', user_ids: [bob.user.id, carol.user.id] });
  await say(alice, group.id, 'Welcome to the trip group! 🎉');
  await api('POST', `/api/chats/${group.id}/members`, alice.token, { user_ids: [dave.user.id] });
  await api('PATCH', `/api/chats/${group.id}/members/${bob.user.id}`, alice.token, { role: 'admin' });
  await say(bob, group.id, 'Thanks! I booked the hotel near the beach.');
  await say(bob, group.id, 'Check-in is at 2pm.');
  await say(carol, group.id, 'Can someone share the flight details?');
  await say(dave, group.id, 'Same question 🙂');
  await say(alice, group.id, 'Sure, sending them tonight.');
  await api('PUT', `/api/chats/${group.id}/settings`, alice.token, { archived: false, muted_until: null, pinned: true });

  // A group Alice was removed from: read-only for her.
  const old = await api('POST', '/api/chats', bob.token, { type: 'group', name: 'Old project', user_ids: [alice.user.id, carol.user.id] });
  await say(bob, old.id, 'Wrapping this up, thanks all.');
  await api('DELETE', `/api/chats/${old.id}/members/${alice.user.id}`, bob.token);
  console.log(`ui-tour: seeded 4 people, 3 chats and 2 groups (${tag})`);

  const browser = await chromium.launch({
    executablePath: CHROMIUM,
    headless: true,
    args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync', ...FAKE_MEDIA_ARGS],
  });
  let failed = false;
  try {
    for (const scheme of ['light', 'dark']) {
      for (const size of SIZES) {
        const prefix = `${size.name}-${scheme}`;
        const anon = await browser.newContext({ viewport: size.viewport, colorScheme: scheme });
        const login = await anon.newPage();
        await login.goto(`${BASE_URL}/`);
        await login.getByTestId('phone-input').waitFor({ timeout: TIMEOUT });
        await shot(login, prefix, 'login');
        await login.getByTestId('phone-input').fill(randomPhone());
        await login.getByTestId('send-code').click();
        await login.getByTestId('code-input').waitFor({ timeout: TIMEOUT });
        await login.getByTestId('code-input').fill('000000');
        await login.getByTestId('verify-code').click();
        await login.getByTestId('login-error').waitFor({ timeout: TIMEOUT });
        await shot(login, prefix, 'login-error');
        await anon.close();

        const { context: ctx, page, problems } = await openAs(browser, prefix, alice, {
          contextOptions: { viewport: size.viewport, colorScheme: scheme },
        });
        await page.getByTestId('chat-row').nth(2).waitFor({ timeout: TIMEOUT });
        await page.getByTestId('connection-banner').waitFor({ state: 'hidden', timeout: TIMEOUT });
        await shot(page, prefix, 'list');
        // The settings panel (profile, privacy, notifications, theme, devices).
        await page.getByTestId('menu-button').click();
        await page.getByTestId('menu-settings').click();
        await page.getByTestId('device-row').first().waitFor({ timeout: TIMEOUT });
        await page.locator('#privacy-last-seen:enabled').waitFor({ timeout: TIMEOUT });
        await shot(page, prefix, 'settings');
        await page.keyboard.press('Escape');
        await page.getByTestId('devices-panel').waitFor({ state: 'hidden', timeout: TIMEOUT });
        // A row's menu (archive, mute, pin).
        const bobItem = page.locator('.chat-item').filter({ has: page.getByTestId('chat-name').getByText(bob.name, { exact: true }) });
        await bobItem.hover();
        await bobItem.getByTestId('chat-menu').click();
        await page.getByTestId('archive-chat').waitFor({ timeout: TIMEOUT });
        await shot(page, prefix, 'chat-menu');
        await page.keyboard.press('Escape');
        await page.getByTestId('user-search').fill('Bob');
        // Bob is found among the chats (and, on a server used before, Bobs of earlier runs among the people).
        await page.getByTestId('search-chat-result').first().waitFor({ timeout: TIMEOUT });
        await page.getByTestId('search-message-result').first().waitFor({ timeout: TIMEOUT });
        await shot(page, prefix, 'search');
        await page.getByTestId('user-search').fill('');
        // The group, its info panel.
        await page.locator('.chat-item').filter({ has: page.getByTestId('chat-name').getByText(groupName, { exact: true }) }).getByTestId('chat-row').click();
        await page.getByTestId('system-message').first().waitFor({ timeout: TIMEOUT });
        await page.getByTestId('message').nth(5).waitFor({ timeout: TIMEOUT });
        await page.waitForTimeout(300);
        await shot(page, prefix, 'group');
        await page.getByTestId('chat-info-button').click();
        await page.getByTestId('member-row').nth(3).waitFor({ timeout: TIMEOUT });
        await shot(page, prefix, 'group-info');
        await page.getByRole('button', { name: 'Close info' }).click();
        if (size.name === 'phone') {
          await page.getByRole('button', { name: 'Back to chats' }).click();
          await page.getByTestId('chat-list').waitFor({ state: 'visible', timeout: TIMEOUT });
        }
        // The group Alice was removed from: no composer.
        await page.locator('.chat-item').filter({ has: page.getByTestId('chat-name').getByText('Old project', { exact: true }) }).getByTestId('chat-row').click();
        await page.getByTestId('readonly-notice').waitFor({ timeout: TIMEOUT });
        if (await page.getByTestId('composer').isVisible()) throw new Error('a former member still has a composer');
        await shot(page, prefix, 'former-member');
        if (size.name === 'phone') {
          await page.getByRole('button', { name: 'Back to chats' }).click();
          await page.getByTestId('chat-list').waitFor({ state: 'visible', timeout: TIMEOUT });
        }
        await bobItem.getByTestId('chat-row').click();
        await page.getByTestId('message').nth(6).waitFor({ timeout: TIMEOUT });
        await page.getByTestId('composer').fill('Typing a reply…');
        await page.waitForTimeout(300);
        await shot(page, prefix, 'conversation');
        if (size.name === 'phone') {
          // One pane at a time: the list is hidden while a chat is open; Back returns to it.
          if (await page.getByTestId('chat-list').isVisible()) throw new Error('phone: chat list visible next to the conversation');
          await page.getByRole('button', { name: 'Back to chats' }).click();
          await page.getByTestId('chat-list').waitFor({ state: 'visible', timeout: TIMEOUT });
          if (await page.getByTestId('composer').isVisible()) throw new Error('phone: conversation still visible after Back');
        }
        if (problems.length) throw new Error(problems.join('\n'));
        await ctx.close();
      }
    }

    // A call: Bob video-calls Alice; her page rings, then shows his video.
    for (const scheme of ['light', 'dark']) {
      for (const size of SIZES) {
        const prefix = `${size.name}-${scheme}`;
        const contextOptions = { viewport: size.viewport, colorScheme: scheme, permissions: ['camera', 'microphone'] };
        const caller = await openAs(browser, `${prefix} (Bob)`, bob, { contextOptions, path: `/#/chat/${ab.id}` });
        const callee = await openAs(browser, prefix, alice, { contextOptions, path: `/#/chat/${ab.id}` });
        for (const { page } of [caller, callee]) await page.getByTestId('connection-banner').waitFor({ state: 'hidden', timeout: TIMEOUT });
        await caller.page.getByTestId('call-video-button').click();
        const { page } = callee;
        await page.getByTestId('incoming-call-name').getByText(bob.name, { exact: true }).waitFor({ timeout: TIMEOUT });
        await page.waitForTimeout(300);
        await shot(page, prefix, 'incoming-call');
        await page.getByTestId('call-accept').click();
        await page.waitForFunction(
          () => [...document.querySelectorAll('[data-testid="remote-video"]')].some((v) => v instanceof HTMLVideoElement && v.videoWidth > 0),
          null,
          { timeout: TIMEOUT },
        );
        await page.locator('[data-testid="call-quality"]:not([data-quality="unknown"])').waitFor({ timeout: TIMEOUT });
        await shot(page, prefix, 'video-call');
        await page.getByTestId('call-hangup').click();
        await caller.page.getByTestId('call-screen').waitFor({ state: 'hidden', timeout: TIMEOUT });
        const problems = [...caller.problems, ...callee.problems];
        if (problems.length) throw new Error(problems.join('\n'));
        await caller.context.close();
        await callee.context.close();
      }
    }
    console.log(`ui-tour: screenshots in ${SHOTS_DIR}`);

    // Paging: 120 messages, 50 per page; scrolling to the top loads the next 50
    // and the message that was at the top stays where it was.
    const { context: ctx, page } = await openAs(browser, 'paging', alice, { path: `/#/chat/${ad.id}` });
    await page.getByTestId('message').nth(49).waitFor({ timeout: TIMEOUT });
    await page.waitForTimeout(500);
    const count = async () => page.getByTestId('message').count();
    const first = await count();
    const atBottom = await page.evaluate(() => {
      const s = /** @type {HTMLElement} */ (document.getElementById('messages'));
      return s.scrollHeight - s.scrollTop - s.clientHeight < 5;
    });
    if (first !== 50 || !atBottom) throw new Error(`first page: ${first} messages, at bottom: ${atBottom}`);
    console.log('ui-tour: first page of 50, scrolled to the bottom');

    const topOf = (seq) =>
      page.evaluate((s) => document.querySelector(`[data-testid="message"][data-seq="${s}"]`)?.getBoundingClientRect().top ?? null, seq);
    // Scroll to the top and note where seq 71 (the oldest loaded) is, before the fetch answers.
    const before = await page.evaluate(() => {
      const s = /** @type {HTMLElement} */ (document.getElementById('messages'));
      s.scrollTop = 0;
      return document.querySelector('[data-testid="message"][data-seq="71"]')?.getBoundingClientRect().top ?? null;
    });
    await page.waitForFunction(() => document.querySelectorAll('[data-testid="message"]').length >= 100, null, { timeout: TIMEOUT });
    await page.waitForTimeout(300);
    const after = await topOf(71);
    const n2 = await count();
    if (before === null || after === null || Math.abs(after - before) > 60) {
      throw new Error(`scroll position jumped when older messages loaded: seq 71 top ${before} -> ${after}`);
    }
    console.log(`ui-tour: older page loaded (${n2} messages), seq 71 stayed put (${before} -> ${after})`);
    await page.screenshot({ path: path.join(SHOTS_DIR, 'desktop-light-paging.png') });

    await page.evaluate(() => {
      const s = /** @type {HTMLElement} */ (document.getElementById('messages'));
      s.scrollTop = 0;
    });
    await page.waitForFunction(() => document.querySelectorAll('[data-testid="message"]').length === 120, null, { timeout: TIMEOUT });
    const seqs = await page.evaluate(() =>
      [...document.querySelectorAll('[data-testid="message"]')].map((m) => Number(/** @type {HTMLElement} */ (m).dataset.seq)),
    );
    const inOrder = seqs.every((s, i) => s === i + 1);
    if (!inOrder) throw new Error(`after loading everything the seqs are not 1..120: ${seqs.slice(0, 10)}…`);
    console.log('ui-tour: all 120 messages loaded, in seq order, no duplicates');
    await ctx.close();

    // A search result far back: 270 messages (three writers, to stay under the
    // per-person rate limit), the first one found; the chat opens at a window
    // around it and fills in downwards as it is scrolled, to the newest.
    // A reader of her own: Alice's requests so far may have used up her rate limit.
    const hana = await person(`Hana ${tag}`);
    const writers = [await person(`Erin ${tag}`), await person(`Farid ${tag}`), await person(`Gita ${tag}`)];
    const long = await api('POST', '/api/chats', hana.token, { type: 'group', name: `Long group ${tag}`, user_ids: writers.map((w) => w.user.id) });
    const word = `needle${tag}`;
    await say(writers[0], long.id, `The ${word} is here`);
    for (let i = 1; i < 270; i++) await say(writers[i % 3], long.id, `Line ${i}`);
    const total = 271; // with the "created the group" notice
    const ctx2 = await browser.newContext({ viewport: { width: 1280, height: 800 } });
    await ctx2.addInitScript((token) => localStorage.setItem('chitchat.token', token), hana.token);
    const page2 = await ctx2.newPage();
    const cursors = [];
    page2.on('request', (r) => {
      const u = new URL(r.url());
      if (u.pathname === '/api/messages') cursors.push(u.search.replace(/chat_id=[^&]*&?/, ''));
    });
    await page2.goto(`${BASE_URL}/`);
    await page2.getByTestId('connection-banner').waitFor({ state: 'hidden', timeout: TIMEOUT });
    await page2.getByTestId('user-search').fill(word);
    await page2.getByTestId('search-message-result').first().click();
    try {
      await page2.locator('[data-testid="message"][data-seq="2"][data-highlighted="true"]').waitFor({ timeout: TIMEOUT });
    } catch (err) {
      const toast = await page2.locator('#toast').textContent().catch(() => null);
      throw new Error(`the far result was not shown highlighted (requests: ${cursors.join(' | ')}; toast: ${JSON.stringify(toast)})`);
    }
    const windowCount = await page2.locator('#message-list > li[data-seq]').count();
    if (windowCount > 60) throw new Error(`the window around the result holds ${windowCount} messages`);
    await page2.screenshot({ path: path.join(SHOTS_DIR, 'desktop-light-search-jump.png') });
    console.log(`ui-tour: the result 270 back opened a window of ${windowCount} around it (${cursors.join(' | ')})`);
    for (let i = 0; i < 30; i++) {
      const done = await page2.locator(`#message-list > li[data-seq="${total}"]`).count();
      if (done) break;
      await page2.evaluate(() => {
        const s = /** @type {HTMLElement} */ (document.getElementById('messages'));
        s.scrollTop = s.scrollHeight;
      });
      await page2.waitForTimeout(250);
    }
    const seqs2 = await page2.evaluate(() => [...document.querySelectorAll('#message-list > li[data-seq]')].map((m) => Number(/** @type {HTMLElement} */ (m).dataset.seq)));
    const contiguous = seqs2.every((s, i) => i === 0 || s === seqs2[i - 1] + 1);
    if (!contiguous || seqs2[seqs2.length - 1] !== total) {
      throw new Error(`scrolling down from the window: ${seqs2.length} messages, contiguous ${contiguous}, last ${seqs2[seqs2.length - 1]}`);
    }
    console.log(`ui-tour: scrolled down from the window to the newest (seq ${seqs2[0]}..${total}, contiguous, after_seq pages: ${cursors.filter((c) => c.includes('after_seq')).length})`);
    await ctx2.close();
  } catch (err) {
    failed = true;
    console.error(`ui-tour: FAILED: ${err instanceof Error ? err.message : String(err)}`);
  } finally {
    await browser.close();
  }
  process.exit(failed ? 1 : 0);
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});

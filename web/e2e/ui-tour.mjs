// A look at the UI: seeds a few people and chats through the HTTP API, then
// takes screenshots of the login screen, the chat list and a conversation at
// desktop (1280×800) and phone (390×844) sizes, light and dark, and checks
// that scrolling up loads older history without moving what is on screen.
//
//   cd web/e2e && BASE_URL=http://127.0.0.1:18080 SHOTS_DIR=/tmp/webtest node ui-tour.mjs
//
// Env: BASE_URL, OTP_CODE (default 123456), CHROMIUM, SHOTS_DIR (default
// web/e2e/test-results/shots). Exits 1 if a check fails.

import { chromium } from 'playwright-core';
import { randomInt, randomBytes, randomUUID } from 'node:crypto';
import { mkdirSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const BASE_URL = (process.env.BASE_URL || 'http://127.0.0.1:18080').replace(/\/+$/, '');
const OTP_CODE = process.env.OTP_CODE || '123456';
const CHROMIUM = process.env.CHROMIUM || '/usr/bin/chromium';
const HERE = path.dirname(fileURLToPath(import.meta.url));
const SHOTS_DIR = process.env.SHOTS_DIR || path.join(HERE, 'test-results', 'shots');
const TIMEOUT = 15000;

const SIZES = [
  { name: 'desktop', viewport: { width: 1280, height: 800 } },
  { name: 'phone', viewport: { width: 390, height: 844 } },
];

function randomPhone() {
  let digits = '';
  for (let i = 0; i < 8; i++) digits += String(randomInt(10));
  return `+9197${digits}`;
}

async function call(method, urlPath, body, token) {
  const res = await fetch(`${BASE_URL}${urlPath}`, {
    method,
    headers: {
      'content-type': 'application/json',
      ...(token ? { authorization: `Bearer ${token}` } : {}),
    },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await res.text();
  const data = text ? JSON.parse(text) : null;
  if (!res.ok) throw new Error(`${method} ${urlPath} -> ${res.status} ${text}`);
  return data;
}

async function person(name) {
  const phone = randomPhone();
  await call('POST', '/api/auth/otp', { phone });
  const reg = await call('POST', '/api/auth/register', { phone, name, code: OTP_CODE });
  return { name, phone, token: reg.token, user: reg.user };
}

async function say(from, chatId, content) {
  return call('POST', '/api/messages', { chat_id: chatId, content, content_type: 'text', client_msg_id: randomUUID() }, from.token);
}

async function main() {
  mkdirSync(SHOTS_DIR, { recursive: true });
  const tag = randomBytes(2).toString('hex');
  const alice = await person(`Alice Sharma ${tag}`);
  const bob = await person(`Bob Mehta ${tag}`);
  const carol = await person(`Carol D'Souza ${tag}`);
  const dave = await person(`Dave ${tag}`);

  const ab = await call('POST', '/api/chats', { type: 'direct', user_ids: [bob.user.id] }, alice.token);
  await say(alice, ab.id, 'Hi Bob! Are we still on for tomorrow?');
  await say(bob, ab.id, 'Yes! 10am at the usual place ☕');
  await say(bob, ab.id, 'I will bring the slides.\nAnd the charger you forgot last time 😄');
  await say(alice, ab.id, 'Perfect, thanks.');
  await say(alice, ab.id, 'This one is a longer message to see how wrapping looks inside a bubble when the text goes on for quite a while and does not fit on one line at all.');
  await say(bob, ab.id, '<b>not bold</b> & <script>alert(1)</script>');
  await say(alice, ab.id, 'ok');

  const ac = await call('POST', '/api/chats', { type: 'direct', user_ids: [alice.user.id] }, carol.token);
  await say(carol, ac.id, 'Did you see the game last night?');

  // A long chat for the paging check.
  const ad = await call('POST', '/api/chats', { type: 'direct', user_ids: [dave.user.id] }, alice.token);
  for (let i = 1; i <= 120; i++) await say(i % 3 ? dave : alice, ad.id, `Message number ${i}`);
  console.log(`ui-tour: seeded 4 people and 3 chats (${tag})`);

  const browser = await chromium.launch({
    executablePath: CHROMIUM,
    headless: true,
    args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
  });
  let failed = false;
  try {
    for (const scheme of ['light', 'dark']) {
      for (const size of SIZES) {
        const prefix = path.join(SHOTS_DIR, `${size.name}-${scheme}`);
        const anon = await browser.newContext({ viewport: size.viewport, colorScheme: scheme });
        const login = await anon.newPage();
        await login.goto(`${BASE_URL}/`);
        await login.getByTestId('phone-input').waitFor({ timeout: TIMEOUT });
        await login.screenshot({ path: `${prefix}-login.png` });
        await login.getByTestId('phone-input').fill('+919800000000');
        await login.getByTestId('send-code').click();
        await login.getByTestId('code-input').waitFor({ timeout: TIMEOUT });
        await login.getByTestId('code-input').fill('000000');
        await login.getByTestId('verify-code').click();
        await login.getByTestId('login-error').waitFor({ timeout: TIMEOUT });
        await login.screenshot({ path: `${prefix}-login-error.png` });
        await anon.close();

        const ctx = await browser.newContext({ viewport: size.viewport, colorScheme: scheme });
        await ctx.addInitScript((token) => localStorage.setItem('chitchat.token', token), alice.token);
        const page = await ctx.newPage();
        const problems = [];
        page.on('pageerror', (e) => problems.push(`page error: ${e.message}`));
        page.on('console', (m) => {
          if (m.type() === 'error' && /Content.Security.Policy|Refused to/i.test(m.text())) problems.push(`CSP: ${m.text()}`);
        });
        await page.goto(`${BASE_URL}/`);
        await page.getByTestId('chat-row').nth(2).waitFor({ timeout: TIMEOUT });
        await page.getByTestId('connection-banner').waitFor({ state: 'hidden', timeout: TIMEOUT });
        await page.screenshot({ path: `${prefix}-list.png` });
        await page.getByTestId('user-search').fill('Bob');
        await page.getByTestId('search-result').first().waitFor({ timeout: TIMEOUT });
        await page.screenshot({ path: `${prefix}-search.png` });
        await page.getByTestId('user-search').fill('');
        await page.getByTestId('chat-row').filter({ hasText: bob.name }).click();
        await page.getByTestId('message').nth(6).waitFor({ timeout: TIMEOUT });
        await page.getByTestId('composer').fill('Typing a reply…');
        await page.waitForTimeout(300);
        await page.screenshot({ path: `${prefix}-conversation.png` });
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
    console.log(`ui-tour: screenshots in ${SHOTS_DIR}`);

    // Paging: 120 messages, 50 per page; scrolling to the top loads the next 50
    // and the message that was at the top stays where it was.
    const ctx = await browser.newContext({ viewport: { width: 1280, height: 800 } });
    await ctx.addInitScript((token) => localStorage.setItem('chitchat.token', token), alice.token);
    const page = await ctx.newPage();
    await page.goto(`${BASE_URL}/#/chat/${ad.id}`);
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

// Browser end-to-end test of the ChitChat web client against a running server.
//
//   cd web/e2e && npm ci && BASE_URL=http://127.0.0.1:18080 node chat.e2e.mjs
//
// Env: BASE_URL (default http://127.0.0.1:18080), OTP_CODE (default 123456, the
// server's OTP_FIXED_CODE), CHROMIUM (default /usr/bin/chromium), E2E_TIMEOUT_MS
// (default 15000, the bound of every wait), E2E_PRESENCE_OFFLINE (set to 1 when
// the server runs with a short PRESENCE_GRACE_PERIOD, 1 s or less: then going
// offline and coming back are checked too, each within E2E_PRESENCE_WITHIN_MS,
// default 5000).
// Two people log in through the UI in separate browser contexts, find each other
// by name, exchange messages live over the WebSocket (ticks: sent, delivered,
// read; unread badges; typing; presence; message info), the history survives a
// reload, a person who lost the connection catches up on what was sent
// meanwhile (resume) without reloading. Then groups: Alice creates one with Bob
// and a third person made over the HTTP API (Carol), Bob sees it live with the
// "created the group" notice and Alice's name on her bubble, Alice makes Bob an
// admin and removes Carol from the group info (Carol's view stops there); the
// chat menu archives, pins and mutes; the search box finds messages and opens
// their chat at them (a deep one paged in with before_seq). Finally a device
// logged out from the devices panel returns to the login screen. Exits 0 and prints
// "e2e: 1 passed, 0 failed" on success; otherwise saves screenshots to
// web/e2e/test-results/ and exits 1.

import { chromium } from 'playwright-core';
import { randomInt, randomBytes } from 'node:crypto';
import { mkdirSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const BASE_URL = (process.env.BASE_URL || 'http://127.0.0.1:18080').replace(/\/+$/, '');
const OTP_CODE = process.env.OTP_CODE || '123456';
const CHROMIUM = process.env.CHROMIUM || '/usr/bin/chromium';
const TIMEOUT = Number(process.env.E2E_TIMEOUT_MS || 15000);
const PRESENCE_OFFLINE = process.env.E2E_PRESENCE_OFFLINE === '1';
const PRESENCE_WITHIN = Math.min(TIMEOUT, Number(process.env.E2E_PRESENCE_WITHIN_MS || 5000));
/** Any stored status: the message was acknowledged (one, two grey or two blue ticks). */
const STORED = ['sent', 'delivered', 'read'];
/** The colour of read ticks (--tick-read), in light and dark themes alike. */
const READ_TICK_COLOR = 'rgb(83, 189, 235)';
const RESULTS_DIR = path.join(path.dirname(fileURLToPath(import.meta.url)), 'test-results');

const XSS_TEXT = '<img src=x onerror=alert(1)>';

/** @param {string} text */
function step(text) {
  console.log(`e2e: ${text}`);
}

/** A random, valid Indian mobile number: +91 98 followed by 8 digits. */
function randomPhone() {
  let digits = '';
  for (let i = 0; i < 8; i++) digits += String(randomInt(10));
  return `+9198${digits}`;
}

/** Bounded wait with a clear message. */
async function within(what, promise) {
  let timer;
  const timeout = new Promise((_, reject) => {
    timer = setTimeout(() => reject(new Error(`timed out after ${TIMEOUT} ms: ${what}`)), TIMEOUT + 1000);
  });
  try {
    return await Promise.race([promise, timeout]);
  } catch (err) {
    const message = err instanceof Error ? err.message.split('\n')[0] : String(err);
    throw new Error(`${what}: ${message}`);
  } finally {
    clearTimeout(timer);
  }
}

/**
 * Opens a page for one person and records what must never happen: script
 * errors, CSP violations, dialogs (an executed XSS payload would open one).
 */
async function openPerson(browser, label) {
  const context = await browser.newContext({ viewport: { width: 1280, height: 800 } });
  context.setDefaultTimeout(TIMEOUT);
  const page = await context.newPage();
  const problems = [];
  page.on('pageerror', (err) => problems.push(`${label}: page error: ${err.message}`));
  page.on('console', (msg) => {
    const text = msg.text();
    if (msg.type() === 'error' && /Content.Security.Policy|Refused to/i.test(text)) {
      problems.push(`${label}: CSP violation: ${text}`);
    }
  });
  page.on('dialog', (dialog) => {
    problems.push(`${label}: a dialog opened (${dialog.type()}: ${dialog.message()}), user content ran as code`);
    void dialog.dismiss().catch(() => {});
  });
  return { label, context, page, problems };
}

/** Waits until the connection banner is gone, i.e. the WebSocket is open. */
async function waitConnected(person) {
  await within(`${person.label}: WebSocket connected (banner hidden)`, person.page.getByTestId('connection-banner').waitFor({ state: 'hidden' }));
}

async function logIn(person, phone, name, { tryMistakes = false } = {}) {
  const { page, label } = person;
  await within(`${label}: open ${BASE_URL}/`, page.goto(`${BASE_URL}/`, { waitUntil: 'domcontentloaded' }));
  await within(`${label}: login screen`, page.getByTestId('phone-input').waitFor({ state: 'visible' }));

  if (tryMistakes) {
    await page.getByTestId('phone-input').fill('12345');
    await page.getByTestId('send-code').click();
    await within(
      `${label}: invalid phone shows the server's error`,
      page.getByTestId('login-error').filter({ hasText: /\S/ }).waitFor({ state: 'visible' }),
    );
    step(`${label}: invalid phone refused with "${(await page.getByTestId('login-error').textContent())?.trim()}"`);
  }

  await page.getByTestId('phone-input').fill(phone);
  await page.getByTestId('name-input').fill(name);
  await page.getByTestId('send-code').click();
  await within(`${label}: code input after "Send code"`, page.getByTestId('code-input').waitFor({ state: 'visible' }));

  if (tryMistakes) {
    const wrong = OTP_CODE === '000000' ? '111111' : '000000';
    await page.getByTestId('code-input').fill(wrong);
    await page.getByTestId('verify-code').click();
    await within(
      `${label}: wrong code shows the server's error`,
      page.getByTestId('login-error').filter({ hasText: /\S/ }).waitFor({ state: 'visible' }),
    );
    step(`${label}: wrong code refused with "${(await page.getByTestId('login-error').textContent())?.trim()}"`);
  }

  await page.getByTestId('code-input').fill(OTP_CODE);
  await page.getByTestId('verify-code').click();
  await within(`${label}: chat list after login`, page.getByTestId('user-search').waitFor({ state: 'visible' }));
  const token = await page.evaluate(() => localStorage.getItem('chitchat.token'));
  if (!token) throw new Error(`${label}: no token stored under chitchat.token after login`);
  await waitConnected(person);
  step(`${label} logged in as ${name} (${phone}) and is connected`);
}

/**
 * Waits for a bubble whose text is exactly `text`. `status` (one or several)
 * must match both the bubble's data-status and, on own bubbles, the data-status
 * of its ticks.
 * @param {{ own?: boolean, status?: string | string[], timeout?: number }} [want]
 */
async function waitForBubble(person, text, want = {}) {
  const statuses = want.status === undefined ? null : [want.status].flat();
  const what = `${person.label}: bubble ${JSON.stringify(text)}${want.own === undefined ? '' : want.own ? ' (own)' : ' (theirs)'}${statuses ? ` status=${statuses.join('|')}` : ''}`;
  try {
    await within(
      what,
      person.page.waitForFunction(
        ([t, own, wanted]) =>
          [...document.querySelectorAll('[data-testid="message"]')].some((m) => {
            if (!(m instanceof HTMLElement) || m.querySelector('[data-testid="message-text"]')?.textContent !== t) return false;
            if (own !== null && m.dataset.own !== String(own)) return false;
            if (wanted === null) return true;
            const ticks = m.querySelector('[data-testid="ticks"]');
            const ticksOk = m.dataset.own !== 'true' || (ticks instanceof HTMLElement && wanted.includes(ticks.dataset.status ?? ''));
            return wanted.includes(m.dataset.status ?? '') && ticksOk;
          }),
        [text, want.own ?? null, statuses],
        { timeout: want.timeout ?? TIMEOUT },
      ),
    );
  } catch (err) {
    const seen = await bubbleState(person, text).catch(() => null);
    throw new Error(`${err instanceof Error ? err.message : err} (the bubble is ${JSON.stringify(seen)})`);
  }
}

/** What one bubble shows: its status, its ticks' status and their colour. */
async function bubbleState(person, text) {
  return person.page.evaluate((t) => {
    const m = [...document.querySelectorAll('[data-testid="message"]')].find(
      (n) => n.querySelector('[data-testid="message-text"]')?.textContent === t,
    );
    if (!(m instanceof HTMLElement)) return null;
    const ticks = m.querySelector('[data-testid="ticks"]');
    const svg = ticks?.querySelector('svg');
    return {
      status: m.dataset.status ?? null,
      ticks: ticks instanceof HTMLElement ? (ticks.dataset.status ?? null) : null,
      label: ticks?.getAttribute('aria-label') ?? null,
      color: svg ? getComputedStyle(svg).color : null,
    };
  }, text);
}

/** The bubbles on screen, in order: text, seq, own. */
async function bubbles(person) {
  return person.page.evaluate(() =>
    [...document.querySelectorAll('[data-testid="message"]')].map((m) => ({
      text: m.querySelector('[data-testid="message-text"]')?.textContent ?? null,
      seq: m instanceof HTMLElement && m.dataset.seq ? Number(m.dataset.seq) : null,
      own: m instanceof HTMLElement ? m.dataset.own : null,
      imgs: m.querySelectorAll('img').length,
    })),
  );
}

async function sendText(person, text, how) {
  const composer = person.page.getByTestId('composer');
  await composer.fill(text);
  if (how === 'enter') await composer.press('Enter');
  else await person.page.getByTestId('send-button').click();
}

/** The line under the open conversation's title. */
function header(person) {
  const bar = person.page.locator('.conversation-bar');
  return { typing: bar.getByTestId('typing-indicator'), presence: bar.getByTestId('presence-status') };
}

/** Waits until the header's presence line is in `state` (online / offline / unknown) with matching text. */
async function waitPresence(person, state, textPattern, timeout = TIMEOUT) {
  const { presence } = header(person);
  try {
    await within(
      `${person.label}: header presence ${state} ${textPattern}`,
      presence.and(person.page.locator(`[data-state="${state}"]`)).filter({ hasText: textPattern }).waitFor({ state: 'visible', timeout }),
    );
  } catch (err) {
    const now = await presence.evaluate((n) => ({ state: n.dataset.state, text: n.textContent, hidden: n.hidden })).catch(() => null);
    throw new Error(`${err instanceof Error ? err.message : err} (it shows ${JSON.stringify(now)})`);
  }
}

/** Opens the menu of the chat-list header and picks an item. */
async function pickMenu(person, testid) {
  await person.page.getByTestId('menu-button').click();
  await within(`${person.label}: menu item ${testid}`, person.page.getByTestId(testid).click());
}

/**
 * Records, from now on, the WebSockets the page opens: their URL and the frames
 * sent and received, parsed.
 */
function recordSockets(person) {
  /** @type {Array<{ url: string, sent: any[], received: any[] }>} */
  const sockets = [];
  const parse = (payload) => {
    try {
      return JSON.parse(typeof payload === 'string' ? payload : payload.toString());
    } catch {
      return { unparsed: String(payload) };
    }
  };
  person.page.on('websocket', (ws) => {
    const record = { url: ws.url(), sent: [], received: [] };
    sockets.push(record);
    ws.on('framesent', (event) => record.sent.push(parse(event.payload)));
    ws.on('framereceived', (event) => record.received.push(parse(event.payload)));
  });
  return sockets;
}

/** Polls `check` until it returns true, at most TIMEOUT ms. */
async function until(what, check) {
  const deadline = Date.now() + TIMEOUT;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out after ${TIMEOUT} ms: ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

/** A call to the HTTP API (for a person who only exists there). */
async function rest(method, urlPath, body, token) {
  const res = await fetch(`${BASE_URL}${urlPath}`, {
    method,
    headers: { 'content-type': 'application/json', ...(token ? { authorization: `Bearer ${token}` } : {}) },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await res.text();
  if (!res.ok) throw new Error(`${method} ${urlPath} answered ${res.status} ${text}`);
  return text ? JSON.parse(text) : null;
}

/** Someone who logs in over the HTTP API only. */
async function restPerson(phone, name) {
  await rest('POST', '/api/auth/otp', { phone });
  const reg = await rest('POST', '/api/auth/register', { phone, name, code: OTP_CODE });
  return { phone, name, token: reg.token, id: reg.user.id };
}

/** The token a page is logged in with. */
async function tokenOf(person) {
  return person.page.evaluate(() => localStorage.getItem('chitchat.token'));
}

/** The list item of the chat whose row is titled exactly `title`. */
function chatItem(person, title) {
  return person.page.locator('.chat-item').filter({ has: person.page.getByTestId('chat-name').getByText(title, { exact: true }) });
}

/** Opens the menu of a chat's row (hover, chevron) and picks an item. */
async function pickChatMenu(person, title, testid) {
  const item = chatItem(person, title).first();
  await item.hover();
  await item.getByTestId('chat-menu').click();
  await within(`${person.label}: "${testid}" in the menu of ${JSON.stringify(title)}`, person.page.getByTestId(testid).click());
}

/** Searches the box and opens the message result containing `text`; the chat opens at it, highlighted. */
async function openSearchResult(person, query, text, chatTitle) {
  const { page, label } = person;
  await page.getByTestId('user-search').fill(query);
  const hit = page.getByTestId('search-message-result').filter({ hasText: text });
  await within(`${label}: a message result for ${JSON.stringify(query)}`, hit.first().waitFor({ state: 'visible' }));
  const marked = ((await hit.first().locator('mark').allTextContents()) ?? []).join(' ');
  if (!marked.toLowerCase().includes(query.split(' ')[0].toLowerCase())) {
    throw new Error(`${label}: the result does not mark the match: marks ${JSON.stringify(marked)}`);
  }
  const seq = Number(await hit.first().getAttribute('data-seq'));
  await hit.first().click();
  await within(
    `${label}: ${JSON.stringify(chatTitle)} opened from the search result`,
    page.getByTestId('conversation-title').getByText(chatTitle, { exact: true }).waitFor({ state: 'visible' }),
  );
  const found = page.locator(`[data-testid="message"][data-seq="${seq}"]`);
  await within(`${label}: the message (seq ${seq}) is highlighted`, found.and(page.locator('[data-highlighted="true"]')).waitFor({ state: 'visible' }));
  const text0 = await found.getByTestId('message-text').textContent();
  if (!text0?.includes(text)) throw new Error(`${label}: the highlighted message is ${JSON.stringify(text0)}, expected it to contain ${JSON.stringify(text)}`);
  const inView = await found.evaluate((node) => {
    const box = node.getBoundingClientRect();
    const pane = document.getElementById('messages')?.getBoundingClientRect();
    return !!pane && box.bottom > pane.top && box.top < pane.bottom;
  });
  if (!inView) throw new Error(`${label}: the highlighted message is not scrolled into view`);
  return seq;
}

async function checkLiteral(person) {
  const found = (await bubbles(person)).filter((b) => b.text === XSS_TEXT);
  if (found.length !== 1) throw new Error(`${person.label}: expected one bubble with the literal text ${XSS_TEXT}, found ${found.length}`);
  if (found[0].imgs !== 0) throw new Error(`${person.label}: an <img> was created inside the bubble: content was parsed as HTML`);
  const injected = await person.page.evaluate(() => document.querySelectorAll('img[src="x"]').length);
  if (injected !== 0) throw new Error(`${person.label}: an <img src="x"> exists in the page`);
}

async function main() {
  const run = randomBytes(3).toString('hex');
  const alice = { phone: randomPhone(), name: `Alice ${run}` };
  const bob = { phone: randomPhone(), name: `Bob ${run}` };
  const text1 = `Hello Bob, this is Alice (${run}) 👋`;
  const reply = `Hi Alice! Bob here (${run})`;

  step(`BASE_URL=${BASE_URL}, chromium=${CHROMIUM}, every wait bounded at ${TIMEOUT} ms`);
  const browser = await chromium.launch({
    executablePath: CHROMIUM,
    headless: true,
    args: [
      '--no-sandbox',
      '--disable-gpu',
      '--disable-quic',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
    ],
  });
  /** @type {Array<Awaited<ReturnType<typeof openPerson>>>} */
  const people = [];
  let failed = false;
  try {
    const A = await openPerson(browser, 'Alice');
    const B = await openPerson(browser, 'Bob');
    people.push(A, B);

    await logIn(A, alice.phone, alice.name, { tryMistakes: true });
    await logIn(B, bob.phone, bob.name);

    // Alice finds Bob by name and opens the chat.
    await A.page.getByTestId('user-search').fill(bob.name);
    const result = A.page.getByTestId('search-result').filter({ hasText: bob.name });
    await within('Alice: Bob in the search results', result.first().waitFor({ state: 'visible' }));
    step('Alice found Bob through the search box');
    await result.first().click();
    await within(
      'Alice: conversation with Bob open',
      A.page.getByTestId('conversation-title').filter({ hasText: bob.name }).waitFor({ state: 'visible' }),
    );
    step('Alice opened the chat with Bob');

    // Bob's presence is unknown to Alice's page (no frame since it connected; the
    // chat did not exist when Bob connected): the header shows his stored last seen.
    await waitPresence(A, 'unknown', /^last seen /);
    step(`Alice's header shows Bob's stored "${(await header(A).presence.textContent())?.trim()}" while his presence is unknown`);

    // Alice sends two messages; each shows at once and gets its tick from the ack.
    await sendText(A, text1, 'enter');
    await waitForBubble(A, text1, { own: true, status: STORED });
    step('Alice sent a message (Enter) and it was acknowledged');
    await sendText(A, XSS_TEXT, 'button');
    await waitForBubble(A, XSS_TEXT, { own: true, status: STORED });
    step('Alice sent an HTML-looking message (send button) and it was acknowledged');
    const draft = await A.page.getByTestId('composer').inputValue();
    if (draft !== '') throw new Error(`Alice: composer not cleared after sending (${JSON.stringify(draft)})`);

    // Bob sees the new chat appear live, without a reload.
    const row = B.page.getByTestId('chat-row').filter({ hasText: alice.name });
    await within('Bob: chat row for Alice appears live', row.first().waitFor({ state: 'visible' }));
    await within(
      'Bob: the row previews the last message',
      B.page.getByTestId('chat-row').filter({ hasText: XSS_TEXT }).first().waitFor({ state: 'visible' }),
    );
    try {
      await row.first().getByTestId('unread-badge').filter({ hasText: /^2$/ }).waitFor({ state: 'visible' });
    } catch {
      const badge = await row.first().getByTestId('unread-badge').textContent({ timeout: 1000 }).catch(() => null);
      throw new Error(`Bob: expected unread badge "2" on Alice's row, got ${JSON.stringify(badge)}`);
    }
    step('Bob sees the chat with Alice appear live, with the preview and 2 unread');
    const bobTitle = await B.page.title();
    if (bobTitle !== '(2) ChitChat') throw new Error(`Bob: tab title is ${JSON.stringify(bobTitle)}, expected "(2) ChitChat"`);

    // Bob's page has the messages but has not shown them: two grey ticks for Alice.
    await waitForBubble(A, text1, { own: true, status: 'delivered' });
    await waitForBubble(A, XSS_TEXT, { own: true, status: 'delivered' });
    const aliceRow = A.page.getByTestId('chat-row').filter({ hasText: bob.name }).first();
    await within(
      "Alice: the row's preview shows two grey ticks",
      aliceRow.locator('[data-testid="preview-ticks"][data-status="delivered"]').waitFor({ state: 'visible' }),
    );
    const grey = await bubbleState(A, text1);
    if (grey?.color === READ_TICK_COLOR) throw new Error(`Alice: delivered ticks are blue: ${JSON.stringify(grey)}`);
    step("Alice's bubbles (and her chat row) show two grey ticks: delivered to Bob's page, not read");

    await row.first().click();
    await within(
      'Bob: conversation with Alice open',
      B.page.getByTestId('conversation-title').filter({ hasText: alice.name }).waitFor({ state: 'visible' }),
    );
    await waitForBubble(B, text1, { own: false });
    await waitForBubble(B, XSS_TEXT, { own: false });
    await checkLiteral(B);
    step("Bob opened the chat and sees both of Alice's messages; the HTML-looking one as literal text");
    const badgeAfter = await row.first().getByTestId('unread-badge').count();
    if (badgeAfter !== 0) throw new Error('Bob: unread badge still shown after opening the chat');
    const bobTitleAfter = await B.page.title();
    if (bobTitleAfter !== 'ChitChat') throw new Error(`Bob: tab title is ${JSON.stringify(bobTitleAfter)} after reading, expected "ChitChat"`);
    step("Bob's unread badge and tab title count cleared as soon as he opened the chat");

    // Bob has read them: two blue ticks for Alice, live.
    await waitForBubble(A, text1, { own: true, status: 'read' });
    await waitForBubble(A, XSS_TEXT, { own: true, status: 'read' });
    const blue = await bubbleState(A, text1);
    if (blue?.color !== READ_TICK_COLOR || blue.label !== 'Read') {
      throw new Error(`Alice: read ticks are not blue and labelled "Read": ${JSON.stringify(blue)}`);
    }
    await within(
      "Alice: the row's preview shows blue ticks",
      aliceRow.locator('[data-testid="preview-ticks"][data-status="read"]').waitFor({ state: 'visible' }),
    );
    step('Alice sees two blue ticks on both messages (and in her chat row) once Bob opened the chat');

    // Message info: who read it, and when.
    const firstBubble = A.page.getByTestId('message').filter({ hasText: text1 }).first();
    await firstBubble.hover();
    await firstBubble.getByTestId('message-menu').click();
    await within('Alice: "Message info" in the message menu', A.page.getByTestId('message-info-action').click());
    const info = A.page.getByTestId('message-info');
    await within('Alice: the message info dialog', info.waitFor({ state: 'visible' }));
    const receiptRow = info.locator('[data-testid="receipt-row"][data-state="read"]').filter({ hasText: bob.name });
    await within('Alice: message info lists Bob as having read it', receiptRow.waitFor({ state: 'visible' }));
    const receiptText = (await receiptRow.innerText()).replace(/\s+/g, ' ').trim();
    if (!/Read/.test(receiptText) || !/Delivered/.test(receiptText)) {
      throw new Error(`Alice: message info row lacks the read and delivered times: ${JSON.stringify(receiptText)}`);
    }
    await A.page.keyboard.press('Escape');
    await within('Alice: message info closes with Escape', info.waitFor({ state: 'hidden' }));
    step(`Alice opened "Message info" of her first message: ${receiptText}`);

    // Bob types: Alice sees "typing…" in the header and in her chat row, and that
    // Bob is online (only a connected device can be typing).
    await B.page.getByTestId('composer').pressSequentially(reply.slice(0, 12), { delay: 30 });
    const aliceHeader = header(A);
    await within("Alice: Bob's typing indicator in the header", aliceHeader.typing.filter({ hasText: 'typing…' }).waitFor({ state: 'visible' }));
    await within("Alice: Bob's typing indicator in the chat row", aliceRow.getByTestId('typing-indicator').waitFor({ state: 'visible' }));
    step('Bob is typing and Alice sees "typing…" in the conversation header and in the chat row');

    // Bob replies; Alice sees it live, and the typing indicator goes at once (not
    // only when it expires after 6 s).
    await sendText(B, reply, 'enter');
    await waitForBubble(B, reply, { own: true, status: STORED });
    await waitForBubble(A, reply, { own: false });
    step("Bob replied and Alice saw the reply live");
    await within(
      "Alice: Bob's typing indicator hidden after his message",
      aliceHeader.typing.waitFor({ state: 'hidden', timeout: Math.min(TIMEOUT, 3000) }),
    );
    if (await aliceRow.getByTestId('typing-indicator').count()) throw new Error("Alice: the chat row still says typing after Bob's message");
    await waitPresence(A, 'online', /^online$/);
    step('The typing indicator went away when Bob sent, and Alice\'s header shows Bob "online"');

    // Alice reloads: the history is there, in order. (Her sockets are recorded from
    // here on, for the presence frames.)
    const aliceSockets = recordSockets(A);
    await within('Alice: reload', A.page.reload({ waitUntil: 'domcontentloaded' }));
    await within('Alice: app after reload', A.page.getByTestId('user-search').waitFor({ state: 'visible' }));
    const title = A.page.getByTestId('conversation-title').filter({ hasText: bob.name });
    if (!(await title.isVisible())) {
      await within(
        'Alice: chat row for Bob after reload',
        A.page.getByTestId('chat-row').filter({ hasText: bob.name }).first().click(),
      );
    }
    await within('Alice: conversation with Bob after reload', title.waitFor({ state: 'visible' }));
    await waitForBubble(A, reply, { own: false });
    const history = await bubbles(A);
    const texts = history.map((b) => b.text);
    const expected = [text1, XSS_TEXT, reply];
    if (JSON.stringify(texts) !== JSON.stringify(expected)) {
      throw new Error(`Alice: history after reload is ${JSON.stringify(texts)}, expected ${JSON.stringify(expected)}`);
    }
    const seqs = history.map((b) => b.seq);
    if (JSON.stringify(seqs) !== JSON.stringify([1, 2, 3])) {
      throw new Error(`Alice: data-seq after reload is ${JSON.stringify(seqs)}, expected [1,2,3]`);
    }
    const owners = history.map((b) => b.own);
    if (JSON.stringify(owners) !== JSON.stringify(['true', 'true', 'false'])) {
      throw new Error(`Alice: data-own after reload is ${JSON.stringify(owners)}, expected ["true","true","false"]`);
    }
    await waitForBubble(A, text1, { own: true, status: 'read' });
    await waitForBubble(A, XSS_TEXT, { own: true, status: 'read' });
    await checkLiteral(A);
    await waitConnected(A);
    step('Alice reloaded and sees the 3 messages in order (seq 1, 2, 3), hers with blue ticks from the history');

    // Bob loses his connection; Alice writes twice meanwhile; once back, Bob's page
    // catches up through resume: no reload, no history refetch, each message once.
    const missed = [`First while you were away (${run})`, `Second while you were away (${run})`];
    const bobChatId = await B.page.evaluate(() => decodeURIComponent(location.hash.replace(/^#\/chat\//, '')));
    if (!bobChatId) throw new Error(`Bob: no chat in the address (${await B.page.evaluate(() => location.hash)})`);
    await B.page.evaluate(() => {
      /** @type {any} */ (window).e2eSamePage = true;
    });
    const bobSockets = recordSockets(B);
    let historyFetches = 0;
    const countHistory = (request) => {
      if (request.method() === 'GET' && new URL(request.url()).pathname === '/api/messages') historyFetches += 1;
    };
    B.page.on('request', countHistory);

    await within('Bob: go offline', B.context.setOffline(true));
    await within(
      'Bob: the banner says offline (his socket was dropped)',
      B.page.locator('[data-testid="connection-banner"][data-state="offline"]').waitFor({ state: 'visible' }),
    );
    step('Bob went offline and his page shows the offline banner');

    await sendText(A, missed[0], 'enter');
    await waitForBubble(A, missed[0], { own: true, status: 'sent' });
    await sendText(A, missed[1], 'enter');
    await waitForBubble(A, missed[1], { own: true, status: 'sent' });
    await new Promise((resolve) => setTimeout(resolve, 500)); // room for a socket that was not really closed
    const early = (await bubbles(B)).filter((b) => missed.includes(b.text ?? ''));
    if (early.length !== 0) throw new Error("Bob: Alice's messages arrived while Bob was offline: his socket was still open");
    for (const text of missed) {
      const state = await bubbleState(A, text);
      if (state?.status !== 'sent' || state.ticks !== 'sent') throw new Error(`Alice: ${JSON.stringify(text)} should show one tick while Bob is away: ${JSON.stringify(state)}`);
    }
    step('Alice sent two messages while Bob was offline; Bob does not have them; Alice sees one grey tick');

    if (PRESENCE_OFFLINE) {
      await waitPresence(A, 'offline', /^last seen today at /, PRESENCE_WITHIN);
      step(`Bob has been offline for longer than the server's grace period: Alice's header says "${(await aliceHeader.presence.textContent())?.trim()}"`);
    }

    await within('Bob: go online', B.context.setOffline(false));
    await waitConnected(B);
    await waitForBubble(B, missed[1], { own: false });
    const after = await bubbles(B);
    const expectedAfter = [text1, XSS_TEXT, reply, ...missed];
    if (JSON.stringify(after.map((b) => b.text)) !== JSON.stringify(expectedAfter)) {
      throw new Error(`Bob: after catching up the chat shows ${JSON.stringify(after.map((b) => b.text))}, expected ${JSON.stringify(expectedAfter)}`);
    }
    if (JSON.stringify(after.map((b) => b.seq)) !== JSON.stringify([1, 2, 3, 4, 5])) {
      throw new Error(`Bob: data-seq after catching up is ${JSON.stringify(after.map((b) => b.seq))}, expected [1,2,3,4,5]`);
    }
    if (!(await B.page.evaluate(() => /** @type {any} */ (window).e2eSamePage === true))) {
      throw new Error('Bob: the page was reloaded while catching up');
    }
    B.page.off('request', countHistory);
    if (historyFetches !== 0) throw new Error(`Bob: the history was fetched ${historyFetches} time(s) over HTTP instead of resumed`);

    // On the wire: the new socket asked to resume and got the two messages replayed,
    // in order, before the answer to its resume.
    let resumed = null;
    await until('Bob: a socket that sent resume and got its answer', () => {
      resumed = bobSockets.find((s) => s.sent[0]?.type === 'resume' && s.received.some((f) => f.type === 'ack' && f.id === s.sent[0].id)) ?? null;
      return resumed !== null;
    });
    if (!/[?&]resume=1(&|$)/.test(resumed.url)) throw new Error(`Bob: the socket URL lacks resume=1: ${resumed.url.replace(/token=[^&]*/, 'token=…')}`);
    const from = resumed.sent[0].payload?.chats?.[bobChatId];
    if (typeof from !== 'number') throw new Error(`Bob: resume did not carry the chat's position: ${JSON.stringify(resumed.sent[0])}`);
    const answerAt = resumed.received.findIndex((f) => f.type === 'ack' && f.id === resumed.sent[0].id);
    // Every durable event of the chat after `from`, gap-free: the two messages, and
    // receipts (status_update) if any moved meanwhile.
    const replayed = resumed.received.slice(0, answerAt).filter((f) => f.room_id === bobChatId && typeof f.event_seq === 'number');
    const replayedView = replayed.map((f) => [f.event_seq, f.type, f.type === 'message' ? f.payload?.content : f.payload?.user_id]);
    const gapFree = replayed.every((f, i) => f.event_seq === from + 1 + i);
    const replayedMessages = replayed.filter((f) => f.type === 'message').map((f) => f.payload?.content);
    if (!gapFree || JSON.stringify(replayedMessages) !== JSON.stringify(missed)) {
      throw new Error(`Bob: replay after resume from ${from} was ${JSON.stringify(replayedView)}, expected the two missed messages in order, event_seq ${from + 1}, ${from + 2}, …`);
    }
    const reached = resumed.received[answerAt].payload?.chats?.[bobChatId];
    if (reached !== from + replayed.length) {
      throw new Error(`Bob: resume answered position ${JSON.stringify(reached)} for the chat, expected ${from + replayed.length}`);
    }
    step(`Bob came back online and caught up without a reload: resume from ${from} replayed ${JSON.stringify(replayedView.map((r) => r.slice(0, 2)))}, both messages shown once each, in order (seq 4, 5)`);

    // Bob's page shows the chat: Alice's two new messages turn blue for her.
    await waitForBubble(A, missed[0], { own: true, status: 'read' });
    await waitForBubble(A, missed[1], { own: true, status: 'read' });
    step('Bob read what he missed: Alice sees blue ticks on both');
    const receiptsSent = bobSockets.flatMap((s) => s.sent).filter((f) => f.type === 'status_update' && f.room_id === bobChatId);
    if (!receiptsSent.some((f) => f.payload?.status === 'read' && f.payload?.seq === 5)) {
      throw new Error(`Bob: no "read" receipt up to seq 5 on the wire: ${JSON.stringify(receiptsSent.map((f) => f.payload))}`);
    }

    if (PRESENCE_OFFLINE) {
      // Alice reloaded since she last saw Bob type: only a presence frame can say he is online.
      await waitPresence(A, 'online', /^online$/, PRESENCE_WITHIN);
      const bobId = await B.page.evaluate(async () => {
        const res = await fetch('/api/auth/verify', { headers: { Authorization: `Bearer ${localStorage.getItem('chitchat.token')}` } });
        return (await res.json()).user.id;
      });
      const presenceFrames = aliceSockets.flatMap((s) => s.received).filter((f) => f.type === 'presence' && f.payload?.user_id === bobId);
      const offline = presenceFrames.findIndex((f) => f.payload?.online === false && typeof f.payload?.last_seen === 'string');
      const online = presenceFrames.findIndex((f, i) => i > offline && f.payload?.online === true && f.payload?.last_seen === null);
      if (offline < 0 || online < 0) {
        throw new Error(`Alice: expected presence frames for Bob going offline, then online: ${JSON.stringify(presenceFrames)}`);
      }
      step("Bob came back: a presence frame turned Alice's header to \"online\" again");
    }

    // ------------------------------------------------------------ groups
    // Carol exists only over the HTTP API. She also writes Alice a long direct
    // chat whose first message is found by search later (far above a first page).
    const carol = await restPerson(randomPhone(), `Carol ${run}`);
    const aliceToken = await tokenOf(A);
    const aliceId = (await rest('GET', '/api/users/me', undefined, aliceToken)).user.id;
    const bobId = (await rest('GET', '/api/users/me', undefined, await tokenOf(B))).user.id;
    const deepWord = `zebra${run}`;
    const carolChat = await rest('POST', '/api/chats', { type: 'direct', user_ids: [aliceId] }, carol.token);
    const FILLER = 80;
    await rest('POST', '/api/messages', { chat_id: carolChat.id, content: `The ${deepWord} crossing is at noon`, client_msg_id: `deep-${run}` }, carol.token);
    for (let i = 1; i <= FILLER; i++) {
      await rest('POST', '/api/messages', { chat_id: carolChat.id, content: `Filler ${i} (${run})`, client_msg_id: `filler-${run}-${i}` }, carol.token);
    }
    step(`Carol (over the HTTP API) wrote Alice ${FILLER + 1} messages`);

    const groupName = `Trip ${run} ${XSS_TEXT}`;
    await pickMenu(A, 'new-group');
    await within('Alice: the new group panel', A.page.getByTestId('new-group-panel').waitFor({ state: 'visible' }));
    await A.page.getByTestId('group-name-input').fill(groupName);
    await A.page.getByTestId('group-description-input').fill('Flights on Friday');
    for (const who of [bob.name, carol.name]) {
      await A.page.getByTestId('group-member-search').fill(who);
      const pick = A.page.getByTestId('pick-person').filter({ hasText: who }).first();
      await within(`Alice: ${who} offered in the group's people search`, pick.waitFor({ state: 'visible' }));
      await pick.click();
      await within(`Alice: ${who} picked`, A.page.getByTestId('picked-person').filter({ hasText: who }).waitFor({ state: 'visible' }));
    }
    await A.page.getByTestId('group-create').click();
    const aliceTitle = A.page.getByTestId('conversation-title');
    await within('Alice: the new group opens', aliceTitle.getByText(groupName, { exact: true }).waitFor({ state: 'visible' }));
    await within('Alice: "created the group" notice', A.page.getByTestId('system-message').filter({ hasText: 'created the group' }).waitFor({ state: 'visible' }));
    await within('Alice: the header says 3 members', A.page.getByTestId('member-count').filter({ hasText: /^3 members$/ }).waitFor({ state: 'visible' }));
    const groupId = await A.page.evaluate(() => decodeURIComponent(location.hash.replace(/^#\/chat\//, '')));
    step('Alice created a group with Bob and Carol from the "New group" panel; it opened with the "created the group" notice and "3 members"');

    // Bob: the group appears live; he opens it and sees Alice's message live, with her name.
    const bobGroupRow = chatItem(B, groupName).first();
    await within('Bob: the group appears in his list live', bobGroupRow.waitFor({ state: 'visible' }));
    await bobGroupRow.getByTestId('chat-row').click();
    await within('Bob: the group opens', B.page.getByTestId('conversation-title').getByText(groupName, { exact: true }).waitFor({ state: 'visible' }));
    await within('Bob: "created the group" notice', B.page.getByTestId('system-message').filter({ hasText: `${alice.name} created the group` }).waitFor({ state: 'visible' }));
    const groupText = `Hello group, Alice here (${run})`;
    await sendText(A, groupText, 'enter');
    await waitForBubble(A, groupText, { own: true, status: STORED });
    await waitForBubble(B, groupText, { own: false });
    const senderLabel = (await B.page.getByTestId('message').filter({ hasText: groupText }).getByTestId('message-sender').textContent())?.trim();
    if (senderLabel !== alice.name) throw new Error(`Bob: the group bubble is labelled ${JSON.stringify(senderLabel)}, expected ${JSON.stringify(alice.name)}`);
    if ((await A.page.getByTestId('message').filter({ hasText: groupText }).getByTestId('message-sender').count()) !== 0) {
      throw new Error("Alice: her own bubble carries a sender name");
    }
    for (const person of [A, B]) {
      const shown = await person.page.evaluate(() => ({
        imgs: document.querySelectorAll('img[src="x"]').length,
        title: document.getElementById('conversation-title')?.textContent,
      }));
      if (shown.imgs !== 0 || shown.title !== groupName) throw new Error(`${person.label}: the group name was not shown as literal text: ${JSON.stringify(shown)}`);
    }
    const bobRowName = await bobGroupRow.getByTestId('chat-name').textContent();
    if (bobRowName !== groupName) throw new Error(`Bob: the group's row is named ${JSON.stringify(bobRowName)}`);
    step(`Bob saw the group appear live and Alice's message with her name on the bubble; the group name ${JSON.stringify(XSS_TEXT)} stays literal text everywhere`);

    // Group info: Alice makes Bob an admin, then removes Carol.
    await A.page.getByTestId('chat-info-button').click();
    const groupInfo = A.page.getByTestId('group-info');
    await within('Alice: the group info panel', groupInfo.waitFor({ state: 'visible' }));
    const infoName = await groupInfo.getByTestId('group-info-name').textContent();
    if (infoName !== groupName) throw new Error(`Alice: group info names the group ${JSON.stringify(infoName)}`);
    await until('Alice: three members in the group info', async () => (await groupInfo.getByTestId('member-row').count()) === 3);
    const aliceMember = groupInfo.locator(`[data-testid="member-row"][data-user-id="${aliceId}"]`);
    if ((await aliceMember.getAttribute('data-role')) !== 'admin') throw new Error('Alice: not shown as the group admin');
    await groupInfo.locator(`[data-testid="member-row"][data-user-id="${bobId}"]`).getByTestId('member-role').click();
    await within('Alice: Bob shown as an admin', groupInfo.locator(`[data-testid="member-row"][data-user-id="${bobId}"][data-role="admin"]`).waitFor({ state: 'visible' }));
    await within('Bob: "is now an admin" notice live', B.page.getByTestId('system-message').filter({ hasText: 'is now an admin' }).waitFor({ state: 'visible' }));
    await groupInfo.locator(`[data-testid="member-row"][data-user-id="${carol.id}"]`).getByTestId('member-remove').click();
    await within('Alice: confirm removing Carol', A.page.getByTestId('confirm-ok').click());
    await until('Alice: two members left in the group info', async () => (await groupInfo.getByTestId('member-row').count()) === 2);
    await within('Bob: "removed" notice live', B.page.getByTestId('system-message').filter({ hasText: `removed ${carol.name}` }).waitFor({ state: 'visible' }));
    await within('Bob: his header says 2 members (chat_update)', B.page.getByTestId('member-count').filter({ hasText: /^2 members$/ }).waitFor({ state: 'visible' }));
    const afterText = `Carol has left us (${run})`;
    await sendText(A, afterText, 'enter');
    await waitForBubble(B, afterText, { own: false });
    const carolView = await rest('GET', `/api/chats/${groupId}`, undefined, carol.token);
    const carolHistory = await rest('GET', `/api/messages?chat_id=${groupId}&limit=100`, undefined, carol.token);
    if (carolView.membership?.status !== 'left') throw new Error(`Carol: membership after removal is ${JSON.stringify(carolView.membership)}`);
    if (carolHistory.messages.some((m) => m.content === afterText)) throw new Error('Carol: sees a message sent after she was removed');
    await A.page.getByRole('button', { name: 'Close info' }).click();
    await within('Alice: the group info closes', groupInfo.waitFor({ state: 'hidden' }));
    step('Alice made Bob an admin and removed Carol from the group info; Bob saw both notices live and "2 members"; Carol sees nothing after her removal');

    // The chat menu: archive the direct chat with Bob, find it under Archived; pin and mute the group.
    await pickChatMenu(A, bob.name, 'archive-chat');
    await within("Alice: Bob's chat leaves the list", chatItem(A, bob.name).waitFor({ state: 'hidden' }));
    const archivedEntry = A.page.getByTestId('archived-entry');
    await within('Alice: the "Archived" entry', archivedEntry.waitFor({ state: 'visible' }));
    const archivedOnServer = await rest('GET', '/api/chats?archived=true', undefined, aliceToken);
    if (!archivedOnServer.chats.some((c) => c.members.some((m) => m.user_id === bobId) && c.type === 'direct')) {
      throw new Error(`Alice: the server's archive lacks the chat with Bob: ${JSON.stringify(archivedOnServer.chats.map((c) => c.id))}`);
    }
    await archivedEntry.click();
    await within('Alice: the archive shows the chat with Bob', chatItem(A, bob.name).waitFor({ state: 'visible' }));
    if ((await chatItem(A, groupName).count()) !== 0) throw new Error('Alice: the archive shows the group, which is not archived');
    await A.page.getByRole('button', { name: 'Back to chats' }).first().click();
    await within('Alice: back to the chat list', chatItem(A, groupName).waitFor({ state: 'visible' }));
    step('Alice archived her chat with Bob from its menu; it left the list and is under "Archived" (and archived on the server)');

    await pickChatMenu(A, groupName, 'pin-chat');
    await within('Alice: the group is pinned', chatItem(A, groupName).getByTestId('pinned-mark').waitFor({ state: 'visible' }));
    const firstRow = await A.page.locator('#chat-list [data-testid="chat-row"]').first().getByTestId('chat-name').textContent();
    if (firstRow !== groupName) throw new Error(`Alice: the pinned group is not first in the list (first: ${JSON.stringify(firstRow)})`);
    await pickChatMenu(A, groupName, 'mute-chat');
    await within('Alice: "Mute for 8 hours"', A.page.getByTestId('mute-8h').click());
    await within('Alice: the group is muted', chatItem(A, groupName).getByTestId('muted-mark').waitFor({ state: 'visible' }));
    step('Alice pinned the group (first in the list) and muted it for 8 hours (muted mark)');

    // Search: a message deep in Carol's chat (paged in with before_seq), then the first message to Bob (archived chat).
    const historyUrls = [];
    const noteHistory = (request) => {
      const url = new URL(request.url());
      if (url.pathname === '/api/messages' && request.method() === 'GET') historyUrls.push(url.search);
    };
    A.page.on('request', noteHistory);
    const deepSeq = await openSearchResult(A, deepWord, `The ${deepWord} crossing`, carol.name);
    A.page.off('request', noteHistory);
    if (deepSeq !== 1) throw new Error(`Alice: the deep result is seq ${deepSeq}, expected 1`);
    if (!historyUrls.some((q) => /[?&]before_seq=\d+/.test(q)) || historyUrls.some((q) => /[?&]offset=/.test(q))) {
      throw new Error(`Alice: history was not paged with before_seq: ${JSON.stringify(historyUrls)}`);
    }
    step(`Alice searched ${JSON.stringify(deepWord)}: the result opened Carol's chat at that first message, highlighted, paged in with before_seq (${historyUrls.length} history requests)`);
    const earlySeq = await openSearchResult(A, 'this is Alice', 'this is Alice', bob.name);
    if (earlySeq !== 1) throw new Error(`Alice: the result for "this is Alice" is seq ${earlySeq}, expected 1`);
    await A.page.getByTestId('user-search').press('Escape');
    step('Alice searched "this is Alice": the result opened the archived chat with Bob at her first message, highlighted');

    // Contacts: Alice saves Carol by phone under a name of her own; the chat list uses it.
    const carolAlias = `Caro ${run}`;
    await pickMenu(A, 'menu-contacts');
    const contacts = A.page.getByTestId('contacts-panel');
    await within('Alice: the contacts panel', contacts.waitFor({ state: 'visible' }));
    await contacts.getByTestId('contact-phone').fill(carol.phone);
    await contacts.getByTestId('contact-alias').fill(carolAlias);
    await contacts.getByTestId('contact-add').click();
    const carolContact = contacts.locator(`[data-testid="contact-row"][data-user-id="${carol.id}"]`);
    await within('Alice: Carol in her contacts under the alias', carolContact.filter({ hasText: carolAlias }).waitFor({ state: 'visible' }));
    await contacts.getByRole('button', { name: 'Close contacts' }).click();
    await within('Alice: the chat with Carol is listed under the alias', chatItem(A, carolAlias).waitFor({ state: 'visible' }));
    const savedContacts = await rest('GET', '/api/contacts', undefined, aliceToken);
    if (!savedContacts.contacts.some((c) => c.user.id === carol.id && c.alias === carolAlias)) {
      throw new Error(`Alice: the server's contacts are ${JSON.stringify(savedContacts.contacts.map((c) => [c.user.name, c.alias]))}`);
    }
    step(`Alice added Carol to her contacts by phone as ${JSON.stringify(carolAlias)}; her chat list names Carol so`);

    // A number nobody she knows has: saved like any other, shown as the number alone.
    const stranger = randomPhone();
    await pickMenu(A, 'menu-contacts');
    await contacts.getByTestId('contact-phone').fill(stranger);
    await contacts.getByTestId('contact-add').click();
    const numberRow = contacts.getByTestId('contact-row').filter({ hasText: 'shown once you share a chat' });
    await within('Alice: the number is listed on its own', numberRow.waitFor({ state: 'visible' }));
    await numberRow.getByTestId('contact-remove').click();
    await A.page.getByTestId('confirm-ok').click();
    await within('Alice: the number is removed', numberRow.waitFor({ state: 'detached' }));
    await contacts.getByRole('button', { name: 'Close contacts' }).click();
    step('Alice saved a number nobody she knows has: listed as the number, then removed');

    // Profile: Alice changes her "about" line in the settings panel.
    const about = `Packing for the trip (${run})`;
    await pickMenu(A, 'menu-settings');
    await within('Alice: the settings panel', A.page.getByTestId('devices-panel').waitFor({ state: 'visible' }));
    await A.page.getByTestId('profile-status').fill(about);
    await A.page.getByTestId('profile-save').click();
    await within('Alice: profile saved', A.page.getByTestId('profile-note').filter({ hasText: 'Saved' }).waitFor({ state: 'visible' }));
    const meNow = (await rest('GET', '/api/users/me', undefined, aliceToken)).user;
    if (meNow.status !== about || meNow.name !== alice.name) throw new Error(`Alice: the server has her profile as ${JSON.stringify(meNow)}`);
    step(`Alice changed her about line to ${JSON.stringify(about)} in the settings panel`);

    // Privacy: Alice shows when she was last online to her contacts only.
    const lastSeenSelect = A.page.getByTestId('privacy-last-seen');
    await within('Alice: the privacy setting loads', until('Alice: privacy loaded', async () => !(await lastSeenSelect.isDisabled())));
    if ((await lastSeenSelect.inputValue()) !== 'everyone') throw new Error('Alice: last seen is not "everyone" by default');
    await lastSeenSelect.selectOption('contacts');
    await within('Alice: privacy saved', A.page.getByTestId('privacy-note').filter({ hasText: 'Saved' }).waitFor({ state: 'visible' }));
    const privacyNow = (await rest('GET', '/api/users/me', undefined, aliceToken)).privacy;
    if (privacyNow?.last_seen !== 'contacts') throw new Error(`Alice: the server has her privacy as ${JSON.stringify(privacyNow)}`);
    const bobToken = await tokenOf(B);
    const bobSees = (await rest('GET', `/api/users/search?q=${encodeURIComponent(alice.name)}`, undefined, bobToken)).users;
    const aliceForBob = bobSees.find((/** @type {{ id: string }} */ u) => u.id === meNow.id);
    if (!aliceForBob || aliceForBob.last_seen !== null) throw new Error(`Bob (not her contact) still sees Alice's last seen: ${JSON.stringify(aliceForBob)}`);
    await A.page.getByRole('button', { name: 'Close settings' }).click();
    step('Alice limited her last seen to her contacts; Bob, not among them, no longer sees it');

    // Devices: Alice logs in on a second device, sees both in the devices panel,
    // and logs the other one out from here; that page returns to the login screen.
    const A2 = await openPerson(browser, 'Alice (second device)');
    people.push(A2);
    await logIn(A2, alice.phone, alice.name);
    await pickMenu(A, 'menu-settings');
    const panel = A.page.getByTestId('devices-panel');
    await within('Alice: the devices panel', panel.waitFor({ state: 'visible' }));
    const deviceRows = panel.getByTestId('device-row');
    await until('Alice: two devices in the panel', async () => (await deviceRows.count()) === 2);
    const current = panel.locator('[data-testid="device-row"][data-current="true"]');
    if ((await current.count()) !== 1 || !/This device/.test((await current.textContent()) ?? '')) {
      throw new Error('Alice: the devices panel does not mark exactly one row "This device"');
    }
    if ((await current.getByTestId('revoke-device').count()) !== 0) throw new Error('Alice: "Log out" offered for this device in the list');
    const profileName = await panel.getByTestId('profile-name').inputValue();
    const profilePhone = (await panel.getByTestId('profile-phone').textContent()) ?? '';
    if (profileName !== alice.name || !profilePhone.includes(alice.phone)) {
      throw new Error(`Alice: the profile shows ${JSON.stringify({ profileName, profilePhone })}`);
    }
    step(`Alice's devices panel shows her profile and two devices: ${JSON.stringify(await deviceRows.evaluateAll((rows) => rows.map((r) => (r instanceof HTMLElement ? r.innerText : '').replace(/\s+/g, ' ').trim())))}`);
    await panel.locator('[data-testid="device-row"][data-current="false"]').getByTestId('revoke-device').click();
    await within('Alice (second device): back on the login screen', A2.page.getByTestId('phone-input').waitFor({ state: 'visible' }));
    await within(
      'Alice (second device): the login screen says the device was logged out',
      A2.page.getByTestId('login-error').filter({ hasText: /logged out/i }).waitFor({ state: 'visible' }),
    );
    if (await A2.page.evaluate(() => localStorage.getItem('chitchat.token'))) throw new Error('Alice (second device): token still stored after being logged out');
    await until('Alice: one device left in the panel', async () => (await deviceRows.count()) === 1);
    step(`Alice logged her second device out from the panel; that page shows the login screen: "${(await A2.page.getByTestId('login-error').textContent())?.trim()}"`);
    await A.page.getByRole('button', { name: 'Close settings' }).click();
    await within('Alice: the devices panel closes', panel.waitFor({ state: 'hidden' }));

    if (PRESENCE_OFFLINE) {
      await within("Bob: close his page", B.context.close());
      await waitPresence(A, 'offline', /^last seen today at /, PRESENCE_WITHIN);
      step(`Bob closed his page: within seconds Alice's header says "${(await aliceHeader.presence.textContent())?.trim()}"`);
    }

    // Log out (from the header menu) ends the session.
    await pickMenu(A, 'logout');
    await within('Alice: login screen after logout', A.page.getByTestId('phone-input').waitFor({ state: 'visible' }));
    const left = await A.page.evaluate(() => localStorage.getItem('chitchat.token'));
    if (left) throw new Error('Alice: token still stored after logout');
    step('Alice logged out; the token is gone');

    const problems = people.flatMap((p) => p.problems);
    if (problems.length) throw new Error(`problems seen in the pages:\n  ${problems.join('\n  ')}`);
  } catch (err) {
    failed = true;
    console.error(`e2e: FAILED: ${err instanceof Error ? err.message : String(err)}`);
    for (const p of people) for (const problem of p.problems) console.error(`e2e:   ${problem}`);
    for (const p of people) {
      // What the page itself was telling the user, if anything.
      const shown = await p.page
        .evaluate(() =>
          ['login-error', 'toast', 'connection-banner']
            .map((id) => document.getElementById(id))
            .filter((n) => n instanceof HTMLElement && !n.hidden && n.textContent?.trim())
            .map((n) => `${n?.id}: ${n?.textContent?.trim()}`),
        )
        .catch(() => []);
      for (const line of shown) console.error(`e2e:   ${p.label}'s page shows ${line}`);
    }
    mkdirSync(RESULTS_DIR, { recursive: true });
    const stamp = new Date().toISOString().replace(/[:.]/g, '-');
    for (const p of people) {
      const file = path.join(RESULTS_DIR, `${stamp}-${p.label.toLowerCase()}.png`);
      try {
        await p.page.screenshot({ path: file, fullPage: true, timeout: 5000 });
        console.error(`e2e: screenshot saved: ${file}`);
      } catch (shotErr) {
        console.error(`e2e: could not save ${file}: ${shotErr instanceof Error ? shotErr.message : shotErr}`);
      }
    }
  } finally {
    await browser.close().catch(() => {});
  }
  console.log(failed ? 'e2e: 0 passed, 1 failed' : 'e2e: 1 passed, 0 failed');
  process.exit(failed ? 1 : 0);
}

main().catch((err) => {
  console.error(`e2e: FAILED before the test could run: ${err instanceof Error ? err.stack : String(err)}`);
  console.log('e2e: 0 passed, 1 failed');
  process.exit(1);
});

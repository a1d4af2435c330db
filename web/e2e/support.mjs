// What the browser tests share: the environment, the HTTP API, people made over
// it, and a page logged in as one of them that records what must never happen
// (script errors, Content-Security-Policy refusals, dialogs: user content run
// as code would open one).

import { chromium } from 'playwright-core';
import { randomInt, randomUUID } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { createRequire } from 'node:module';

export const BASE_URL = (process.env.BASE_URL || 'http://127.0.0.1:18080').replace(/\/+$/, '');
export const OTP_CODE = process.env.OTP_CODE || '123456';
export const CHROMIUM = process.env.CHROMIUM || '/usr/bin/chromium';
export const TIMEOUT = Number(process.env.E2E_TIMEOUT_MS || 15000);

/** One HTTP API call; throws on an error status. */
export async function api(method, path, token, body) {
  const res = await fetch(`${BASE_URL}${path}`, {
    method,
    headers: { 'content-type': 'application/json', ...(token ? { authorization: `Bearer ${token}` } : {}) },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const data = await res.json().catch(() => null);
  if (!res.ok) throw new Error(`${method} ${path}: ${res.status} ${JSON.stringify(data)}`);
  return data;
}

/** A new person, logged in over the API: { token, user }. */
export async function register(name) {
  const phone = `+9197${String(randomInt(10 ** 8)).padStart(8, '0')}`;
  await api('POST', '/api/auth/otp', null, { phone });
  return api('POST', '/api/auth/register', null, { phone, name, code: OTP_CODE });
}

/** Sends a text message over the API. */
export function say(who, chatId, content) {
  return api('POST', '/api/messages', who.token, { chat_id: chatId, content, content_type: 'text', client_msg_id: randomUUID() });
}

/**
 * A page logged in as `who` (the token put in storage before the page loads),
 * at `path`. `contextOptions` go to the browser context, `initScripts` run in
 * every page before its own scripts.
 */
export async function openAs(browser, label, who, { path = '/', contextOptions = {}, initScripts = [] } = {}) {
  const context = await browser.newContext({ viewport: { width: 1280, height: 800 }, ...contextOptions });
  context.setDefaultTimeout(TIMEOUT);
  await context.addInitScript((token) => localStorage.setItem('chitchat.token', token), who.token);
  for (const script of initScripts) await context.addInitScript(script);
  const page = await context.newPage();
  const problems = [];
  page.on('pageerror', (err) => problems.push(`${label}: page error: ${err.message}`));
  page.on('console', (msg) => {
    if (msg.type() === 'error' && /Content.Security.Policy|Refused to/i.test(msg.text())) problems.push(`${label}: ${msg.text()}`);
  });
  page.on('dialog', (dialog) => {
    problems.push(`${label}: a dialog opened: user content ran as code`);
    void dialog.dismiss();
  });
  await page.goto(`${BASE_URL}${path}`);
  return { label, context, page, problems };
}

const axeSource = await readFile(createRequire(import.meta.url).resolve('axe-core/axe.min.js'), 'utf8');

/**
 * Runs axe-core in the page (through the debugger, so the page's
 * Content-Security-Policy stays as it is) and returns its violations as text.
 */
export async function axeAudit(page) {
  // Let transitions settle: colours mid-fade would be measured half way.
  await page.evaluate(() => Promise.all(document.getAnimations().map((a) => a.finished.catch(() => {}))));
  await page.evaluate(axeSource);
  const violations = await page.evaluate(async () => {
    // @ts-ignore axe is defined by the source evaluated above
    const result = await window.axe.run(document, { resultTypes: ['violations'] });
    return result.violations.map((v) => ({
      id: v.id,
      help: v.help,
      nodes: v.nodes.slice(0, 8).map((n) => `${n.target.join(' ')}: ${n.failureSummary?.replace(/\s+/g, ' ')}`),
    }));
  });
  return violations.map((v) => `${v.id} (${v.help})\n      ${v.nodes.join('\n      ')}`);
}

/**
 * Chromium's switches for calls: two fake cameras and a fake microphone, granted
 * without asking, and the whole (virtual) screen picked for a screen share.
 */
export const FAKE_MEDIA_ARGS = [
  '--use-fake-device-for-media-stream=device-count=2',
  '--use-fake-ui-for-media-stream',
  '--auto-select-desktop-capture-source=Entire screen',
  '--autoplay-policy=no-user-gesture-required',
];

/**
 * Runs one browser test in a fresh Chromium: `body(browser, people)`, where the
 * test adds the people (from openAs) whose pages must show no problems. Prints
 * "<name>: 1 passed, 0 failed" or why it failed, and exits with 0 or 1.
 * `args` are more Chromium switches (FAKE_MEDIA_ARGS for calls).
 */
export async function runTest(name, body, { args = [] } = {}) {
  let failed = false;
  const people = [];
  let browser = null;
  try {
    browser = await chromium.launch({ executablePath: CHROMIUM, args: ['--no-sandbox', ...args] });
    await body(browser, people);
    const problems = people.flatMap((p) => p.problems);
    if (problems.length) throw new Error(`problems seen in the pages:\n  ${problems.join('\n  ')}`);
  } catch (err) {
    failed = true;
    console.error(`${name}: FAILED: ${err instanceof Error ? err.stack : String(err)}`);
    for (const p of people) for (const problem of p.problems) console.error(`${name}:   ${problem}`);
    // What each page showed when it failed, to tell a slow page from a wrong one.
    for (const p of people) {
      const shown = await p.page.evaluate(() => document.body.innerText).catch((e) => `(unreadable: ${e})`);
      console.error(`${name}: ${p.label}'s page at ${p.page.url()} showed:\n${String(shown).slice(0, 3000)}`);
    }
  } finally {
    await browser?.close().catch(() => {});
  }
  console.log(failed ? `${name}: 0 passed, 1 failed` : `${name}: 1 passed, 0 failed`);
  process.exit(failed ? 1 : 0);
}

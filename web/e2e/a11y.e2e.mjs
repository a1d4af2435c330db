// Accessibility audit: axe-core checks the main screens (login, linking a new
// device, the chat list, a conversation, group info, the calls, settings) in the light and the dark theme, and the
// chat list and a conversation on a phone-sized screen, and finds no violations
// (its default rules: WCAG 2 A and AA, and best practices such as one `main`
// landmark and a level-one heading).
//
//   cd web/e2e && npm ci && BASE_URL=http://127.0.0.1:18080 node a11y.e2e.mjs
//
// Env: BASE_URL, OTP_CODE (default 123456), CHROMIUM (default /usr/bin/chromium),
// E2E_TIMEOUT_MS (default 15000). Prints "a11y: 1 passed, 0 failed" on success.

import { randomUUID } from 'node:crypto';
import { BASE_URL, TIMEOUT, api, axeAudit as audit, openAs, register, runTest, say } from './support.mjs';

const log = (text) => console.log(`a11y: ${text}`);
/**
 * Colours come from a palette picked by a hash of the id, so one run shows only
 * some: this gives every sender's name, quote and avatar in the page each of the
 * eight colours in turn and checks the contrast with each, then puts them back.
 */
async function auditPalette(page) {
  return page.evaluate(async () => {
    const nodes = [...document.querySelectorAll('[class*="msg-sender--c"], [class*="avatar--c"]')];
    const original = nodes.map((n) => n.className);
    const failures = [];
    for (let slot = 0; slot < 8; slot++) {
      for (const n of nodes) n.className = n.className.replace(/(msg-sender|avatar)--c\d/, `$1--c${slot}`);
      // @ts-ignore axe is defined by the source evaluated before
      const result = await window.axe.run(document, { runOnly: ['color-contrast'], resultTypes: ['violations'] });
      for (const v of result.violations) for (const n of v.nodes) failures.push(`colour ${slot}: ${n.target.join(' ')}: ${n.failureSummary?.replace(/\s+/g, ' ')}`);
    }
    nodes.forEach((n, i) => (n.className = original[i]));
    return failures;
  });
}

/** The chat list row named `name`. */
const row = (page, name) => page.locator('.chat-item').filter({ has: page.getByTestId('chat-name').getByText(name, { exact: true }) });

await runTest('a11y', async (browser, people) => {
  const alice = await register('Alice Audit');
  const bob = await register('Bob Audit');
  const group = await api('POST', '/api/chats', alice.token, { type: 'group', name: 'Audit team', description: 'Checks', user_ids: [bob.user.id] });
  // What a conversation shows: a link, a reply quote in both directions, an edit, reactions.
  const report = await say(bob, group.id, 'Morning! The report is at https://example.com/report');
  const question = await say(alice, group.id, 'Is page 3 final?');
  await api('PATCH', `/api/messages/${question.id}`, alice.token, { content: 'Is page 4 final?' });
  await api('POST', '/api/messages', bob.token, { chat_id: group.id, content: 'Yes it is', content_type: 'text', client_msg_id: randomUUID(), reply_to_id: question.id });
  await api('PUT', `/api/messages/${report.id}/reactions`, alice.token, { emoji: '👍' });
  await api('POST', '/api/messages', alice.token, { chat_id: group.id, content: 'Thanks, reading it now', content_type: 'text', client_msg_id: randomUUID(), reply_to_id: report.id });
  const found = [];
  const check = async (page, screen) => {
    const violations = await audit(page);
    if (violations.length) found.push(`${screen}:\n    ${violations.join('\n    ')}`);
    log(`${screen}: ${violations.length} violations`);
  };

  for (const theme of ['light', 'dark']) {
    const initScripts = [`localStorage.setItem('chitchat.theme', '${theme}')`];
    // Login: a page without a session.
    const context = await browser.newContext({ viewport: { width: 1280, height: 800 } });
    context.setDefaultTimeout(TIMEOUT);
    await context.addInitScript(initScripts[0]);
    const login = await context.newPage();
    await login.goto(BASE_URL);
    await login.getByTestId('phone-input').waitFor();
    await check(login, `login (${theme})`);
    // Linking this browser from a logged-in device: the code, its QR code, the countdown.
    await login.getByTestId('phone-input').fill(alice.user.phone);
    await login.getByTestId('link-instead').click();
    await login.getByTestId('link-code').getByText(/^[2-9A-HJ-NP-Z]{4}-[2-9A-HJ-NP-Z]{4}$/).waitFor();
    await check(login, `link a device (${theme})`);
    await context.close();

    const a = await openAs(browser, `Alice (${theme})`, alice, { initScripts });
    people.push(a);
    const page = a.page;
    await page.getByTestId('connection-banner').waitFor({ state: 'hidden' });
    await row(page, 'Audit team').waitFor();
    await check(page, `chat list (${theme})`);

    await row(page, 'Audit team').getByTestId('chat-row').click();
    await page.getByTestId('message-text').getByText('Thanks, reading it now').waitFor();
    await check(page, `conversation (${theme})`);
    const palette = await auditPalette(page);
    if (palette.length) found.push(`palette (${theme}):\n    ${palette.join('\n    ')}`);
    log(`every palette colour in the conversation (${theme}): ${palette.length} violations`);

    await page.getByTestId('chat-info-button').click();
    await page.getByTestId('group-info').getByTestId('group-info-name').waitFor();
    await check(page, `group info (${theme})`);
    await page.locator('#chat-info-close').click();

    // The call history (empty) from the menu.
    await page.getByTestId('menu-button').click();
    await page.getByTestId('menu-calls').click();
    await page.getByTestId('calls-dialog').waitFor();
    await check(page, `calls (${theme})`);
    await page.locator('#calls-close').click();

    await page.getByTestId('menu-button').click();
    await page.getByTestId('menu-settings').click();
    await page.getByTestId('devices-panel').getByTestId('device-row').first().waitFor();
    await check(page, `settings (${theme})`);
    await a.context.close();
  }

  // A phone-sized screen: the list, then a conversation.
  const phone = await openAs(browser, 'Alice (phone)', alice, { contextOptions: { viewport: { width: 390, height: 844 } } });
  people.push(phone);
  await phone.page.getByTestId('connection-banner').waitFor({ state: 'hidden' });
  await row(phone.page, 'Audit team').waitFor();
  await check(phone.page, 'chat list (phone)');
  await row(phone.page, 'Audit team').getByTestId('chat-row').click();
  await phone.page.getByTestId('message-text').getByText('Thanks, reading it now').waitFor();
  await check(phone.page, 'conversation (phone)');

  if (found.length) throw new Error(`axe-core found violations:\n  ${found.join('\n  ')}`);
});

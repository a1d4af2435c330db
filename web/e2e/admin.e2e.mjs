// Browser test of reports and the Admin page: Bob reports Alice's message from
// its menu with a reason, and Alice from the chat's info panel; the admin (a phone of ADMIN_PHONES, who is in no chat
// with them) sees the report on the Admin page with the copied message and
// deletes it for everyone, and dismisses the report about Alice; Bob's page shows
// the placeholder live. A person who
// is not an admin has no Admin item. The Admin page is then used on a
// phone-sized screen in the dark theme.
//
//   cd web/e2e && npm ci && BASE_URL=http://127.0.0.1:18080 ADMIN_PHONE=+919700000001 node admin.e2e.mjs
//
// The server must run with ADMIN_PHONES=ADMIN_PHONE. Env: BASE_URL, OTP_CODE,
// CHROMIUM, E2E_TIMEOUT_MS, ADMIN_PHONE. Prints "admin: 1 passed, 0 failed".

import { api, OTP_CODE, openAs, register, runTest, say } from './support.mjs';

const ADMIN_PHONE = process.env.ADMIN_PHONE || '+919700000001';

const bubble = (page, text) =>
  page.getByTestId('message').filter({ has: page.getByTestId('message-text').getByText(text, { exact: true }) });

await runTest('admin', async (browser, people) => {
  const alice = await register('Alice Reported');
  const bob = await register('Bob Reporter');
  await api('POST', '/api/auth/otp', null, { phone: ADMIN_PHONE });
  const admin = await api('POST', '/api/auth/register', null, { phone: ADMIN_PHONE, name: 'The Admin', code: OTP_CODE });
  const chat = await api('POST', '/api/chats', alice.token, { type: 'direct', user_ids: [bob.user.id] });
  const rude = 'You are a terrible person';
  await say(alice, chat.id, rude);

  const b = await openAs(browser, 'Bob', bob);
  people.push(b);
  await b.page.getByTestId('connection-banner').waitFor({ state: 'hidden' });
  await b.page.locator('.chat-item').filter({ hasText: 'Alice Reported' }).getByTestId('chat-row').click();
  const message = bubble(b.page, rude);
  await message.waitFor();
  await message.hover();
  await message.getByTestId('message-menu').click();
  await b.page.getByTestId('message-report-action').click();
  await b.page.getByTestId('report-reason').fill('Insults me');
  await b.page.getByTestId('report-send').click();
  await b.page.getByTestId('report-dialog').waitFor({ state: 'hidden' });
  // And Alice herself, from the chat's info panel.
  await b.page.getByTestId('chat-info-button').click();
  await b.page.getByTestId('contact-info').getByTestId('report-user').click();
  await b.page.getByTestId('report-reason').fill('Keeps harassing me');
  await b.page.getByTestId('report-send').click();
  await b.page.getByTestId('report-dialog').waitFor({ state: 'hidden' });
  await b.page.locator('#chat-info-close').click();
  await b.page.getByTestId('menu-button').click();
  if (await b.page.getByTestId('menu-admin').isVisible()) throw new Error('Bob is no admin but sees "Admin"');
  await b.page.keyboard.press('Escape');

  const a = await openAs(browser, 'Admin', admin);
  people.push(a);
  await a.page.getByTestId('connection-banner').waitFor({ state: 'hidden' });
  await a.page.getByTestId('menu-button').click();
  await a.page.getByTestId('menu-admin').click();
  const report = a.page.getByTestId('admin-report').filter({ hasText: 'Insults me' });
  await report.getByTestId('admin-report-copy').getByText(rude).waitFor();
  await a.page.getByTestId('admin-figures').getByText('Users').waitFor();
  await report.getByTestId('admin-delete-message').click();
  await a.page.getByTestId('confirm-ok').click();
  await a.page.getByTestId('admin-audit-entry').filter({ hasText: 'report_message_deleted' }).waitFor();
  const aboutAlice = a.page.getByTestId('admin-report').filter({ hasText: 'Keeps harassing me' });
  if ((await aboutAlice.getByTestId('admin-delete-message').count()) !== 0) throw new Error('a report about a person offers to delete a message');
  await aboutAlice.getByTestId('admin-dismiss').click();
  await a.page.getByTestId('admin-reports').getByText('No open reports').waitFor();

  // Bob sees it go, live.
  await b.page.locator('[data-testid="message"][data-deleted="true"]').getByText('This message was deleted').waitFor();
  if ((await bubble(b.page, rude).count()) !== 0) throw new Error('Bob still sees the deleted text');

  // A phone in the dark: the page fits, users can be disabled and enabled.
  const phone = await openAs(browser, 'Admin phone', admin, {
    contextOptions: { viewport: { width: 390, height: 844 }, colorScheme: 'dark' },
  });
  people.push(phone);
  await phone.page.getByTestId('connection-banner').waitFor({ state: 'hidden' });
  await phone.page.getByTestId('menu-button').click();
  await phone.page.getByTestId('menu-admin').click();
  await phone.page.getByTestId('admin-user-search').fill('Alice Reported');
  const row = phone.page.getByTestId('admin-user').filter({ hasText: 'Alice Reported' });
  await row.getByTestId('admin-disable').click();
  await row.getByTestId('admin-enable').waitFor();
  const box = await phone.page.getByTestId('admin-page').boundingBox();
  if (!box || box.width > 390) throw new Error(`the Admin page overflows a phone: ${JSON.stringify(box)}`);
  const overflow = await phone.page.getByTestId('admin-page').evaluate((node) => node.scrollWidth > node.clientWidth + 1);
  if (overflow) throw new Error('the Admin page scrolls sideways on a phone');
  await row.getByTestId('admin-enable').click();
  await row.getByTestId('admin-disable').waitFor();
});

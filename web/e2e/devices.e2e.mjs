// Browser test of one person on two devices, against a running server: Alice is
// logged in twice (two browser contexts, two sessions). What she does on one
// shows on the other without a reload: archiving a chat moves it to the archive,
// blocking a contact marks them blocked in the open contacts panel. A new name
// Bob gives himself shows in both of her chat lists.
//
//   cd web/e2e && npm ci && BASE_URL=http://127.0.0.1:18080 node devices.e2e.mjs
//
// Env: BASE_URL, OTP_CODE (default 123456), CHROMIUM (default /usr/bin/chromium),
// E2E_TIMEOUT_MS (default 15000). Prints "devices: 1 passed, 0 failed" on success.

import { OTP_CODE, api, openAs, register, runTest, say } from './support.mjs';

const log = (text) => console.log(`devices: ${text}`);

/** The list item of the chat whose row is titled exactly `title`. */
function chatItem(page, title) {
  return page.locator('.chat-item').filter({ has: page.getByTestId('chat-name').getByText(title, { exact: true }) });
}

await runTest('devices', async (browser, people) => {
  const alice = await register('Alice Devices');
  const bob = await register('Bob Devices');
  // Her second device: the same person, a session of its own.
  await api('POST', '/api/auth/otp', null, { phone: alice.user.phone });
  const aliceAgain = await api('POST', '/api/auth/register', null, { phone: alice.user.phone, name: alice.user.name, code: OTP_CODE });
  const chat = await api('POST', '/api/chats', alice.token, { type: 'direct', user_ids: [bob.user.id] });
  await say(bob, chat.id, 'hello Alice');
  await api('POST', '/api/contacts', alice.token, { user_id: bob.user.id });

  const phone = await openAs(browser, 'Alice (phone)', alice);
  const laptop = await openAs(browser, 'Alice (laptop)', aliceAgain);
  people.push(phone, laptop);
  for (const { page } of [phone, laptop]) {
    await chatItem(page, bob.user.name).waitFor();
    await page.getByTestId('connection-banner').waitFor({ state: 'hidden' });
  }

  // Bob renames himself: both of Alice's chat lists show the new name.
  const renamed = 'Bobby Devices';
  await api('PATCH', '/api/users/me', bob.token, { name: renamed });
  for (const { page } of [phone, laptop]) await chatItem(page, renamed).waitFor();
  log("Bob's new name shows in both of Alice's chat lists");

  // Archived on the phone: the laptop moves the chat to the archive.
  const row = chatItem(phone.page, renamed).first();
  await row.hover();
  await row.getByTestId('chat-menu').click();
  await phone.page.getByTestId('archive-chat').click();
  await chatItem(laptop.page, renamed).waitFor({ state: 'hidden' });
  await laptop.page.getByTestId('archived-entry').click();
  await chatItem(laptop.page, renamed).waitFor();
  log('archived on the phone, the chat moved to the archive on the laptop');

  // Blocked on the phone, with the laptop's contacts panel open: it shows the block.
  const openContacts = async (page) => {
    await page.getByTestId('menu-button').click();
    await page.getByTestId('menu-contacts').click();
    await page.getByTestId('contacts-panel').waitFor({ state: 'visible' });
  };
  await openContacts(laptop.page);
  const bobOnLaptop = laptop.page.locator(`[data-testid="contact-row"][data-user-id="${bob.user.id}"]`);
  await bobOnLaptop.waitFor();
  if ((await bobOnLaptop.getAttribute('data-blocked')) !== 'false') throw new Error('Bob is shown blocked before anything happened');
  await openContacts(phone.page);
  await phone.page.locator(`[data-testid="contact-row"][data-user-id="${bob.user.id}"]`).getByTestId('contact-block').click();
  await phone.page.getByTestId('confirm-ok').click();
  await laptop.page.locator(`[data-testid="contact-row"][data-user-id="${bob.user.id}"][data-blocked="true"]`).waitFor();
  log('blocked on the phone, Bob shows as blocked in the contacts open on the laptop');
});

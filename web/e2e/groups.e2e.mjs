// Browser test of the flows of the chat info panel: an admin renames a group and
// edits its description (the other member sees the new name live), adds a member
// to the existing group, a member leaves it (and can no longer write), and
// someone is blocked from the info panel of a direct chat (the composer gives way
// to a notice, and the server refuses their messages).
//
//   cd web/e2e && npm ci && BASE_URL=http://127.0.0.1:18080 node groups.e2e.mjs
//
// Env: BASE_URL, OTP_CODE (default 123456), CHROMIUM (default /usr/bin/chromium),
// E2E_TIMEOUT_MS (default 15000). Prints "groups: 1 passed, 0 failed" on success.

import { api, openAs, register, runTest, say } from './support.mjs';

const log = (text) => console.log(`groups: ${text}`);

/** The chat list row named `name`. */
const row = (page, name) => page.locator('.chat-item').filter({ has: page.getByTestId('chat-name').getByText(name, { exact: true }) });

/** Opens the chat whose row names `name`. */
async function openChat(page, name) {
  await row(page, name).getByTestId('chat-row').click();
  await page.getByTestId('conversation-title').filter({ hasText: name }).waitFor();
}

await runTest('groups', async (browser, people) => {
  const alice = await register('Alice Groups');
  const bob = await register('Bob Groups');
  const carol = await register('Carol Groups');
  const dan = await register('Dan Groups');
  const group = await api('POST', '/api/chats', alice.token, { type: 'group', name: 'Trip', user_ids: [bob.user.id] });
  const withDan = await api('POST', '/api/chats', dan.token, { type: 'direct', user_ids: [alice.user.id] });
  await say(dan, withDan.id, 'hello from Dan');
  // Carol is found by name when adding members: someone Alice has chatted with.
  await api('POST', '/api/chats', alice.token, { type: 'direct', user_ids: [carol.user.id] });

  const a = await openAs(browser, 'Alice', alice);
  const b = await openAs(browser, 'Bob', bob);
  people.push(a, b);
  for (const p of [a, b]) await p.page.getByTestId('connection-banner').waitFor({ state: 'hidden' });
  const page = a.page;

  // Rename and describe: the panel, the header and Bob's list show it.
  await openChat(page, 'Trip');
  await page.getByTestId('chat-info-button').click();
  const info = page.getByTestId('group-info');
  await info.getByTestId('group-edit').click();
  await info.getByTestId('group-name-edit').fill('Trip to the hills');
  await info.getByTestId('group-description-edit').fill('Bring boots and a raincoat');
  await info.getByTestId('group-save').click();
  await info.getByTestId('group-info-name').getByText('Trip to the hills', { exact: true }).waitFor();
  await info.getByTestId('group-info-description').getByText('Bring boots and a raincoat', { exact: true }).waitFor();
  await page.getByTestId('conversation-title').getByText('Trip to the hills', { exact: true }).waitFor();
  await row(b.page, 'Trip to the hills').waitFor();
  const stored = await api('GET', `/api/chats/${group.id}`, bob.token);
  if (stored.name !== 'Trip to the hills' || stored.description !== 'Bring boots and a raincoat') {
    throw new Error(`the server has ${JSON.stringify([stored.name, stored.description])}`);
  }
  log('an admin renames the group and edits its description; Bob sees the new name live');

  // Add a member to the existing group.
  await info.getByTestId('add-members').click();
  await info.getByTestId('add-members-search').fill('Carol Groups');
  await info.getByTestId('pick-person').filter({ hasText: 'Carol Groups' }).click();
  await info.getByTestId('add-members-confirm').click();
  await info.getByTestId('member-row').filter({ hasText: 'Carol Groups' }).waitFor();
  const carolsChats = await api('GET', '/api/chats', carol.token);
  if (!carolsChats.chats.some((c) => c.id === group.id)) throw new Error('Carol is not in the group after being added');
  log('an admin adds a member to the existing group');

  // Bob leaves: his panel says so and the composer gives way.
  await openChat(b.page, 'Trip to the hills');
  await b.page.getByTestId('chat-info-button').click();
  await b.page.getByTestId('group-info').getByTestId('exit-group').click();
  await b.page.getByTestId('confirm-ok').click();
  await b.page.getByTestId('former-member-note').waitFor();
  await b.page.getByTestId('readonly-notice').waitFor();
  if (await b.page.getByTestId('composer').isVisible()) throw new Error('Bob can still write in the group he left');
  await info.getByTestId('member-row').filter({ hasText: 'Bob Groups' }).waitFor({ state: 'detached' });
  log('a member leaves the group: the composer gives way, the admin sees the member list shrink');

  // Block Dan from the info panel of the direct chat.
  await page.locator('#chat-info-close').click();
  await openChat(page, 'Dan Groups');
  await page.getByTestId('chat-info-button').click();
  const contactInfo = page.getByTestId('contact-info');
  await contactInfo.getByTestId('block-user').click();
  await page.getByTestId('confirm-ok').click();
  await contactInfo.getByTestId('block-user').getByText('Unblock Dan Groups').waitFor();
  await page.getByTestId('readonly-notice').getByText(/You blocked Dan Groups/).waitFor();
  const refused = await say(dan, withDan.id, 'are you there?').then(
    () => null,
    (err) => String(err),
  );
  if (!refused || !refused.includes('blocked')) throw new Error(`Dan can still write to Alice: ${refused}`);
  log('blocking from the info panel: the composer gives way and the server refuses their messages');
});

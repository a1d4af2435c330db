// Browser test of the message actions, with Alice, Bob and Carol in separate
// browser contexts. A reply shows its quote on both sides and a click on the
// quote highlights the original; the menu works from the keyboard and Escape
// leaves reply mode; an edit reaches Bob live with the "edited" label; a
// reaction shows on both sides with its count (the own one marked) and
// choosing it again takes it back; a deletion for
// everyone turns into the placeholder on Bob's side live, and one for Alice
// only leaves Bob's copy alone; a forward into Alice's chat with Carol shows
// there with the "Forwarded" label, and a refused one says why. Then a
// phone-sized screen (390×844) shows one pane at a time: opening a chat shows
// the conversation, Back the list; there the quote of a reply to a message
// more than a page back pages it in and highlights it.
//
//   cd web/e2e && npm ci && BASE_URL=http://127.0.0.1:18080 node actions.e2e.mjs
//
// Env: BASE_URL, OTP_CODE (default 123456), CHROMIUM (default /usr/bin/chromium),
// E2E_TIMEOUT_MS (default 15000). Prints "actions: 1 passed, 0 failed" on success.

import { randomUUID } from 'node:crypto';
import { api, openAs, register, runTest, say } from './support.mjs';

const log = (text) => console.log(`actions: ${text}`);

/** The bubble whose text is exactly `text`. */
const bubble = (page, text) =>
  page.getByTestId('message').filter({ has: page.getByTestId('message-text').getByText(text, { exact: true }) });

/** Opens the chat whose row names `name`. */
async function openChat(page, name) {
  await page
    .locator('.chat-item')
    .filter({ has: page.getByTestId('chat-name').getByText(name, { exact: true }) })
    .getByTestId('chat-row')
    .click();
  await page.getByTestId('conversation-title').filter({ hasText: name }).waitFor();
}

/** Opens the options of a bubble and picks one (by test id; the first match: 👍 among the reactions). */
async function pick(page, message, action) {
  await message.hover();
  await message.getByTestId('message-menu').click();
  await page.getByTestId(action).first().click();
}

/** Waits for the reaction chip `emoji` under `message` to show `count`. */
async function expectReaction(message, emoji, count, who) {
  const chip = message.getByTestId('reaction').filter({ hasText: emoji });
  try {
    await chip.getByTestId('reaction-count').getByText(String(count), { exact: true }).waitFor();
  } catch {
    const row = (await message.getByTestId('message-reactions').textContent().catch(() => null)) ?? 'no reactions';
    throw new Error(`${who}: expected ${emoji} ${count}, the bubble shows ${row}`);
  }
  return chip;
}

await runTest('actions', async (browser, people) => {
  const alice = await register('Alice Actions');
  const bob = await register('Bob Actions');
  const carol = await register('Carol Actions');
  const withBob = await api('POST', '/api/chats', alice.token, { type: 'direct', user_ids: [bob.user.id] });
  await api('POST', '/api/chats', alice.token, { type: 'direct', user_ids: [carol.user.id] });
  const question = 'Dinner at 6?';
  await say(bob, withBob.id, question);

  const a = await openAs(browser, 'Alice', alice);
  const b = await openAs(browser, 'Bob', bob);
  const c = await openAs(browser, 'Carol', carol);
  people.push(a, b, c);
  for (const p of [a, b, c]) await p.page.getByTestId('connection-banner').waitFor({ state: 'hidden' });
  await openChat(a.page, 'Bob Actions');
  await openChat(b.page, 'Alice Actions');
  await openChat(c.page, 'Alice Actions');

  // Reply: Escape leaves reply mode; the sent reply quotes the original on both sides.
  const context = a.page.getByTestId('composer-context');
  // From the keyboard: the menu opens on its first reaction; Reply follows the six.
  await bubble(a.page, question).getByTestId('message-menu').focus();
  await a.page.keyboard.press('Enter');
  for (let i = 0; i < 6; i++) await a.page.keyboard.press('ArrowDown');
  const focused = await a.page.evaluate(() => document.activeElement?.textContent);
  if (focused !== 'Reply') throw new Error(`six ArrowDowns in the message menu reach ${focused}, not Reply`);
  await a.page.keyboard.press('Enter');
  await context.getByText('Reply to Bob Actions').waitFor();
  await a.page.keyboard.press('Escape');
  await context.waitFor({ state: 'hidden' });
  await pick(a.page, bubble(a.page, question), 'message-reply-action');
  await context.getByTestId('composer-context-text').getByText(question, { exact: true }).waitFor();
  const answer = 'Yes, see you there';
  await a.page.getByTestId('composer').fill(answer);
  await a.page.keyboard.press('Enter');
  await context.waitFor({ state: 'hidden' });
  for (const p of [a, b]) {
    const quote = bubble(p.page, answer).getByTestId('message-quote');
    await quote.getByTestId('message-quote-text').getByText(question, { exact: true }).waitFor();
    await quote.getByTestId('message-quote-sender').getByText(p === a ? 'Bob Actions' : 'You', { exact: true }).waitFor();
  }
  await bubble(b.page, answer).getByTestId('message-quote').click();
  await b.page.locator('[data-testid="message"][data-highlighted="true"]').filter({ hasText: question }).waitFor();
  log('a reply (picked from the keyboard first, Escape cancels) shows its quote on both sides; the quote highlights the original');

  // Edit: Enter saves; Bob sees the new text live with "edited".
  await pick(a.page, bubble(a.page, answer), 'message-edit-action');
  await context.getByText('Edit message').waitFor();
  if ((await a.page.getByTestId('composer').inputValue()) !== answer) throw new Error('Edit did not put the text in the composer');
  const edited = 'Yes, see you at 7';
  await a.page.getByTestId('composer').fill(edited);
  await a.page.keyboard.press('Enter');
  await context.waitFor({ state: 'hidden' });
  for (const p of [a, b]) await bubble(p.page, edited).getByTestId('message-edited').waitFor();
  if ((await bubble(b.page, answer).count()) !== 0) throw new Error("Bob still sees the text before the edit");
  log('an edit reaches Bob live with the "edited" label');

  // Reactions: Bob 👍, Alice 👍 too (2), Alice takes hers back (1).
  await pick(b.page, bubble(b.page, edited), 'reaction-choice');
  const thumbs = b.page.getByTestId('reaction-choice').first();
  if ((await thumbs.textContent()) !== '👍') throw new Error('the first reaction offered is not 👍');
  const bobChip = await expectReaction(bubble(b.page, edited), '👍', 1, 'Bob');
  if ((await bobChip.getAttribute('data-mine')) !== 'true') throw new Error("Bob's own reaction is not marked as his");
  await expectReaction(bubble(a.page, edited), '👍', 1, 'Alice');
  await pick(a.page, bubble(a.page, edited), 'reaction-choice');
  await expectReaction(bubble(a.page, edited), '👍', 2, 'Alice');
  await expectReaction(bubble(b.page, edited), '👍', 2, 'Bob');
  await pick(a.page, bubble(a.page, edited), 'reaction-choice');
  await expectReaction(bubble(b.page, edited), '👍', 1, 'Bob');
  const aliceChip = await expectReaction(bubble(a.page, edited), '👍', 1, 'Alice');
  if ((await aliceChip.getAttribute('data-mine')) === 'true') throw new Error("Alice's reaction still marked as hers after taking it back");
  log('reactions show on both sides with their counts; choosing the own one again takes it back');

  // Delete for everyone: the placeholder on Bob's side, live.
  const oops = 'wrong chat, sorry';
  await a.page.getByTestId('composer').fill(oops);
  await a.page.keyboard.press('Enter');
  await bubble(b.page, oops).waitFor();
  await bubble(a.page, oops).locator('[data-testid="message-menu"]').waitFor();
  await pick(a.page, bubble(a.page, oops), 'message-delete-everyone-action');
  await a.page.getByTestId('confirm-ok').click();
  for (const p of [a, b]) {
    await p.page.locator('[data-testid="message"][data-deleted="true"]').getByText('This message was deleted').waitFor();
    if ((await bubble(p.page, oops).count()) !== 0) throw new Error(`${p.label} still sees the deleted text`);
  }
  await b.page
    .locator('.chat-item')
    .filter({ has: b.page.getByTestId('chat-name').getByText('Alice Actions', { exact: true }) })
    .getByTestId('chat-preview')
    .getByText('This message was deleted')
    .waitFor();
  log('a deletion for everyone turns into the placeholder on both sides and in the chat list, live');

  // Forward into the chat with Carol: she sees it with "Forwarded".
  await pick(a.page, bubble(a.page, question), 'message-forward-action');
  const dialog = a.page.getByTestId('forward-dialog');
  await dialog.getByTestId('forward-chat').filter({ hasText: 'Carol Actions' }).getByRole('checkbox').check();
  await dialog.getByTestId('forward-send').click();
  await dialog.waitFor({ state: 'hidden' });
  await bubble(c.page, question).getByTestId('message-forwarded').getByText('Forwarded').waitFor();
  log('a forward into another chat shows there with the "Forwarded" label');

  // Refused (Carol blocked Alice meanwhile): the dialog says why and stays open.
  await api('POST', `/api/users/${alice.user.id}/block`, carol.token);
  await pick(a.page, bubble(a.page, question), 'message-forward-action');
  await dialog.getByTestId('forward-chat').filter({ hasText: 'Carol Actions' }).getByRole('checkbox').check();
  await dialog.getByTestId('forward-send').click();
  await dialog.getByTestId('forward-error').getByText(/^Could not forward the message: \S/).waitFor();
  await dialog.getByTestId('forward-cancel').click();
  await dialog.waitFor({ state: 'hidden' });
  log('a refused forward says why in the dialog');

  // Delete for me: gone for Alice, still there for Bob.
  await pick(a.page, bubble(a.page, question), 'message-delete-me-action');
  await a.page.getByTestId('confirm-ok').click();
  await bubble(a.page, question).waitFor({ state: 'detached' });
  const bobSees = await api('GET', `/api/messages?chat_id=${withBob.id}&limit=50`, bob.token);
  if (!JSON.stringify(bobSees).includes(question) || (await bubble(b.page, question).count()) !== 1) {
    throw new Error("Alice's delete-for-me removed Bob's copy");
  }
  log('a deletion for me hides the message for Alice only');

  // A reply to a message more than a page back: its quote pages the original in.
  const editedId = await bubble(a.page, edited).getAttribute('data-id');
  for (let i = 1; i <= 55; i++) await say(alice, withBob.id, `filler ${i}`);
  const late = 'About the time: 7 is fine';
  await api('POST', '/api/messages', bob.token, {
    chat_id: withBob.id,
    content: late,
    content_type: 'text',
    client_msg_id: randomUUID(),
    reply_to_id: editedId,
  });

  // A phone-sized screen: one pane at a time.
  const phone = await openAs(browser, 'Bob (phone)', bob, { contextOptions: { viewport: { width: 390, height: 844 } } });
  people.push(phone);
  const list = phone.page.getByTestId('chat-list');
  const composer = phone.page.getByTestId('composer');
  await list.waitFor();
  if (await composer.isVisible()) throw new Error('the phone shows the conversation next to the list');
  await openChat(phone.page, 'Alice Actions');
  await composer.waitFor();
  if (await list.isVisible()) throw new Error('the phone shows the list next to the conversation');
  await bubble(phone.page, late).waitFor();
  if ((await bubble(phone.page, edited).count()) !== 0) throw new Error('the first page already holds the quoted message: the paging is not tested');
  await bubble(phone.page, late).getByTestId('message-quote').click();
  await phone.page.locator('[data-testid="message"][data-highlighted="true"]').filter({ hasText: edited }).waitFor();
  log("a quote of a message pages back pages it in and highlights it");
  await phone.page.getByRole('button', { name: 'Back to chats' }).click();
  await list.waitFor();
  await composer.waitFor({ state: 'hidden' });
  log('a phone-sized screen shows one pane at a time; Back returns to the list');
});

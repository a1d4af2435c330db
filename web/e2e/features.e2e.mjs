// Browser test of what the web client shows of features the server has: web
// addresses in messages are links that open safely in a new tab (and a
// `javascript:` address stays text); right-to-left text lays out right to left;
// "edited" opens the edit history; the name given to a contact can be changed;
// message search pages with "More messages", takes queries as long as the server
// does, and searches one chat from the conversation's header (on a phone-sized
// screen too); and the message
// menu offers Edit and Delete for everyone as long as the server's windows say
// (the server runs with a one-second delete window and the default edit window).
//
//   cd web/e2e && npm ci && BASE_URL=http://127.0.0.1:18080 node features.e2e.mjs
//
// Env: BASE_URL, OTP_CODE (default 123456), CHROMIUM (default /usr/bin/chromium),
// E2E_TIMEOUT_MS (default 15000). Prints "features: 1 passed, 0 failed" on success.

import { api, openAs, register, runTest, say } from './support.mjs';

const log = (text) => console.log(`features: ${text}`);

/** The bubble whose text is exactly `text`. */
const bubble = (page, text) =>
  page.getByTestId('message').filter({ has: page.getByTestId('message-text').getByText(text, { exact: true }) });

/** The chat list row named `name`. */
const row = (page, name) => page.locator('.chat-item').filter({ has: page.getByTestId('chat-name').getByText(name, { exact: true }) });

/** Opens the chat whose row names `name`. */
async function openChat(page, name) {
  await row(page, name).getByTestId('chat-row').click();
  await page.getByTestId('conversation-title').filter({ hasText: name }).waitFor();
}

/** Waits until `locator` matches exactly `count` elements. */
async function expectCount(locator, count, what) {
  const deadline = Date.now() + 10_000;
  let seen = -1;
  while (Date.now() < deadline) {
    seen = await locator.count();
    if (seen === count) return;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`${what}: expected ${count}, saw ${seen}`);
}

/**
 * Waits until `locator` is laid out in `direction` (the list redraws its rows, so
 * one element may be replaced while it is looked at).
 */
async function expectDirection(locator, direction, what) {
  const deadline = Date.now() + 10_000;
  let seen = '';
  while (Date.now() < deadline) {
    seen = await locator.evaluate((n) => (n.isConnected ? getComputedStyle(n).direction : '')).catch(() => '');
    if (seen === direction) return;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`${what} is laid out ${seen || 'nowhere'}, not ${direction}`);
}

await runTest('features', async (browser, people) => {
  const alice = await register('Alice Features');
  const bob = await register('Bob Features');
  const carol = await register('Carol Features');
  const withBob = await api('POST', '/api/chats', alice.token, { type: 'direct', user_ids: [bob.user.id] });
  const withCarol = await api('POST', '/api/chats', alice.token, { type: 'direct', user_ids: [carol.user.id] });
  await api('POST', '/api/contacts', alice.token, { user_id: bob.user.id });

  // Search material: 25 hits in Bob's chat, one haystack in each chat, one long sentence.
  for (let i = 1; i <= 25; i++) await say(bob, withBob.id, `needle number ${i}`);
  await say(carol, withCarol.id, 'haystack from Carol');
  await say(bob, withBob.id, 'haystack from Bob');
  const long = 'the quick brown fox jumps over the lazy dog and then keeps running far beyond the hills today';
  await say(bob, withBob.id, long);

  // An edited message with two earlier versions, and one to check the menu on.
  const draft = await say(alice, withBob.id, 'See you at 5');
  await api('PATCH', `/api/messages/${draft.id}`, alice.token, { content: 'See you at 6' });
  await api('PATCH', `/api/messages/${draft.id}`, alice.token, { content: 'See you at 7' });
  const mine = await say(alice, withBob.id, 'an own message');
  const mineSentAt = Date.now();

  const linkText = 'Read https://example.com/wiki/Go_(game). Or www.example.org, not javascript:alert(1)';
  const hebrew = 'שלום, מה שלומך היום?';
  await say(bob, withBob.id, linkText);
  await say(bob, withBob.id, hebrew);

  const a = await openAs(browser, 'Alice', alice);
  people.push(a);
  const page = a.page;
  await page.getByTestId('connection-banner').waitFor({ state: 'hidden' });

  // Right to left: the preview in the list, and the bubble.
  const preview = row(page, 'Bob Features').getByTestId('chat-preview').getByText(hebrew);
  await preview.waitFor();
  await expectDirection(preview, 'rtl', 'a Hebrew preview');
  await openChat(page, 'Bob Features');
  const hebrewText = bubble(page, hebrew).getByTestId('message-text');
  await hebrewText.waitFor();
  await expectDirection(hebrewText, 'rtl', 'a Hebrew message');
  const englishText = bubble(page, 'an own message').getByTestId('message-text');
  await expectDirection(englishText, 'ltr', 'an English message');
  log('right-to-left text lays out right to left in the bubble and the list, English left to right');

  // Links: http(s) and www. addresses, opened in a new tab without a way back; javascript: stays text.
  const links = bubble(page, linkText).getByTestId('message-link');
  await expectCount(links, 2, 'links in the message');
  const found = await links.evaluateAll((nodes) =>
    nodes.map((n) => ({ href: n.getAttribute('href'), text: n.textContent, rel: n.getAttribute('rel'), target: n.getAttribute('target') })),
  );
  const expected = [
    { href: 'https://example.com/wiki/Go_(game)', text: 'https://example.com/wiki/Go_(game)' },
    { href: 'https://www.example.org/', text: 'www.example.org' },
  ];
  for (const [i, want] of expected.entries()) {
    const got = found[i];
    if (got.href !== want.href || got.text !== want.text) throw new Error(`link ${i}: ${JSON.stringify(got)}, expected ${JSON.stringify(want)}`);
    if (got.rel !== 'noopener noreferrer' || got.target !== '_blank') throw new Error(`link ${i} opens unsafely: ${JSON.stringify(got)}`);
  }
  const scriptLinks = await page.locator('#message-list a').evaluateAll((nodes) => nodes.filter((n) => !/^https?:/.test(n.getAttribute('href') ?? '')).length);
  if (scriptLinks !== 0) throw new Error('an address that is not http(s) became a link');
  const [popup] = await Promise.all([page.waitForEvent('popup'), links.first().click()]);
  if ((await popup.evaluate(() => window.opener)) !== null) throw new Error('the opened tab can reach the chat through window.opener');
  await popup.close();
  log('web addresses are links that open in a new tab without an opener; javascript: stays text');

  // Edit history: "edited" shows the versions, newest first.
  await bubble(page, 'See you at 7').getByTestId('message-edited').click();
  const history = page.getByTestId('edit-history');
  await history.getByTestId('edit-current').getByText('See you at 7', { exact: true }).waitFor();
  await expectCount(history.getByTestId('edit-version'), 2, 'earlier versions');
  const versions = await history.getByTestId('edit-version').getByTestId('edit-version-text').allTextContents();
  if (JSON.stringify(versions) !== JSON.stringify(['See you at 6', 'See you at 5'])) throw new Error(`edit history shows ${JSON.stringify(versions)}`);
  await page.keyboard.press('Escape');
  await history.waitFor({ state: 'hidden' });
  log('"edited" opens the edit history, newest first');

  // The server's windows: Edit (15 minutes) still offered, Delete for everyone (1 s) not.
  const waited = 1500 - (Date.now() - mineSentAt);
  if (waited > 0) await page.waitForTimeout(waited); // the delete window passing is the point
  const own = bubble(page, 'an own message');
  await own.hover();
  await own.getByTestId('message-menu').click();
  await page.getByTestId('message-edit-action').waitFor();
  if (await page.getByTestId('message-delete-everyone-action').isVisible()) throw new Error('Delete for everyone is offered after the server\'s window');
  await page.keyboard.press('Escape');
  const refused = await fetch(`${process.env.BASE_URL || 'http://127.0.0.1:18080'}/api/messages/${mine.id}?for=everyone`, {
    method: 'DELETE',
    headers: { authorization: `Bearer ${alice.token}` },
  });
  if (refused.status !== 403) throw new Error(`the server allowed the deletion the page no longer offers: ${refused.status}`);
  log("the message menu follows the server's edit and delete windows");

  // Search within this chat: Carol's haystack is not among the results; then all chats.
  await page.getByTestId('chat-search-button').click();
  await page.getByTestId('search-scope').getByText('Bob Features').waitFor();
  const search = page.getByTestId('user-search');
  await search.fill('haystack');
  const results = page.getByTestId('search-message-result');
  await expectCount(results, 1, 'results in one chat');
  if ((await results.first().getAttribute('data-chat-id')) !== withBob.id) throw new Error('a search in one chat found another chat');
  await page.getByTestId('search-scope-clear').click();
  await expectCount(results, 2, 'results in all chats');
  log('a search from the header looks in that chat only; "Search all chats" widens it');

  // Paging: 20 results, "More messages" brings the other 5.
  await search.fill('needle');
  await expectCount(results, 20, 'first page of results');
  await page.getByTestId('search-more-messages').click();
  await expectCount(results, 25, 'results after "More messages"');
  await page.getByTestId('search-more-messages').waitFor({ state: 'detached' });
  log('message search pages with "More messages"');

  // A query as long as the server takes (here 94 characters).
  await search.fill(long);
  if ((await search.inputValue()) !== long) throw new Error(`the search box cut the query to ${(await search.inputValue()).length} characters`);
  await expectCount(results, 1, 'results for a long query');
  await page.getByRole('button', { name: 'Clear search' }).click();
  log(`a ${long.length}-character query is searched whole`);

  // The name given to a contact: changed in the contacts panel, shown in the list and the header.
  // The panel draws the contacts it knows, then again when its own load answers: that
  // load is held back here until the name is being typed, and must not take the field away.
  let releaseContacts;
  const contactsHeld = new Promise((resolve) => { releaseContacts = resolve; });
  const holdContacts = async (route) => {
    if (route.request().method() === 'GET') await contactsHeld;
    await route.continue();
  };
  await page.route('**/api/contacts', holdContacts);
  await page.getByTestId('menu-button').click();
  await page.getByTestId('menu-contacts').click();
  const contact = page.locator(`[data-testid="contact-row"][data-user-id="${bob.user.id}"]`);
  await contact.getByTestId('contact-name').getByText('Bob Features', { exact: true }).waitFor();
  await contact.getByTestId('contact-rename').click();
  await contact.getByTestId('contact-alias-input').fill('Bobby the Builder');
  const contactsLoaded = page.waitForResponse((r) => r.url().endsWith('/api/contacts') && r.request().method() === 'GET');
  releaseContacts();
  await contactsLoaded;
  await page.unroute('**/api/contacts', holdContacts);
  await page.waitForTimeout(200);
  const typed = await contact.getByTestId('contact-alias-input').inputValue({ timeout: 2000 }).catch(() => null);
  if (typed !== 'Bobby the Builder') throw new Error(`the panel's late load took the name being typed: ${JSON.stringify(typed)}`);
  await contact.getByTestId('contact-alias-save').click();
  await page.getByTestId('contact-row').getByTestId('contact-name').getByText('Bobby the Builder', { exact: true }).waitFor();
  const saved = await api('GET', '/api/contacts', alice.token);
  if (saved.contacts[0]?.alias !== 'Bobby the Builder') throw new Error(`the server has the alias ${JSON.stringify(saved.contacts[0]?.alias)}`);
  await page.locator('#contacts-back').click();
  await row(page, 'Bobby the Builder').waitFor();
  await page.getByTestId('conversation-title').getByText('Bobby the Builder', { exact: true }).waitFor();
  log("a contact's name is changed in the contacts panel and shows in the list and the header");

  // On a phone-sized screen the search of one chat goes to the list's pane and back.
  const phone = await openAs(browser, 'Alice (phone)', alice, { contextOptions: { viewport: { width: 390, height: 844 } } });
  people.push(phone);
  await openChat(phone.page, 'Bobby the Builder');
  await phone.page.getByTestId('chat-search-button').click();
  await phone.page.getByTestId('search-scope').getByText('Bobby the Builder').waitFor();
  await phone.page.getByTestId('user-search').fill('haystack');
  const phoneResults = phone.page.getByTestId('search-message-result');
  await expectCount(phoneResults, 1, 'results in one chat on the phone');
  await phoneResults.first().click();
  await phone.page.locator('[data-testid="message"][data-highlighted="true"]').filter({ hasText: 'haystack from Bob' }).waitFor();
  log('on a phone-sized screen "Search in this chat" shows the search, and a result opens the chat at it');
});

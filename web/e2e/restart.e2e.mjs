// Browser test of a server restart, against a server that the harness can stop
// and start again on the same address: two people chat; the server stops
// (SIGTERM); both pages show that they are offline; a message Alice writes
// meanwhile waits in her outbox; the server starts again; both pages reconnect
// by themselves, Alice's message is sent once, and afterwards each page shows
// every message once, in order.
//
// The harness (crates/server/tests/blackbox/browser.rs) watches this script's output:
// "restart: STOP-SERVER" asks it to stop the server and "restart: START-SERVER"
// to start it again; it answers each with a line on stdin once done.
//
// Env: BASE_URL, OTP_CODE (default 123456), CHROMIUM (default /usr/bin/chromium),
// E2E_TIMEOUT_MS (default 15000). Prints "restart: 1 passed, 0 failed" on success.

import readline from 'node:readline';
import { TIMEOUT, api, openAs, register, runTest, say } from './support.mjs';

const log = (text) => console.log(`restart: ${text}`);
const harness = readline.createInterface({ input: process.stdin });
const answers = harness[Symbol.asyncIterator]();

/** Asks the harness to do `what` to the server and waits until it is done. */
async function ask(what) {
  console.log(`restart: ${what}`);
  const answer = await answers.next();
  if (answer.done) throw new Error(`the harness did not answer ${what}`);
}

/** Opens the chat named `name` in `person`'s page. */
async function openChat(person, name) {
  const row = person.page.locator('.chat-item').filter({ has: person.page.getByTestId('chat-name').getByText(name, { exact: true }) });
  await row.getByTestId('chat-row').click();
}

/** The texts of the open conversation's bubbles, in order. */
function texts(person) {
  return person.page.getByTestId('message-text').allTextContents();
}

/** Waits until `person`'s conversation shows exactly `expected`, in order. */
async function showsExactly(person, expected) {
  const deadline = Date.now() + TIMEOUT;
  let seen = [];
  while (Date.now() < deadline) {
    seen = (await texts(person)).map((t) => t.trim());
    if (JSON.stringify(seen) === JSON.stringify(expected)) return;
    await person.page.waitForTimeout(100);
  }
  throw new Error(`${person.label} shows ${JSON.stringify(seen)}, expected ${JSON.stringify(expected)}`);
}

await runTest('restart', async (browser, people) => {
  const alice = await register('Alice Restart');
  const bob = await register('Bob Restart');
  const chat = await api('POST', '/api/chats', alice.token, { type: 'direct', user_ids: [bob.user.id] });
  await say(alice, chat.id, 'before one');
  await say(bob, chat.id, 'before two');
  const A = await openAs(browser, 'Alice', alice);
  const B = await openAs(browser, 'Bob', bob);
  people.push(A, B);
  await openChat(A, 'Bob Restart');
  await openChat(B, 'Alice Restart');
  await showsExactly(A, ['before one', 'before two']);
  await showsExactly(B, ['before one', 'before two']);
  log('Alice and Bob see the two messages');

  await ask('STOP-SERVER');
  await A.page.getByTestId('connection-banner').waitFor({ state: 'visible' });
  await B.page.getByTestId('connection-banner').waitFor({ state: 'visible' });
  log('the server stopped; both pages say so');
  await A.page.getByTestId('composer').fill('written while down');
  await A.page.getByTestId('composer').press('Enter');
  await showsExactly(A, ['before one', 'before two', 'written while down']);
  log("Alice wrote a message while the server was down; it shows in her chat, waiting");

  await ask('START-SERVER');
  await A.page.getByTestId('connection-banner').waitFor({ state: 'hidden', timeout: 3 * TIMEOUT });
  await B.page.getByTestId('connection-banner').waitFor({ state: 'hidden', timeout: 3 * TIMEOUT });
  log('the server is back; both pages reconnected by themselves');
  await showsExactly(B, ['before one', 'before two', 'written while down']);
  await B.page.getByTestId('composer').fill('after the restart');
  await B.page.getByTestId('composer').press('Enter');
  const all = ['before one', 'before two', 'written while down', 'after the restart'];
  await showsExactly(A, all);
  await showsExactly(B, all);
  const stored = await api('GET', `/api/messages?chat_id=${chat.id}&limit=50`, bob.token);
  const storedTexts = stored.messages.map((m) => m.content).reverse();
  if (JSON.stringify(storedTexts) !== JSON.stringify(all)) throw new Error(`stored ${JSON.stringify(storedTexts)}`);
  log('each page shows every message once, in order, and the outbox message was stored once');
  harness.close();
});

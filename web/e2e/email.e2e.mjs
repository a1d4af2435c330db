// Browser test of the email address for login codes, in the settings panel of a
// phone-sized page, against a server that sends mail to a real SMTP server whose
// maildir the test reads. A bad address is refused with the server's message;
// a good one gets a code by mail, and the code typed back verifies it (a wrong
// one is refused); the verified address survives a reload, then receives Alice's
// login code; removed, it is gone.
//
//   cd web/e2e && npm ci && BASE_URL=http://127.0.0.1:18080 MAILDIR=/path/maildir node email.e2e.mjs
//
// Env: BASE_URL, MAILDIR (the SMTP server's maildir), OTP_CODE (default 123456),
// CHROMIUM (default /usr/bin/chromium), E2E_TIMEOUT_MS (default 15000). Prints
// "email: 1 passed, 0 failed" on success.

import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { TIMEOUT, api, openAs, register, runTest } from './support.mjs';

const MAILDIR = process.env.MAILDIR || '';
const log = (text) => console.log(`email: ${text}`);

/** The subjects of the mails to `address`, oldest first. */
function subjectsTo(address) {
  let names = [];
  try {
    names = readdirSync(join(MAILDIR, 'new')).sort();
  } catch {
    return [];
  }
  return names
    .map((name) => readFileSync(join(MAILDIR, 'new', name), 'utf8'))
    .filter((mail) => new RegExp(`^To: .*${address.replace('.', '\\.')}`, 'mi').test(mail))
    .map((mail) => (mail.match(/^Subject: (.*)$/m) || ['', ''])[1]);
}

/** Waits for the `count`-th mail to `address`; returns the six-digit code in its subject. */
async function codeOfMail(address, count) {
  const deadline = Date.now() + TIMEOUT;
  for (;;) {
    const subjects = subjectsTo(address);
    if (subjects.length >= count) {
      const code = subjects[count - 1].match(/\b\d{6}\b/);
      if (!code) throw new Error(`no code in the mail "${subjects[count - 1]}"`);
      return code[0];
    }
    if (Date.now() > deadline) throw new Error(`mail ${count} to ${address} did not arrive (${subjects.length} did)`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

async function openSettings(page) {
  await page.getByTestId('menu-button').click();
  await page.getByTestId('menu-settings').click();
}

await runTest('email', async (browser, people) => {
  if (!MAILDIR) throw new Error('MAILDIR is not set');
  const alice = await register('Alice');
  const A = await openAs(browser, 'Alice (phone)', alice, {
    contextOptions: { viewport: { width: 390, height: 844 }, colorScheme: 'dark' },
  });
  people.push(A);
  const { page } = A;
  const address = page.getByTestId('email-address');
  const note = page.getByTestId('email-note');
  const verifyForm = page.getByTestId('email-verify-form');

  await openSettings(page);
  await page.getByTestId('email-section').waitFor({ state: 'visible' });
  await address.waitFor();
  if ((await address.inputValue()) !== '') throw new Error('a new person has no address');
  if (await verifyForm.isVisible()) throw new Error('no code to type before an address is given');

  log('a bad address is refused');
  await address.fill('alice@');
  await page.getByTestId('email-send').click();
  await page.waitForFunction(() => document.querySelector('[data-testid="email-note"]')?.classList.contains('search-status--error'));
  if (!/email address/i.test(await note.innerText())) throw new Error(`unexpected note: ${await note.innerText()}`);

  log('a code is mailed, a wrong one refused, the right one verifies');
  await address.fill('alice@example.org');
  await page.getByTestId('email-send').click();
  await verifyForm.waitFor({ state: 'visible' });
  const code = await codeOfMail('alice@example.org', 1);
  await page.getByTestId('email-code').fill(code === '000000' ? '111111' : '000000');
  await page.getByTestId('email-verify').click();
  await page.waitForFunction(() => /wrong/i.test(document.querySelector('[data-testid="email-note"]')?.textContent ?? ''));
  await page.getByTestId('email-code').fill(code);
  await page.getByTestId('email-verify').click();
  await verifyForm.waitFor({ state: 'hidden' });
  await page.waitForFunction(() => /Verified/.test(document.querySelector('[data-testid="email-note"]')?.textContent ?? ''));

  log('the verified address survives a reload and receives login codes');
  await page.reload();
  await openSettings(page);
  await page.waitForFunction(
    () => /** @type {HTMLInputElement | null} */ (document.querySelector('[data-testid="email-address"]'))?.value === 'alice@example.org',
  );
  if (await verifyForm.isVisible()) throw new Error('a verified address needs no code');
  await api('POST', '/api/auth/otp', null, { phone: alice.user.phone });
  await codeOfMail('alice@example.org', 2);

  log('removed, the address is gone');
  await page.getByTestId('email-remove').click();
  await page.waitForFunction(
    () => /** @type {HTMLInputElement | null} */ (document.querySelector('[data-testid="email-address"]'))?.value === '',
  );
  const me = await api('GET', '/api/users/me', alice.token);
  if (me.email !== null) throw new Error(`the server still has ${me.email}`);
});

// Swagger UI in real Chromium, under the server's Content-Security-Policy: the page
// loads from the binary alone, reads /api/openapi.json and lists the operations.
//
//   cd web/e2e && npm ci && BASE_URL=http://127.0.0.1:18080 node swagger.e2e.mjs
//
// Env: BASE_URL, CHROMIUM (default /usr/bin/chromium), E2E_TIMEOUT_MS (default 15000).
// Prints "swagger: N operations" and exits 0, or explains and exits 1.

import { chromium } from 'playwright-core';

const BASE_URL = (process.env.BASE_URL || 'http://127.0.0.1:18080').replace(/\/+$/, '');
const CHROMIUM = process.env.CHROMIUM || '/usr/bin/chromium';
const TIMEOUT = Number(process.env.E2E_TIMEOUT_MS || 15000);

const browser = await chromium.launch({ executablePath: CHROMIUM, args: ['--no-sandbox'] });
try {
  const page = await browser.newPage();
  /** @type {string[]} */
  const problems = [];
  page.on('console', (msg) => {
    if (msg.type() === 'error') problems.push(msg.text());
  });
  page.on('pageerror', (error) => problems.push(String(error)));
  /** @type {string[]} */
  const requested = [];
  page.on('request', (request) => requested.push(request.url()));
  await page.goto(`${BASE_URL}/swagger/index.html`, { timeout: TIMEOUT });
  await page.locator('.opblock').first().waitFor({ timeout: TIMEOUT });
  const operations = await page.locator('.opblock').count();
  const title = await page.locator('.info .title').innerText({ timeout: TIMEOUT });
  const foreign = requested.filter((url) => !url.startsWith(BASE_URL) && !url.startsWith('data:'));
  if (!title.includes('ChitChat')) problems.push(`unexpected title ${JSON.stringify(title)}`);
  if (operations < 30) problems.push(`only ${operations} operations shown`);
  if (foreign.length) problems.push(`requests left the server: ${foreign.join(', ')}`);
  const blocked = problems.filter((p) => /Content Security Policy|Refused to/i.test(p));
  if (problems.length) {
    console.error(`swagger: problems${blocked.length ? ' (CSP)' : ''}:\n${problems.join('\n')}`);
    process.exitCode = 1;
  } else {
    console.log(`swagger: ${operations} operations`);
  }
} finally {
  await browser.close();
}

// Browser test of attachments against a running server: Alice uploads a photo
// with the attach button (a progress bar, then "ready"), sends it with a caption,
// and Bob sees it rendered in the conversation and opens it large in the
// viewer; Alice drops a document on the conversation and Bob gets a download
// button with its name; an upload cancelled half-way sends nothing.
//
//   cd web/e2e && npm ci && BASE_URL=http://127.0.0.1:18080 node attachments.e2e.mjs
//
// Env: BASE_URL, OTP_CODE (default 123456), CHROMIUM (default /usr/bin/chromium),
// E2E_TIMEOUT_MS (default 15000). Logs in over the HTTP API (chat.e2e.mjs covers
// the login screen). Prints "attachments: 1 passed, 0 failed" on success.

import { api, openAs, register, runTest } from './support.mjs';

const CAPTION = 'Sunset <b>not bold</b>';

const log = (text) => console.log(`attachments: ${text}`);

/** A page logged in as `who` with `chatId` open. */
async function open(browser, label, who, chatId) {
  const person = await openAs(browser, label, who, { path: `/#/chat/${chatId}` });
  await person.page.getByTestId('composer').waitFor({ state: 'visible' });
  return person;
}

/** A PNG drawn in the page (a canvas), as bytes. */
async function drawPng(page, width, height) {
  const bytes = await page.evaluate(
    async ([w, h]) => {
      const canvas = new OffscreenCanvas(w, h);
      const g = canvas.getContext('2d');
      g.fillStyle = '#f80';
      g.fillRect(0, 0, w, h);
      g.fillStyle = '#036';
      g.fillRect(0, h / 2, w, h / 2);
      const blob = await canvas.convertToBlob({ type: 'image/png' });
      return [...new Uint8Array(await blob.arrayBuffer())];
    },
    [width, height],
  );
  return Buffer.from(bytes);
}

await runTest('attachments', async (browser, people) => {
  const alice = await register('Alice Attach');
  const bob = await register('Bob Attach');
  const chat = await api('POST', '/api/chats', alice.token, { type: 'direct', user_ids: [bob.user.id] });
  const a = await open(browser, 'Alice', alice, chat.id);
  const b = await open(browser, 'Bob', bob, chat.id);
  people.push(a, b);

  // A photo through the attach button: progress, ready, sent with a caption.
  const png = await drawPng(a.page, 640, 480);
  await a.page.getByTestId('file-input').setInputFiles({ name: 'sunset.png', mimeType: 'image/png', buffer: png });
  const item = a.page.getByTestId('upload-item');
  await item.and(a.page.locator('[data-state="ready"]')).waitFor();
  log('Alice uploaded a photo; the tray shows it ready');
  await a.page.getByTestId('composer').fill(CAPTION);
  await a.page.getByTestId('send-button').click();
  await item.waitFor({ state: 'detached' });

  const photo = b.page.getByTestId('message').filter({ hasText: CAPTION }).getByTestId('attachment-image').locator('img');
  await photo.waitFor();
  await b.page.waitForFunction(
    () => [...document.querySelectorAll('[data-testid="attachment-image"] img')].some((i) => i instanceof HTMLImageElement && i.complete && i.naturalWidth > 0 && i.src.startsWith('blob:')),
  );
  const shown = await photo.evaluate((i) => ({ w: i.naturalWidth, h: i.naturalHeight }));
  if (shown.w !== 320 || shown.h !== 240) throw new Error(`Bob's bubble shows a ${shown.w}x${shown.h} picture, not the 320x240 thumbnail`);
  log(`Bob sees the photo in the conversation (thumbnail ${shown.w}x${shown.h}) with its caption as text`);

  await photo.click();
  const large = b.page.getByTestId('viewer-image');
  await b.page.waitForFunction(() => {
    const i = document.querySelector('[data-testid="viewer-image"]');
    return i instanceof HTMLImageElement && i.complete && i.naturalWidth === 640;
  });
  if (!(await large.isVisible())) throw new Error('the viewer is not visible');
  log('Bob opens it large in the viewer (640x480)');
  await b.page.getByTestId('viewer-close').click();

  // A document dropped on the conversation.
  await a.page.evaluate(() => {
    const transfer = new DataTransfer();
    transfer.items.add(new File(['minutes of the meeting\n'], 'minutes.txt', { type: 'text/plain' }));
    const pane = document.getElementById('conversation-pane');
    for (const type of ['dragenter', 'dragover', 'drop']) {
      pane?.dispatchEvent(new DragEvent(type, { dataTransfer: transfer, bubbles: true, cancelable: true }));
    }
  });
  await item.and(a.page.locator('[data-state="ready"]')).waitFor();
  await a.page.getByTestId('send-button').click();
  const doc = b.page.getByTestId('attachment-document').filter({ hasText: 'minutes.txt' });
  await doc.waitFor();
  log('Alice dropped a document on the conversation; Bob gets it as a download');

  // A slow upload is cancelled half-way: nothing is sent.
  const cdp = await a.page.context().newCDPSession(a.page);
  await cdp.send('Network.enable');
  await cdp.send('Network.emulateNetworkConditions', { offline: false, latency: 0, downloadThroughput: -1, uploadThroughput: 64 * 1024 });
  await a.page.getByTestId('file-input').setInputFiles({ name: 'big.bin', mimeType: 'application/octet-stream', buffer: Buffer.alloc(4 * 1024 * 1024, 7) });
  await item.and(a.page.locator('[data-state="uploading"]')).waitFor();
  await a.page.waitForFunction(() => {
    const p = document.querySelector('[data-testid="upload-progress"]');
    return p instanceof HTMLProgressElement && p.value > 0;
  });
  await a.page.getByTestId('upload-cancel').click();
  await item.waitFor({ state: 'detached' });
  await cdp.send('Network.emulateNetworkConditions', { offline: false, latency: 0, downloadThroughput: -1, uploadThroughput: -1 });
  const history = await api('GET', `/api/messages?chat_id=${chat.id}`, alice.token);
  if (history.messages.length !== 2) throw new Error(`expected 2 messages after the cancel, found ${history.messages.length}`);
  log('a slow upload showed its progress and was cancelled; nothing was sent');
});

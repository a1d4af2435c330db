// Browser test of video and voice notes against a running server: Alice sends a
// 30-second video and a voice note; Bob, on a slow connection, plays the video
// straight from the server (a signed link, not a blob: URL fetched whole), seeks
// near its end, and playback reaches that point, the server having answered the
// seek with a 206 range that does not start at the beginning. Once the link has
// expired (start the server with ATTACHMENT_LINK_TTL=4s), he seeks again: the
// old link is refused and the player goes on with a fresh one. Then he plays
// the voice note. Both files are in web/e2e/media (see make-media.sh there).
//
//   cd web/e2e && npm ci && BASE_URL=http://127.0.0.1:18080 node media.e2e.mjs
//
// Env: BASE_URL, OTP_CODE (default 123456), CHROMIUM (default /usr/bin/chromium),
// E2E_TIMEOUT_MS (default 15000). Prints "media: 1 passed, 0 failed" on success.

import { readFile } from 'node:fs/promises';
import { api, openAs, register, runTest } from './support.mjs';

const log = (text) => console.log(`media: ${text}`);

/** Where playback is asked to go: near the end of the 30-second clip. */
const SEEK_TO = 27;
/** Bob's download speed, bytes a second: the clip takes seconds to arrive whole. */
const SLOW = 24 * 1024;

/** A page logged in as `who` with `chatId` open. */
async function open(browser, label, who, chatId) {
  const person = await openAs(browser, label, who, { path: `/#/chat/${chatId}` });
  await person.page.getByTestId('composer').waitFor({ state: 'visible' });
  return person;
}

/** Alice sends a file through the attach button. */
async function send(page, name, mimeType) {
  const buffer = await readFile(new URL(`./media/${name}`, import.meta.url));
  await page.getByTestId('file-input').setInputFiles({ name, mimeType, buffer });
  const item = page.getByTestId('upload-item');
  await item.and(page.locator('[data-state="ready"]')).waitFor();
  await page.getByTestId('send-button').click();
  await item.waitFor({ state: 'detached' });
  return buffer.length;
}

await runTest('media', async (browser, people) => {
  const alice = await register('Alice Media');
  const bob = await register('Bob Media');
  const chat = await api('POST', '/api/chats', alice.token, { type: 'direct', user_ids: [bob.user.id] });
  const a = await open(browser, 'Alice', alice, chat.id);
  const b = await open(browser, 'Bob', bob, chat.id);
  people.push(a, b);

  const clipSize = await send(a.page, 'clip.webm', 'video/webm');
  await send(a.page, 'tone.ogg', 'audio/ogg');
  log(`Alice sent a video (${clipSize} bytes) and a voice note`);

  // What the server answered Bob's page for attachment files.
  /** @type {{ status: number, url: string, start: number | null }[]} */
  const answers = [];
  b.page.on('response', (response) => {
    if (!/\/api\/attachments\/[^/?]+(\?|$)/.test(response.url())) return;
    const range = /^bytes (\d+)-/.exec(response.headers()['content-range'] || '');
    answers.push({ status: response.status(), url: response.url(), start: range ? Number(range[1]) : null });
  });
  const cdp = await b.page.context().newCDPSession(b.page);
  await cdp.send('Network.enable');
  await cdp.send('Network.emulateNetworkConditions', { offline: false, latency: 20, downloadThroughput: SLOW, uploadThroughput: -1 });

  await b.page.getByTestId('attachment-video').click();
  const video = b.page.getByTestId('video-player');
  await video.waitFor();
  const src = await video.evaluate((v) => /** @type {HTMLVideoElement} */ (v).currentSrc);
  if (src.startsWith('blob:') || !src.includes('sig=')) throw new Error(`the video does not stream from a signed link: ${src}`);
  const duration = await b.page.waitForFunction(() => {
    const v = document.querySelector('[data-testid="video-player"]');
    return v instanceof HTMLVideoElement && Number.isFinite(v.duration) && v.duration > 0 && v.duration;
  });
  const seconds = Number(await duration.jsonValue());
  if (Math.abs(seconds - 30) > 0.5) throw new Error(`the video lasts ${seconds} s, not 30`);
  log(`Bob's player streams from a signed link and knows the length (${seconds.toFixed(1)} s) before the file arrived`);

  await video.evaluate((v, to) => {
    /** @type {HTMLVideoElement} */ (v).currentTime = to;
  }, SEEK_TO);
  await b.page.waitForFunction(
    (to) => {
      const v = document.querySelector('[data-testid="video-player"]');
      return v instanceof HTMLVideoElement && !v.seeking && v.currentTime >= to + 0.5 && !v.paused;
    },
    SEEK_TO,
    { timeout: 30_000 },
  );
  const at = await video.evaluate((v) => /** @type {HTMLVideoElement} */ (v).currentTime);
  log(`Bob seeked to ${SEEK_TO} s and the video plays on from there (at ${at.toFixed(1)} s)`);

  const videoPath = new URL(src).pathname;
  const ofVideo = () => answers.filter((r) => new URL(r.url).pathname === videoPath);
  const video206 = ofVideo().filter((r) => r.status === 206);
  const jumped = video206.filter((r) => r.start !== null && r.start > 0);
  if (!jumped.length) throw new Error(`no 206 answer past the start of the video: ${JSON.stringify(answers)}`);
  if (ofVideo().some((r) => r.status === 200)) throw new Error(`the video was sent whole: ${JSON.stringify(answers)}`);
  log(`the server answered ${video206.length} range requests (206), ${jumped.length} of them starting inside the file (first at byte ${jumped[0].start} of ${clipSize})`);

  // The link expires (the test server gives links 4 s); a seek to a part not
  // loaded yet is refused with the old link, and the player carries on with a
  // fresh one from where it was.
  await cdp.send('Network.emulateNetworkConditions', { offline: false, latency: 20, downloadThroughput: 8 * 1024, uploadThroughput: -1 });
  const expires = Number(new URL(src).searchParams.get('exp')) * 1000;
  await new Promise((resolve) => setTimeout(resolve, Math.max(0, expires - Date.now()) + 300));
  const target = await video.evaluate((v) => {
    const media = /** @type {HTMLVideoElement} */ (v);
    // The middle of the widest stretch not loaded yet.
    let best = { from: 0, to: 0 };
    let from = 0;
    for (let i = 0; i <= media.buffered.length; i += 1) {
      const to = i < media.buffered.length ? media.buffered.start(i) : media.duration;
      if (to - from > best.to - best.from) best = { from, to };
      if (i < media.buffered.length) from = media.buffered.end(i);
    }
    return Math.floor((best.from + best.to) / 2);
  });
  // Full speed again: a fresh link loads well within its 4 s.
  await cdp.send('Network.emulateNetworkConditions', { offline: false, latency: 0, downloadThroughput: -1, uploadThroughput: -1 });
  await video.evaluate((v, to) => {
    const media = /** @type {HTMLVideoElement} */ (v);
    media.currentTime = to;
    void media.play().catch(() => {});
  }, target);
  await b.page.waitForFunction(
    ([to, old]) => {
      const v = document.querySelector('[data-testid="video-player"]');
      return v instanceof HTMLVideoElement && v.currentSrc !== old && !v.seeking && !v.paused && v.currentTime >= to + 0.5;
    },
    [target, src],
    { timeout: 30_000 },
  ).catch(async (err) => {
    const state = await video.evaluate((v) => {
      const m = /** @type {HTMLVideoElement} */ (v);
      const holder = m.parentElement;
      return { src: m.currentSrc, time: m.currentTime, paused: m.paused, seeking: m.seeking, error: m.error?.code, ready: m.readyState, network: m.networkState, holder: holder?.dataset.state };
    }).catch(() => 'no player');
    throw new Error(`${err instanceof Error ? err.message : err}; player: ${JSON.stringify(state)}; answers: ${JSON.stringify(ofVideo())}`);
  });
  const refused = ofVideo().filter((r) => r.url === src && r.status === 403);
  if (!refused.length) throw new Error(`the expired link was not refused: ${JSON.stringify(ofVideo())}`);
  log(`after the link expired (403), a seek to ${target} s plays on with a fresh link`);

  await b.page.getByTestId('attachment-audio').click();
  const audio = b.page.getByTestId('audio-player');
  await audio.waitFor();
  await b.page.waitForFunction(() => {
    const v = document.querySelector('[data-testid="audio-player"]');
    return v instanceof HTMLAudioElement && v.currentTime >= 1 && Math.abs(v.duration - 4) < 0.5;
  });
  const audioSrc = await audio.evaluate((v) => /** @type {HTMLAudioElement} */ (v).currentSrc);
  if (!audioSrc.includes('sig=')) throw new Error(`the voice note does not stream from a signed link: ${audioSrc}`);
  log('Bob plays the voice note (4 s) from a signed link too');
});

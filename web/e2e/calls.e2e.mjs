// Browser test of voice and video calls, against a running server, in Chromium
// with a fake camera and microphone (FAKE_MEDIA_ARGS). Media is proved to flow
// from each page's RTCPeerConnections (`window.chitchatCalls`, kept by
// js/calls.js for diagnostics): `framesDecoded` of the incoming video and
// `packetsReceived` of the incoming audio grow.
//
// CALLS_PART picks what runs (each needs the server started its own way):
//   answered  (default) Asha video-calls Ravi, who has two devices: both ring, he
//             answers on one, the other says "Answered on another device"; video
//             and audio flow both ways; the call screen and the incoming call pass
//             the accessibility audit in both themes; Asha switches camera and
//             shares her screen, and Ravi goes on decoding; her network drops for a
//             moment and her page rejoins the call; Asha hangs up and the chats
//             show the answered call with its duration, also in the "Calls" view.
//             Then a group call of three: each decodes the two others' video.
//   outcomes  the server's CALL_RING_TIMEOUT short (a few seconds): a call nobody
//             answers ends "No answer" for Asha and "Missed voice call" for Ravi; a
//             declined one "Declined"; one Asha cancels while it rings stops Ravi's
//             ringing; calling Ravi while he is in a call "Busy".
//   relay     the server hands out a real TURN server's credentials
//             (TURN_URLS / TURN_SECRET): with the pages set to relay only, the
//             call connects through it (the selected candidate pair's local
//             candidate is a `relay` one) and media flows.
//   relay-refused  the server's TURN_SECRET is not the TURN server's: the relay
//             refuses the credentials, and both pages say the call could not connect.
//   network-change  as `relay`; then the page prints "calls: the relay goes away
//             now", and the test that runs this script kills the TURN server and
//             starts it again: the relays the call used are gone, as when a
//             network changes. Both pages say "Reconnecting…", restart ICE (new
//             ICE credentials in their descriptions) and video and audio flow again.
//
//   cd web/e2e && npm ci && BASE_URL=http://127.0.0.1:18080 node calls.e2e.mjs
//
// Env: BASE_URL, OTP_CODE (default 123456), CHROMIUM (default /usr/bin/chromium),
// E2E_TIMEOUT_MS (default 15000), CALLS_PART. Prints "calls: 1 passed, 0 failed".

import { FAKE_MEDIA_ARGS, OTP_CODE, TIMEOUT, api, axeAudit, openAs, register, runTest } from './support.mjs';

const PART = process.env.CALLS_PART || 'answered';
const log = (text) => console.log(`calls: ${text}`);
/** Waits for ICE over a relay, and for a connection to be given up, take longer than a page's usual wait. */
const CONNECT_TIMEOUT = Math.max(TIMEOUT, 40_000);

/** The list item of the chat whose row is titled exactly `title`. */
function chatItem(page, title) {
  return page.locator('.chat-item').filter({ has: page.getByTestId('chat-name').getByText(title, { exact: true }) });
}

/** A second session of the same person: another device. */
async function anotherDevice(who) {
  await api('POST', '/api/auth/otp', null, { phone: who.user.phone });
  return api('POST', '/api/auth/register', null, { phone: who.user.phone, name: who.user.name, code: OTP_CODE });
}

/** A page of `who` with camera and microphone allowed, connected, with the chat titled `chatTitle` open. */
async function callerPage(browser, label, who, chatTitle, { theme = null, relayOnly = false, viewport = null } = {}) {
  const initScripts = [];
  if (theme) initScripts.push(`localStorage.setItem('chitchat.theme', '${theme}')`);
  if (relayOnly) initScripts.push(`localStorage.setItem('chitchat.calls.relay', 'on')`);
  const contextOptions = { permissions: ['camera', 'microphone'], ...(viewport ? { viewport } : {}) };
  const person = await openAs(browser, label, who, { contextOptions, initScripts });
  const { page } = person;
  await page.getByTestId('connection-banner').waitFor({ state: 'hidden' });
  await chatItem(page, chatTitle).first().click();
  await page.getByTestId('conversation-title').getByText(chatTitle, { exact: true }).waitFor();
  return person;
}

/**
 * What each of the page's call connections receives, by the other user's id:
 * video frames decoded, audio packets, and the local candidate type of the pair in use.
 */
function receiving(page) {
  return page.evaluate(async () => {
    /** @type {Record<string, { frames: number, audio: number, localType: string | null, state: string, ufrag: string | null }>} */
    const out = {};
    // @ts-ignore set by js/calls.js
    for (const [userId, pc] of window.chitchatCalls.connections) {
      const report = await pc.getStats();
      const byId = new Map();
      report.forEach((s) => byId.set(s.id, s));
      let frames = 0;
      let audio = 0;
      let pair = null;
      for (const s of byId.values()) {
        if (s.type === 'inbound-rtp' && s.kind === 'video') frames += s.framesDecoded || 0;
        if (s.type === 'inbound-rtp' && s.kind === 'audio') audio += s.packetsReceived || 0;
        if (s.type === 'transport' && s.selectedCandidatePairId) pair = byId.get(s.selectedCandidatePairId);
      }
      const local = pair ? byId.get(pair.localCandidateId) : null;
      // The ICE username fragment changes with every ICE restart.
      const ufrag = /a=ice-ufrag:(\S+)/.exec(pc.localDescription?.sdp ?? '')?.[1] ?? null;
      out[userId] = { frames, audio, localType: local?.candidateType ?? null, state: pc.connectionState, ufrag };
    }
    return out;
  });
}

/**
 * Waits until the page decodes video (unless voice) and receives audio from
 * each of `userIds`, and both keep growing: read once, then again until every
 * figure has grown (about 2 s of media).
 */
async function mediaFlows(person, userIds, { video = true, within = CONNECT_TIMEOUT } = {}) {
  const deadline = Date.now() + within;
  const ok = (r) => r && r.audio > 0 && (!video || r.frames > 0);
  let first = null;
  let firstAt = 0;
  for (;;) {
    const now = await receiving(person.page);
    if (!first && userIds.every((id) => ok(now[id]))) {
      first = now;
      firstAt = Date.now();
    } else if (first && Date.now() - firstAt >= 2000) {
      const grown = userIds.every((id) => now[id].audio > first[id].audio && (!video || now[id].frames > first[id].frames));
      if (grown) return now;
    }
    if (Date.now() > deadline) throw new Error(`${person.label}: media from ${userIds.join(', ')} is not flowing: ${JSON.stringify(now)}`);
    await person.page.waitForTimeout(250);
  }
}

/** Every remote video tile of the page shows a picture (its element has a size from decoded frames). */
async function tilesShowVideo(person, count) {
  await person.page.getByTestId('call-tile').nth(count - 1).waitFor();
  await person.page.waitForFunction(
    (n) => {
      const videos = [...document.querySelectorAll('[data-testid="remote-video"]')];
      return videos.length === n && videos.every((v) => v instanceof HTMLVideoElement && v.videoWidth > 0 && !v.paused);
    },
    count,
    { timeout: CONNECT_TIMEOUT },
  );
}

/** `promise`, or an error saying `what` after `ms`. */
function within(promise, ms, what) {
  let timer;
  const late = new Promise((_, reject) => {
    timer = setTimeout(() => reject(new Error(what)), ms);
  });
  return Promise.race([promise, late]).finally(() => clearTimeout(timer));
}

/** The chat's newest call record on the page. */
function callRecord(page) {
  return page.getByTestId('call-record').last();
}

/** Checks a page's call record of an answered call: "Video call · m:ss", the duration the server measured. */
async function showsAnswered(person, media) {
  const record = callRecord(person.page);
  await record.and(person.page.locator('[data-outcome="answered"]')).waitFor();
  const text = await record.innerText();
  const kind = media === 'video' ? 'Video call' : 'Voice call';
  if (!new RegExp(`^${kind} · \\d+:\\d\\d$`).test(text.trim())) throw new Error(`${person.label}: the call record says "${text}"`);
  const seconds = Number(await record.getAttribute('data-duration'));
  if (!(seconds >= 2)) throw new Error(`${person.label}: the answered call lasted ${seconds} s, yet media flowed for longer`);
  return text.trim();
}

/** Throws if axe-core finds violations on the page. */
async function audited(person, screen) {
  const violations = await axeAudit(person.page);
  if (violations.length) throw new Error(`${screen}: axe-core found violations:\n    ${violations.join('\n    ')}`);
  log(`${screen}: no accessibility violations`);
}

// ---------------------------------------------------------------- parts

async function answered(browser, people) {
  const asha = await register('Asha Calls');
  const ravi = await register('Ravi Calls');
  const raviPhone = await anotherDevice(ravi);
  await api('POST', '/api/chats', asha.token, { type: 'direct', user_ids: [ravi.user.id] });

  const A = await callerPage(browser, 'Asha', asha, ravi.user.name, { theme: 'dark' });
  const R = await callerPage(browser, 'Ravi (laptop)', ravi, asha.user.name);
  const R2 = await callerPage(browser, 'Ravi (phone)', raviPhone, asha.user.name, { viewport: { width: 390, height: 844 } });
  people.push(A, R, R2);

  await A.page.getByTestId('call-video-button').click();
  await A.page.getByTestId('call-screen').getByTestId('call-status').getByText('Ringing…').waitFor();
  for (const device of [R, R2]) {
    const incoming = device.page.getByTestId('incoming-call');
    await incoming.getByTestId('incoming-call-name').getByText(asha.user.name, { exact: true }).waitFor();
    await incoming.getByTestId('incoming-call-what').getByText('Incoming video call').waitFor();
  }
  log('both of Ravi\'s devices ring with Asha\'s name, "Incoming video call"');
  await audited(R, 'incoming call (light)');
  await audited(A, 'calling screen (dark)');

  await R.page.getByTestId('call-accept').click();
  await R2.page.getByTestId('incoming-call-note').getByText('Answered on another device').waitFor();
  await R2.page.getByTestId('incoming-call').waitFor({ state: 'hidden' });
  log('answered on the laptop, the phone stopped ringing: "Answered on another device"');

  const fromRavi = await mediaFlows(A, [ravi.user.id]);
  const fromAsha = await mediaFlows(R, [asha.user.id]);
  await tilesShowVideo(A, 1);
  await tilesShowVideo(R, 1);
  log(`video frames and audio packets grow both ways (Asha decoded ${fromRavi[ravi.user.id].frames} frames, Ravi ${fromAsha[asha.user.id].frames})`);
  if ((await R2.page.evaluate(() => window.chitchatCalls.connections.size)) !== 0) throw new Error("Ravi's phone holds a call connection");
  await A.page.getByTestId('call-duration').getByText(/^\d+:\d\d$/).waitFor();
  await A.page.getByTestId('call-quality').and(A.page.locator('[data-quality="good"], [data-quality="fair"], [data-quality="poor"]')).waitFor();
  await audited(A, 'video call (dark)');
  await audited(R, 'video call (light)');

  // Mute and camera off show as pressed.
  await R.page.getByTestId('call-mute').click();
  await R.page.locator('[data-testid="call-mute"][aria-pressed="true"]').waitFor();
  await R.page.getByTestId('call-mute').click();
  await R.page.getByTestId('call-camera').click();
  await R.page.locator('[data-testid="call-camera"][aria-pressed="true"]').waitFor();
  await R.page.getByTestId('call-camera').click();

  // Asha switches to her other camera and back, then shares her screen: what
  // her connection sends comes from the new track each time, and Ravi goes on
  // decoding. (Chromium's second fake camera gives depth frames, which no video
  // encoder takes: media is checked once she is back on the first.)
  const sentVideo = () =>
    A.page.evaluate(() => {
      // @ts-ignore set by js/calls.js
      const [pc] = [...window.chitchatCalls.connections.values()];
      return pc.getSenders().find((s) => s.track?.kind === 'video')?.track?.label ?? null;
    });
  const sends = (label) =>
    A.page.waitForFunction((wanted) => {
      // @ts-ignore set by js/calls.js
      const [pc] = [...window.chitchatCalls.connections.values()];
      return pc.getSenders().find((s) => s.track?.kind === 'video')?.track?.label === wanted;
    }, label);
  const firstCamera = await sentVideo();
  await A.page.getByTestId('call-switch-camera').click();
  await A.page.waitForFunction((label) => {
    // @ts-ignore set by js/calls.js
    const [pc] = [...window.chitchatCalls.connections.values()];
    const now = pc.getSenders().find((s) => s.track?.kind === 'video')?.track?.label;
    return now && now !== label;
  }, firstCamera);
  const secondCamera = await sentVideo();
  await A.page.getByTestId('call-switch-camera').click();
  await sends(firstCamera);
  await mediaFlows(R, [asha.user.id]);
  log(`Asha switched camera (${firstCamera} → ${secondCamera} → ${firstCamera}) and Ravi decodes her video`);
  await A.page.getByTestId('call-share-screen').click();
  await A.page.locator('[data-testid="call-share-screen"][aria-pressed="true"]').waitFor();
  if (!String(await sentVideo()).startsWith('screen')) throw new Error(`sharing the screen sends ${await sentVideo()}`);
  await mediaFlows(R, [asha.user.id]);
  await A.page.getByTestId('call-share-screen').click();
  await A.page.locator('[data-testid="call-share-screen"][aria-pressed="false"]').waitFor();
  log('Asha shared her screen (Ravi decodes it) and stopped');

  // Asha's browser loses the network for a moment: her socket drops and comes
  // back, the page joins the call again, and the call goes on.
  let rejoin = () => {};
  const rejoined = new Promise((resolve) => (rejoin = resolve));
  A.page.on('websocket', (ws) =>
    ws.on('framesent', (frame) => {
      if (String(frame.payload).includes('"call_accept"')) rejoin(true);
    }),
  );
  await A.context.setOffline(true);
  await A.page.getByTestId('connection-banner').waitFor();
  await A.context.setOffline(false);
  await A.page.getByTestId('connection-banner').waitFor({ state: 'hidden' });
  await within(rejoined, TIMEOUT, 'the page did not join the call again');
  await mediaFlows(R, [asha.user.id]);
  await mediaFlows(A, [ravi.user.id]);
  if ((await A.page.getByTestId('call-screen').getAttribute('data-phase')) !== 'active') throw new Error('the call did not go on');
  log("Asha's socket dropped and came back: her page joined the call again and media still flows");

  await A.page.getByTestId('call-hangup').click();
  await A.page.getByTestId('call-screen').waitFor({ state: 'hidden' });
  await R.page.getByTestId('call-screen').getByTestId('call-status').getByText('Call ended').waitFor();
  await R.page.getByTestId('call-screen').waitFor({ state: 'hidden' });
  const shown = [];
  for (const person of [A, R, R2]) shown.push(await showsAnswered(person, 'video'));
  log(`Asha hung up; every chat shows the answered call: ${shown.join(', ')}`);

  await A.page.getByTestId('menu-button').click();
  await A.page.getByTestId('menu-calls').click();
  const row = A.page.getByTestId('call-history-row').first();
  await row.and(A.page.locator('[data-outcome="answered"]')).waitFor();
  if (!(await row.innerText()).includes(ravi.user.name)) throw new Error('the Calls view does not name Ravi');
  log('the Calls view lists the call with Ravi');
  await A.page.locator('#calls-close').click();
  for (const person of [A, R, R2]) await person.context.close();

  await groupCall(browser, people);
}

async function groupCall(browser, people) {
  const asha = await register('Asha Group');
  const ravi = await register('Ravi Group');
  const kiran = await register('Kiran Group');
  const name = 'Call crew';
  await api('POST', '/api/chats', asha.token, { type: 'group', name, user_ids: [ravi.user.id, kiran.user.id] });
  const A = await callerPage(browser, 'Asha (group)', asha, name);
  const R = await callerPage(browser, 'Ravi (group)', ravi, name);
  const K = await callerPage(browser, 'Kiran (group)', kiran, name, { viewport: { width: 390, height: 844 } });
  people.push(A, R, K);

  await A.page.getByTestId('call-video-button').click();
  for (const callee of [R, K]) {
    await callee.page.getByTestId('incoming-call-what').getByText(`Group video call · ${name}`).waitFor();
    await callee.page.getByTestId('call-accept').click();
  }
  const everyone = [
    [A, asha],
    [R, ravi],
    [K, kiran],
  ];
  for (const [person, me] of everyone) {
    const others = everyone.filter(([, who]) => who !== me).map(([, who]) => who.user.id);
    await mediaFlows(person, others);
    await tilesShowVideo(person, 2);
  }
  log('group call: each of the three decodes the two others\' video and audio');
  await R.page.getByTestId('call-hangup').click();
  await A.page.getByTestId('call-tile').nth(1).waitFor({ state: 'detached' });
  await A.page.getByTestId('call-hangup').click();
  for (const person of [A, R, K]) await showsAnswered(person, 'video');
  log('Ravi left (his tile went), Asha hung up: the group shows the answered call');
}

async function outcomes(browser, people) {
  const asha = await register('Asha Outcomes');
  const ravi = await register('Ravi Outcomes');
  const kiran = await register('Kiran Outcomes');
  await api('POST', '/api/chats', asha.token, { type: 'direct', user_ids: [ravi.user.id] });
  await api('POST', '/api/chats', kiran.token, { type: 'direct', user_ids: [ravi.user.id] });
  const A = await callerPage(browser, 'Asha', asha, ravi.user.name);
  const R = await callerPage(browser, 'Ravi', ravi, asha.user.name);
  people.push(A, R);
  const status = (person) => person.page.getByTestId('call-screen').getByTestId('call-status');

  // Nobody answers: the server's ring timeout ends it.
  await A.page.getByTestId('call-voice-button').click();
  await R.page.getByTestId('incoming-call-what').getByText('Incoming voice call').waitFor();
  await status(A).getByText('No answer').waitFor({ timeout: CONNECT_TIMEOUT });
  await R.page.getByTestId('incoming-call').waitFor({ state: 'hidden' });
  await callRecord(A.page).and(A.page.locator('[data-outcome="missed"]')).getByText('Voice call · No answer').waitFor();
  await callRecord(R.page).and(R.page.locator('[data-outcome="missed"]')).getByText('Missed voice call').waitFor();
  await chatItem(R.page, asha.user.name).getByText('Missed voice call').waitFor();
  log('unanswered: Asha sees "No answer", Ravi stops ringing and his chat says "Missed voice call"');
  await A.page.getByTestId('call-screen').waitFor({ state: 'hidden' });

  // Declined.
  await A.page.getByTestId('call-video-button').click();
  await R.page.getByTestId('call-decline').click();
  await status(A).getByText('Declined').waitFor();
  await callRecord(R.page).and(R.page.locator('[data-outcome="declined"]')).getByText('Video call · Declined').waitFor();
  log('declined: Asha sees "Declined", both chats record it');
  await A.page.getByTestId('call-screen').waitFor({ state: 'hidden' });

  // Cancelled while it rings: Ravi stops ringing, and it is a missed call.
  await A.page.getByTestId('call-voice-button').click();
  await R.page.getByTestId('incoming-call-what').getByText('Incoming voice call').waitFor();
  await status(A).getByText('Ringing…').waitFor();
  await A.page.getByTestId('call-hangup').click();
  await A.page.getByTestId('call-screen').waitFor({ state: 'hidden' });
  await R.page.getByTestId('incoming-call').waitFor({ state: 'hidden' });
  await R.page.getByTestId('call-record').and(R.page.locator('[data-outcome="missed"]')).nth(1).waitFor();
  log('cancelled while ringing: Ravi stops ringing, a second missed call in his chat');

  // Busy: Ravi is in a call with Kiran.
  const K = await callerPage(browser, 'Kiran', kiran, ravi.user.name);
  people.push(K);
  await K.page.getByTestId('call-voice-button').click();
  await R.page.getByTestId('incoming-call-name').getByText(kiran.user.name, { exact: true }).waitFor();
  await R.page.getByTestId('call-accept').click();
  await mediaFlows(K, [ravi.user.id], { video: false });
  await A.page.getByTestId('call-voice-button').click();
  await status(A).getByText('Busy').waitFor();
  log('busy: Ravi is in a call with Kiran, Asha sees "Busy"');
  await K.page.getByTestId('call-hangup').click();
  await R.page.getByTestId('call-screen').waitFor({ state: 'hidden' });
  await showsAnswered(K, 'voice');
}

async function relay(browser, people, refused) {
  const asha = await register(refused ? 'Asha Refused' : 'Asha Relay');
  const ravi = await register(refused ? 'Ravi Refused' : 'Ravi Relay');
  await api('POST', '/api/chats', asha.token, { type: 'direct', user_ids: [ravi.user.id] });
  const servers = await api('GET', '/api/calls/ice-servers', asha.token);
  if (!servers.ice_servers.some((s) => s.urls.some((u) => u.startsWith('turn')) && s.username && s.credential)) {
    throw new Error(`the server hands out no TURN credentials: ${JSON.stringify(servers)}`);
  }
  const A = await callerPage(browser, 'Asha', asha, ravi.user.name, { relayOnly: true });
  const R = await callerPage(browser, 'Ravi', ravi, asha.user.name, { relayOnly: true });
  people.push(A, R);
  await A.page.getByTestId('call-video-button').click();
  await R.page.getByTestId('call-accept').click();
  if (refused) {
    for (const person of [A, R]) {
      await person.page.getByTestId('call-screen').getByTestId('call-status').getByText('Could not connect').waitFor({ timeout: CONNECT_TIMEOUT });
    }
    log('with credentials the TURN server refuses, both pages say the call could not connect');
    await A.page.getByTestId('call-hangup').click();
    return;
  }
  const atAsha = await mediaFlows(A, [ravi.user.id]);
  const atRavi = await mediaFlows(R, [asha.user.id]);
  for (const [who, seen] of [
    ['Asha', atAsha[ravi.user.id]],
    ['Ravi', atRavi[asha.user.id]],
  ]) {
    if (seen.localType !== 'relay') throw new Error(`${who}'s connection does not go through the relay: ${JSON.stringify(seen)}`);
  }
  log('relay only: both connections use a relay candidate and video and audio flow');
  await A.page.getByTestId('call-hangup').click();
  await showsAnswered(R, 'video');
}

/** A relayed call whose relays go away mid-call carries on after an ICE restart. */
async function networkChange(browser, people) {
  const asha = await register('Asha Roams');
  const ravi = await register('Ravi Roams');
  await api('POST', '/api/chats', asha.token, { type: 'direct', user_ids: [ravi.user.id] });
  const A = await callerPage(browser, 'Asha', asha, ravi.user.name, { relayOnly: true });
  const R = await callerPage(browser, 'Ravi', ravi, asha.user.name, { relayOnly: true });
  people.push(A, R);
  await A.page.getByTestId('call-video-button').click();
  await R.page.getByTestId('call-accept').click();
  const before = { [A.label]: (await mediaFlows(A, [ravi.user.id]))[ravi.user.id], [R.label]: (await mediaFlows(R, [asha.user.id]))[asha.user.id] };
  log('the relay goes away now');
  for (const person of [A, R]) {
    await person.page.getByTestId('call-screen').getByTestId('call-status').getByText('Reconnecting…').waitFor({ timeout: CONNECT_TIMEOUT });
  }
  log('both pages say the call is reconnecting');
  for (const [person, other] of [
    [A, ravi],
    [R, asha],
  ]) {
    const deadline = Date.now() + CONNECT_TIMEOUT;
    for (;;) {
      const now = (await receiving(person.page))[other.user.id];
      if (now?.state === 'connected' && now.ufrag !== before[person.label].ufrag) break;
      if (Date.now() > deadline) throw new Error(`${person.label}: no ICE restart brought the call back: ${JSON.stringify({ before: before[person.label], now })}`);
      await person.page.waitForTimeout(250);
    }
    const after = (await mediaFlows(person, [other.user.id]))[other.user.id];
    if (after.localType !== 'relay') throw new Error(`${person.label}: after the restart the call does not go through the relay: ${JSON.stringify(after)}`);
    await person.page.getByTestId('call-screen').getByTestId('call-status').getByText('Reconnecting…').waitFor({ state: 'hidden' });
  }
  log('after an ICE restart on both sides, video and audio flow again through new relays');
  await A.page.getByTestId('call-hangup').click();
  await showsAnswered(R, 'video');
}

await runTest(
  'calls',
  async (browser, people) => {
    if (PART === 'answered') await answered(browser, people);
    else if (PART === 'outcomes') await outcomes(browser, people);
    else if (PART === 'relay') await relay(browser, people, false);
    else if (PART === 'relay-refused') await relay(browser, people, true);
    else if (PART === 'network-change') await networkChange(browser, people);
    else throw new Error(`unknown CALLS_PART ${PART}`);
  },
  { args: FAKE_MEDIA_ARGS },
);

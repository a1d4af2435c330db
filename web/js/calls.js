// Voice and video calls: the `call_*` frames of docs/protocol.md in and out, and
// what this device is doing — ringing, calling, in a call — with its microphone
// and camera (js/callmedia.js) and one connection per other participant
// (js/callpeers.js). What it shows is js/callview.js's; the call records the
// server writes when a call ends come as ordinary messages.
//
// `window.chitchatCalls` lists the open call's RTCPeerConnections by user id,
// for diagnostics (chrome://webrtc-internals gives the same) and browser tests
// that read `getStats()`; it holds nothing else.

import { getIceServers } from './api.js';
import { LocalMedia, canShareScreen } from './callmedia.js';
import { PeerLink } from './callpeers.js';
import { Ringtone } from './ringtone.js';
import { incomingCallText } from './callrecord.js';

/** @typedef {'voice' | 'video'} CallMedia */
/** @typedef {import('./types.js').Frame} Frame */
/** @typedef {import('./callpeers.js').PeerState} PeerState */
/** @typedef {import('./callstats.js').Quality} Quality */

/** localStorage key: "on" sends every call through a TURN relay (`iceTransportPolicy: "relay"`). */
export const RELAY_ONLY_KEY = 'chitchat.calls.relay';
/** How long the end of a call ("Declined", "No answer", …) stays on screen. */
const ENDED_SHOWN_MS = 2500;
/** How long "Answered on another device" stays on screen. */
const ANSWERED_ELSEWHERE_SHOWN_MS = 2500;
/** How often the connections' quality is read. */
const STATS_EVERY_MS = 2000;

/** What the end of a call says, by the server's `reason`. */
const ENDED_TEXT = {
  declined: 'Declined',
  missed: 'No answer',
  busy: 'Busy',
  hangup: 'Call ended',
  left: 'You were disconnected from the call',
  answered_elsewhere: 'Answered on another device',
};

/**
 * Someone the call shows.
 * @typedef {object} Person
 * @property {string} id
 * @property {string} name
 */

/**
 * A call ringing here.
 * @typedef {object} Ringing
 * @property {string} callId
 * @property {string} roomId
 * @property {CallMedia} media
 * @property {Person} caller
 * @property {string | null} groupName  the group's name for a group call
 */

/**
 * What the call screen shows.
 * @typedef {object} CallScreen
 * @property {CallMedia} media
 * @property {string} title      the other person, or the group
 * @property {'calling' | 'ringing' | 'joining' | 'active' | 'ended'} phase
 * @property {string} status     "Calling…", "Ringing…", "Connecting…", "Could not connect", "Declined" …; '' when all is well
 * @property {number | null} answeredAt  Date.now() of the first answer
 * @property {Array<{ person: Person, stream: MediaStream | null, state: PeerState | 'joined', quality: Quality }>} tiles
 * @property {MediaStream} preview
 * @property {boolean} muted
 * @property {boolean} cameraOff
 * @property {boolean} canSwitchCamera
 * @property {boolean} canShareScreen
 * @property {boolean} sharing
 */

/**
 * @typedef {object} CallViewPort
 * @property {(ringing: Ringing) => void} showIncoming
 * @property {(text: string) => void} incomingNote   the ringing ended with a word to show briefly
 * @property {() => void} hideIncoming
 * @property {(screen: CallScreen) => void} render   shows (or updates) the call screen
 * @property {() => void} hideCall
 */

/**
 * @typedef {object} CallDeps
 * @property {(frame: Frame) => boolean} send  over the socket; false when it is closed
 * @property {() => string} myId
 * @property {(roomId: string) => { title: string, isGroup: boolean } | null} chat
 * @property {(userId: string, fallback: string) => string} name
 * @property {(text: string) => void} toast
 * @property {(title: string, body: string) => () => void} notifyRinging  a notification while the tab is hidden; the function closes it
 */

/** The call this device is in (or calling out with). */
class ActiveCall {
  /**
   * @param {string} roomId
   * @param {CallMedia} media
   * @param {boolean} outgoing
   * @param {(track: MediaStreamTrack | null) => void} onVideoTrack
   */
  constructor(roomId, media, outgoing, onVideoTrack) {
    /** @type {string | null} known once the server has answered `call_invite` */
    this.callId = null;
    this.roomId = roomId;
    this.media = media;
    this.outgoing = outgoing;
    /** @type {CallScreen['phase']} */
    this.phase = outgoing ? 'calling' : 'joining';
    /** @type {string | null} an outcome or a problem to show */
    this.note = null;
    /** @type {number | null} */
    this.answeredAt = null;
    this.local = new LocalMedia(onVideoTrack);
    /** The others who joined, by id, in order. @type {Map<string, Person>} */
    this.members = new Map();
    /** The connections made, by the other's id. @type {Map<string, PeerLink>} */
    this.peers = new Map();
    /** Every connection made or being made (waiting for the ICE servers), by the other's id. @type {Map<string, Promise<PeerLink>>} */
    this.making = new Map();
    /** @type {Promise<RTCConfiguration>} */
    this.config = Promise.resolve({});
    /** Id of the `call_invite` sent, until `call_ringing` answers it. @type {string | null} */
    this.inviteId = null;
    /** Id of the `call_accept` that rejoins after a new socket, until answered. @type {string | null} */
    this.rejoinId = null;
    /** @type {ReturnType<typeof setInterval> | undefined} */
    this.ticker = undefined;
  }
}

export class Calls {
  /**
   * @param {CallDeps} deps
   * @param {CallViewPort} view
   */
  constructor(deps, view) {
    this.deps = deps;
    this.view = view;
    this.ringtone = new Ringtone();
    /** @type {Ringing | null} */
    this.ringing = null;
    /** @type {ActiveCall | null} */
    this.call = null;
    /** @type {ReturnType<typeof setTimeout> | undefined} */
    this.closeTimer = undefined;
    /** Closes the notification of the call ringing here, if one shows. @type {() => void} */
    this.closeRingNote = () => undefined;
    /** Most people in a call, from the server's config (null: not said). @type {number | null} */
    this.maxParticipants = null;
    /** Ids of the `call_invite`s hung up before the server named their call: hung up as soon as it does. @type {Set<string>} */
    this.cancelledInvites = new Set();
    /** Ids of the frames sent for the current call (their errors are the call's). @type {Set<string>} */
    this.sentIds = new Set();
    /** @type {Map<string, RTCPeerConnection>} for diagnostics (see the top of this file) */
    this.connections = new Map();
    Object.defineProperty(window, 'chitchatCalls', {
      value: Object.freeze({ connections: this.connections }),
      configurable: true,
    });
  }

  /** Whether this device is in a call or calling. */
  get busy() {
    return this.call !== null;
  }

  // ------------------------------------------------------------ what the user does

  /**
   * Calls the members of a chat.
   * @param {string} roomId
   * @param {CallMedia} media
   */
  async start(roomId, media) {
    if (this.call) {
      this.deps.toast('You are already in a call.');
      return;
    }
    this.dismissRinging();
    const call = this.newCall(roomId, media, true);
    this.show();
    if ((await this.openMedia(call)) !== 'open') return;
    const id = crypto.randomUUID();
    call.inviteId = id;
    this.sentIds.add(id);
    if (!this.deps.send({ id, type: 'call_invite', room_id: roomId, payload: { media } })) {
      this.finish(call, 'You are offline. Try again once connected.');
    }
  }

  /** Answers the call ringing here. */
  async accept() {
    const ringing = this.ringing;
    if (!ringing || this.call) return;
    this.dismissRinging();
    const call = this.newCall(ringing.roomId, ringing.media, false);
    call.callId = ringing.callId;
    call.members.set(ringing.caller.id, ringing.caller);
    this.show();
    const media = await this.openMedia(call);
    // Without a microphone (or camera) it cannot be answered here: declined, so that the caller knows.
    if (media === 'refused') this.deps.send({ type: 'call_decline', room_id: call.roomId, payload: { call_id: ringing.callId } });
    if (media === 'open') this.sendFor(call, 'call_accept', {});
  }

  /** Declines the call ringing here (it stops ringing on the other devices too). */
  decline() {
    const ringing = this.ringing;
    if (!ringing) return;
    this.dismissRinging();
    this.deps.send({ id: crypto.randomUUID(), type: 'call_decline', room_id: ringing.roomId, payload: { call_id: ringing.callId } });
  }

  /** Leaves the call, or cancels it while it rings. */
  hangup() {
    const call = this.call;
    if (!call) return;
    if (call.callId) this.sendFor(call, 'call_hangup', {});
    else if (call.inviteId) this.cancelledInvites.add(call.inviteId);
    this.finish(call, null);
  }

  toggleMute() {
    const call = this.call;
    if (!call) return;
    call.local.setMuted(!call.local.muted);
    this.show();
  }

  toggleCamera() {
    const call = this.call;
    if (!call) return;
    call.local.setCameraOff(!call.local.cameraOff);
    this.show();
  }

  async switchCamera() {
    const call = this.call;
    if (!call) return;
    await call.local.switchCamera().catch(() => this.deps.toast('The other camera could not be opened.'));
    this.show();
  }

  async toggleScreenShare() {
    const call = this.call;
    if (!call) return;
    if (call.local.screen) call.local.stopSharing();
    else await call.local.shareScreen().catch(() => false);
    this.show();
  }

  /**
   * The server's limits: a group with more members than this cannot call.
   * @param {number | undefined} max
   */
  setMaxParticipants(max) {
    this.maxParticipants = typeof max === 'number' && max >= 2 ? max : null;
  }

  /**
   * Whether a chat of `members` people may call (unknown limit: yes, and the
   * server's refusal says why).
   * @param {number} members
   */
  allows(members) {
    return this.maxParticipants === null || members <= this.maxParticipants;
  }

  /**
   * A new socket is caught up: a call this device was in is joined again (the
   * server keeps a dropped device's place for a while), and its connections
   * that did not survive are offered anew.
   */
  socketReady() {
    const call = this.call;
    if (!call || !call.callId || call.phase !== 'active') return;
    const id = crypto.randomUUID();
    call.rejoinId = id;
    this.sentIds.add(id);
    this.deps.send({ id, type: 'call_accept', room_id: call.roomId, payload: { call_id: call.callId } });
  }

  /** The session ended: everything stops. */
  clear() {
    this.dismissRinging();
    this.hangup();
    this.cancelledInvites.clear();
    clearTimeout(this.closeTimer);
    this.view.hideCall();
  }

  // ------------------------------------------------------------ frames

  /**
   * An `error` frame: when it answers one of this module's frames, the call
   * shows the server's words.
   * @param {string | undefined} frameId
   * @param {string} reason
   * @returns {boolean} whether it was this module's
   */
  refused(frameId, reason) {
    const call = this.call;
    if (!frameId || !call || !this.sentIds.has(frameId)) return false;
    this.sentIds.delete(frameId);
    // Refused to start, to join, or to rejoin: the call is over for this device.
    if (call.inviteId === frameId || call.rejoinId === frameId || call.phase === 'joining' || call.phase === 'calling') this.finish(call, reason);
    else this.deps.toast(reason);
    return true;
  }

  /**
   * One `call_*` frame.
   * @param {Frame} frame
   */
  handle(frame) {
    const payload = /** @type {any} */ (frame.payload) ?? {};
    const callId = typeof payload.call_id === 'string' ? payload.call_id : null;
    if (!callId) return;
    if (frame.type === 'call_invite') {
      this.ringIn(frame, payload, callId);
      return;
    }
    if (frame.type === 'call_ended' && this.ringing?.callId === callId) {
      const reason = String(payload.reason ?? '');
      this.stopRinging(reason === 'answered_elsewhere' ? ENDED_TEXT.answered_elsewhere : null);
      return;
    }
    if (frame.type === 'call_ringing' && frame.id && this.cancelledInvites.delete(frame.id)) {
      this.deps.send({ type: 'call_hangup', room_id: frame.room_id, payload: { call_id: callId } });
      return;
    }
    const call = this.call;
    if (!call) return;
    if (frame.type === 'call_ringing') {
      if (call.callId || frame.id !== call.inviteId) return;
      call.callId = callId;
      call.phase = 'ringing';
      this.show();
      return;
    }
    if (call.callId !== callId) return;
    const userId = typeof payload.user_id === 'string' ? payload.user_id : '';
    const from = typeof payload.from_user_id === 'string' ? payload.from_user_id : '';
    switch (frame.type) {
      case 'call_accept':
        this.joined(call, userId, Array.isArray(payload.participants) ? payload.participants.filter((/** @type {unknown} */ p) => typeof p === 'string') : []);
        break;
      case 'call_decline':
      case 'call_busy': {
        const busy = frame.type === 'call_busy';
        if (!this.isGroupCall(call)) {
          // A direct call is over (the server's `call_ended` says the same).
          if (call.phase !== 'active') this.finish(call, busy ? ENDED_TEXT.busy : ENDED_TEXT.declined);
        } else if (userId) {
          const name = this.deps.name(userId, 'Someone');
          this.deps.toast(busy ? `${name} is busy.` : `${name} declined.`);
        }
        break;
      }
      case 'call_offer':
        if (from && typeof payload.sdp === 'string') void this.peerFor(call, from).then((peer) => peer.takeOffer(payload.sdp)).catch(() => undefined);
        break;
      case 'call_answer':
        if (typeof payload.sdp === 'string') void call.making.get(from)?.then((peer) => peer.takeAnswer(payload.sdp)).catch(() => undefined);
        break;
      case 'call_ice': {
        const candidate = payload.candidate && typeof payload.candidate === 'object' && payload.candidate.candidate ? payload.candidate : null;
        void call.making.get(from)?.then((peer) => peer.takeCandidate(candidate)).catch(() => undefined);
        break;
      }
      case 'call_hangup':
        this.left(call, userId);
        break;
      case 'call_ended': {
        const reason = /** @type {keyof typeof ENDED_TEXT} */ (String(payload.reason ?? 'hangup'));
        this.finish(call, ENDED_TEXT[reason] ?? ENDED_TEXT.hangup);
        break;
      }
      default:
        break;
    }
  }

  // ------------------------------------------------------------ inside

  /**
   * @private
   * @param {ActiveCall} call
   * @param {string} type
   * @param {Record<string, unknown>} extra
   */
  sendFor(call, type, extra) {
    if (!call.callId) return false;
    const id = crypto.randomUUID();
    this.sentIds.add(id);
    return this.deps.send({ id, type, room_id: call.roomId, payload: { call_id: call.callId, ...extra } });
  }

  /**
   * @private
   * @param {string} roomId
   * @param {CallMedia} media
   * @param {boolean} outgoing
   */
  newCall(roomId, media, outgoing) {
    clearTimeout(this.closeTimer);
    this.sentIds.clear();
    const call = new ActiveCall(roomId, media, outgoing, (track) => {
      for (const peer of call.peers.values()) void peer.replaceVideo(track);
      this.show();
    });
    call.config = firstIceConfig();
    this.call = call;
    call.ticker = setInterval(() => this.tick(call), STATS_EVERY_MS);
    return call;
  }

  /**
   * Opens the microphone (and camera); the call ends with why when it cannot.
   * @private
   * @param {ActiveCall} call
   * @returns {Promise<'open' | 'refused' | 'gone'>}  gone: the call ended while the browser asked
   */
  async openMedia(call) {
    try {
      await call.local.open(call.media);
    } catch {
      if (this.call !== call) return 'gone';
      const what = call.media === 'video' ? 'camera and microphone' : 'microphone';
      this.finish(call, `The ${what} could not be used. Allow them for this site and try again.`);
      return 'refused';
    }
    if (this.call !== call) {
      call.local.close();
      return 'gone';
    }
    this.show();
    return 'open';
  }

  /**
   * Someone joined the call (this device, or another participant).
   * @private
   * @param {ActiveCall} call
   * @param {string} userId
   * @param {string[]} participants  everyone joined now
   */
  joined(call, userId, participants) {
    const me = this.deps.myId();
    call.answeredAt ??= Date.now();
    const wasJoining = call.phase === 'joining';
    call.phase = 'active';
    for (const id of participants) if (id !== me) this.addMember(call, id);
    if (userId && userId !== me) this.addMember(call, userId);
    // This device just joined (or rejoined): it offers to everyone already there,
    // anew on the connections that are not up.
    if (userId === me && (wasJoining || call.rejoinId)) {
      call.rejoinId = null;
      for (const id of participants) {
        if (id === me) continue;
        const known = call.peers.get(id);
        if (known) {
          if (known.state !== 'connected') void known.restart().catch(() => undefined);
          continue;
        }
        void this.peerFor(call, id)
          .then((peer) => peer.offer())
          .catch(() => undefined);
      }
    }
    this.show();
  }

  /**
   * @private
   * @param {ActiveCall} call
   * @param {string} userId
   */
  addMember(call, userId) {
    if (!call.members.has(userId)) call.members.set(userId, { id: userId, name: this.deps.name(userId, 'Someone') });
  }

  /**
   * Someone left: their tile and connection go.
   * @private
   * @param {ActiveCall} call
   * @param {string} userId
   */
  left(call, userId) {
    call.peers.get(userId)?.close();
    call.peers.delete(userId);
    call.making.delete(userId);
    call.members.delete(userId);
    this.connections.delete(userId);
    this.show();
  }

  /**
   * The connection to `userId`, made when first needed (once the ICE servers
   * are known). Frames for it that come meanwhile wait on the same promise, in order.
   * @private
   * @param {ActiveCall} call
   * @param {string} userId
   * @returns {Promise<PeerLink>}
   */
  peerFor(call, userId) {
    const known = call.making.get(userId);
    if (known) return known;
    this.addMember(call, userId);
    const making = call.config.then((config) => {
      const peer = new PeerLink(userId, config, call.local, {
        signal: (type, to, extra) => {
          if (this.call === call) this.sendFor(call, type, { to_user_id: to, ...extra });
        },
        changed: () => {
          if (this.call === call) this.show();
        },
        freshConfig: iceConfig,
      });
      if (this.call !== call || !call.making.has(userId)) peer.close(); // the call or the person left meanwhile
      else {
        call.peers.set(userId, peer);
        this.connections.set(userId, peer.pc);
      }
      return peer;
    });
    call.making.set(userId, making);
    return making;
  }

  /**
   * @private
   * @param {Frame} frame
   * @param {any} payload
   * @param {string} callId
   */
  ringIn(frame, payload, callId) {
    const caller = payload.caller ?? {};
    if (this.call || this.ringing || typeof frame.room_id !== 'string' || typeof caller.id !== 'string') return;
    const chat = this.deps.chat(frame.room_id);
    this.ringing = {
      callId,
      roomId: frame.room_id,
      media: payload.media === 'video' ? 'video' : 'voice',
      caller: { id: caller.id, name: this.deps.name(caller.id, typeof caller.display_name === 'string' ? caller.display_name : 'Someone') },
      groupName: chat?.isGroup ? chat.title : null,
    };
    this.view.showIncoming(this.ringing);
    this.ringtone.start();
    this.closeRingNote = this.deps.notifyRinging(this.ringing.caller.name, incomingCallText(this.ringing.media, this.ringing.groupName));
  }

  /**
   * The ringing here ends; `note` says why for a moment ("Answered on another device").
   * @private
   * @param {string | null} note
   */
  stopRinging(note) {
    this.ringtone.stop();
    this.closeRingNote();
    this.ringing = null;
    if (note) {
      this.view.incomingNote(note);
      clearTimeout(this.closeTimer);
      this.closeTimer = setTimeout(() => this.view.hideIncoming(), ANSWERED_ELSEWHERE_SHOWN_MS);
    } else {
      this.view.hideIncoming();
    }
  }

  /** @private */
  dismissRinging() {
    if (this.ringing) this.stopRinging(null);
    this.ringtone.stop();
    this.closeRingNote();
  }

  /**
   * @private
   * @param {ActiveCall} call
   */
  isGroupCall(call) {
    return this.deps.chat(call.roomId)?.isGroup ?? false;
  }

  /**
   * Ends the call here: media and connections closed; `note` (the outcome, or
   * a problem) stays on screen for a moment.
   * @private
   * @param {ActiveCall} call
   * @param {string | null} note
   */
  finish(call, note) {
    if (this.call !== call) return;
    clearInterval(call.ticker);
    for (const peer of call.peers.values()) peer.close();
    call.peers.clear();
    call.making.clear();
    this.connections.clear();
    call.local.close();
    call.phase = 'ended';
    call.note = note;
    this.call = null;
    if (!note) {
      this.view.hideCall();
      return;
    }
    this.view.render(this.screenOf(call));
    clearTimeout(this.closeTimer);
    this.closeTimer = setTimeout(() => {
      if (!this.call) this.view.hideCall();
    }, ENDED_SHOWN_MS);
  }

  /**
   * Every few seconds: the connections' quality.
   * @private
   * @param {ActiveCall} call
   */
  tick(call) {
    for (const peer of call.peers.values()) void peer.measure().catch(() => undefined);
  }

  /** @private */
  show() {
    if (this.call) this.view.render(this.screenOf(this.call));
  }

  /**
   * @private
   * @param {ActiveCall} call
   * @returns {CallScreen}
   */
  screenOf(call) {
    const chat = this.deps.chat(call.roomId);
    const others = [...call.members.values()];
    const title = chat?.title ?? others[0]?.name ?? 'Call';
    const tiles = others.map((person) => {
      const peer = call.peers.get(person.id);
      return { person, stream: peer?.stream ?? null, state: peer?.state ?? /** @type {'joined'} */ ('joined'), quality: peer?.quality ?? 'unknown' };
    });
    return {
      media: call.media,
      title,
      phase: call.phase,
      status: call.note ?? statusOf(call, tiles.map((t) => t.state)),
      answeredAt: call.answeredAt,
      tiles,
      preview: call.local.stream,
      muted: call.local.muted,
      cameraOff: call.local.cameraOff,
      canSwitchCamera: call.local.canSwitchCamera,
      canShareScreen: call.media === 'video' && canShareScreen(),
      sharing: !!call.local.screen,
    };
  }
}

/**
 * The line under the call's title.
 * @param {ActiveCall} call
 * @param {Array<PeerState | 'joined'>} states
 */
function statusOf(call, states) {
  if (call.phase === 'calling') return 'Calling…';
  if (call.phase === 'ringing') return 'Ringing…';
  if (call.phase === 'joining') return 'Connecting…';
  if (states.length > 0 && states.every((s) => s === 'failed')) return 'Could not connect';
  if (states.some((s) => s === 'reconnecting')) return 'Reconnecting…';
  if (states.length === 0 || states.some((s) => s === 'connecting' || s === 'joined')) return 'Connecting…';
  return '';
}

/**
 * The STUN and TURN servers for a call, relayed only when the device is set so.
 * Rejects when the server cannot be asked.
 * @returns {Promise<RTCConfiguration>}
 */
async function iceConfig() {
  return { ...relayPolicy(), iceServers: (await getIceServers()).ice_servers };
}

/**
 * The configuration a call starts with: without an answer from the server, no
 * ICE servers (direct connections still work on one network, unless relayed only).
 * @returns {Promise<RTCConfiguration>}
 */
function firstIceConfig() {
  return iceConfig().catch(() => ({ ...relayPolicy(), iceServers: [] }));
}

/** `iceTransportPolicy: "relay"` when this device sends calls only through a relay. @returns {RTCConfiguration} */
function relayPolicy() {
  try {
    return localStorage.getItem(RELAY_ONLY_KEY) === 'on' ? { iceTransportPolicy: 'relay' } : {};
  } catch {
    return {};
  }
}

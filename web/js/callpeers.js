// The connections of a call: a full mesh, one RTCPeerConnection per other
// participant. The device that joined last offers to each one already in the
// call (docs/protocol.md); the other side answers. Candidates trickle through
// `call_ice` (a null candidate ends them). When a connection fails or stays
// disconnected, the side that offered restarts ICE (`restartIce()` and a new
// offer) so that a network change does not end the call. No DOM.

import { qualityBetween, readStats } from './callstats.js';

/** A connection still disconnected after this long gets an ICE restart. */
const DISCONNECTED_RESTART_MS = 3000;
/** A connection not up this long after an offer or answer (a first one, or a restart's) gives up or restarts. */
const CONNECT_TIMEOUT_MS = 15_000;
/** ICE restarts tried in a row before a connection is given up as failed. */
const MAX_RESTARTS = 2;

/** @typedef {import('./callstats.js').Quality} Quality */
/** @typedef {import('./callstats.js').StatsReading} StatsReading */
/** @typedef {'connecting' | 'connected' | 'reconnecting' | 'failed'} PeerState */

/**
 * @typedef {object} PeerEvents
 * @property {(type: 'call_offer' | 'call_answer' | 'call_ice', toUserId: string, payload: Record<string, unknown>) => void} signal
 * @property {(peer: PeerLink) => void} changed  its state, stream or quality changed
 * @property {() => Promise<RTCConfiguration>} freshConfig  the ICE servers read anew: TURN logins expire (TURN_TTL), and an ICE restart may come hours into a call
 */

/** The connection to one other participant. */
export class PeerLink {
  /**
   * @param {string} userId  the other participant
   * @param {RTCConfiguration} config
   * @param {import('./callmedia.js').LocalMedia} local
   * @param {PeerEvents} events
   */
  constructor(userId, config, local, events) {
    this.userId = userId;
    this.events = events;
    this.pc = new RTCPeerConnection(config);
    /** What arrives from them (audio and video). */
    this.stream = new MediaStream();
    /** @type {PeerState} */
    this.state = 'connecting';
    /** @type {Quality} */
    this.quality = 'unknown';
    /** @type {StatsReading | null} */
    this.lastReading = null;
    /** This side made the first offer, so it restarts ICE. */
    this.offerer = false;
    this.restarts = 0;
    this.everConnected = false;
    /** Candidates that came before the remote description. @type {RTCIceCandidateInit[]} */
    this.earlyCandidates = [];
    /** @type {ReturnType<typeof setTimeout> | undefined} */
    this.restartTimer = undefined;
    /** @type {ReturnType<typeof setTimeout> | undefined} */
    this.connectTimer = undefined;
    this.closed = false;

    if (local.audio) this.pc.addTrack(local.audio, local.stream);
    /** The video sender, whose track is replaced on a camera switch or a screen share. @type {RTCRtpSender | null} */
    this.videoSender = local.video ? this.pc.addTrack(local.video, local.stream) : null;

    this.pc.addEventListener('icecandidate', (event) => {
      this.events.signal('call_ice', this.userId, { candidate: event.candidate ? event.candidate.toJSON() : null });
    });
    this.pc.addEventListener('track', (event) => {
      if (!this.stream.getTracks().includes(event.track)) this.stream.addTrack(event.track);
      this.events.changed(this);
    });
    this.pc.addEventListener('connectionstatechange', () => this.connectionChanged());
  }

  /** Offers to them: this device has just joined. */
  async offer() {
    this.offerer = true;
    await this.sendOffer(false);
  }

  /** Offers anew with an ICE restart: this device rejoined the call after losing its socket. */
  async restart() {
    this.offerer = true;
    this.restarts = 0;
    await this.sendOffer(true);
  }

  /**
   * Their offer (the first, or an ICE restart's): answered.
   * @param {string} sdp
   */
  async takeOffer(sdp) {
    // A later offer is an ICE restart's: this side gathers anew too.
    if (this.everConnected) await this.useFreshConfig();
    await this.pc.setRemoteDescription({ type: 'offer', sdp });
    await this.flushCandidates();
    const answer = await this.pc.createAnswer();
    await this.pc.setLocalDescription(answer);
    this.events.signal('call_answer', this.userId, { sdp: this.pc.localDescription?.sdp ?? answer.sdp ?? '' });
    this.armConnectTimer();
  }

  /** @param {string} sdp */
  async takeAnswer(sdp) {
    if (this.pc.signalingState !== 'have-local-offer') return;
    await this.pc.setRemoteDescription({ type: 'answer', sdp });
    await this.flushCandidates();
  }

  /** @param {RTCIceCandidateInit | null} candidate  null: no more candidates */
  async takeCandidate(candidate) {
    if (!this.pc.remoteDescription) {
      if (candidate) this.earlyCandidates.push(candidate);
      return;
    }
    await this.pc.addIceCandidate(candidate ?? undefined).catch(() => undefined);
  }

  /** @param {MediaStreamTrack | null} track */
  async replaceVideo(track) {
    await this.videoSender?.replaceTrack(track).catch(() => undefined);
  }

  /** Reads the statistics: the quality, and what tests and diagnostics read. */
  async measure() {
    if (this.closed) return;
    const reading = readStats(await this.pc.getStats());
    const quality = this.state === 'connected' ? qualityBetween(this.lastReading, reading) : 'unknown';
    this.lastReading = reading;
    if (quality !== this.quality) {
      this.quality = quality;
      this.events.changed(this);
    }
  }

  close() {
    this.closed = true;
    clearTimeout(this.restartTimer);
    clearTimeout(this.connectTimer);
    this.pc.close();
  }

  /** @private @param {boolean} iceRestart */
  async sendOffer(iceRestart) {
    if (iceRestart) {
      await this.useFreshConfig();
      this.pc.restartIce();
    }
    const offer = await this.pc.createOffer({ iceRestart });
    await this.pc.setLocalDescription(offer);
    this.events.signal('call_offer', this.userId, { sdp: this.pc.localDescription?.sdp ?? offer.sdp ?? '' });
    this.armConnectTimer();
  }

  /** @private */
  async useFreshConfig() {
    try {
      this.pc.setConfiguration(await this.events.freshConfig());
    } catch {
      // The servers could not be read: the logins in use may still be valid.
    }
  }

  /** @private */
  async flushCandidates() {
    const early = this.earlyCandidates.splice(0);
    for (const candidate of early) await this.pc.addIceCandidate(candidate).catch(() => undefined);
  }

  /** @private */
  armConnectTimer() {
    clearTimeout(this.connectTimer);
    this.connectTimer = setTimeout(() => {
      if (this.closed || this.pc.connectionState === 'connected') return;
      this.restartOrFail();
    }, CONNECT_TIMEOUT_MS);
  }

  /** @private */
  connectionChanged() {
    if (this.closed) return;
    const state = this.pc.connectionState;
    clearTimeout(this.restartTimer);
    if (state === 'connected') {
      clearTimeout(this.connectTimer);
      this.restarts = 0;
      this.everConnected = true;
      this.setState('connected');
    } else if (state === 'disconnected') {
      this.setState('reconnecting');
      this.restartTimer = setTimeout(() => {
        if (!this.closed && this.pc.connectionState === 'disconnected') this.restartOrFail();
      }, DISCONNECTED_RESTART_MS);
    } else if (state === 'failed') {
      this.restartOrFail();
    }
  }

  /**
   * A connection that never came up could not connect; one that was up gets
   * ICE restarts (made by the side that offered; the other waits for its offer).
   * @private
   */
  restartOrFail() {
    if (!this.everConnected || this.restarts >= MAX_RESTARTS) {
      this.setState('failed');
      return;
    }
    this.restarts += 1;
    this.setState('reconnecting');
    if (this.offerer) void this.sendOffer(true).catch(() => this.setState('failed'));
    else this.armConnectTimer();
  }

  /** @private @param {PeerState} state */
  setState(state) {
    if (this.state === state) return;
    this.state = state;
    if (state !== 'connected') this.quality = 'unknown';
    this.events.changed(this);
  }
}

// What a call looks like: the incoming-call dialog (the caller's name and
// avatar, voice or video, Accept and Decline) and the call screen (the others'
// video tiles with their connection quality, the own preview, the duration,
// mute, camera, switch camera, share screen, hang up). Both are modal dialogs:
// Escape does not close them, only their buttons do. Fed by js/calls.js.

import { avatar, byId, el, icon } from './dom.js';
import { formatDuration, incomingCallText } from './callrecord.js';

/** @typedef {import('./calls.js').CallScreen} CallScreen */
/** @typedef {import('./calls.js').Ringing} Ringing */

/** What the quality indicator says. */
const QUALITY_TEXT = { good: 'Good connection', fair: 'Fair connection', poor: 'Poor connection', unknown: 'Connection not measured yet' };
/** What a tile says under the name while its connection is not up. */
const TILE_STATE_TEXT = { joined: 'Connecting…', connecting: 'Connecting…', reconnecting: 'Reconnecting…', failed: 'Could not connect', connected: '' };

/**
 * @typedef {object} CallViewActions
 * @property {() => void} accept
 * @property {() => void} decline
 * @property {() => void} hangup
 * @property {() => void} toggleMute
 * @property {() => void} toggleCamera
 * @property {() => void} switchCamera
 * @property {() => void} toggleScreenShare
 */

export class CallView {
  /** @param {CallViewActions} actions */
  constructor(actions) {
    this.incoming = /** @type {HTMLDialogElement} */ (byId('incoming-call'));
    this.incomingAvatar = byId('incoming-call-avatar');
    this.incomingName = byId('incoming-call-name');
    this.incomingWhat = byId('incoming-call-what');
    this.incomingNoteText = byId('incoming-call-note');
    this.incomingButtons = byId('incoming-call-buttons');
    this.screen = /** @type {HTMLDialogElement} */ (byId('call-screen'));
    this.title = byId('call-title');
    this.status = byId('call-status');
    this.duration = /** @type {HTMLTimeElement} */ (byId('call-duration'));
    this.tiles = byId('call-tiles');
    this.preview = /** @type {HTMLVideoElement} */ (byId('call-preview'));
    this.muteButton = /** @type {HTMLButtonElement} */ (byId('call-mute'));
    this.cameraButton = /** @type {HTMLButtonElement} */ (byId('call-camera'));
    this.switchButton = /** @type {HTMLButtonElement} */ (byId('call-switch-camera'));
    this.shareButton = /** @type {HTMLButtonElement} */ (byId('call-share-screen'));
    this.hangupButton = /** @type {HTMLButtonElement} */ (byId('call-hangup'));
    /** @type {Map<string, HTMLLIElement>} */
    this.tileNodes = new Map();
    /** @type {number | null} */
    this.answeredAt = null;
    /** @type {ReturnType<typeof setInterval> | undefined} */
    this.clock = undefined;

    byId('call-accept').addEventListener('click', () => actions.accept());
    byId('call-decline').addEventListener('click', () => actions.decline());
    this.hangupButton.addEventListener('click', () => actions.hangup());
    this.muteButton.addEventListener('click', () => actions.toggleMute());
    this.cameraButton.addEventListener('click', () => actions.toggleCamera());
    this.switchButton.addEventListener('click', () => actions.switchCamera());
    this.shareButton.addEventListener('click', () => actions.toggleScreenShare());
    for (const dialog of [this.incoming, this.screen]) dialog.addEventListener('cancel', (event) => event.preventDefault());
    this.switchButton.append(icon('cameraSwitch'));
    this.shareButton.append(icon('screenShare'));
    this.hangupButton.append(icon('callEnd'));
  }

  /** @param {Ringing} ringing */
  showIncoming(ringing) {
    this.incomingAvatar.replaceChildren(avatar(ringing.caller.name, ringing.caller.id, 'avatar--call'));
    this.incomingName.textContent = ringing.caller.name;
    this.incomingWhat.textContent = incomingCallText(ringing.media, ringing.groupName);
    this.incoming.dataset.media = ringing.media;
    this.incoming.dataset.state = 'ringing';
    this.incomingNoteText.hidden = true;
    this.incomingButtons.hidden = false;
    if (!this.incoming.open) this.incoming.showModal();
    byId('call-accept').focus();
  }

  /** @param {string} text */
  incomingNote(text) {
    this.incoming.dataset.state = 'ended';
    this.incomingNoteText.textContent = text;
    this.incomingNoteText.hidden = false;
    this.incomingButtons.hidden = true;
  }

  hideIncoming() {
    if (this.incoming.open) this.incoming.close();
    delete this.incoming.dataset.state;
  }

  /** @param {CallScreen} call */
  render(call) {
    this.screen.dataset.media = call.media;
    this.screen.dataset.phase = call.phase;
    if (this.title.textContent !== call.title) this.title.textContent = call.title;
    if (this.status.textContent !== call.status) this.status.textContent = call.status;
    this.status.hidden = !call.status;
    this.renderTiles(call);
    if (this.preview.srcObject !== call.preview) this.preview.srcObject = call.preview;
    this.preview.hidden = call.media !== 'video' || call.phase === 'ended';
    this.preview.classList.toggle('call-preview--off', call.cameraOff && !call.sharing);
    this.setToggle(this.muteButton, call.muted, call.muted ? 'micOff' : 'mic', call.muted ? 'Unmute microphone' : 'Mute microphone');
    this.setToggle(this.cameraButton, call.cameraOff, call.cameraOff ? 'videocamOff' : 'videocam', call.cameraOff ? 'Turn camera on' : 'Turn camera off');
    this.cameraButton.hidden = call.media !== 'video';
    this.switchButton.hidden = !call.canSwitchCamera || call.sharing;
    this.switchButton.setAttribute('aria-label', 'Switch camera');
    this.shareButton.hidden = !call.canShareScreen;
    this.shareButton.setAttribute('aria-pressed', String(call.sharing));
    this.shareButton.setAttribute('aria-label', call.sharing ? 'Stop sharing the screen' : 'Share the screen');
    this.shareButton.title = this.shareButton.getAttribute('aria-label') ?? '';
    for (const button of [this.muteButton, this.cameraButton, this.switchButton, this.shareButton, this.hangupButton]) {
      button.disabled = call.phase === 'ended';
    }
    this.setClock(call.phase === 'active' ? call.answeredAt : null);
    if (!this.screen.open) {
      this.screen.showModal();
      this.hangupButton.focus();
    }
  }

  hideCall() {
    this.setClock(null);
    if (this.screen.open) this.screen.close();
    for (const node of this.tileNodes.values()) {
      const video = node.querySelector('video');
      if (video) video.srcObject = null;
    }
    this.tileNodes.clear();
    this.tiles.replaceChildren();
    this.preview.srcObject = null;
    delete this.screen.dataset.phase;
  }

  /**
   * @private
   * @param {CallScreen} call
   */
  renderTiles(call) {
    const seen = new Set();
    for (const tile of call.tiles) {
      const id = tile.person.id;
      seen.add(id);
      let node = this.tileNodes.get(id);
      if (!node) {
        const video = el('video', { class: 'call-video', testid: 'remote-video', attrs: { playsinline: '', autoplay: '' } });
        node = el(
          'li',
          { class: 'call-tile', testid: 'call-tile', attrs: { 'data-user-id': id } },
          avatar(tile.person.name, id, 'avatar--call'),
          video,
          el(
            'div',
            { class: 'call-tile-bar' },
            el('span', { class: 'call-tile-name', testid: 'call-tile-name', text: tile.person.name, attrs: { dir: 'auto' } }),
            el('span', { class: 'call-quality', testid: 'call-quality', attrs: { role: 'img' } }, el('span'), el('span'), el('span')),
          ),
          el('span', { class: 'call-tile-state', testid: 'call-tile-state' }),
        );
        this.tileNodes.set(id, node);
      }
      node.dataset.state = tile.state;
      node.dataset.quality = tile.quality;
      const video = /** @type {HTMLVideoElement} */ (node.querySelector('video'));
      if (video.srcObject !== tile.stream) video.srcObject = tile.stream;
      video.hidden = call.media !== 'video' || !tile.stream;
      const quality = /** @type {HTMLElement} */ (node.querySelector('.call-quality'));
      quality.dataset.quality = tile.quality;
      quality.setAttribute('aria-label', QUALITY_TEXT[tile.quality]);
      quality.title = QUALITY_TEXT[tile.quality];
      const state = /** @type {HTMLElement} */ (node.querySelector('.call-tile-state'));
      const text = TILE_STATE_TEXT[tile.state];
      if (state.textContent !== text) state.textContent = text;
      state.hidden = !text;
    }
    for (const [id, node] of this.tileNodes) {
      if (seen.has(id)) continue;
      const video = node.querySelector('video');
      if (video) video.srcObject = null;
      this.tileNodes.delete(id);
    }
    const nodes = call.tiles.map((t) => /** @type {HTMLLIElement} */ (this.tileNodes.get(t.person.id)));
    if (nodes.length !== this.tiles.children.length || nodes.some((n, i) => this.tiles.children[i] !== n)) this.tiles.replaceChildren(...nodes);
    this.tiles.dataset.count = String(nodes.length);
  }

  /**
   * @private
   * @param {HTMLButtonElement} button
   * @param {boolean} pressed
   * @param {import('./dom.js').IconName} iconName
   * @param {string} label
   */
  setToggle(button, pressed, iconName, label) {
    button.setAttribute('aria-pressed', String(pressed));
    button.setAttribute('aria-label', label);
    button.title = label;
    if (button.dataset.icon !== iconName) {
      button.dataset.icon = iconName;
      button.replaceChildren(icon(iconName));
    }
  }

  /**
   * The call's duration, ticking every second from the first answer.
   * @private
   * @param {number | null} answeredAt
   */
  setClock(answeredAt) {
    if (answeredAt === this.answeredAt) return;
    this.answeredAt = answeredAt;
    clearInterval(this.clock);
    this.duration.hidden = answeredAt === null;
    if (answeredAt === null) return;
    const show = () => {
      const seconds = Math.floor((Date.now() - answeredAt) / 1000);
      this.duration.textContent = formatDuration(seconds);
      this.duration.dateTime = `PT${seconds}S`;
    };
    show();
    this.clock = setInterval(show, 1000);
  }
}

// This device's side of a call: the microphone and camera (`getUserMedia`), mute,
// camera off and on, switching between cameras when `enumerateDevices()` lists
// several, and sharing the screen (`getDisplayMedia`, desktop browsers only).
// What is sent changes by replacing the video track on every connection, so no
// new offer is needed. No DOM.

/** Whether this browser can share its screen (phones' browsers cannot). */
export function canShareScreen() {
  const coarse = typeof matchMedia === 'function' && matchMedia('(pointer: coarse)').matches;
  return !coarse && typeof navigator.mediaDevices?.getDisplayMedia === 'function';
}

export class LocalMedia {
  /**
   * @param {(track: MediaStreamTrack | null) => void} onVideoTrack  the track every connection sends as video changed
   */
  constructor(onVideoTrack) {
    this.onVideoTrack = onVideoTrack;
    /** What the own preview shows (the camera or the shared screen) and the connections send. */
    this.stream = new MediaStream();
    /** @type {MediaStreamTrack | null} */
    this.audio = null;
    /** @type {MediaStreamTrack | null} */
    this.camera = null;
    /** @type {MediaStreamTrack | null} */
    this.screen = null;
    this.muted = false;
    this.cameraOff = false;
    /** @type {string[]} the video inputs' device ids, once listed */
    this.cameras = [];
  }

  /**
   * Asks for the microphone, and the camera for a video call.
   * @param {'voice' | 'video'} media
   */
  async open(media) {
    const stream = await navigator.mediaDevices.getUserMedia({ audio: true, video: media === 'video' });
    this.audio = stream.getAudioTracks()[0] ?? null;
    this.camera = stream.getVideoTracks()[0] ?? null;
    for (const track of stream.getTracks()) this.stream.addTrack(track);
    if (this.camera) {
      const devices = await navigator.mediaDevices.enumerateDevices().catch(() => []);
      this.cameras = devices.filter((d) => d.kind === 'videoinput' && d.deviceId).map((d) => d.deviceId);
    }
  }

  /** The track connections send as video (the screen while shared), or null. */
  get video() {
    return this.screen ?? this.camera;
  }

  /** Several cameras to switch between. */
  get canSwitchCamera() {
    return !!this.camera && this.cameras.length > 1;
  }

  /** @param {boolean} muted */
  setMuted(muted) {
    this.muted = muted;
    if (this.audio) this.audio.enabled = !muted;
  }

  /** @param {boolean} off */
  setCameraOff(off) {
    this.cameraOff = off;
    if (this.camera) this.camera.enabled = !off;
  }

  /** The next camera in the list takes the current one's place. */
  async switchCamera() {
    if (!this.camera || this.cameras.length < 2) return;
    const current = this.camera.getSettings().deviceId ?? '';
    const next = this.cameras[(this.cameras.indexOf(current) + 1) % this.cameras.length];
    const stream = await navigator.mediaDevices.getUserMedia({ video: { deviceId: { exact: next } } });
    const track = stream.getVideoTracks()[0];
    if (!track) return;
    track.enabled = !this.cameraOff;
    const old = this.camera;
    this.camera = track;
    this.swapPreview(old, this.screen ? null : track);
    old.stop();
    if (!this.screen) this.onVideoTrack(track);
  }

  /**
   * Shares the screen instead of the camera; it ends by `stopSharing` or from the browser's own bar.
   * @returns {Promise<boolean>} whether sharing started
   */
  async shareScreen() {
    if (this.screen || !canShareScreen()) return false;
    const stream = await navigator.mediaDevices.getDisplayMedia({ video: true, audio: false });
    const track = stream.getVideoTracks()[0];
    if (!track) return false;
    this.screen = track;
    track.addEventListener('ended', () => this.stopSharing());
    this.swapPreview(this.camera, track);
    this.onVideoTrack(track);
    return true;
  }

  stopSharing() {
    const track = this.screen;
    if (!track) return;
    this.screen = null;
    track.stop();
    this.swapPreview(track, this.camera);
    this.onVideoTrack(this.camera);
  }

  /** Stops every track: the camera light goes off. */
  close() {
    for (const track of [this.audio, this.camera, this.screen]) track?.stop();
    this.audio = this.camera = this.screen = null;
    this.stream = new MediaStream();
  }

  /**
   * @private
   * @param {MediaStreamTrack | null} out
   * @param {MediaStreamTrack | null} inTrack
   */
  swapPreview(out, inTrack) {
    if (out) this.stream.removeTrack(out);
    if (inTrack) this.stream.addTrack(inTrack);
  }
}

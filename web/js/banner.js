// The connection banner: "Connecting…", "Catching up…" or "Offline — reconnecting"
// with a "Retry now" button; hidden while connected and caught up.

import { byId, el } from './dom.js';

export class ConnectionBanner {
  /** @param {import('./ws.js').Connection} connection */
  constructor(connection) {
    this.connection = connection;
    this.banner = byId('connection-banner');
  }

  /** @param {import('./ws.js').ConnState} connState */
  show(connState) {
    const banner = this.banner;
    if (connState === 'open' || connState === 'stopped') {
      this.hide();
      return;
    }
    // Hidden only once caught up (the answer to `resume`), not when the socket opens.
    const firstTry = !this.connection.everOpened && this.connection.failures === 0;
    const reached = connState === 'syncing'; // connected; missed events are arriving
    const text =
      (connState === 'connecting' || reached) && firstTry ? 'Connecting…' : reached ? 'Catching up…' : 'Offline — reconnecting';
    banner.dataset.state = firstTry || reached ? 'connecting' : 'offline';
    const children = [el('span', { class: 'banner-text', text })];
    if (connState === 'offline') {
      const retry = el('button', { class: 'banner-retry', text: 'Retry now', attrs: { type: 'button' } });
      retry.addEventListener('click', () => this.connection.reconnectNow());
      children.push(retry);
    }
    banner.replaceChildren(...children);
    banner.hidden = false;
  }

  hide() {
    this.banner.hidden = true;
    this.banner.replaceChildren();
  }
}

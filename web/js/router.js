// The address: `#/chat/<id>` names the open chat, so that a reload keeps it and
// Back returns to the list.

export class Router {
  /**
   * @param {() => void} route  shows what the address asks for
   * @param {() => string | null} openChatId
   */
  constructor(route, openChatId) {
    this.route = route;
    this.openChatId = openChatId;
    /** The chat was opened from inside the app, so Back can pop history. */
    this.openedInApp = false;
    window.addEventListener('hashchange', () => this.route());
  }

  /** The chat the address names, if any. */
  chatInAddress() {
    const match = /^#\/chat\/([^/]+)$/.exec(location.hash);
    return match ? decodeURIComponent(match[1]) : null;
  }

  /** Drops the chat from the address without a history entry. */
  clearAddress() {
    history.replaceState(null, '', location.pathname + location.search);
  }

  /**
   * Opens a chat from inside the app; the address keeps it across reloads.
   * @param {string} chatId
   */
  openChat(chatId) {
    const hash = `#/chat/${encodeURIComponent(chatId)}`;
    if (location.hash === hash) {
      this.route();
      return;
    }
    if (this.openChatId()) {
      // From one chat to another: replace, so Back still leads to the list.
      history.replaceState(null, '', hash);
      this.route();
      return;
    }
    this.openedInApp = true;
    location.hash = hash; // -> hashchange -> route()
  }

  goBack() {
    if (this.openedInApp) {
      this.openedInApp = false;
      history.back();
    } else {
      this.clearAddress();
      this.route();
    }
  }
}

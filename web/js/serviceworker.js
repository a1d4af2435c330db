// The service worker (`sw.js`, scope `/`): registered on every load; when a new
// version takes over an open page, the page reloads once, so that it never runs
// files of two versions. A click on a push notification reaches the page here.

/**
 * @param {(chatId: string) => void} onOpenChat  a notification was clicked: open its chat
 */
export function startServiceWorker(onOpenChat) {
  if (!('serviceWorker' in navigator)) return;
  const container = navigator.serviceWorker;
  // Uncontrolled at load: the first worker's takeover brings the files this page already runs.
  let controlled = container.controller !== null;
  let reloading = false;
  container.addEventListener('controllerchange', () => {
    if (!controlled) {
      controlled = true;
      return;
    }
    if (reloading) return;
    reloading = true;
    location.reload();
  });
  container.addEventListener('message', (event) => {
    const data = event.data;
    if (data && data.type === 'open_chat' && typeof data.chat_id === 'string') onOpenChat(data.chat_id);
  });
  container.startMessages();
  container.register('/sw.js', { scope: '/', updateViaCache: 'none' }).catch((err) => {
    console.warn('the service worker was not registered', err);
  });
}

// The service worker: keeps the app shell (the versioned files under /webmail/v/) so the app
// starts offline and installs to a phone's home screen. Mail itself is never cached here: it
// comes from JMAP, live. Navigations go to the network first and fall back to the last shell.
const CACHE = 'mailnook-shell';

self.addEventListener('install', () => self.skipWaiting());
self.addEventListener('activate', (ev) => ev.waitUntil(self.clients.claim()));

self.addEventListener('fetch', (ev) => {
  const url = new URL(ev.request.url);
  if (ev.request.method !== 'GET' || url.origin !== location.origin) return;
  if (url.pathname.startsWith('/webmail/v/')) {
    ev.respondWith(caches.open(CACHE).then((c) => c.match(ev.request).then((hit) => hit || fetch(ev.request).then((res) => {
      if (res.ok) c.put(ev.request, res.clone());
      return res;
    }))));
  } else if (ev.request.mode === 'navigate' && url.pathname === '/') {
    ev.respondWith(fetch(ev.request).catch(() => new Response(
      '<!doctype html><meta charset="utf-8"><title>Offline</title><p style="font:16px system-ui;padding:2em">You are offline. Your mail will be here when the connection is back.</p>',
      { headers: { 'Content-Type': 'text/html; charset=utf-8' } })));
  }
});

// Web Push (RFC 8030, keys per RFC 8291, our VAPID key per RFC 8292): the server pushes JMAP
// objects (RFC 8620 §7.2). A PushVerification goes to an open window, which confirms the
// subscription over JMAP; a StateChange with new mail shows a notification.
self.addEventListener('push', (ev) => {
  let v = null;
  try { v = ev.data ? ev.data.json() : null; } catch (e) { v = null; }
  if (!v) return;
  if (v['@type'] === 'PushVerification') {
    ev.waitUntil(self.clients.matchAll({ type: 'window' }).then((cs) => cs.forEach((c) => c.postMessage(v))));
    return;
  }
  const emails = v['@type'] === 'StateChange' && Object.values(v.changed || {}).some((t) => t.Email || t.EmailDelivery);
  if (!emails) return;
  ev.waitUntil(self.clients.matchAll({ type: 'window' }).then((cs) => {
    if (cs.some((c) => c.visibilityState === 'visible')) return undefined;
    return self.registration.showNotification('New mail', { body: 'You have new mail.', tag: 'mailnook-new', icon: '/webmail/v/current/icon.svg' });
  }));
});

self.addEventListener('notificationclick', (ev) => {
  ev.notification.close();
  ev.waitUntil(self.clients.matchAll({ type: 'window' }).then((cs) => (cs.length ? cs[0].focus() : self.clients.openWindow('/'))));
});

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

// The wallet's service worker: the app's own files come from the network when it answers and from the cache when
// it does not, so the wallet opens with no network at a gate. Rider data never passes through this cache: the
// page keeps what it needs (credential, journeys) in IndexedDB, and /rider/v1 is always asked afresh.
'use strict';
const CACHE = 'transit-wallet-v1';
const FILES = ['./', 'index.html', 'app.js', 'app.css', 'lib/qrcode.js', 'manifest.webmanifest', 'icon.svg'];

self.addEventListener('install', event => {
  event.waitUntil(caches.open(CACHE).then(cache => cache.addAll(FILES)).then(() => self.skipWaiting()));
});

self.addEventListener('activate', event => {
  event.waitUntil(caches.keys()
    .then(keys => Promise.all(keys.filter(k => k !== CACHE).map(k => caches.delete(k))))
    .then(() => self.clients.claim()));
});

self.addEventListener('fetch', event => {
  const url = new URL(event.request.url);
  if (event.request.method !== 'GET' || url.origin !== self.location.origin || !url.pathname.startsWith('/wallet/')) {
    return;
  }

  event.respondWith(fetch(event.request)
    .then(response => {
      if (response.ok) {
        const copy = response.clone();
        caches.open(CACHE).then(cache => cache.put(event.request, copy));
      }
      return response;
    })
    .catch(() => caches.match(event.request, { ignoreSearch: true }).then(hit => hit || caches.match('./'))));
});

// The kiosk's safety net. A navigation that finds the server down (a restart, a crash, a reload at the
// wrong moment) gets the calm "One moment" page from the cache instead of Chromium's own error page,
// which stops retrying while the box reports no network. That page waits for the server and returns.
const CACHE = 'kiosk-offline-v2';  // a new name whenever offline.html changes: install fetches it anew
const FALLBACK = '/static/offline.html';

self.addEventListener('install', (event) => {
  event.waitUntil(caches.open(CACHE)
    .then((cache) => cache.add(new Request(FALLBACK, {cache: 'reload'})))
    .then(() => self.skipWaiting()));
});

self.addEventListener('activate', (event) => {
  event.waitUntil(caches.keys()
    .then((keys) => Promise.all(keys.filter((key) => key !== CACHE).map((key) => caches.delete(key))))
    .then(() => self.clients.claim()));
});

self.addEventListener('fetch', (event) => {
  if (event.request.mode !== 'navigate') return;  // only whole pages; everything else goes straight through
  event.respondWith(fetch(event.request).catch(() => caches.match(FALLBACK)));
});

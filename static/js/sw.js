// The service worker: the audience page and its files come from the cache when the network
// fails, so a phone on bad Wi-Fi can reload and keep its outbox. Network first, always.
const CACHE = "qa-shell-v1";

self.addEventListener("install", () => self.skipWaiting());
self.addEventListener("activate", (event) => event.waitUntil(self.clients.claim()));

self.addEventListener("fetch", (event) => {
  const url = new URL(event.request.url);
  const shell = url.pathname.startsWith("/static/") || /^\/e\/[A-Za-z0-9]+\/?$/.test(url.pathname);
  if (event.request.method !== "GET" || url.origin !== self.location.origin || !shell) return;
  event.respondWith(networkFirst(event.request));
});

async function networkFirst(request) {
  const cache = await caches.open(CACHE);
  try {
    const response = await fetch(request);
    if (response.ok) cache.put(request, response.clone());
    return response;
  } catch (error) {
    const cached = await cache.match(request, { ignoreSearch: true });
    if (cached) return cached;
    throw error;
  }
}

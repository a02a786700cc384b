// The service worker: the audience page and its files come from the cache when the network
// fails, so a phone on bad Wi-Fi can reload and keep its outbox. The server fills VERSION in
// with the hash of the static files: a new shell means a new script, hence a new cache.
const VERSION = "dev";
const CACHE = `qa-shell-${VERSION}`;
const VERSIONED = `/static/${VERSION}/`; // never change: from the cache once there
const PAGE = /^\/e\/[A-Za-z0-9]+\/?$/;

self.addEventListener("install", () => self.skipWaiting());
self.addEventListener("activate", (event) => event.waitUntil((async () => {
  const names = await caches.keys();  // the shells of earlier versions
  await Promise.all(names.filter((name) => name.startsWith("qa-shell-") && name !== CACHE)
    .map((name) => caches.delete(name)));
  await self.clients.claim();
})()));

self.addEventListener("fetch", (event) => {
  const url = new URL(event.request.url);
  if (event.request.method !== "GET" || url.origin !== self.location.origin) return;
  if (url.pathname.startsWith(VERSIONED)) event.respondWith(cacheFirst(event.request));
  else if (url.pathname.startsWith("/static/") || PAGE.test(url.pathname)) {
    event.respondWith(networkFirst(event.request));
  }
});

/** A versioned file: the copy the page already put in the cache, else the network (kept). */
async function cacheFirst(request) {
  const cache = await caches.open(CACHE);
  const cached = await cache.match(request);
  if (cached) return cached;
  const response = await fetch(request);
  if (response.ok) cache.put(request, response.clone());
  return response;
}

/** The page (revalidated: a 304 when unchanged), from the cache when the network fails. */
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

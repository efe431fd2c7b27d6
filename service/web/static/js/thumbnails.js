// Thumbnails: each asset's small WebP preview, fetched with the token when its card scrolls
// into view. (A browser cannot send a bearer token from an <img src>.)

import { fetchPreview } from "./api.js";
import { h } from "./dom.js";

const MAX_CACHED_BYTES = 50_000_000;
const MAX_PARALLEL = 4;
const cache = new Map(); // asset id + checksum -> { url, size }, oldest first
let cachedBytes = 0;
const waiting = [];
const running = new Set(); // { img, controller } of the downloads under way

function remember(key, url, size) {
  cache.set(key, { url, size });
  cachedBytes += size;
  while (cachedBytes > MAX_CACHED_BYTES && cache.size > 1) {
    const [oldest, entry] = cache.entries().next().value;
    cache.delete(oldest);
    cachedBytes -= entry.size;
    URL.revokeObjectURL(entry.url);
  }
}

function pump() {
  while (running.size < MAX_PARALLEL && waiting.length) {
    const { asset, img, key } = waiting.shift();
    if (!img.isConnected) continue;
    const job = { img, controller: new AbortController() };
    running.add(job);
    fetchPreview(asset.id, "small", job.controller.signal)
      .then((blob) => {
        const url = URL.createObjectURL(blob);
        remember(key, url, blob.size);
        img.src = url;
      })
      .catch(() => img.closest(".thumb")?.classList.add("failed"))
      .finally(() => {
        running.delete(job);
        pump();
      });
  }
}

// After the grid is redrawn: stop fetching images that are no longer on the page.
export function cancelDetachedThumbnails() {
  for (const job of running) {
    if (!job.img.isConnected) job.controller.abort();
  }
}

const observer = new IntersectionObserver((entries) => {
  for (const entry of entries) {
    if (!entry.isIntersecting) continue;
    observer.unobserve(entry.target);
    waiting.push(entry.target.thumbnailRequest);
    pump();
  }
}, { rootMargin: "200px" });

const hasThumbnail = (asset) => asset.preview?.status === "ready";

// The thumbnail box for a card: the small preview once there is one, the file type otherwise.
export function thumbnail(asset) {
  const badge = h("span", { class: "type-badge", "aria-hidden": "true" }, (asset.file_type || "file").replace(".", "").toUpperCase());
  if (!hasThumbnail(asset)) return h("span", { class: "thumb" }, badge);
  const key = `${asset.id}:${asset.checksum_sha256}`;
  const img = h("img", { alt: "", decoding: "async" });
  if (cache.has(key)) img.src = cache.get(key).url;
  else {
    img.thumbnailRequest = { asset, img, key };
    observer.observe(img);
  }
  return h("span", { class: "thumb" }, badge, img);
}

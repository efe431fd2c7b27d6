// Image thumbnails: the image itself, fetched with the token when its card scrolls into view.

import { fetchFile } from "./api.js";
import { h } from "./dom.js";

const MAX_CACHED = 300;
const MAX_PARALLEL = 4;
const cache = new Map(); // asset id + checksum -> object URL, oldest first
const waiting = [];
let running = 0;

function remember(key, url) {
  cache.set(key, url);
  while (cache.size > MAX_CACHED) {
    const [oldest, oldUrl] = cache.entries().next().value;
    cache.delete(oldest);
    URL.revokeObjectURL(oldUrl);
  }
}

function pump() {
  while (running < MAX_PARALLEL && waiting.length) {
    const { asset, img, key } = waiting.shift();
    if (!img.isConnected) continue;
    running += 1;
    fetchFile(asset.id)
      .then((blob) => {
        const url = URL.createObjectURL(blob);
        remember(key, url);
        img.src = url;
      })
      .catch(() => img.closest(".thumb")?.classList.add("failed"))
      .finally(() => {
        running -= 1;
        pump();
      });
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

export const isImage = (asset) => asset.storage_location && asset.content_type.startsWith("image/");

// The thumbnail box for a card: an image for image files, the file type otherwise.
export function thumbnail(asset) {
  const badge = h("span", { class: "type-badge", "aria-hidden": "true" }, (asset.file_type || "file").replace(".", "").toUpperCase());
  if (!isImage(asset)) return h("span", { class: "thumb" }, badge);
  const key = `${asset.id}:${asset.checksum_sha256}`;
  const img = h("img", { alt: "", decoding: "async" });
  if (cache.has(key)) img.src = cache.get(key);
  else {
    img.thumbnailRequest = { asset, img, key };
    observer.observe(img);
  }
  return h("span", { class: "thumb" }, badge, img);
}

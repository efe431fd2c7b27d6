// The one way the page talks to the API: bearer token, error sentences, upload progress.

export class ApiError extends Error {
  constructor(status, message) {
    super(message);
    this.status = status;
  }
}

let bearer = "";
let onSignedOut = () => {};
let onIndexPending = () => {};

export function configureApi({ token, signedOut, indexPending }) {
  bearer = token;
  onSignedOut = signedOut;
  onIndexPending = indexPending;
}

function buildUrl(path, query = {}) {
  const url = new URL(path, window.location.origin);
  for (const [name, value] of Object.entries(query)) {
    for (const item of Array.isArray(value) ? value : [value]) {
      if (item !== undefined && item !== null && item !== "") url.searchParams.append(name, item);
    }
  }
  return url;
}

// The API's error body is {"detail": "<sentence>"}, or FastAPI's list for a 422.
function errorSentence(status, body) {
  const detail = body && body.detail;
  if (typeof detail === "string") return detail;
  if (Array.isArray(detail) && detail.length) {
    return detail.map((problem) => {
      const where = (problem.loc || []).slice(1).join(".");
      return where ? `${where}: ${problem.msg}` : problem.msg;
    }).join("; ");
  }
  return `The server answered ${status} without an explanation.`;
}

function parseJson(text) {
  try {
    return text ? JSON.parse(text) : null;
  } catch {
    return null;
  }
}

function settle(status, text, indexStatus) {
  const body = parseJson(text);
  if (status === 401) {
    const message = errorSentence(status, body);
    onSignedOut(message);
    throw new ApiError(status, message);
  }
  if (status < 200 || status >= 300) throw new ApiError(status, errorSentence(status, body));
  if (indexStatus === "pending") onIndexPending();
  return body;
}

async function request(method, path, { query, json, signal } = {}) {
  const headers = { Authorization: `Bearer ${bearer}` };
  if (json !== undefined) headers["Content-Type"] = "application/json";
  let response;
  try {
    response = await fetch(buildUrl(path, query), {
      method,
      headers,
      body: json === undefined ? undefined : JSON.stringify(json),
      signal,
    });
  } catch (error) {
    if (error.name === "AbortError") throw error;
    throw new ApiError(0, "The service could not be reached. Check that it is running.");
  }
  return settle(response.status, await response.text(), response.headers.get("X-Index-Status"));
}

export const api = {
  get: (path, query, signal) => request("GET", path, { query, signal }),
  post: (path, json) => request("POST", path, { json }),
  put: (path, json) => request("PUT", path, { json }),
  delete: (path, json) => request("DELETE", path, { json }),
};

// Every page of a paginated list (the tag list is small, but never assume it fits one page).
export async function getAll(path, query = {}, limit = 1000) {
  const items = [];
  for (let skip = 0; ; skip += limit) {
    const page = await api.get(path, { ...query, skip, limit });
    items.push(...page.items);
    if (items.length >= page.total || page.items.length === 0) return items;
  }
}

// A multipart upload through XMLHttpRequest, the one browser API that reports upload progress.
// `onDuplicates` hears the ids of the assets that already held the same bytes (the
// upload still stands).
export function uploadFile(path, file, { tagIds = [], onProgress = () => {}, onDuplicates = () => {} } = {}) {
  const form = new FormData();
  form.append("file", file, file.name);
  for (const tagId of tagIds) form.append("tag_ids", tagId);
  return new Promise((resolve, reject) => {
    const xhr = new XMLHttpRequest();
    xhr.open("POST", buildUrl(path));
    xhr.setRequestHeader("Authorization", `Bearer ${bearer}`);
    xhr.upload.addEventListener("progress", (event) => {
      if (event.lengthComputable) onProgress(event.loaded / event.total);
    });
    xhr.addEventListener("load", () => {
      try {
        const asset = settle(xhr.status, xhr.responseText, xhr.getResponseHeader("X-Index-Status"));
        const duplicates = xhr.getResponseHeader("X-Duplicate-Of");
        if (duplicates) onDuplicates(duplicates.split(",").map((id) => id.trim()).filter(Boolean));
        resolve(asset);
      } catch (error) {
        reject(error);
      }
    });
    xhr.addEventListener("error", () => {
      reject(new ApiError(0, "The connection broke before the server answered. Try again."));
    });
    xhr.send(form);
  });
}

// Bytes fetched with the token (an <img src> or a link cannot send one).
async function fetchBlob(path, query, signal) {
  let response;
  try {
    response = await fetch(buildUrl(path, query), {
      headers: { Authorization: `Bearer ${bearer}` },
      signal,
    });
  } catch (error) {
    if (error.name === "AbortError") throw error;
    throw new ApiError(0, "The service could not be reached. Check that it is running.");
  }
  if (!response.ok) settle(response.status, await response.text(), null);
  return response.blob();
}

// A file's bytes.
export const fetchFile = (assetId, signal) => fetchBlob(`/api/media-assets/${assetId}/download`, {}, signal);

// A WebP preview, `small` (fits 320 px) or `large` (fits 1280 px). The browser's cache
// revalidates it by its ETag.
export const fetchPreview = (assetId, size, signal) => fetchBlob(`/api/media-assets/${assetId}/preview`, { size }, signal);

// The bearer token: taken from the sign-in URL or the paste form, kept for this browser (every
// tab of it) until it expires or the user signs out.

export const STORAGE_KEY = "media-library-token";
const READ = "media:read";
const WRITE = "media:write";
const ADMIN = "media:admin";

function decodeClaims(token) {
  const parts = token.split(".");
  if (parts.length !== 3) throw new Error("That is not a token: a token has three parts separated by dots.");
  const base64 = parts[1].replace(/-/g, "+").replace(/_/g, "/");
  const padded = base64 + "=".repeat((4 - (base64.length % 4)) % 4);
  const bytes = Uint8Array.from(atob(padded), (char) => char.charCodeAt(0));
  return JSON.parse(new TextDecoder().decode(bytes));
}

// What the page may offer. The server checks the signature and the scopes on every call;
// the claims only decide which controls to show.
export function describeToken(token) {
  let claims;
  try {
    claims = decodeClaims(token);
  } catch (error) {
    throw new Error(error instanceof SyntaxError || error.name === "InvalidCharacterError"
      ? "That is not a token: its middle part is not readable." : error.message);
  }
  const scopes = new Set(String(claims.scope || "").split(/\s+/).filter(Boolean));
  const canWrite = scopes.has(WRITE) || scopes.has(ADMIN);
  return {
    token,
    user: typeof claims.sub === "string" ? claims.sub : "",
    canRead: canWrite || scopes.has(READ),
    canWrite,
    isAdmin: scopes.has(ADMIN),
    expiresAt: typeof claims.exp === "number" ? new Date(claims.exp * 1000) : null,
  };
}

// A token in the address (?token=…) is moved into local storage and removed from the
// address bar and the history, so it is not bookmarked, shared or shown.
export function takeTokenFromAddress() {
  const url = new URL(window.location.href);
  const token = url.searchParams.get("token");
  if (token === null) return;
  url.searchParams.delete("token");
  window.history.replaceState(window.history.state, "", url.pathname + url.search + url.hash);
  if (token.trim()) localStorage.setItem(STORAGE_KEY, token.trim());
}

// Local storage is shared by the browser's tabs of this origin: a sign-in in one tab
// signs in the others, and a sign-out there (a `storage` event here) signs this one out.
export const storedToken = () => localStorage.getItem(STORAGE_KEY);
export const storeToken = (token) => localStorage.setItem(STORAGE_KEY, token);
// With `token`, only when it is still the one kept: another tab may have stored a fresh
// one since this tab's request was refused.
export function forgetToken(token) {
  if (token === undefined || storedToken() === token) localStorage.removeItem(STORAGE_KEY);
}

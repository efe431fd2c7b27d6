// Start-up: sign in with the token from the address or the form, then show the library.

import { ApiError, api, configureApi } from "./api.js";
import { STORAGE_KEY, describeToken, forgetToken, storedToken, storeToken, takeTokenFromAddress } from "./auth.js";
import { openAsset, startAssetPanel } from "./asset-panel.js";
import { byId, debounce, h, toast } from "./dom.js";
import { applyViewQuery, currentFilters, currentViewQuery, refresh, startLibrary, viewQueryOf } from "./library.js";
import { startSelection } from "./selection.js";
import { openTagManager, startTagManager } from "./tag-manager.js";
import { reloadTags } from "./tags.js";
import { startUploads } from "./upload.js";
import { markCurrent, startViews } from "./views.js";

// Why the last page signed out, carried across the reload in this tab only (never in
// the address, where anyone could write a misleading sentence into a link).
const NOTICE_KEY = "media-library-notice";

// Who the library was opened for; null while no library has been shown in this page.
let shown = null;

function showSignIn(message = "") {
  byId("library").hidden = true;
  byId("account").hidden = true;
  byId("sign-in").hidden = false;
  byId("sign-in-error").textContent = message;
  byId("token-input").value = "";
  byId("token-input").focus();
}

// A sign-out, here or in another tab: a fresh page, so nothing of the last user's library
// stays in memory. A sign-out from this tab starts over at the plain library; one from
// another tab keeps this tab's address, so signing in again returns to its view.
function signOut({ message = "", keepView = false } = {}) {
  forgetToken();
  if (message) sessionStorage.setItem(NOTICE_KEY, message);
  if (keepView) window.location.reload();
  else window.location.replace("/");
}

// The service refused the token in the middle of the session (it expired, most often):
// no reload, the view stays in the address and in memory, behind the sign-in form.
function lapsed(token, message) {
  forgetToken(token);
  if (!shown || !byId("sign-in").hidden) return;
  for (const dialog of document.querySelectorAll("dialog[open]")) dialog.close();
  showSignIn(`${message} Sign in again to go on where you were.`);
}

async function signIn(token) {
  const identity = describeToken(token);
  if (!identity.canRead) throw new Error("This token has no media:read scope, so it cannot open the library.");
  if (identity.expiresAt && identity.expiresAt <= new Date()) {
    throw new Error("This token has expired. Get a fresh sign-in link, or make a new token.");
  }
  configureApi({
    token,
    signedOut: (message) => lapsed(token, message),
    indexPending: () => toast("Saved. The search index is catching up, so results may lag a moment."),
  });
  await api.get("/api/tags", { limit: 1 });
  storeToken(token);
  return identity;
}

const sameRights = (one, other) => one.user === other.user && one.canWrite === other.canWrite && one.isAdmin === other.isAdmin;

// A token signed in (by the form, or by another tab): the library the first time; after a
// lapse, the same view again. Someone else, or other rights, get a fresh page for them
// (the address still holds the view).
async function adopt(token) {
  const identity = await signIn(token);
  if (!shown) {
    showLibrary(identity);
    return;
  }
  if (!sameRights(identity, shown)) {
    window.location.reload();
    return;
  }
  byId("sign-in").hidden = true;
  byId("library").hidden = false;
  byId("account").hidden = false;
  refresh();
  reloadTags().catch((error) => toast(error.message));
}

// Another tab signed in or out: follow it.
function followOtherTabs() {
  window.addEventListener("storage", (event) => {
    if (event.storageArea !== localStorage || (event.key !== STORAGE_KEY && event.key !== null)) return;
    const token = storedToken();
    if (!token) {
      if (shown) signOut({ message: "You signed out in another tab.", keepView: true });
      return;
    }
    if (!shown || !byId("sign-in").hidden) {
      adopt(token).catch((error) => {
        byId("sign-in-error").textContent = error.message;
      });
      return;
    }
    // Signed in here already: a new token for the same rights is simply used from now on.
    let identity = null;
    try {
      identity = describeToken(token);
    } catch {
      return;
    }
    if (sameRights(identity, shown)) signIn(token).catch(() => {});
    else window.location.reload();
  });
}

// Once per page: start() and a sign-in from another tab (adopt) may both get here.
function showLibrary(identity) {
  if (shown) return;
  shown = identity;
  byId("sign-in").hidden = true;
  byId("library").hidden = false;
  byId("account").hidden = false;
  byId("who").textContent = identity.canWrite ? `Signed in as ${identity.user}` : `Signed in as ${identity.user} (read only)`;
  byId("uploader").hidden = !identity.canWrite;
  byId("open-tag-manager").textContent = identity.canWrite ? "Manage tags" : "Tags";

  const libraryChanged = debounce(refresh, 100);
  startAssetPanel({ writable: identity.canWrite, onChanged: libraryChanged });
  startTagManager({ writable: identity.canWrite, onChanged: libraryChanged });
  if (identity.canWrite) {
    startUploads({
      onUploaded: () => {
        libraryChanged();
        reloadTags().catch((error) => toast(error.message));
      },
      onOpenAsset: openAsset,
    });
  }
  byId("open-tag-manager").addEventListener("click", openTagManager);
  byId("sign-out").addEventListener("click", () => signOut());
  startSelection({
    writable: identity.canWrite,
    currentFilters,
    onChanged: () => {
      libraryChanged();
      reloadTags().catch((error) => toast(error.message));
    },
  });
  reloadTags().catch((error) => toast(error.message));
  startLibrary({ onOpenAsset: openAsset, writable: identity.canWrite, onViewChanged: markCurrent });
  startViews({
    user: identity.user,
    writable: identity.canWrite,
    admin: identity.isAdmin,
    current: currentViewQuery,
    canonical: viewQueryOf,
    applyQuery: applyViewQuery,
  });
}

// A token the service refuses is forgotten; any other failure (the service is down, say)
// keeps it, so trying again needs no new sign-in link.
function refused(error) {
  return !(error instanceof ApiError) || error.status === 401 || error.status === 403;
}

async function start() {
  // A file dropped beside the drop zone must not replace the page with the file.
  for (const type of ["dragover", "drop"]) window.addEventListener(type, (event) => event.preventDefault());

  const notice = sessionStorage.getItem(NOTICE_KEY) || "";
  sessionStorage.removeItem(NOTICE_KEY);
  takeTokenFromAddress();
  followOtherTabs();

  byId("sign-in-form").addEventListener("submit", async (event) => {
    event.preventDefault();
    try {
      await adopt(byId("token-input").value.trim());
    } catch (error) {
      byId("sign-in-error").textContent = error.message;
    }
  });

  const token = storedToken();
  if (!token) {
    showSignIn(notice);
    return;
  }
  try {
    showLibrary(await signIn(token));
  } catch (error) {
    if (refused(error)) {
      forgetToken(token);
      showSignIn(error.message);
      return;
    }
    showSignIn(error.message);
    byId("sign-in-error").append(" ", h("button", { type: "button", onclick: () => window.location.reload() }, "Try again"));
  }
}

start();

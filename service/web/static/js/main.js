// Start-up: sign in with the token from the address or the form, then show the library.

import { ApiError, api, configureApi } from "./api.js";
import { describeToken, forgetToken, storedToken, storeToken, takeTokenFromAddress } from "./auth.js";
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

function showSignIn(message = "") {
  byId("library").hidden = true;
  byId("account").hidden = true;
  byId("sign-in").hidden = false;
  byId("sign-in-error").textContent = message;
  byId("token-input").focus();
}

function signOut(message) {
  // A fresh page: nothing of the last user's library stays in memory.
  forgetToken();
  if (message) sessionStorage.setItem(NOTICE_KEY, message);
  window.location.replace("/");
}

async function signIn(token) {
  const identity = describeToken(token);
  if (!identity.canRead) throw new Error("This token has no media:read scope, so it cannot open the library.");
  configureApi({
    token,
    signedOut: (message) => signOut(`The service refused the token: ${message}`),
    indexPending: () => toast("Saved. The search index is catching up, so results may lag a moment."),
  });
  await api.get("/api/tags", { limit: 1 });
  storeToken(token);
  return identity;
}

function showLibrary(identity) {
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
        reloadTags();
      },
      onOpenAsset: openAsset,
    });
  }
  byId("open-tag-manager").addEventListener("click", openTagManager);
  byId("sign-out").addEventListener("click", () => signOut(""));
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

  byId("sign-in-form").addEventListener("submit", async (event) => {
    event.preventDefault();
    try {
      showLibrary(await signIn(byId("token-input").value.trim()));
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
      forgetToken();
      showSignIn(error.message);
      return;
    }
    showSignIn(error.message);
    byId("sign-in-error").append(" ", h("button", { type: "button", onclick: () => window.location.reload() }, "Try again"));
  }
}

start();

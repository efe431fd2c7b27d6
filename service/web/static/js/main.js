// Start-up: sign in with the token from the address or the form, then show the library.

import { configureApi, api } from "./api.js";
import { describeToken, forgetToken, storedToken, storeToken, takeTokenFromAddress } from "./auth.js";
import { openAsset, startAssetPanel } from "./asset-panel.js";
import { byId, debounce, toast } from "./dom.js";
import { refresh, startLibrary } from "./library.js";
import { openTagManager, startTagManager } from "./tag-manager.js";
import { reloadTags } from "./tags.js";
import { startUploads } from "./upload.js";

function showSignIn(message = "") {
  forgetToken();
  byId("library").hidden = true;
  byId("account").hidden = true;
  byId("sign-in").hidden = false;
  byId("sign-in-error").textContent = message;
  byId("token-input").focus();
}

function signOut(message) {
  // A fresh page: nothing of the last user's library stays in memory.
  forgetToken();
  window.location.replace(message ? `/?signed_out=${encodeURIComponent(message)}` : "/");
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
    startUploads({ onUploaded: () => {
      libraryChanged();
      reloadTags();
    } });
  }
  byId("open-tag-manager").addEventListener("click", openTagManager);
  byId("sign-out").addEventListener("click", () => signOut(""));
  reloadTags().catch((error) => toast(error.message));
  startLibrary({ onOpenAsset: openAsset });
}

async function start() {
  // A file dropped beside the drop zone must not replace the page with the file.
  for (const type of ["dragover", "drop"]) window.addEventListener(type, (event) => event.preventDefault());

  const params = new URLSearchParams(window.location.search);
  const signedOutMessage = params.get("signed_out") || "";
  if (params.has("signed_out")) window.history.replaceState(null, "", "/");
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
    showSignIn(signedOutMessage);
    return;
  }
  try {
    showLibrary(await signIn(token));
  } catch (error) {
    showSignIn(error.message);
  }
}

start();

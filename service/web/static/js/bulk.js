// The selection bar's actions: add or remove tags, link or unlink, delete, each one
// POST /api/media-assets/bulk for the selected ids or the whole query, all or nothing.

import { ApiError, api } from "./api.js";
import { byId, confirmAction, h, toast } from "./dom.js";
import { linkForm } from "./links.js";
import { tagPicker } from "./picker.js";

const countText = (count) => `${count.toLocaleString()} ${count === 1 ? "file" : "files"}`;
const wasOrWere = (count) => `${count.toLocaleString()} ${count === 1 ? "was" : "were"}`;

// The toast after a change: what changed, and why the rest did not.
const DONE = {
  add_tags: (changed, rest) => `Tagged ${countText(changed)}.${rest ? ` ${rest.toLocaleString()} already had those tags.` : ""}`,
  remove_tags: (changed, rest) => `Untagged ${countText(changed)}.${rest ? ` ${rest.toLocaleString()} had none of those tags.` : ""}`,
  link: (changed, rest) => `Linked ${countText(changed)}.${rest ? ` ${wasOrWere(rest)} linked already.` : ""}`,
  unlink: (changed, rest) => `Unlinked ${countText(changed)}.${rest ? ` ${wasOrWere(rest)} not linked.` : ""}`,
  delete: (changed) => `Deleted ${countText(changed)}.`,
};

let selected = () => ({ count: 0, target: {}, everything: false });
let onDone = () => {};
let panel = null;
let error = null;
let open = null; // { opener, dispose } of the form shown

export function closeBulkForm({ refocus = false } = {}) {
  if (!open) return;
  const { opener, dispose } = open;
  open = null;
  dispose();
  panel.replaceChildren();
  panel.hidden = true;
  if (refocus) (opener.isConnected && !opener.closest("[hidden]") ? opener : byId("results")).focus();
}

async function send(action, extra) {
  const { count, target } = selected();
  if (!count) return;
  let result;
  try {
    result = await api.post("/api/media-assets/bulk", { action, ...target, ...extra });
  } catch (failure) {
    // A refused delete (the count moved meanwhile) says the real count: show it, and the
    // page as it is now.
    if (failure instanceof ApiError && failure.status === 409) onDone(null);
    throw failure;
  }
  toast(DONE[action](result.changed, result.matched - result.changed));
  closeBulkForm({ refocus: action !== "delete" });
  onDone(action);
}

// Run an action, with its failure's sentence in the bar.
const attempt = (action) => async () => {
  error.textContent = "";
  try {
    await action();
  } catch (failure) {
    error.textContent = failure.message;
  }
};

function showForm(opener, title, body, { actions = [], dispose = () => {} } = {}) {
  closeBulkForm();
  error.textContent = "";
  open = { opener, dispose };
  const cancel = h("button", { type: "button", onclick: () => closeBulkForm({ refocus: true }) }, "Cancel");
  panel.replaceChildren(h("h3", { id: "bulk-form-title" }, title), body, h("div", { class: "actions" }, actions, cancel));
  panel.hidden = false;
  panel.querySelector("input, select")?.focus();
}

function tagsForm(opener, action) {
  const adding = action === "add_tags";
  let chosen = [];
  const picker = tagPicker({
    label: adding ? "Tags to add" : "Tags to remove",
    chosen: () => chosen,
    onAdd: (tag) => {
      chosen = [...chosen, tag];
    },
    onRemove: (tag) => {
      chosen = chosen.filter((other) => other.id !== tag.id);
    },
    canCreate: adding,
  });
  const apply = h("button", {
    type: "button",
    class: "primary",
    onclick: attempt(async () => {
      if (!chosen.length) throw new Error(adding ? "Choose the tags to add first." : "Choose the tags to remove first.");
      await send(action, { tag_ids: chosen.map((tag) => tag.id) });
    }),
  }, adding ? "Add these tags" : "Remove these tags");
  showForm(opener, adding ? "Add tags to the selected files" : "Remove tags from the selected files", picker.element,
    { actions: [apply], dispose: picker.dispose });
}

function linksForm(opener, action) {
  const linking = action === "link";
  const form = linkForm({
    label: linking ? "Link the selected files" : "Unlink the selected files",
    submitText: linking ? "Link" : "Unlink",
    onSubmit: (link) => send(action, { links: [link] }),
  });
  showForm(opener, linking ? "Link the selected files to" : "Unlink the selected files from", form.element);
}

async function remove() {
  const { count, everything } = selected();
  const which = everything
    ? `all ${countText(count)} that match the current filters`
    : `the ${count === 1 ? "selected file" : `${count.toLocaleString()} selected files`}`;
  closeBulkForm();
  const sure = await confirmAction(`Delete ${which}, with their stored files? This cannot be undone.`, `Delete ${countText(count)}`);
  if (sure) await send("delete", { expected_count: count });
}

// The bar's buttons, the form they open and the error line. `selectedNow()` says what is
// selected (count and the request's `ids` or `query`); `done(action)` hears each change
// (null after a refused one).
export function bulkButtons({ selectedNow, done }) {
  selected = selectedNow;
  onDone = done;
  panel = h("section", { class: "bulk-form", "aria-labelledby": "bulk-form-title", hidden: true });
  error = h("p", { class: "error", role: "alert" });
  const button = (text, onclick, className) => {
    const node = h("button", { type: "button", class: className });
    node.textContent = text;
    node.addEventListener("click", () => onclick(node));
    return node;
  };
  return h("div", { class: "bulk" },
    h("div", { class: "bulk-actions", role: "group", "aria-label": "Change the selected files" },
      button("Add tags…", (node) => tagsForm(node, "add_tags")),
      button("Remove tags…", (node) => tagsForm(node, "remove_tags")),
      button("Link…", (node) => linksForm(node, "link")),
      button("Unlink…", (node) => linksForm(node, "unlink")),
      button("Delete…", attempt(remove), "danger")),
    panel,
    error);
}

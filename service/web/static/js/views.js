// Saved views in the sidebar: everyone's views, applied with a click; save the current
// view under a name; rename and delete one's own (an admin, any).

import { api, getAll } from "./api.js";
import { byId, confirmAction, h, toast } from "./dom.js";

let views = [];
let me = { user: "", writable: false, admin: false };
let page = { current: () => ({}), canonical: (query) => query, apply: () => [] };
let appliedId = null; // the view last applied, while the page still shows it

const sameQuery = (a, b) => JSON.stringify(a) === JSON.stringify(b);
const mayChange = (view) => me.writable && (me.admin || view.created_by === me.user);
const notice = (text) => {
  byId("view-notice").textContent = text;
};

function apply(view) {
  const left = page.apply(view.query);
  appliedId = view.id;
  notice(left.length ? `Showing “${view.name}” without what this page has no control for: ${left.join("; ")}.` : "");
  markCurrent();
}

function viewRow(view) {
  const row = [h("button", {
    type: "button",
    class: "view-apply",
    "data-view-id": view.id,
    title: `Saved by ${view.created_by}`,
    onclick: () => apply(view),
  }, view.name)];
  if (mayChange(view)) {
    row.push(
      h("button", { type: "button", class: "link", "aria-label": `Rename view ${view.name}`, onclick: () => renameForm(view) }, "Rename"),
      h("button", { type: "button", class: "link danger", "aria-label": `Delete view ${view.name}`, onclick: () => remove(view) }, "Delete"),
    );
  }
  return h("li", { class: "view-row", "data-view-id": view.id }, row);
}

function renderViews(focusSelector = null) {
  const list = byId("view-list");
  list.replaceChildren(...(views.length ? views.map(viewRow) : [h("li", { class: "muted" }, "No saved views yet.")]));
  markCurrent();
  if (focusSelector) (list.querySelector(focusSelector) || list).focus();
}

// The view the page shows now, marked for sight and for screen readers.
export function markCurrent() {
  const current = page.current();
  if (appliedId && !views.some((view) => view.id === appliedId && sameQuery(view.canonical, current))) {
    appliedId = null;
    notice("");
  }
  for (const button of document.querySelectorAll("#view-list .view-apply")) {
    const view = views.find((entry) => entry.id === button.dataset.viewId);
    if (view && sameQuery(view.canonical, current)) button.setAttribute("aria-current", "true");
    else button.removeAttribute("aria-current");
  }
}

async function loadViews(focusSelector) {
  try {
    const found = await getAll("/api/views", {}, 100);
    views = found
      .map((view) => ({ ...view, canonical: page.canonical(view.query) }))
      .sort((a, b) => a.name.localeCompare(b.name, undefined, { sensitivity: "base" }));
    renderViews(focusSelector);
  } catch (failure) {
    byId("view-list").replaceChildren(h("li", { class: "error" }, `The saved views could not be loaded: ${failure.message}`));
  }
}

function renameForm(view) {
  const id = `rename-view-${view.id}`;
  const input = h("input", { id, type: "text", value: view.name, required: true, maxlength: 100 });
  const error = h("p", { class: "error", role: "alert" });
  const back = () => renderViews(`[data-view-id="${view.id}"] .view-apply`);
  const form = h("form", {
    class: "view-rename",
    onsubmit: async (event) => {
      event.preventDefault();
      error.textContent = "";
      try {
        await api.put(`/api/views/${view.id}`, { name: input.value.trim(), query: view.query });
        toast(`Renamed the view to ${input.value.trim()}.`);
        await loadViews(`[data-view-id="${view.id}"] .view-apply`);
      } catch (failure) {
        error.textContent = failure.message;
      }
    },
    onkeydown: (event) => {
      if (event.key === "Escape") {
        event.preventDefault();
        back();
      }
    },
  },
  h("label", { for: id, class: "visually-hidden" }, `New name of the view ${view.name}`),
  input,
  h("div", { class: "actions" }, h("button", { type: "submit" }, "Save"), h("button", { type: "button", onclick: back }, "Cancel")),
  error);
  byId("view-list").querySelector(`li[data-view-id="${view.id}"]`).replaceChildren(form);
  input.select();
}

async function remove(view) {
  if (!(await confirmAction(`Delete the saved view “${view.name}”? The files it shows stay.`))) return;
  try {
    await api.delete(`/api/views/${view.id}`);
    toast(`Deleted the view ${view.name}.`);
    await loadViews();
    byId("view-list").focus();
  } catch (failure) {
    notice(failure.message);
  }
}

function saveForm() {
  const input = h("input", { id: "view-name", type: "text", required: true, maxlength: 100, autocomplete: "off" });
  const error = h("p", { class: "error", role: "alert" });
  // Disabled while the request runs: a second click would ask for the name just taken.
  const submit = h("button", { type: "submit" }, "Save view");
  const form = h("form", {
    class: "view-save",
    onsubmit: async (event) => {
      event.preventDefault();
      if (submit.disabled) return;
      submit.disabled = true;
      error.textContent = "";
      try {
        const view = await api.post("/api/views", { name: input.value.trim(), query: page.current() });
        input.value = "";
        appliedId = view.id;
        notice(`Saved the view “${view.name}”.`);
        await loadViews(`[data-view-id="${view.id}"] .view-apply`);
      } catch (failure) {
        error.textContent = failure.message;
      } finally {
        submit.disabled = false;
      }
    },
  },
  h("label", { for: "view-name" }, "Save this view as"),
  h("div", { class: "picker-row" }, input, submit),
  error);
  byId("view-save").replaceChildren(form);
}

// `current()` is the page's view as list parameters, `canonical(query)` a saved query as
// the page would save it again (to know which view is shown), `apply(query)` shows one and
// returns the parameters it left out.
export function startViews({ user, writable, admin, current, canonical, applyQuery }) {
  me = { user, writable, admin };
  page = { current, canonical, apply: applyQuery };
  if (writable) saveForm();
  return loadViews();
}

// Choosing assets for a bulk change: a checkbox on each card (shift-click for a range), kept
// across pages by id, or "all N matching" for the whole query; and the bar that shows it.

import { bulkButtons, closeBulkForm } from "./bulk.js";
import { byId, h } from "./dom.js";

const selection = {
  everything: false, // the whole query shown when it was chosen, not a list of ids
  query: null, // that query, as a bulk request's `query`
  ids: new Set(),
  anchor: null, // the last card clicked, where a shift-click's range starts
};
let shown = { ids: [], total: 0 };
let shownFilters = null;
let bar = null;
let filtersNow = () => ({});

const countText = (count) => `${count.toLocaleString()} ${count === 1 ? "file" : "files"}`;

// How many the selection holds, and how a bulk request names it.
const selectedCount = () => (selection.everything ? shown.total : selection.ids.size);

function clearSelection() {
  selection.everything = false;
  selection.ids.clear();
  selection.anchor = null;
  markCards();
  renderBar();
}

// A file deleted on its own can no longer be changed in bulk.
export function deselect(id) {
  if (!selection.ids.delete(id)) return;
  markCards();
  renderBar();
}

function setCards(ids, on) {
  for (const id of ids) {
    if (on) selection.ids.add(id);
    else selection.ids.delete(id);
  }
}

// A click on a card's box: that card, or with shift the cards from the last one clicked
// on this page to this one, all set as this box now is.
function clicked(id, on, range) {
  if (selection.everything) {
    // Leaving "all matching": keep what the page shows, as ids.
    selection.everything = false;
    setCards(shown.ids, true);
  }
  const from = shown.ids.indexOf(selection.anchor);
  const to = shown.ids.indexOf(id);
  if (range && from >= 0 && to >= 0) {
    setCards(shown.ids.slice(Math.min(from, to), Math.max(from, to) + 1), on);
  } else {
    setCards([id], on);
  }
  selection.anchor = id;
  markCards();
  renderBar();
}

// The box on a card (for writers only: the library draws none otherwise).
export function selectBox(asset) {
  return h("input", {
    type: "checkbox",
    class: "select-box",
    "data-asset-id": asset.id,
    "data-focus-key": `select:${asset.id}`,
    "aria-label": `Select ${asset.file_name}`,
    checked: selection.everything || selection.ids.has(asset.id),
    // Shift-click would otherwise also select the page's text between the two boxes.
    onmousedown: (event) => {
      if (event.shiftKey) event.preventDefault();
    },
    onclick: (event) => clicked(asset.id, event.target.checked, event.shiftKey),
  });
}

function markCards() {
  for (const box of document.querySelectorAll("#grid .select-box")) {
    box.checked = selection.everything || selection.ids.has(box.dataset.assetId);
  }
}

// The library asks for other filters: a new selection at once, so nothing is sent for the
// old query while the new page loads (or if it never does).
export function filtersChanging(filterKey) {
  if (shownFilters === null || filterKey === shownFilters) return;
  shownFilters = filterKey;
  clearSelection();
}

// Each page the library draws: new filters are a new selection (ids chosen under the old
// ones may not match the new); paging keeps it.
export function pageShown({ ids, total, filterKey }) {
  if (shownFilters !== null && filterKey !== shownFilters) {
    selection.everything = false;
    selection.ids.clear();
    selection.anchor = null;
  }
  shownFilters = filterKey;
  shown = { ids, total };
  if (selection.everything && total === 0) selection.everything = false;
  renderBar();
}

function renderBar() {
  if (!bar) return;
  const count = selectedCount();
  if (!count) {
    closeBulkForm();
    if (bar.root.contains(document.activeElement)) byId("results").focus();
    bar.root.hidden = true;
    return;
  }
  bar.root.hidden = false;
  bar.count.textContent = selection.everything ? `All ${countText(count)} matching selected` : `${count.toLocaleString()} selected`;
  bar.all.hidden = selection.everything || shown.total <= count;
  bar.all.textContent = `Select all ${shown.total.toLocaleString()} matching`;
}

function selectEverything() {
  selection.everything = true;
  selection.query = filtersNow();
  selection.ids.clear();
  markCards();
  renderBar();
  bar.count.focus();
}

// What a bulk request selects: the ids, or the query the user chose "all matching" of.
function selectedNow() {
  return {
    count: selectedCount(),
    everything: selection.everything,
    target: selection.everything ? { query: selection.query } : { ids: [...selection.ids] },
  };
}

// `onChanged()` redraws the library after a change; `currentFilters()` is the query.
export function startSelection({ writable, currentFilters, onChanged }) {
  if (!writable) return;
  filtersNow = currentFilters;
  const root = byId("selection-bar");
  const count = h("p", { class: "selection-count", role: "status", tabindex: "-1" });
  const all = h("button", { type: "button", class: "link", onclick: selectEverything });
  const clear = h("button", { type: "button", onclick: clearSelection }, "Clear");
  const actions = bulkButtons({
    selectedNow,
    done: (action) => {
      // Deleted files cannot be selected; other changes keep the selection for the next one.
      if (action === "delete") clearSelection();
      onChanged();
    },
  });
  root.replaceChildren(h("div", { class: "selection-head" }, count, all, clear), actions);
  bar = { root, count, all };
  renderBar();
}

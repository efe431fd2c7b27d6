// The library view: search box, facets, results grid and pagination, kept in the address bar.

import { api } from "./api.js";
import { byId, debounce, formatDate, formatSize, h, tagChip } from "./dom.js";
import { linkChip, linkText, rememberEntityTypes } from "./links.js";
import {
  DEFAULT_PAGE_SIZE, FILTER_KEYS, ORIENTATIONS, PAGE_SIZES, emptyState, isDay, listFilters, normalType, parseLink, stateFromQuery,
  viewQuery,
} from "./query-state.js";
import { filtersChanging, pageShown, selectBox } from "./selection.js";
import { onTagsChanged, tagById } from "./tags.js";
import { cancelDetachedThumbnails, thumbnail } from "./thumbnails.js";

const FACETS = [
  { key: "tags", title: "Tags", param: "tag_ids", stateKey: "tagIds" },
  { key: "file_type", title: "File type", param: "file_type", stateKey: "fileTypes" },
  { key: "uploaded_by", title: "Uploader", param: "uploaded_by", stateKey: "uploaders" },
  { key: "orientation", title: "Orientation", param: "orientation", stateKey: "orientations" },
  { key: "entity_type", title: "Linked to", param: "entity_type", stateKey: "entityTypes" },
];
const FACETS_SHOWN = 10;

const state = emptyState();
const expandedFacets = new Set();
let openAsset = () => {};
let selectable = false;
let viewChanged = () => {};
let requestNumber = 0;
let inFlight = null;

// ---- the address bar ----------------------------------------------------------------

// An address edited by hand must not turn into a request the API refuses.
function readAddress() {
  const params = new URLSearchParams(window.location.search);
  const sorts = [...byId("sort-select").options].map((option) => option.value);
  const limit = Number(params.get("limit"));
  const page = Number(params.get("page"));
  state.search = params.get("q") || "";
  state.sort = sorts.includes(params.get("sort")) ? params.get("sort") : "relevance";
  state.limit = PAGE_SIZES.includes(limit) ? limit : DEFAULT_PAGE_SIZE;
  state.page = Number.isInteger(page) && page >= 1 ? page - 1 : 0;
  state.tagIds = params.getAll("tag");
  state.tagMatch = params.get("match") === "any" ? "any" : "all";
  state.excludedTagIds = params.getAll("not").filter((id) => !state.tagIds.includes(id));
  // The API refuses untagged with chosen tags (it could match nothing): the tags win.
  state.untagged = params.get("untagged") === "1" && !state.tagIds.length;
  state.fileTypes = [...new Set(params.getAll("type").map(normalType).filter(Boolean))];
  state.uploaders = params.getAll("by");
  state.orientations = params.getAll("shape").filter((shape) => ORIENTATIONS.includes(shape));
  state.linked = params.getAll("linked").filter((link) => parseLink(link));
  state.entityTypes = params.getAll("entity");
  state.after = isDay(params.get("after")) ? params.get("after") : "";
  state.before = isDay(params.get("before")) ? params.get("before") : "";
}

// A new page or new filters are a new entry in the history, so Back returns to the last
// view; the page's own corrections and background refreshes replace the entry.
function writeAddress(push) {
  const params = new URLSearchParams();
  if (state.search) params.set("q", state.search);
  if (state.sort !== "relevance") params.set("sort", state.sort);
  if (state.limit !== DEFAULT_PAGE_SIZE) params.set("limit", String(state.limit));
  if (state.page) params.set("page", String(state.page + 1));
  for (const id of state.tagIds) params.append("tag", id);
  if (state.tagMatch === "any") params.set("match", "any");
  for (const id of state.excludedTagIds) params.append("not", id);
  if (state.untagged) params.set("untagged", "1");
  for (const type of state.fileTypes) params.append("type", type);
  for (const user of state.uploaders) params.append("by", user);
  for (const shape of state.orientations) params.append("shape", shape);
  for (const link of state.linked) params.append("linked", link);
  for (const type of state.entityTypes) params.append("entity", type);
  if (state.after) params.set("after", state.after);
  if (state.before) params.set("before", state.before);
  const query = params.toString();
  const address = query ? `/?${query}` : "/";
  if (push && address !== `${window.location.pathname}${window.location.search}`) window.history.pushState(null, "", address);
  else window.history.replaceState(null, "", address);
}

// ---- queries ------------------------------------------------------------------------

function filters() {
  const query = listFilters(state);
  if (query.search) query.highlight = "true"; // for the excerpt of a match inside the file
  return query;
}

// What selects the assets now: a bulk change's `query`, and the key that tells the
// selection the filters changed under it.
export const currentFilters = () => listFilters(state);
const filterKey = () => JSON.stringify(FILTER_KEYS.map((key) => state[key]));

// What "Save view" keeps, and a saved view read back into the page: the parameters the
// page has no control for are returned, for the user to be told.
export const currentViewQuery = () => viewQuery(state);
const sortChoices = () => [...byId("sort-select").options].map((option) => option.value);
export const viewQueryOf = (query) => viewQuery(stateFromQuery(query, { sorts: sortChoices() }).state);

export function applyViewQuery(query) {
  const { state: next, left } = stateFromQuery(query, { sorts: sortChoices() });
  Object.assign(state, next);
  syncControls();
  refresh({ push: true });
  return left;
}

function sortQuery() {
  if (state.sort === "relevance") {
    return state.search.trim() ? {} : { sort_by: "uploaded_at", sort_dir: "desc" };
  }
  const [sortBy, sortDir] = state.sort.split(":");
  return { sort_by: sortBy, sort_dir: sortDir };
}

// A facet whose values are alternatives (any of these types) counts without its own filter,
// so choosing one value leaves the others visible with the counts they would add.
// Tags matched all-of narrow the result, so their counts follow every filter; but once a
// tag is excluded (or only untagged files are asked for) the panel counts without any tag
// filter, so an excluded tag still shows how many files it leaves out.
function countsApart(facet) {
  if (facet.key === "tags") {
    return (state.tagMatch === "any" && state.tagIds.length > 0) || state.excludedTagIds.length > 0 || state.untagged;
  }
  return state[facet.stateKey].length > 0;
}

// One request per view: the any-of panels are asked as disjunctive facets, which the
// server counts without their own filter in the same request.
async function fetchResults(signal) {
  const page = await api.get("/api/media-assets", {
    ...filters(),
    ...sortQuery(),
    skip: state.page * state.limit,
    limit: state.limit,
    facets: FACETS.map((facet) => facet.key).join(","),
    disjunctive_facets: FACETS.filter(countsApart).map((facet) => facet.key).join(","),
  }, signal);
  return { page, facets: page.facets || {} };
}

// ---- rendering ----------------------------------------------------------------------

const tagOf = (value) => (value.name !== undefined ? value : tagById(value.value) || { name: "(deleted tag)", color: null });

function facetLabel(facet, value) {
  if (facet.key !== "tags") return h("span", { class: "facet-name" }, value.value);
  // The facet carries the tag's name and colour; the description comes from the tag list.
  return tagChip({ ...tagOf(value), description: tagById(value.value)?.description });
}

function facetOption(facet, entry, chosen) {
  const box = h("input", {
    type: "checkbox",
    value: entry.value,
    checked: chosen.includes(entry.value),
    onchange: (event) => toggle(facet, entry.value, event.target.checked),
  });
  const option = h("label", { class: "facet-option" }, box, facetLabel(facet, entry),
    h("span", { class: "count" }, entry.count.toLocaleString()));
  if (facet.key !== "tags") return h("li", {}, option);
  // The third state, "none of": a pressed button beside the tag, and the tag struck through
  // with a word that says so (never the strike alone).
  const excluded = state.excludedTagIds.includes(entry.value);
  const name = tagOf(entry).name;
  if (excluded) option.querySelector(".chip").prepend(h("span", { class: "not-mark" }, "not"), " ");
  return h("li", { class: excluded ? "facet-row excluded" : "facet-row" }, option, h("button", {
    type: "button",
    class: "exclude",
    "data-focus-key": `exclude:${entry.value}`,
    "aria-pressed": String(excluded),
    "aria-label": `Exclude ${name}`,
    title: excluded ? `Files tagged ${name} are left out. Press again to stop.` : `None of: leave out files tagged ${name}`,
    onclick: () => excludeTag(entry.value, !excluded),
  }, "⊘"));
}

// Beside the tag panel, not in it: it is no tag's value.
function untaggedSwitch() {
  return h("label", { class: "facet-option untagged", "data-facet": "untagged" }, h("input", {
    type: "checkbox",
    "data-focus-key": "untagged",
    checked: state.untagged,
    onchange: (event) => setUntagged(event.target.checked),
  }), "Untagged files only");
}

// The `linked` filter comes from the address (a link from another module's page):
// each entity it names as a chip that takes it off.
function linkedFilter() {
  if (!state.linked.length) return null;
  return h("div", { class: "linked-filter" },
    h("p", { class: "muted", id: "linked-filter-title" }, "Files linked to any of:"),
    h("ul", { class: "chips", "aria-labelledby": "linked-filter-title" }, state.linked.map((text) => {
      const link = parseLink(text);
      return h("li", {}, linkChip(link, h("button", {
        type: "button",
        class: "chip-remove",
        "data-focus-key": `linked:${text}`,
        "aria-label": `Stop filtering by ${linkText(link)}`,
        title: `Stop filtering by ${linkText(link)}`,
        onclick: () => update({ linked: state.linked.filter((other) => other !== text) }),
      }, "×")));
    })));
}

function renderFacet(facet, values) {
  const chosen = state[facet.stateKey];
  const kept = facet.key === "tags" ? [...chosen, ...state.excludedTagIds] : chosen;
  const shown = [...values];
  for (const value of kept) {
    if (!shown.some((entry) => entry.value === value)) shown.push({ value, count: 0 });
  }
  const expanded = expandedFacets.has(facet.key);
  const visible = expanded ? shown : shown.filter((entry, index) => index < FACETS_SHOWN || kept.includes(entry.value));
  const options = visible.map((entry) => facetOption(facet, entry, chosen));
  const children = [h("legend", {}, facet.title)];
  if (facet.key === "tags" && state.tagIds.length > 1) children.push(matchSwitch());
  if (facet.key === "entity_type") children.push(linkedFilter());
  children.push(options.length ? h("ul", { class: "facet-list" }, options) : h("p", { class: "muted" }, "None in these results."));
  if (shown.length > visible.length || expanded) {
    children.push(h("button", {
      type: "button",
      class: "link",
      "aria-expanded": String(expanded),
      onclick: () => {
        if (expanded) expandedFacets.delete(facet.key);
        else expandedFacets.add(facet.key);
        renderFacets(lastFacets);
      },
    }, expanded ? "Show fewer" : `Show all ${shown.length}`));
  }
  return h("fieldset", { class: "facet", "data-facet": facet.key }, children);
}

function matchSwitch() {
  const radio = (value, text) => h("label", {}, h("input", {
    type: "radio",
    name: "tag-match",
    value,
    checked: state.tagMatch === value,
    onchange: () => update({ tagMatch: value }),
  }), text);
  return h("div", { class: "match-switch", role: "group", "aria-label": "Tags must match" },
    radio("all", "All chosen tags"), radio("any", "Any chosen tag"));
}

let lastFacets = {};

// Redrawing replaces the control the user was on; find its successor by what it stands for.
function focusedControl(container) {
  const focused = document.activeElement;
  if (!focused || !container.contains(focused)) return null;
  if (focused.dataset.focusKey) return `[data-focus-key="${CSS.escape(focused.dataset.focusKey)}"]`;
  const facet = focused.closest("[data-facet]")?.dataset.facet;
  if (focused.matches("button.link")) return `[data-facet="${facet}"] button.link`;
  if (focused.name === "tag-match") return `input[name="tag-match"][value="${focused.value}"]`;
  if (focused.type === "checkbox") return `[data-facet="${facet}"] input[value="${CSS.escape(focused.value)}"]`;
  const card = focused.closest(".card");
  return card ? `.card[data-asset-id="${card.dataset.assetId}"]` : null;
}

function redraw(container, children) {
  const selector = focusedControl(container);
  container.replaceChildren(...children);
  if (!selector) return;
  const successor = container.querySelector(selector);
  if (successor) successor.focus();
  else byId("results").focus();
}

function renderFacets(facets) {
  lastFacets = facets;
  rememberEntityTypes((facets.entity_type || []).map((entry) => entry.value));
  redraw(byId("facets"), FACETS.flatMap((facet) => {
    const panel = renderFacet(facet, facets[facet.key] || []);
    return facet.key === "tags" ? [panel, untaggedSwitch()] : [panel];
  }));
}

// The server's highlight HTML (escaped text, <mark> around matched words) as nodes: only
// text and <mark> elements are ever made, whatever the string holds. Each piece is parsed
// inside <body>: before it the parser drops leading white space (the space after a mark).
const unescaped = (fragment) => new DOMParser().parseFromString(`<body>${fragment}`, "text/html").body.textContent;

function marked(highlight) {
  return highlight.split(/<mark>(.*?)<\/mark>/s).map((piece, index) => (
    index % 2 ? h("mark", {}, unescaped(piece)) : document.createTextNode(unescaped(piece))
  ));
}

// Under the name, where the words were found inside the file and not in its name.
function excerpt(asset) {
  const found = asset.highlights;
  if (!found?.content || found.file_name) return null;
  return h("span", { class: "card-excerpt" }, marked(found.content));
}

// A long name may wrap anywhere but inside its extension, which stays whole.
function cardName(name) {
  const dot = name.lastIndexOf(".");
  if (dot <= 0) return h("span", { class: "card-name" }, name);
  return h("span", { class: "card-name" }, name.slice(0, dot), h("span", { class: "extension" }, name.slice(dot)));
}

function card(asset) {
  const details = [asset.file_type.replace(".", "").toUpperCase(), formatSize(asset.file_size_bytes), asset.uploaded_by, formatDate(asset.uploaded_at)];
  return h("li", { class: "card-item" }, selectable ? selectBox(asset) : null, h("button", {
    type: "button",
    class: "card",
    "data-asset-id": asset.id,
    onclick: () => openAsset(asset.id),
  },
  thumbnail(asset),
  cardName(asset.file_name),
  excerpt(asset),
  h("span", { class: "card-meta" }, details.join(" · ")),
  asset.tags.length ? h("span", { class: "chips" }, asset.tags.map((tag) => tagChip(tag))) : null));
}

function renderPage(page) {
  const count = page.total.toLocaleString();
  const noun = page.total === 1 ? "file" : "files";
  byId("result-summary").textContent = state.search.trim()
    ? `${count} ${noun} ${page.total === 1 ? "matches" : "match"} “${state.search.trim()}”.`
    : `${count} ${noun}.`;
  redraw(byId("grid"), page.items.map(card));
  cancelDetachedThumbnails();
  if (!page.items.length) {
    byId("grid").append(h("li", { class: "empty" }, "Nothing matches. Try fewer words or filters."));
  }
  const pages = Math.max(1, Math.ceil(page.total / state.limit));
  const pager = byId("pager");
  const previous = h("button", {
    type: "button", "data-focus-key": "pager:previous", disabled: state.page === 0, onclick: () => goToPage(state.page - 1),
  }, "Previous");
  const next = h("button", {
    type: "button", "data-focus-key": "pager:next", disabled: state.page + 1 >= pages, onclick: () => goToPage(state.page + 1),
  }, "Next");
  // A page number being typed stays as typed: a background refresh (while previews are
  // made) redraws only the buttons around the box.
  const typing = byId("page-jump");
  if (typing && typing === document.activeElement && typing.value !== typing.defaultValue) {
    pager.firstElementChild.replaceWith(previous);
    pager.lastElementChild.replaceWith(next);
  } else {
    redraw(pager, [previous, pageJump(pages), next]);
  }
}

// "Page [n] of N": type a page number and press Enter (or leave the box) to go there.
function pageJump(pages) {
  const input = h("input", {
    id: "page-jump",
    type: "number",
    min: "1",
    max: String(pages),
    value: String(state.page + 1),
    disabled: pages === 1,
    "data-focus-key": "pager:page",
  });
  const jump = (event) => {
    event.preventDefault();
    const wanted = Math.round(Number(input.value));
    if (!Number.isFinite(wanted) || wanted < 1) {
      input.value = String(state.page + 1);
      return;
    }
    const target = Math.min(wanted, pages) - 1;
    input.value = String(target + 1);
    if (target !== state.page) goToPage(target);
  };
  input.addEventListener("change", jump);
  return h("form", { class: "page-number", onsubmit: jump },
    h("label", { for: "page-jump" }, "Page"), input, h("span", {}, `of ${pages.toLocaleString()}`));
}

// A new page starts at the top of the results, not where the pager left the window.
function goToPage(page) {
  state.page = page;
  refresh({ push: true }).then(() => {
    byId("results").scrollIntoView({ block: "start" });
    byId("results").focus({ preventScroll: true });
  });
}

// ---- state changes ------------------------------------------------------------------

function toggle(facet, value, on) {
  const chosen = state[facet.stateKey].filter((entry) => entry !== value);
  if (on) chosen.push(value);
  const changes = { [facet.stateKey]: chosen };
  if (facet.key === "tags" && on) {
    // A tag is either wanted or left out, and a wanted tag means "not untagged".
    changes.excludedTagIds = state.excludedTagIds.filter((id) => id !== value);
    changes.untagged = false;
  }
  update(changes);
}

function excludeTag(id, on) {
  const excluded = state.excludedTagIds.filter((entry) => entry !== id);
  if (on) excluded.push(id);
  update({ excludedTagIds: excluded, tagIds: on ? state.tagIds.filter((entry) => entry !== id) : state.tagIds });
}

// Untagged files carry no tag, so choosing them drops the wanted tags (the API refuses
// both at once), and choosing a tag drops "untagged" (see toggle).
function setUntagged(on) {
  update(on ? { untagged: true, tagIds: [], tagMatch: "all" } : { untagged: false });
}

function update(changes, { push = true } = {}) {
  Object.assign(state, changes, { page: 0 });
  refresh({ push });
}

// Previews are made after the upload answers: while a card on the page still waits for
// its preview, the page looks again, less and less often (a stopped worker is not polled
// every second for ever).
const PENDING_FIRST_RECHECK_MS = 1000;
const PENDING_LAST_RECHECK_MS = 30_000;
let pendingRecheck = null;
let pendingDelay = PENDING_FIRST_RECHECK_MS;

function recheckWhilePending(page, number) {
  clearTimeout(pendingRecheck);
  if (!page.items.some((asset) => asset.preview?.status === "pending")) {
    pendingDelay = PENDING_FIRST_RECHECK_MS;
    return;
  }
  pendingRecheck = setTimeout(() => {
    if (number !== requestNumber) return; // the view changed meanwhile
    pendingDelay = Math.min(pendingDelay * 2, PENDING_LAST_RECHECK_MS);
    refresh();
  }, pendingDelay);
}

// "Best match" means something only with search words: without them it is not offered,
// and the menu shows the order the list is in (newest first). The state keeps "relevance",
// so typing a search goes back to it.
function offerRelevance() {
  const select = byId("sort-select");
  const searching = Boolean(state.search.trim());
  const relevance = select.querySelector('option[value="relevance"]');
  relevance.hidden = !searching;
  relevance.disabled = !searching;
  select.value = state.sort === "relevance" && !searching ? "uploaded_at:desc" : state.sort;
}

// `push`: the view changed at the user's word (see writeAddress).
export async function refresh({ push = false } = {}) {
  writeAddress(push);
  offerRelevance();
  filtersChanging(filterKey());
  inFlight?.abort();
  inFlight = new AbortController();
  const mine = ++requestNumber;
  byId("results").setAttribute("aria-busy", "true");
  try {
    const { page, facets } = await fetchResults(inFlight.signal);
    if (mine !== requestNumber) return;
    pageShown({ ids: page.items.map((asset) => asset.id), total: page.total, filterKey: filterKey() });
    const lastPage = Math.max(0, Math.ceil(page.total / state.limit) - 1);
    if (state.page > lastPage) {
      // The last page emptied (a delete, or a narrower filter kept in the address).
      state.page = lastPage;
      await refresh();
      return;
    }
    renderPage(page);
    renderFacets(facets);
    viewChanged();
    recheckWhilePending(page, mine);
  } catch (error) {
    if (error.name === "AbortError" || mine !== requestNumber) return;
    byId("result-summary").textContent = error.message;
    byId("grid").replaceChildren();
  } finally {
    if (mine === requestNumber) byId("results").removeAttribute("aria-busy");
  }
}

function syncControls() {
  byId("search-input").value = state.search;
  offerRelevance();
  byId("page-size").value = String(state.limit);
  byId("uploaded-after").value = state.after;
  byId("uploaded-before").value = state.before;
}

export function startLibrary({ onOpenAsset, writable, onViewChanged }) {
  openAsset = onOpenAsset;
  selectable = writable;
  viewChanged = onViewChanged;
  readAddress();
  syncControls();
  // One history entry per search, not per keystroke: the first change pushes one, the next
  // replace it until typing pauses for a second.
  let typingEntry = false;
  const typingSettled = debounce(() => {
    typingEntry = false;
  }, 1000);
  const searchAsYouType = debounce(() => {
    update({ search: byId("search-input").value }, { push: !typingEntry });
    typingEntry = true;
    typingSettled();
  }, 150);
  byId("search-input").addEventListener("input", searchAsYouType);
  byId("search-form").addEventListener("submit", (event) => {
    event.preventDefault();
    typingEntry = false;
    update({ search: byId("search-input").value });
  });
  // Back and Forward: the view the address names.
  window.addEventListener("popstate", () => {
    typingEntry = false;
    readAddress();
    syncControls();
    refresh();
  });
  byId("sort-select").addEventListener("change", (event) => update({ sort: event.target.value }));
  byId("page-size").addEventListener("change", (event) => update({ limit: Number(event.target.value) }));
  byId("uploaded-after").addEventListener("change", (event) => update({ after: event.target.value }));
  byId("uploaded-before").addEventListener("change", (event) => update({ before: event.target.value }));
  byId("clear-filters").addEventListener("click", () => {
    const { search, sort, limit } = state;
    update({ ...emptyState(), search, sort, limit });
    syncControls();
  });
  if (window.matchMedia("(max-width: 720px)").matches) {
    byId("filters-details").open = false;
    byId("views-details").open = false;
  }
  // A tag deleted elsewhere can no longer filter: drop it rather than match nothing.
  onTagsChanged((tags) => {
    const known = new Set(tags.map((tag) => tag.id));
    if ([...state.tagIds, ...state.excludedTagIds].every((id) => known.has(id))) return;
    update({ tagIds: state.tagIds.filter((id) => known.has(id)), excludedTagIds: state.excludedTagIds.filter((id) => known.has(id)) },
      { push: false });
  });
  return refresh();
}

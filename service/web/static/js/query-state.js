// The page's view state and the API's list parameters, both ways: the filters a list, a
// bulk change and a saved view send, and a saved view's query read back into the page.

export const PAGE_SIZES = [24, 48, 96];
export const DEFAULT_PAGE_SIZE = 48;
export const ORIENTATIONS = ["landscape", "portrait", "square"];

export function emptyState() {
  return {
    search: "",
    sort: "relevance",
    limit: DEFAULT_PAGE_SIZE,
    page: 0,
    tagIds: [],
    tagMatch: "all",
    excludedTagIds: [],
    untagged: false,
    fileTypes: [],
    uploaders: [],
    orientations: [],
    linked: [],
    entityTypes: [],
    after: "",
    before: "",
  };
}

// The state's parts that choose which assets: a change to them is a new selection.
export const FILTER_KEYS = [
  "search", "tagIds", "tagMatch", "excludedTagIds", "untagged", "fileTypes", "uploaders",
  "orientations", "linked", "entityTypes", "after", "before",
];

// Dates are picked in the user's own time zone; the API wants instants.
const startOfDay = (day) => new Date(`${day}T00:00:00`).toISOString();
const endOfDay = (day) => new Date(`${day}T23:59:59.999`).toISOString();

// `entity_type:entity_id`, the form the `linked` parameter takes. The id may hold colons.
export function parseLink(text) {
  const at = String(text).indexOf(":");
  if (at <= 0 || at === text.length - 1 || text.length - at - 1 > 100) return null;
  return { entity_type: text.slice(0, at), entity_id: text.slice(at + 1) };
}
export const linkParam = (link) => `${link.entity_type}:${link.entity_id}`;

// The list filters as a JSON object: what GET /api/media-assets, a bulk change's `query`
// and a saved view share. Only the filters that are on.
export function listFilters(state) {
  const query = {};
  if (state.search.trim()) query.search = state.search.trim();
  if (state.tagIds.length) {
    query.tag_ids = [...state.tagIds];
    if (state.tagMatch === "any") query.tag_match = "any";
  }
  if (state.excludedTagIds.length) query.exclude_tag_ids = [...state.excludedTagIds];
  if (state.untagged) query.untagged = true;
  if (state.fileTypes.length) query.file_type = [...state.fileTypes];
  if (state.uploaders.length) query.uploaded_by = [...state.uploaders];
  if (state.orientations.length) query.orientation = [...state.orientations];
  if (state.linked.length) query.linked = [...state.linked];
  if (state.entityTypes.length) query.entity_type = [...state.entityTypes];
  if (state.after) query.uploaded_after = startOfDay(state.after);
  if (state.before) query.uploaded_before = endOfDay(state.before);
  return query;
}

// What "Save view" keeps: the filters, the order and the page size (not the page).
export function viewQuery(state) {
  const query = listFilters(state);
  if (state.sort !== "relevance") {
    const [sortBy, sortDir] = state.sort.split(":");
    Object.assign(query, { sort_by: sortBy, sort_dir: sortDir });
  }
  query.limit = state.limit;
  return query;
}

const asList = (value) => (value === undefined || value === null ? [] : (Array.isArray(value) ? value : [value]).map(String));
export const normalType = (type) => {
  const bare = type.trim().toLowerCase().replace(/^\.+/, "");
  return bare ? `.${bare}` : "";
};
const pad = (number) => String(number).padStart(2, "0");
const localDay = (moment) => `${moment.getFullYear()}-${pad(moment.getMonth() + 1)}-${pad(moment.getDate())}`;

// A date field's value, YYYY-MM-DD, that names a real day (Chromium reads 2024-02-31 as
// 2 March, so the day must come back unchanged).
export const isDay = (text) => /^\d{4}-\d{2}-\d{2}$/.test(text) && localDay(new Date(`${text}T00:00:00`)) === text;

// An instant as the day the date field shows, and whether that day says it exactly.
function dayOf(iso, edge) {
  const moment = new Date(iso);
  if (Number.isNaN(moment.getTime())) return { day: "", exact: false };
  const day = localDay(moment);
  return { day, exact: (edge === "start" ? startOfDay(day) : endOfDay(day)) === moment.toISOString() };
}

// Parameters that only shape how the page is drawn, which the page chooses itself.
const PRESENTATION = new Set(["facets", "disjunctive_facets", "highlight"]);

// A saved view's query as the page's state. Returns the state and, for the user, what the
// page has no control for and leaves out (a parameter, an order or page size it does not
// offer, the time of day of a date).
export function stateFromQuery(query, { sorts }) {
  const state = emptyState();
  const left = [];
  const handled = new Set(["search", "tag_ids", "tag_match", "exclude_tag_ids", "untagged", "file_type",
    "uploaded_by", "orientation", "linked", "entity_type", "uploaded_after", "uploaded_before",
    "sort_by", "sort_dir", "limit", "skip"]);
  for (const key of Object.keys(query)) {
    if (!handled.has(key) && !PRESENTATION.has(key)) left.push(key);
  }
  state.search = typeof query.search === "string" ? query.search : "";
  state.tagIds = asList(query.tag_ids);
  state.tagMatch = query.tag_match === "any" ? "any" : "all";
  state.excludedTagIds = asList(query.exclude_tag_ids);
  state.untagged = (query.untagged === true || query.untagged === "true") && !state.tagIds.length;
  state.fileTypes = [...new Set(asList(query.file_type).map(normalType).filter(Boolean))];
  state.uploaders = asList(query.uploaded_by);
  state.orientations = asList(query.orientation).filter((shape) => ORIENTATIONS.includes(shape));
  state.linked = asList(query.linked).filter((link) => parseLink(link));
  state.entityTypes = asList(query.entity_type);
  for (const [key, field, edge] of [["uploaded_after", "after", "start"], ["uploaded_before", "before", "end"]]) {
    if (!query[key]) continue;
    const { day, exact } = dayOf(query[key], edge);
    state[field] = day;
    if (!exact) left.push(`the time of ${key} (the page picks whole days)`);
  }
  if (query.sort_by) {
    const sort = `${query.sort_by}:${query.sort_dir || "desc"}`;
    if (sorts.includes(sort)) state.sort = sort;
    else left.push(`the order ${query.sort_by} ${query.sort_dir || "desc"}`);
  }
  if (query.limit !== undefined) {
    const limit = Number(query.limit);
    if (PAGE_SIZES.includes(limit)) state.limit = limit;
    else left.push(`${query.limit} per page`);
  }
  const skip = Number(query.skip);
  if (Number.isInteger(skip) && skip > 0) state.page = Math.floor(skip / state.limit);
  return { state, left };
}

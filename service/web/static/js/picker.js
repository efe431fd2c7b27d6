// A tag picker: the chosen tags as removable chips, and a name box that suggests existing tags.

import { api } from "./api.js";
import { h, tagChip } from "./dom.js";
import { allTags, onTagsChanged, reloadTags, tagByName } from "./tags.js";

let pickerCount = 0;

// A tag made on the fly gets the palette colour the fewest tags wear (ties in palette
// order), so chips stay tellable apart as long as the palette lasts.
const PALETTE = ["#8b5a2b", "#2f6b2f", "#1f5f8b", "#6b3fa0", "#b5651d", "#8b1e3f", "#44706b", "#a0522d"];

function leastUsedColour() {
  const uses = new Map(PALETTE.map((colour) => [colour, 0]));
  for (const tag of allTags()) {
    const colour = (tag.color || "").toLowerCase();
    if (uses.has(colour)) uses.set(colour, uses.get(colour) + 1);
  }
  return PALETTE.reduce((best, colour) => (uses.get(colour) < uses.get(best) ? colour : best));
}

// Edits between two names, a swap of neighbours counting as one ("Bgas" is one from "Bags").
function distance(one, other) {
  const rows = [...Array(one.length + 1)].map((_, i) => [i, ...Array(other.length).fill(0)]);
  for (let j = 1; j <= other.length; j += 1) rows[0][j] = j;
  for (let i = 1; i <= one.length; i += 1) {
    for (let j = 1; j <= other.length; j += 1) {
      const cost = one[i - 1] === other[j - 1] ? 0 : 1;
      rows[i][j] = Math.min(rows[i - 1][j] + 1, rows[i][j - 1] + 1, rows[i - 1][j - 1] + cost);
      if (i > 1 && j > 1 && one[i - 1] === other[j - 2] && one[i - 2] === other[j - 1]) {
        rows[i][j] = Math.min(rows[i][j], rows[i - 2][j - 2] + 1);
      }
    }
  }
  return rows[one.length][other.length];
}

// The existing tag a new name most likely misspells: one edit away from 3 letters, two
// from 8 (as forgiving as the search), else none.
function nearMatch(name) {
  const wanted = name.toLocaleLowerCase();
  const allowed = wanted.length >= 8 ? 2 : wanted.length >= 3 ? 1 : 0;
  let best = null;
  let bestDistance = allowed + 1;
  for (const tag of allTags()) {
    const away = distance(wanted, tag.name.toLocaleLowerCase());
    if (away < bestDistance) {
      best = tag;
      bestDistance = away;
    }
  }
  return best;
}

// onAdd(tag) and onRemove(tag) may be async; a thrown error's message is shown under the picker.
export function tagPicker({ label, chosen, onAdd, onRemove, canCreate }) {
  pickerCount += 1;
  const inputId = `tag-picker-${pickerCount}`;
  const listId = `${inputId}-names`;
  const chips = h("ul", { class: "chips", "aria-label": label });
  const names = h("datalist", { id: listId });
  const input = h("input", { id: inputId, type: "text", list: listId, autocomplete: "off", placeholder: "Tag name" });
  const error = h("p", { class: "error", role: "alert" });
  // "Did you mean …?" before a new tag is made from a name one typo from an existing one.
  const suggestion = h("div", { class: "tag-suggestion", role: "status" });

  function renderNames() {
    const taken = new Set(chosen().map((tag) => tag.id));
    names.replaceChildren(...allTags().filter((tag) => !taken.has(tag.id)).map((tag) => h("option", { value: tag.name })));
  }

  function renderChips() {
    chips.replaceChildren(...chosen().map((tag) => h("li", {}, tagChip(tag, h("button", {
      type: "button",
      class: "chip-remove",
      title: `Remove ${tag.name}`,
      "aria-label": `Remove tag ${tag.name}`,
      onclick: () => run(() => onRemove(tag)),
    }, "×")))));
    renderNames();
  }

  async function run(action) {
    error.textContent = "";
    try {
      await action();
      renderChips();
    } catch (failure) {
      error.textContent = failure.message;
    }
  }

  async function choose(tag) {
    if (!chosen().some((existing) => existing.id === tag.id)) await onAdd(tag);
    input.value = "";
  }

  function ask(name, near) {
    const answer = (action) => () => {
      suggestion.replaceChildren();
      run(action).then(() => input.focus());
    };
    suggestion.replaceChildren(
      h("span", {}, `There is no tag “${name}”. Did you mean `, tagChip(near), "?"),
      h("button", { type: "button", class: "primary", onclick: answer(() => choose(near)) }, `Use ${near.name}`),
      h("button", { type: "button", onclick: answer(() => create(name)) }, `Create “${name}”`),
    );
    suggestion.querySelector("button").focus();
  }

  async function create(name) {
    const tag = await api.post("/api/tags", { name, color: leastUsedColour() });
    await reloadTags();
    await choose(tag);
  }

  // Enter pressed twice, or Enter and "Add tag", add once: a second request would find the
  // tag the first just made.
  let adding = false;

  async function add() {
    if (adding) return;
    adding = true;
    try {
      await addNamed();
    } finally {
      adding = false;
    }
  }

  async function addNamed() {
    const name = input.value.trim();
    suggestion.replaceChildren();
    if (!name) return;
    const tag = tagByName(name);
    if (tag) {
      await run(() => choose(tag));
      return;
    }
    if (!canCreate) {
      const near = nearMatch(name);
      error.textContent = near ? `There is no tag named “${name}”. Did you mean “${near.name}”?` : `There is no tag named “${name}”.`;
      return;
    }
    const near = nearMatch(name);
    if (near) ask(name, near);
    else await run(() => create(name));
  }

  input.addEventListener("input", () => suggestion.replaceChildren());
  input.addEventListener("keydown", (event) => {
    if (event.key === "Enter") {
      event.preventDefault();
      add();
    }
  });
  const stopListening = onTagsChanged(renderChips);
  renderChips();

  const element = h("div", { class: "tag-picker" },
    chips,
    h("div", { class: "picker-row" },
      h("label", { for: inputId, class: "visually-hidden" }, `Add a tag (${label})`),
      input,
      names,
      h("button", { type: "button", onclick: add }, "Add tag")),
    suggestion,
    error);
  return { element, refresh: renderChips, dispose: stopListening };
}

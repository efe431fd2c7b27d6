// A tag picker: the chosen tags as removable chips, and a name box that suggests existing tags.

import { api } from "./api.js";
import { h, tagChip } from "./dom.js";
import { allTags, onTagsChanged, reloadTags, tagByName } from "./tags.js";

let pickerCount = 0;

// A tag made on the fly gets a colour from its name, so chips stay tellable apart.
const PALETTE = ["#8b5a2b", "#a0522d", "#2f6b2f", "#1f5f8b", "#6b3fa0", "#b5651d", "#8b1e3f", "#44706b"];

function colourFor(name) {
  let hash = 0;
  for (const char of name.toLocaleLowerCase()) hash = (hash * 31 + char.codePointAt(0)) >>> 0;
  return PALETTE[hash % PALETTE.length];
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

  async function add() {
    const name = input.value.trim();
    if (!name) return;
    await run(async () => {
      let tag = tagByName(name);
      if (!tag) {
        if (!canCreate) throw new Error(`There is no tag named “${name}”.`);
        tag = await api.post("/api/tags", { name, color: colourFor(name) });
        await reloadTags();
      }
      if (!chosen().some((existing) => existing.id === tag.id)) await onAdd(tag);
      input.value = "";
    });
  }

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
    error);
  return { element, refresh: renderChips, dispose: stopListening };
}

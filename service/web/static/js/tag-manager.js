// The tag manager: create, rename, recolour and delete tags, with how many files carry each.

import { api } from "./api.js";
import { byId, confirmAction, h, toast } from "./dom.js";
import { allTags, reloadTags } from "./tags.js";

const DEFAULT_COLOR = "#8b5a2b";
const dialog = () => byId("tag-dialog");
let canWrite = false;
let changed = () => {};

function colorControl(id, color) {
  const picker = h("input", { id, type: "color", value: color || DEFAULT_COLOR, disabled: !color });
  const none = h("input", { id: `${id}-none`, type: "checkbox", checked: !color });
  none.addEventListener("change", () => {
    picker.disabled = none.checked;
  });
  return {
    value: () => (none.checked ? null : picker.value),
    element: h("span", { class: "color-control" },
      h("label", { for: id, class: "visually-hidden" }, "Colour"), picker,
      h("label", { class: "inline" }, none, "No colour")),
    inputs: [picker, none],
  };
}

function tagRow(tag, error) {
  const count = `${tag.asset_count.toLocaleString()} ${tag.asset_count === 1 ? "file" : "files"}`;
  if (!canWrite) {
    return h("li", { class: "tag-row" },
      h("span", { class: "swatch", style: { background: tag.color || "transparent" }, "aria-hidden": "true" }),
      h("span", { class: "tag-name" }, tag.name), h("span", { class: "count" }, count),
      tag.description ? h("p", { class: "tag-description" }, tag.description) : null);
  }
  const nameId = `tag-name-${tag.id}`;
  const name = h("input", { id: nameId, type: "text", value: tag.name, required: true, maxlength: 100 });
  const description = h("input", {
    id: `tag-description-${tag.id}`,
    class: "tag-description-input",
    type: "text",
    value: tag.description || "",
    placeholder: "Description",
  });
  const color = colorControl(`tag-color-${tag.id}`, tag.color);
  const save = async (event) => {
    event.preventDefault();
    error.textContent = "";
    try {
      await api.put(`/api/tags/${tag.id}`, {
        name: name.value,
        description: description.value.trim() || null,
        color: color.value(),
      });
      toast(`Saved tag ${name.value.trim()}.`);
      await refreshTags(nameId);
    } catch (failure) {
      error.textContent = failure.message;
    }
  };
  const remove = async () => {
    error.textContent = "";
    const message = `Delete the tag “${tag.name}”? It comes off ${count}; the files stay.`;
    if (!(await confirmAction(message))) return;
    try {
      await api.delete(`/api/tags/${tag.id}`);
      toast(`Deleted tag ${tag.name}.`);
      await refreshTags("tag-manager-close");
    } catch (failure) {
      error.textContent = failure.message;
    }
  };
  return h("li", { class: "tag-row" }, h("form", { class: "tag-edit", onsubmit: save, "data-tag-id": tag.id },
    h("label", { for: nameId, class: "visually-hidden" }, `Name of tag ${tag.name}`), name,
    h("label", { for: `tag-description-${tag.id}`, class: "visually-hidden" }, `Description of tag ${tag.name}`), description,
    color.element,
    h("span", { class: "count" }, count),
    h("button", { type: "submit" }, "Save"),
    h("button", { type: "button", class: "danger", onclick: remove, "aria-label": `Delete tag ${tag.name}` }, "Delete")));
}

function createForm(error) {
  const name = h("input", { id: "new-tag-name", type: "text", required: true, maxlength: 100 });
  const description = h("input", { id: "new-tag-description", type: "text" });
  const color = colorControl("new-tag-color", DEFAULT_COLOR);
  // Disabled while the request runs: a second click would ask for the name just taken.
  const submit = h("button", { type: "submit", class: "primary" }, "Create tag");
  return h("form", {
    class: "tag-create",
    onsubmit: async (event) => {
      event.preventDefault();
      if (submit.disabled) return;
      submit.disabled = true;
      error.textContent = "";
      try {
        const tag = await api.post("/api/tags", {
          name: name.value,
          description: description.value.trim() || null,
          color: color.value(),
        });
        toast(`Created tag ${tag.name}.`);
        await refreshTags("new-tag-name");
      } catch (failure) {
        error.textContent = failure.message;
      } finally {
        submit.disabled = false;
      }
    },
  },
  h("h3", {}, "New tag"),
  h("label", { for: "new-tag-name" }, "Name"), name,
  h("label", { for: "new-tag-description" }, "Description"), description,
  color.element,
  submit);
}

function render() {
  const error = h("p", { class: "error", role: "alert" });
  const tags = allTags();
  dialog().replaceChildren(
    h("div", { class: "panel-head" },
      h("h2", { id: "tag-manager-title" }, "Tags"),
      h("button", { type: "button", id: "tag-manager-close", class: "close", "aria-label": "Close", onclick: () => dialog().close() }, "×")),
    canWrite ? createForm(error) : null,
    error,
    tags.length
      ? h("ul", { class: "tag-list", "aria-label": "All tags" }, tags.map((tag) => tagRow(tag, error)))
      : h("p", { class: "muted" }, "No tags yet."),
  );
}

// Rebuilding the list loses focus; put it back where the user was working.
async function refreshTags(focusId) {
  await reloadTags();
  render();
  byId(focusId)?.focus();
  changed();
}

export async function openTagManager() {
  try {
    await reloadTags();
  } catch (failure) {
    toast(failure.message);
    return;
  }
  render();
  dialog().showModal();
}

export function startTagManager({ writable, onChanged }) {
  canWrite = writable;
  changed = onChanged;
}

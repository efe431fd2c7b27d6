// Links to other modules' entities (a product, a project…): the types the page offers, a
// link's chip, and the small "type + id" form the asset panel and the bulk bar share.

import { h } from "./dom.js";

// The service's default MEDIA_LINK_TYPES; a deployment with others shows them once the
// entity type facet has seen them.
const DEFAULT_TYPES = ["project", "product", "customer", "documentation"];
const seen = new Set(DEFAULT_TYPES);

export function rememberEntityTypes(types) {
  for (const type of types) seen.add(type);
}

export const entityTypes = () => [...seen];

export const linkText = (link) => `${link.entity_type} ${link.entity_id}`;

// A link as a chip, with whatever controls follow it (a remove button).
export function linkChip(link, ...extra) {
  return h("span", { class: "chip link-chip" },
    h("span", { class: "chip-type" }, link.entity_type),
    " ",
    h("span", { class: "chip-name" }, link.entity_id),
    ...extra);
}

let formCount = 0;

// Type select and id box. `onSubmit(link)` may be async; a thrown error's message is
// shown under the form, and the id box is emptied once it succeeds.
export function linkForm({ label, submitText, onSubmit }) {
  formCount += 1;
  const prefix = `link-form-${formCount}`;
  const type = h("select", { id: `${prefix}-type` }, entityTypes().map((name) => h("option", { value: name }, name)));
  const id = h("input", { id: `${prefix}-id`, type: "text", required: true, maxlength: 100, autocomplete: "off", placeholder: "Id in that module" });
  const error = h("p", { class: "error", role: "alert" });
  const form = h("form", {
    class: "link-form",
    "aria-label": label,
    onsubmit: async (event) => {
      event.preventDefault();
      error.textContent = "";
      const entityId = id.value.trim();
      if (!entityId) {
        error.textContent = "Give the id of the entity to link to.";
        return;
      }
      try {
        await onSubmit({ entity_type: type.value, entity_id: entityId });
        id.value = "";
      } catch (failure) {
        error.textContent = failure.message;
      }
    },
  },
  h("div", { class: "picker-row" },
    h("label", { for: type.id, class: "visually-hidden" }, "Entity type"), type,
    h("label", { for: id.id, class: "visually-hidden" }, "Entity id"), id,
    h("button", { type: "submit" }, submitText)),
  error);
  return { element: form, focus: () => type.focus() };
}

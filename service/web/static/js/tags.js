// Every tag, loaded once and reloaded after a change: pickers, facet names and the tag manager share it.

import { getAll } from "./api.js";

let tags = [];
const listeners = new Set();

export async function reloadTags() {
  tags = await getAll("/api/tags", { sort_by: "name" });
  for (const listener of listeners) listener(tags);
  return tags;
}

export const allTags = () => tags;
export const tagById = (id) => tags.find((tag) => tag.id === id);
export const tagByName = (name) => {
  const wanted = name.trim().toLocaleLowerCase();
  return tags.find((tag) => tag.name.toLocaleLowerCase() === wanted);
};
// Returns the function that stops listening.
export function onTagsChanged(listener) {
  listeners.add(listener);
  return () => listeners.delete(listener);
}

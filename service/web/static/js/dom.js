// Build DOM nodes from data without ever parsing it as HTML.

export function h(tag, attributes = {}, ...children) {
  const node = document.createElement(tag);
  for (const [name, value] of Object.entries(attributes)) {
    if (value === false || value === null || value === undefined) continue;
    if (name.startsWith("on")) node.addEventListener(name.slice(2), value);
    else if (name === "class") node.className = value;
    else if (name === "style") Object.assign(node.style, value);
    else if (name in node && typeof value !== "string") node[name] = value;
    else node.setAttribute(name, value === true ? "" : value);
  }
  node.append(...children.flat().filter((child) => child !== null && child !== undefined && child !== false));
  return node;
}

export const byId = (id) => document.getElementById(id);

const sizeUnits = ["bytes", "KB", "MB", "GB", "TB"];

export function formatSize(bytes) {
  let value = bytes;
  let unit = 0;
  while (value >= 1000 && unit < sizeUnits.length - 1) {
    value /= 1000;
    unit += 1;
  }
  return unit === 0 ? `${bytes} ${bytes === 1 ? "byte" : "bytes"}` : `${value.toFixed(value < 10 ? 1 : 0)} ${sizeUnits[unit]}`;
}

const dateFormat = new Intl.DateTimeFormat(undefined, { dateStyle: "medium" });
const dateTimeFormat = new Intl.DateTimeFormat(undefined, { dateStyle: "medium", timeStyle: "short" });

export const formatDate = (iso) => dateFormat.format(new Date(iso));
export const formatDateTime = (iso) => dateTimeFormat.format(new Date(iso));

// A tag chip: the tag's colour as a swatch beside its name (the colour is never the only cue),
// and its description, when it has one, as the tooltip.
export function tagChip(tag, ...extra) {
  return h(
    "span",
    { class: "chip", title: tag.description || null },
    h("span", { class: "swatch", style: { background: tag.color || "transparent" }, "aria-hidden": "true" }),
    h("span", { class: "chip-name" }, tag.name),
    ...extra,
  );
}

let toastTimer = 0;

export function toast(message) {
  const box = byId("toast");
  box.textContent = message;
  box.classList.add("visible");
  clearTimeout(toastTimer);
  toastTimer = setTimeout(() => box.classList.remove("visible"), 4000);
}

// Ask before a destructive action; resolves true when the user confirms.
export function confirmAction(message, confirmLabel = "Delete") {
  const dialog = byId("confirm-dialog");
  byId("confirm-message").textContent = message;
  byId("confirm-button").textContent = confirmLabel;
  dialog.returnValue = "cancel";
  dialog.showModal();
  return new Promise((resolve) => {
    dialog.addEventListener("close", () => resolve(dialog.returnValue === "confirm"), { once: true });
  });
}

export function debounce(fn, milliseconds) {
  let timer = 0;
  return (...args) => {
    clearTimeout(timer);
    timer = setTimeout(() => fn(...args), milliseconds);
  };
}

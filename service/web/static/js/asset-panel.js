// The asset panel: preview, details, rename, tags, links, replace, download and delete.

import { api, fetchFile, fetchPreview, uploadFile } from "./api.js";
import { byId, confirmAction, formatDateTime, formatSize, h, tagChip, toast } from "./dom.js";
import { linkChip, linkForm, linkText } from "./links.js";
import { tagPicker } from "./picker.js";
import { deselect } from "./selection.js";
import { reloadTags } from "./tags.js";

const dialog = () => byId("asset-dialog");
let previewUrl = null;
let previewLoad = null; // the AbortController of the preview being fetched
let disposePicker = () => {};
let canWrite = false;
let changed = () => {};

// Stop a preview download still running (the file may be large) and free the shown one.
function dropPreview() {
  clearTimeout(previewRecheck);
  previewLoad?.abort();
  previewLoad = null;
  if (previewUrl) URL.revokeObjectURL(previewUrl);
  previewUrl = null;
}

const PREVIEW_STATES = {
  pending: "The preview is being made…",
  failed: "No preview could be made of this file. Download it to open it.",
};
const PREVIEW_RECHECK_MS = 1000;
let previewRecheck = null;

// While the preview is being made, look again now and then, as long as the panel shows
// the same file (a new file, or a closed panel, cancels it).
function recheckPreview(asset, box) {
  previewRecheck = setTimeout(async () => {
    try {
      const fresh = await api.get(`/api/media-assets/${asset.id}`);
      if (box.isConnected && dialog().open && fresh.checksum_sha256 === asset.checksum_sha256) {
        renderPreview(fresh, box);
      }
    } catch {
      // The asset is gone or the service is away: the panel keeps its sentence.
    }
  }, PREVIEW_RECHECK_MS);
}

async function renderPreview(asset, box) {
  dropPreview();
  const status = asset.preview?.status;
  if (status !== "ready") {
    box.replaceChildren(h("p", { class: "muted" }, !asset.storage_location
      ? "This record has no file yet."
      : PREVIEW_STATES[status] || `No preview for ${asset.file_type} files. Download it to open it.`));
    if (status === "pending") recheckPreview(asset, box);
    return;
  }
  box.replaceChildren(h("p", { class: "muted" }, "Loading the preview…"));
  const load = new AbortController();
  previewLoad = load;
  try {
    const blob = await fetchPreview(asset.id, "large", load.signal);
    if (load.signal.aborted) return;
    const url = URL.createObjectURL(blob);
    previewUrl = url;
    box.replaceChildren(h("img", { src: url, alt: `Preview of ${asset.file_name}` }));
  } catch (error) {
    if (!load.signal.aborted) box.replaceChildren(h("p", { class: "error" }, error.message));
  }
}

async function download(asset) {
  const url = URL.createObjectURL(await fetchFile(asset.id));
  const link = h("a", { href: url, download: asset.file_name, hidden: true });
  document.body.append(link);
  link.click();
  link.remove();
  setTimeout(() => URL.revokeObjectURL(url), 60_000);
}

const CONTENT_STATES = {
  pending: "being extracted…",
  empty: "none",
  unsupported: "not searchable (this type has no text)",
};

// What search inside files knows of the file: how much text, or why there is none.
function describeContent(content) {
  if (!content) return "unknown";
  if (content.status === "extracted") return `${content.characters.toLocaleString()} characters, searchable`;
  if (content.status === "failed") return `extraction failed: ${content.error || "no reason given"}`;
  return CONTENT_STATES[content.status] || content.status;
}

// ".png" of "strap v2.PNG", lowercased as the API's file_type is; "" without a dot.
function extensionOf(name) {
  const dot = name.lastIndexOf(".");
  return dot > 0 ? name.slice(dot).toLowerCase() : "";
}

function details(asset) {
  const rows = [
    ["Type", `${asset.file_type} (${asset.content_type})`],
    ["Size", formatSize(asset.file_size_bytes)],
    ["Uploaded by", asset.uploaded_by],
    ["Uploaded", formatDateTime(asset.uploaded_at)],
    ["Changed", formatDateTime(asset.updated_at)],
    ["SHA-256", asset.checksum_sha256 || "none"],
    ["Text inside", describeContent(asset.content)],
  ];
  return h("dl", { class: "details" }, rows.flatMap(([term, value]) => [h("dt", {}, term), h("dd", {}, value)]));
}

// The file's links to other modules' entities as chips; writers remove them and add more.
// `current()` is the asset as last saved, `saved(asset)` takes the API's answer.
function linksSection(current, saved) {
  const list = h("ul", { class: "chips", "aria-label": "Links of this file" });
  const error = h("p", { class: "error", role: "alert" });
  let form = null;
  const draw = () => {
    const links = current().links || [];
    list.replaceChildren(...links.map((link) => h("li", {}, linkChip(link, canWrite ? h("button", {
      type: "button",
      class: "chip-remove",
      title: `Remove the link to ${linkText(link)}`,
      "aria-label": `Remove link ${linkText(link)}`,
      onclick: async () => {
        error.textContent = "";
        try {
          await saved(await api.delete(`/api/media-assets/${current().id}/links`, { links: [link] }));
          draw();
          form.focus(); // the button pressed is gone
        } catch (failure) {
          error.textContent = failure.message;
        }
      },
    }, "×") : null))));
    if (!links.length) list.append(h("li", { class: "muted" }, "Not linked to anything."));
  };
  if (canWrite) {
    form = linkForm({
      label: "Link this file",
      submitText: "Add link",
      onSubmit: async (link) => {
        await saved(await api.post(`/api/media-assets/${current().id}/links`, { links: [link] }));
        draw();
      },
    });
  }
  draw();
  return h("section", { class: "asset-links" }, h("h3", {}, "Links"), list, form?.element, error);
}

function render(asset) {
  disposePicker();
  disposePicker = () => {};
  const error = h("p", { class: "error", role: "alert" });
  const attempt = (action) => async (event) => {
    event?.preventDefault();
    error.textContent = "";
    try {
      await action();
    } catch (failure) {
      error.textContent = failure.message;
    }
  };
  let panelDetails = details(asset);
  let nameInput = null;
  const downloadButton = h("button", {
    type: "button",
    class: "primary",
    disabled: !asset.storage_location,
    onclick: attempt(() => download(asset)),
  }, "Download");
  const saved = async (updated) => {
    asset = updated;
    byId("asset-title").textContent = asset.file_name;
    downloadButton.disabled = !asset.storage_location;
    if (nameInput) nameInput.value = asset.file_name;
    panelDetails.replaceWith((panelDetails = details(asset)));
    changed();
  };
  const preview = h("div", { class: "preview" });

  const side = [panelDetails, h("div", { class: "actions" }, downloadButton)];

  if (canWrite) {
    nameInput = h("input", { id: "rename-input", type: "text", value: asset.file_name, required: true, maxlength: 255 });
    side.push(h("form", { class: "rename", onsubmit: attempt(async () => {
      await saved(await api.put(`/api/media-assets/${asset.id}`, { file_name: nameInput.value }));
      toast("Renamed.");
    }) }, h("label", { for: "rename-input" }, "File name"), h("div", { class: "picker-row" }, nameInput, h("button", { type: "submit" }, "Rename"))));

    const picker = tagPicker({
      label: "Tags of this file",
      chosen: () => asset.tags,
      onAdd: async (tag) => {
        await saved(await api.post(`/api/media-assets/${asset.id}/tags`, { tag_ids: [tag.id] }));
        await reloadTags();
      },
      onRemove: async (tag) => {
        await saved(await api.delete(`/api/media-assets/${asset.id}/tags`, { tag_ids: [tag.id] }));
        await reloadTags();
      },
      canCreate: true,
    });
    disposePicker = picker.dispose;
    side.push(h("section", {}, h("h3", {}, "Tags"), picker.element));
    side.push(linksSection(() => asset, saved));

    const fileInput = h("input", { id: "replace-input", type: "file" });
    const progress = h("progress", { max: 1, value: 0, hidden: true, "aria-label": "Replacement upload progress" });
    const replaced = attempt(async () => {
      const file = fileInput.files[0];
      if (!file) return;
      // The server names the asset after the new file; a name the user chose stays when
      // the type does not change (the rename follows the replace, as the API has no
      // replace that keeps the name).
      const keep = extensionOf(file.name) === extensionOf(asset.file_name) && file.name !== asset.file_name;
      const outcome = keep
        ? `It keeps its name “${asset.file_name}”.`
        : file.name === asset.file_name ? "" : `It will be named “${file.name}”.`;
      const question = `Replace the file of “${asset.file_name}” with “${file.name}”? The current file is removed. ${outcome}`;
      if (!(await confirmAction(question.trim(), "Replace"))) {
        fileInput.value = "";
        return;
      }
      const keptName = asset.file_name;
      progress.hidden = false;
      try {
        const uploaded = await uploadFile(`/api/media-assets/${asset.id}/upload`, file, {
          onProgress: (fraction) => {
            progress.value = fraction;
          },
        });
        let updated = uploaded;
        if (keep && uploaded.file_name !== keptName) {
          try {
            updated = await api.put(`/api/media-assets/${asset.id}`, { file_name: keptName });
          } catch (failure) {
            await saved(uploaded);
            throw new Error(`The file was replaced, but its name “${keptName}” could not be kept: ${failure.message}`);
          }
        }
        await saved(updated);
        renderPreview(asset, preview);
        toast("File replaced.");
      } finally {
        progress.hidden = true;
        fileInput.value = "";
      }
    });
    fileInput.addEventListener("change", replaced);
    side.push(h("section", {}, h("h3", {}, h("label", { for: "replace-input" }, "Replace the file")), fileInput, progress));

    side.push(h("div", { class: "actions" }, h("button", { type: "button", class: "danger", onclick: attempt(async () => {
      if (!(await confirmAction(`Delete “${asset.file_name}” and its file? This cannot be undone.`))) return;
      await api.delete(`/api/media-assets/${asset.id}`);
      deselect(asset.id);
      dialog().close();
      toast(`Deleted ${asset.file_name}.`);
      changed();
      // The panel is closed: its error line would show nobody.
      reloadTags().catch((failure) => toast(failure.message));
    }) }, "Delete…")));
  } else {
    if (asset.tags.length) {
      side.push(h("section", {}, h("h3", {}, "Tags"), h("div", { class: "chips" }, asset.tags.map((tag) => tagChip(tag)))));
    }
    if (asset.links?.length) side.push(linksSection(() => asset, saved));
  }
  side.push(error);

  dialog().replaceChildren(
    h("div", { class: "panel-head" },
      h("h2", { id: "asset-title" }, asset.file_name),
      h("button", { type: "button", class: "close", "aria-label": "Close", onclick: () => dialog().close() }, "×")),
    h("div", { class: "panel-body" }, preview, h("div", { class: "panel-side" }, side)),
  );
  renderPreview(asset, preview);
}

let openedFrom = null;

// The card that opened the panel may have been redrawn (or deleted) meanwhile: focus its
// successor, else the results, never the page body.
function returnFocus(assetId) {
  const card = assetId && document.querySelector(`.card[data-asset-id="${CSS.escape(assetId)}"]`);
  (card || byId("results")).focus();
}

export async function openAsset(assetId) {
  openedFrom = assetId;
  try {
    render(await api.get(`/api/media-assets/${assetId}`));
    if (!dialog().open) dialog().showModal();
  } catch (error) {
    toast(error.message);
  }
}

export function startAssetPanel({ writable, onChanged }) {
  canWrite = writable;
  changed = onChanged;
  dialog().addEventListener("close", () => {
    dropPreview();
    disposePicker();
    disposePicker = () => {};
    returnFocus(openedFrom);
  });
}

// Uploads: drop or pick several files, tag them first, watch each one's progress.

import { uploadFile } from "./api.js";
import { byId, formatSize, h } from "./dom.js";
import { tagPicker } from "./picker.js";
import { onTagsChanged, tagById } from "./tags.js";

const PARALLEL_UPLOADS = 2;
let chosenTags = [];
const queue = [];
let running = 0;
let afterUpload = () => {};
let openAsset = () => {};

function enqueue(files) {
  for (const file of files) {
    const progress = h("progress", { max: 1, value: 0, "aria-label": `Upload progress of ${file.name}` });
    const status = h("span", { class: "upload-status" }, "Waiting");
    const row = h("li", { class: "upload" },
      h("span", { class: "upload-name" }, file.name),
      h("span", { class: "upload-size" }, formatSize(file.size)),
      progress,
      status);
    byId("upload-list").prepend(row);
    byId("upload-details").open = true;
    // The tags chosen when the file was added, even if the choice changes while it waits.
    queue.push({ file, tagIds: chosenTags.map((tag) => tag.id), row, progress, status });
  }
  summarise();
  pump();
}

// The list's one-line summary, which stays when the list is folded away.
function summarise() {
  const rows = [...byId("upload-list").children];
  const details = byId("upload-details");
  details.hidden = rows.length === 0;
  const done = rows.filter((row) => row.classList.contains("done")).length;
  const failed = rows.filter((row) => row.classList.contains("failed")).length;
  const going = rows.length - done - failed;
  const parts = [];
  if (going) parts.push(`${going} in progress`);
  if (done) parts.push(`${done} uploaded`);
  if (failed) parts.push(`${failed} failed`);
  byId("upload-summary").textContent = `Uploads: ${parts.join(", ")}`;
  byId("clear-finished").hidden = done + failed === 0;
}

// Uploaded and failed rows go; those still waiting or sending stay.
function clearFinished() {
  for (const row of byId("upload-list").querySelectorAll(".upload.done, .upload.failed")) row.remove();
  summarise();
  if (byId("upload-details").hidden) byId("file-picker").focus();
  else byId("upload-summary").focus();
}

function pump() {
  while (running < PARALLEL_UPLOADS && queue.length) {
    const job = queue.shift();
    running += 1;
    send(job).finally(() => {
      running -= 1;
      pump();
    });
  }
}

// Beside an upload whose bytes the library already held: a link to the (oldest) holder.
function alreadyInLibrary(row, ids) {
  const link = h("a", {
    href: "#",
    class: "upload-duplicate",
    onclick: (event) => {
      event.preventDefault();
      openAsset(ids[0]);
    },
  }, ids.length === 1 ? "already in the library" : `already in the library (${ids.length} copies)`);
  row.append(link);
}

async function send({ file, tagIds, row, progress, status }) {
  status.textContent = "Uploading";
  try {
    await uploadFile("/api/media-assets/upload", file, {
      tagIds,
      onProgress: (fraction) => {
        progress.value = fraction;
      },
      onDuplicates: (ids) => alreadyInLibrary(row, ids),
    });
    progress.value = 1;
    status.textContent = "Uploaded";
    row.classList.add("done");
    afterUpload();
  } catch (error) {
    progress.hidden = true;
    status.setAttribute("role", "alert");
    status.textContent = error.message;
    row.classList.add("failed");
  }
  summarise();
}

export function startUploads({ onUploaded, onOpenAsset }) {
  afterUpload = onUploaded;
  openAsset = onOpenAsset;
  const zone = byId("drop-zone");
  const picker = byId("file-picker");
  byId("clear-finished").addEventListener("click", clearFinished);
  picker.addEventListener("change", () => {
    enqueue([...picker.files]);
    picker.value = "";
  });
  zone.addEventListener("dragover", (event) => {
    event.preventDefault();
    zone.classList.add("dragging");
  });
  zone.addEventListener("dragleave", () => zone.classList.remove("dragging"));
  zone.addEventListener("drop", (event) => {
    event.preventDefault();
    zone.classList.remove("dragging");
    enqueue([...event.dataTransfer.files]);
  });
  const tags = tagPicker({
    label: "Tags for the next uploads",
    chosen: () => chosenTags,
    onAdd: (tag) => {
      chosenTags = [...chosenTags, tag];
    },
    onRemove: (tag) => {
      chosenTags = chosenTags.filter((chosen) => chosen.id !== tag.id);
    },
    canCreate: true,
  });
  byId("upload-tags").replaceChildren(tags.element);
  // A chosen tag renamed or deleted meanwhile: follow the rename, drop the deleted one.
  onTagsChanged(() => {
    chosenTags = chosenTags.map((tag) => tagById(tag.id)).filter(Boolean);
    tags.refresh();
  });
}

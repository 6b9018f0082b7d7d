// The drop zone of the home page: a dropped file goes to the form that takes it, and the zone
// says which file it chose. A .py goes to the script form, a .json profile to the import form,
// a project .zip to an input named "project" when the page has one. A name that does not tell
// is decided by the file's first bytes. The whole page takes drops while the zone is shown
// (a file dropped beside it would otherwise open in the tab).

const FORM_NAMES = { script: "Script", profile: "Import a profile", project: "Script" };
const ZIP_MAGIC = [0x50, 0x4b, 0x03, 0x04]; // "PK\3\4"

/** Listen for dragged files on the document (once); the zone itself is found at each event. */
export function listenForDrops() {
  document.addEventListener("dragover", (event) => {
    const zone = document.getElementById("drop-zone");
    if (!zone || zone.hidden || !hasFiles(event)) return;
    event.preventDefault();
    event.dataTransfer.dropEffect = "copy";
    zone.classList.add("is-over");
  });
  document.addEventListener("dragleave", (event) => {
    const zone = document.getElementById("drop-zone");
    if (zone && !event.relatedTarget) zone.classList.remove("is-over"); // left the window
  });
  document.addEventListener("drop", (event) => {
    const zone = document.getElementById("drop-zone");
    if (!zone || zone.hidden || !hasFiles(event)) return;
    event.preventDefault();
    zone.classList.remove("is-over");
    route(Array.from(event.dataTransfer.files));
  });
}

function hasFiles(event) {
  const types = event.dataTransfer && event.dataTransfer.types;
  return !!types && Array.from(types).includes("Files");
}

async function route(files) {
  if (!files.length) return;
  const project = document.querySelector("input[type=file][name=project]");
  if (files.length > 1) {
    if (project && project.multiple) return choose(project, files, "project");
    return say("Drop one file at a time: a .py script, a project .zip or a profile (.json).", true);
  }
  const [file] = files;
  const kind = await kindOf(file);
  if (kind === "script") return choose(document.getElementById("script"), files, kind);
  if (kind === "profile") return choose(document.getElementById("profile"), files, kind);
  if (kind === "project") {
    if (project) return choose(project, files, kind);
    return say(`“${file.name}” is a project (.zip). Projects are not supported here yet: ` +
               "drop the project's main .py file instead.", true);
  }
  say(`“${file.name}” is neither a .py script, a project .zip nor a profile (.json), so it was not used. ` +
      "Drop one of those.", true);
}

async function kindOf(file) {
  const name = file.name.toLowerCase();
  if (name.endsWith(".py")) return "script";
  if (name.endsWith(".json")) return "profile";
  if (name.endsWith(".zip")) return "project";
  try {
    const bytes = new Uint8Array(await file.slice(0, 512).arrayBuffer());
    if (ZIP_MAGIC.every((byte, index) => bytes[index] === byte)) return "project";
    const text = new TextDecoder().decode(bytes).replace(/^\uFEFF/, "").trim();
    return text.startsWith("{") ? "profile" : "unknown";
  } catch {
    return "unknown"; // unreadable (e.g. a folder): not usable
  }
}

function choose(input, files, kind) {
  if (!input) return say("This page has no field for that file.", true);
  const transfer = new DataTransfer();
  files.forEach((file) => transfer.items.add(file));
  input.files = transfer.files;
  // Show the panel of the script form that holds the input.
  const source = document.getElementById(kind === "project" ? "source-project" : "source-upload");
  if (kind !== "profile" && source) source.checked = true;
  input.dispatchEvent(new Event("change", { bubbles: true }));
  const names = files.map((file) => `“${file.name}” (${humanSize(file.size)})`);
  say(`${names.join(", ")} chosen in the “${FORM_NAMES[kind]}” form. Check the options there, then submit.`);
  input.scrollIntoView({ block: "nearest" });
}

function say(sentence, isProblem = false) {
  const status = document.getElementById("drop-status");
  if (!status) return;
  status.textContent = sentence;
  status.classList.toggle("is-problem", isProblem);
}

function humanSize(bytes) {
  const units = ["bytes", "KiB", "MiB", "GiB"];
  let value = bytes;
  let unit = 0;
  while (value >= 1024 && unit < units.length - 1) {
    value /= 1024;
    unit += 1;
  }
  return `${unit === 0 ? value : value.toFixed(value < 10 ? 1 : 0)} ${units[unit]}`;
}

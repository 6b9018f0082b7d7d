// How a frame's file is shown, one way everywhere on the page: the same rule as
// webapp/views/presenters.py display_file() — the script by its own name, installed code by
// its module path ("json/decoder.py", "requests/api.py"), any other file by its last two parts.

const INSTALLED = /^.*[/\\](?:site|dist)-packages[/\\]|^.*[/\\]lib(?:64)?[/\\]python\d+(?:\.\d+)?t?[/\\]/i;

export function displayFile(path, scriptName) {
  path = (path || "").replace(/\\/g, "/");
  const parts = path.split("/");
  if (scriptName && parts[parts.length - 1] === scriptName) return scriptName;
  const installed = path.replace(INSTALLED, "");
  if (installed !== path) return installed;
  return parts.length > 2 ? parts.slice(-2).join("/") : path;
}

// The compare page: mounts the differential flamegraph on #diffgraph[data-diff-url].

import { DiffFlamegraph } from "./diffgraph.js";

function mount() {
  const element = document.querySelector("[data-diff-url]");
  if (element && !element.diffgraph) {
    element.diffgraph = new DiffFlamegraph(element, element.dataset.diffUrl, element.dataset.diffPreviewUrl);
  }
}

if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", mount);
else mount();

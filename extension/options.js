// The options page: which downloads Haul catches — file types, the smallest size, sites never
// caught — saved to the extension's storage. Must not touch: the popup's switch (`paused`).
"use strict";

for (const el of document.querySelectorAll("[data-i18n]")) {
  el.textContent = HAUL.t(el.dataset.i18n);
}
document.title = HAUL.t("optionsTitle");
document.documentElement.lang = chrome.i18n.getUILanguage();

const MIB = 1024 * 1024;
const $ = (id) => document.getElementById(id);

function fill(rules) {
  $("types").value = rules.types.join(" ");
  $("minSize").value = String(Math.round((rules.minSize / MIB) * 10) / 10);
  $("never").value = rules.never.join("\n");
}

async function load() {
  fill(await HAUL.loadRules());
}

$("form").addEventListener("submit", async (e) => {
  e.preventDefault();
  const size = Number($("minSize").value);
  const rules = {
    types: HAUL.parseTypes($("types").value),
    minSize: Number.isFinite(size) && size >= 0 ? Math.round(size * MIB) : HAUL.DEFAULTS.minSize,
    never: HAUL.parseSites($("never").value),
  };
  await HAUL.saveRules(rules);
  fill({ ...rules });
  $("saved").textContent = HAUL.t("saved");
});

$("reset").addEventListener("click", async () => {
  const { types, minSize, never } = HAUL.DEFAULTS;
  await HAUL.saveRules({ types, minSize, never });
  fill(HAUL.DEFAULTS);
  $("saved").textContent = HAUL.t("saved");
});

load();

// Haul's extension: the catching rules and the state every page of the extension shares.
// Owns: the defaults, reading and writing them (chrome.storage.local), and the one decision
// "does Haul take this download?" (pure: `catchVerdict`). Must not touch: the native host.
"use strict";

var HAUL = globalThis.HAUL || {};
globalThis.HAUL = HAUL;

HAUL.HOST = "io.github.haul.host";

HAUL.DEFAULTS = {
  // File types caught (the name's last extension, lower case); empty: every type.
  types: [
    "zip", "7z", "rar", "tar", "gz", "tgz", "xz", "bz2", "zst", "iso", "img", "dmg", "pkg",
    "exe", "msi", "deb", "rpm", "apk", "appimage", "bin", "mp4", "mkv", "avi", "mov", "webm",
    "m4v", "mp3", "flac", "wav", "m4a", "ogg", "pdf", "epub",
  ],
  // Smaller downloads stay with the browser (bytes). An unknown size does not keep one.
  minSize: 1024 * 1024,
  // Sites never caught: a host name, and every host under it.
  never: [],
  // Catching is switched off in the popup.
  paused: false,
};

HAUL.loadRules = async function loadRules() {
  const got = await chrome.storage.local.get(HAUL.DEFAULTS);
  return got;
};

HAUL.saveRules = async function saveRules(rules) {
  await chrome.storage.local.set(rules);
};

// "a, .ZIP  tar.gz" → ["a", "zip", "gz"]: types as the user types them.
HAUL.parseTypes = function parseTypes(text) {
  return String(text)
    .split(/[\s,;]+/)
    .map((t) => t.trim().toLowerCase().replace(/^\*?\./, "").split(".").pop())
    .filter((t) => t.length > 0 && /^[a-z0-9]+$/.test(t));
};

// One host a line (or an address: its host is taken).
HAUL.parseSites = function parseSites(text) {
  return String(text)
    .split(/[\s,]+/)
    .map((s) => s.trim().toLowerCase())
    .filter((s) => s.length > 0)
    .map((s) => {
      try {
        return new URL(s.includes("://") ? s : "http://" + s).hostname;
      } catch (_) {
        return "";
      }
    })
    .filter((s) => s.length > 0);
};

HAUL.baseName = function baseName(path) {
  return String(path || "").split(/[\\/]/).pop();
};

HAUL.hostOf = function hostOf(url) {
  try {
    return new URL(url).hostname.toLowerCase();
  } catch (_) {
    return "";
  }
};

// Whether Haul takes a download, and if not, why: {take: true} or {take: false, why}.
// `d` = {url, filename, size (-1 or 0 when unknown), kept (the modifier was held)}.
HAUL.catchVerdict = function catchVerdict(d, rules) {
  if (rules.paused) return { take: false, why: "paused" };
  if (d.kept) return { take: false, why: "modifier" };
  let scheme = "";
  try {
    scheme = new URL(d.url).protocol;
  } catch (_) {
    return { take: false, why: "scheme" };
  }
  if (!["http:", "https:", "ftp:"].includes(scheme)) return { take: false, why: "scheme" };
  const host = HAUL.hostOf(d.url);
  if (rules.never.some((site) => host === site || host.endsWith("." + site))) {
    return { take: false, why: "never" };
  }
  const name = HAUL.baseName(d.filename).toLowerCase();
  const type = name.includes(".") ? name.split(".").pop() : "";
  if (rules.types.length > 0 && !rules.types.includes(type)) return { take: false, why: "type" };
  if (d.size > 0 && d.size < rules.minSize) return { take: false, why: "size" };
  return { take: true };
};

// What the host is asked, and the answer (rejects with the browser's own words when the host
// is missing or broken).
HAUL.ask = function ask(message) {
  return chrome.runtime.sendNativeMessage(HAUL.HOST, message);
};

// The last few things handed over (or not), newest first, for the popup.
HAUL.remember = async function remember(entry) {
  const { recent = [] } = await chrome.storage.local.get({ recent: [] });
  recent.unshift({ ...entry, at: Date.now() });
  await chrome.storage.local.set({ recent: recent.slice(0, 5) });
};

HAUL.t = function t(key, subs) {
  return chrome.i18n.getMessage(key, subs) || key;
};

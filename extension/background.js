// Haul's extension, in the background (Chromium's service worker; Firefox's event page):
// catches the downloads the rules pick, hands each to Haul through the native host with what
// the server needs (its cookies, the Referer, the browser's User-Agent, the final URL, the
// name the browser chose), and cancels it in the browser only once Haul has taken it: when
// Haul does not answer, the browser keeps the download and the popup says why.
// Also the context menus, and the video streams seen in each tab's requests (for "Download
// video with Haul"). Must not touch: the rules' decision (rules.js).
"use strict";

if (typeof importScripts === "function" && !globalThis.HAUL) {
  importScripts("rules.js");
}

// Links clicked with the modifier held: url → until when it is kept from Haul.
const kept = new Map();
const KEEP_FOR_MS = 30000;

function isKept(...urls) {
  const now = Date.now();
  for (const [url, until] of kept) if (until < now) kept.delete(url);
  return urls.some((u) => u && kept.has(u));
}

// "name=value; name2=value2": the cookies the browser would send to `url`.
async function cookieHeader(url) {
  try {
    const cookies = await chrome.cookies.getAll({ url });
    return cookies.map((c) => `${c.name}=${c.value}`).join("; ");
  } catch (_) {
    return "";
  }
}

async function itemFor(url, referrer, filename) {
  const item = { url, userAgent: navigator.userAgent };
  if (referrer) item.referrer = referrer;
  const cookie = await cookieHeader(url);
  if (cookie) item.cookie = cookie;
  const name = HAUL.baseName(filename);
  if (name) item.filename = name;
  return item;
}

// Hands `items` to Haul. Resolves {ok: true} or {ok: false, why} (never rejects).
async function handOver(items, pick) {
  try {
    const reply = await HAUL.ask({ type: "download", items, pick: !!pick });
    if (reply && reply.ok) {
      await chrome.storage.local.set({ lastProblem: "" });
      return { ok: true };
    }
    const why =
      (reply && (reply.error || (reply.results || []).map((r) => r.error).find(Boolean))) ||
      "no answer";
    await chrome.storage.local.set({ lastProblem: why });
    return { ok: false, why };
  } catch (e) {
    const why = String((e && e.message) || e);
    await chrome.storage.local.set({ lastProblem: why });
    return { ok: false, why };
  }
}

// Decides for one browser download; true when Haul took it (then it is cancelled here).
async function decide(download) {
  if (download.byExtensionId === chrome.runtime.id) return false;
  const url = download.finalUrl || download.url;
  const rules = await HAUL.loadRules();
  const verdict = HAUL.catchVerdict(
    {
      url,
      filename: download.filename,
      size: download.totalBytes > 0 ? download.totalBytes : download.fileSize,
      kept: isKept(download.url, download.finalUrl),
    },
    rules,
  );
  if (!verdict.take) return false;
  const name = HAUL.baseName(download.filename);
  const item = await itemFor(url, download.referrer, name);
  const handed = await handOver([item], false);
  await HAUL.remember({ name: name || url, ok: handed.ok, why: handed.why || "" });
  if (!handed.ok) return false;
  try {
    await chrome.downloads.cancel(download.id);
    await chrome.downloads.erase({ id: download.id });
  } catch (_) {
    // Already gone: nothing of it stays in the browser either way.
  }
  return true;
}

if (chrome.downloads.onDeterminingFilename) {
  // Chromium: the download waits for a name while Haul is asked; nothing lands in the
  // download folder unless the browser keeps it.
  chrome.downloads.onDeterminingFilename.addListener((download, suggest) => {
    decide(download).then(
      (taken) => {
        if (!taken) suggest();
      },
      () => suggest(),
    );
    return true;
  });
} else {
  // Firefox has no onDeterminingFilename: the download is cancelled once Haul took it.
  chrome.downloads.onCreated.addListener((download) => {
    decide(download).catch(() => {});
  });
}

chrome.runtime.onMessage.addListener((message, sender) => {
  if (message && message.type === "keep" && sender.tab && typeof message.url === "string") {
    kept.set(message.url, Date.now() + KEEP_FOR_MS);
  }
  return false;
});

// Video streams seen in a tab's requests (HLS playlists, DASH manifests): tab id → the
// first one since the tab loaded its page, kept in session storage (the service worker may
// be stopped between events).
const STREAM_TYPES = /^(application\/(vnd\.apple\.mpegurl|x-mpegurl|dash\+xml)|audio\/(x-)?mpegurl)\b/i;
const STREAM_PATHS = /\.(m3u8|mpd)$/i;

async function streams() {
  const { streams = {} } = await chrome.storage.session.get({ streams: {} });
  return streams;
}

async function showVideoMenu(tabId) {
  const seen = (await streams())[tabId];
  chrome.contextMenus.update("haul-video", { visible: !!seen }, () => void chrome.runtime.lastError);
}

chrome.webRequest.onResponseStarted.addListener(
  (details) => {
    if (details.tabId < 0) return;
    const type = ((details.responseHeaders || []).find((h) => h.name.toLowerCase() === "content-type") || {}).value || "";
    let pathname = "";
    try {
      pathname = new URL(details.url).pathname;
    } catch (_) {
      return;
    }
    if (!STREAM_TYPES.test(type) && !STREAM_PATHS.test(pathname)) return;
    (async () => {
      const all = await streams();
      if (all[details.tabId]) return; // the first: a master playlist comes before its variants
      all[details.tabId] = { url: details.url, page: details.initiator || details.documentUrl || "" };
      await chrome.storage.session.set({ streams: all });
      const [active] = await chrome.tabs.query({ active: true, lastFocusedWindow: true });
      if (active && active.id === details.tabId) await showVideoMenu(details.tabId);
    })().catch(() => {});
  },
  { urls: ["<all_urls>"], types: ["xmlhttprequest", "media", "other"] },
  ["responseHeaders"],
);

// A new page in a tab forgets the streams of the one before.
chrome.tabs.onUpdated.addListener((tabId, change) => {
  if (change.status !== "loading" || !change.url) return;
  (async () => {
    const all = await streams();
    if (!all[tabId]) return;
    delete all[tabId];
    await chrome.storage.session.set({ streams: all });
    await showVideoMenu(tabId);
  })().catch(() => {});
});
chrome.tabs.onActivated.addListener(({ tabId }) => {
  showVideoMenu(tabId).catch(() => {});
});

// The context menus; "Download video with Haul" shows where a stream was seen.
function createMenus() {
  chrome.contextMenus.removeAll(() => {
    chrome.contextMenus.create({
      id: "haul-link",
      title: HAUL.t("menuLink"),
      contexts: ["link"],
    });
    chrome.contextMenus.create({
      id: "haul-selection",
      title: HAUL.t("menuSelection"),
      contexts: ["selection"],
    });
    chrome.contextMenus.create({
      id: "haul-video",
      title: HAUL.t("menuVideo"),
      contexts: ["page", "video", "audio", "frame"],
      visible: false,
    });
  });
}
chrome.runtime.onInstalled.addListener(createMenus);
chrome.runtime.onStartup.addListener(createMenus);

async function menuClicked(info, tab) {
  const page = info.pageUrl || (tab && tab.url) || "";
  if (info.menuItemId === "haul-link" && info.linkUrl) {
    const item = await itemFor(info.linkUrl, page, "");
    const handed = await handOver([item], false);
    const name = HAUL.baseName(new URL(info.linkUrl).pathname) || info.linkUrl;
    await HAUL.remember({ name, ok: handed.ok, why: handed.why || "" });
    if (!handed.ok) {
      // Nothing lost: the browser downloads it instead.
      kept.set(info.linkUrl, Date.now() + KEEP_FOR_MS);
      await chrome.downloads.download({ url: info.linkUrl });
    }
    return handed;
  }
  if (info.menuItemId === "haul-selection" && tab && tab.id !== undefined) {
    const answer = await chrome.tabs.sendMessage(tab.id, { type: "selectedLinks" }, { frameId: info.frameId || 0 });
    const links = (answer && answer.links) || [];
    if (links.length === 0) return { ok: false, why: "no links" };
    // Only the addresses: the person picks in Haul's add box (no cookies travel for them).
    const items = links.map((url) => ({ url }));
    const handed = await handOver(items, true);
    await HAUL.remember({ name: "", pick: links.length, ok: handed.ok, why: handed.why || "" });
    return handed;
  }
  if (info.menuItemId === "haul-video" && tab && tab.id !== undefined) {
    const seen = (await streams())[tab.id];
    if (!seen) return { ok: false, why: "no stream seen" };
    const item = await itemFor(seen.url, page || seen.page, "");
    const handed = await handOver([item], false);
    const name = HAUL.baseName(new URL(seen.url).pathname) || seen.url;
    await HAUL.remember({ name, ok: handed.ok, why: handed.why || "" });
    return handed;
  }
  return { ok: false, why: "unknown menu" };
}
chrome.contextMenus.onClicked.addListener((info, tab) => {
  menuClicked(info, tab).catch(() => {});
});

// For the browser tests, which cannot click a native context menu.
globalThis.haulMenuClicked = menuClicked;

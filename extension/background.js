// Haul's extension, in the background (Chromium's service worker; Firefox's event page):
// catches the downloads the rules pick, hands each to Haul through the native host with what
// the server needs (its cookies, the Referer, the browser's User-Agent, the final URL, the
// name the browser chose), and cancels it in the browser only once Haul has taken it: when
// Haul does not answer, the browser keeps the download and the popup says why.
// Also the context menus. Must not touch: the rules' decision (rules.js).
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

// The context menus ("Download video with Haul" comes with video streams, issue 24).
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
  return { ok: false, why: "unknown menu" };
}
chrome.contextMenus.onClicked.addListener((info, tab) => {
  menuClicked(info, tab).catch(() => {});
});

// For the browser tests, which cannot click a native context menu.
globalThis.haulMenuClicked = menuClicked;

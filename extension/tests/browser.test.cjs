// Haul's extension in a real Chromium (issue 25), headful under Xvfb, with a fresh HOME and
// user-data dir, the browser host installed there by `haul-cli --install-browser-host`, the
// extension loaded unpacked from extension/, the real Haul window running with its own HOME
// and destination, and pages served from 127.0.0.1 by a server this script starts.
//
// Usage (what .ci/browser does): xvfb-run -a node extension/tests/browser.test.cjs
// Environment: HAUL_BIN_DIR (the folder with haul, haul-cli, haul-browser-host), NODE_PATH
// (with playwright-core), CHROMIUM (default /usr/bin/chromium), HAUL_SHOTS (where the
// popup's and the options page's screenshots go; optional). Exits non-zero on a failure.
"use strict";

const assert = require("node:assert/strict");
const crypto = require("node:crypto");
const fs = require("node:fs");
const http = require("node:http");
const os = require("node:os");
const path = require("node:path");
const { spawn, execFileSync } = require("node:child_process");
const { chromium } = require("playwright-core");

const EXT = path.resolve(__dirname, "..");
const BIN = process.env.HAUL_BIN_DIR;
const CHROMIUM = process.env.CHROMIUM || "/usr/bin/chromium";
const SHOTS = process.env.HAUL_SHOTS || "";
const MIB = 1024 * 1024;
assert.ok(BIN && fs.existsSync(path.join(BIN, "haul")), "HAUL_BIN_DIR must hold the built haul");

const work = fs.mkdtempSync(path.join(os.tmpdir(), "haul-browser-"));
const home = path.join(work, "home");
const userData = path.join(home, ".config", "chromium");
const browserDownloads = path.join(work, "browser-downloads");
const haulDest = path.join(work, "haul-dest");
const bin = path.join(work, "bin");
for (const d of [home, userData, browserDownloads, haulDest, bin]) fs.mkdirSync(d, { recursive: true });

// The programs as installed: side by side (the host starts `haul` from its own folder).
fs.copyFileSync(path.join(BIN, "haul-cli"), path.join(bin, "haul-cli"));
fs.copyFileSync(path.join(BIN, "haul-browser-host"), path.join(bin, "haul-browser-host"));
fs.chmodSync(path.join(bin, "haul-cli"), 0o755);
fs.chmodSync(path.join(bin, "haul-browser-host"), 0o755);
fs.symlinkSync(path.join(BIN, "haul"), path.join(bin, "haul"));

// One environment for the browser, the host it starts and the window: a fresh HOME.
const env = { ...process.env, HOME: home, LANG: "C.UTF-8", LANGUAGE: "en" };
for (const k of ["XDG_DATA_HOME", "XDG_CONFIG_HOME", "XDG_CACHE_HOME", "XDG_DOWNLOAD_DIR"]) delete env[k];
const dataDir = path.join(home, ".local", "share", "haul");

const children = [];
function cleanup() {
  for (const child of children) {
    try {
      process.kill(child.pid, "SIGKILL");
    } catch (_) {}
  }
  for (const pid of windowsStarted()) {
    try {
      process.kill(pid, "SIGKILL");
    } catch (_) {}
  }
}
process.on("exit", cleanup);

// The haul windows running with this test's HOME (the one it started, and any the host
// started): found by their environment, so no other process is touched.
function windowsStarted() {
  const found = [];
  for (const pid of fs.readdirSync("/proc").filter((p) => /^\d+$/.test(p))) {
    try {
      const exe = fs.readlinkSync(`/proc/${pid}/exe`);
      if (path.basename(exe) !== "haul") continue;
      const environ = fs.readFileSync(`/proc/${pid}/environ`, "utf8").split("\0");
      if (environ.includes(`HOME=${home}`)) found.push(Number(pid));
    } catch (_) {}
  }
  return found;
}

async function waitFor(what, check, ms = 30000) {
  const end = Date.now() + ms;
  for (;;) {
    const value = await check();
    if (value) return value;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const files = (dir) => fs.readdirSync(dir).sort();

// ---- the site: a page that sets a cookie; files, one of which needs the cookie and the Referer
const bodies = {
  "big.bin": crypto.randomBytes(20 * MIB),
  "small.bin": crypto.randomBytes(10 * 1024),
  "alt.bin": crypto.randomBytes(2 * MIB),
  "never.bin": crypto.randomBytes(2 * MIB),
  "menu.bin": crypto.randomBytes(2 * MIB),
  "a1.bin": crypto.randomBytes(2 * MIB),
  "a2.bin": crypto.randomBytes(2 * MIB),
  "late.bin": crypto.randomBytes(3 * MIB),
  "kept.bin": crypto.randomBytes(2 * MIB),
};
const session = crypto.randomBytes(12).toString("hex");
const seen = []; // {name, cookie, referer, ua, status}
let port = 0;
const page = (p) => `http://127.0.0.1:${port}${p}`;

const server = http.createServer((req, res) => {
  const url = new URL(req.url, "http://x");
  if (url.pathname === "/page.html" || url.pathname === "/never.html") {
    res.setHeader("Set-Cookie", `session=${session}; Path=/; HttpOnly; SameSite=Lax`);
    res.setHeader("Content-Type", "text/html; charset=utf-8");
    res.end(`<!doctype html><title>files</title>
      <p><a id="big" href="/files/big.bin">big</a> <a id="small" href="/files/small.bin">small</a>
      <a id="alt" href="/files/alt.bin">alt</a> <a id="menu" href="/files/menu.bin">menu</a>
      <a id="never" href="/files/never.bin">never</a> <a id="late" href="/files/late.bin">late</a>
      <a id="kept" href="/files/kept.bin">kept</a></p>
      <p id="sel">Pick <a href="/files/a1.bin">one</a> and <a href="/files/a2.bin">two</a>.</p>`);
    return;
  }
  if (url.pathname === "/video.html") {
    res.setHeader("Content-Type", "text/html; charset=utf-8");
    res.end(`<!doctype html><title>video</title><p>a player</p>
      <script>fetch("/media/index.m3u8").then((r) => r.text()).then((t) => { document.title = "seen"; });</script>`);
    return;
  }
  if (url.pathname.startsWith("/media/")) {
    const name = url.pathname.slice("/media/".length);
    seen.push({ name, cookie: req.headers.cookie || "", referer: req.headers.referer || "", ua: req.headers["user-agent"] || "", status: 200 });
    if (name === "index.m3u8") {
      res.setHeader("Content-Type", "application/vnd.apple.mpegurl");
      res.end("#EXTM3U\n#EXT-X-VERSION:3\n#EXT-X-TARGETDURATION:1\n#EXT-X-MEDIA-SEQUENCE:0\n#EXTINF:1.0,\nseg0.ts\n#EXT-X-ENDLIST\n");
    } else {
      res.setHeader("Content-Type", "video/mp2t");
      res.end(Buffer.alloc(188 * 10, 0x47));
    }
    return;
  }
  const name = url.pathname.replace(/^\/files\//, "");
  const body = bodies[name];
  if (!body) {
    res.statusCode = 404;
    res.end();
    return;
  }
  const cookie = req.headers.cookie || "";
  const referer = req.headers.referer || "";
  const entry = { name, cookie, referer, ua: req.headers["user-agent"] || "", status: 200 };
  seen.push(entry);
  if (name === "big.bin" && (!cookie.includes(`session=${session}`) || referer !== page("/page.html"))) {
    entry.status = 403;
    res.statusCode = 403;
    res.end("the cookie and the Referer are needed");
    return;
  }
  let start = 0;
  let end = body.length - 1;
  const range = /^bytes=(\d+)-(\d*)$/.exec(req.headers.range || "");
  res.setHeader("Accept-Ranges", "bytes");
  res.setHeader("Content-Type", "application/octet-stream");
  res.setHeader("Content-Disposition", `attachment; filename="${name}"`);
  if (range) {
    start = Number(range[1]);
    if (range[2]) end = Math.min(end, Number(range[2]));
    res.statusCode = 206;
    res.setHeader("Content-Range", `bytes ${start}-${end}/${body.length}`);
  }
  res.setHeader("Content-Length", String(end - start + 1));
  res.end(body.subarray(start, end + 1));
});

function landed(dir, name) {
  const file = path.join(dir, name);
  return fs.existsSync(file) && fs.readFileSync(file).equals(bodies[name]);
}

async function main() {
  await new Promise((r) => server.listen(0, "127.0.0.1", r));
  port = server.address().port;

  // The host installed as a person does it.
  const installed = execFileSync(path.join(bin, "haul-cli"), ["--install-browser-host"], { env, encoding: "utf8" });
  console.log(installed.trim());
  assert.match(installed, /Chromium: .*NativeMessagingHosts\/io\.github\.haul\.host\.json/);

  // The extension's fixed ID, from its key, is the one the host lets in.
  const manifest = JSON.parse(fs.readFileSync(path.join(EXT, "manifest.json"), "utf8"));
  const der = Buffer.from(manifest.key, "base64");
  const id = [...crypto.createHash("sha256").update(der).digest("hex").slice(0, 32)]
    .map((c) => String.fromCharCode("a".charCodeAt(0) + parseInt(c, 16)))
    .join("");
  const hostManifest = JSON.parse(
    fs.readFileSync(path.join(userData, "NativeMessagingHosts", "io.github.haul.host.json"), "utf8"),
  );
  assert.deepEqual(hostManifest.allowed_origins, [`chrome-extension://${id}/`]);

  // The browser's download folder: its own, to see that it stays empty.
  fs.mkdirSync(path.join(userData, "Default"), { recursive: true });
  fs.writeFileSync(
    path.join(userData, "Default", "Preferences"),
    JSON.stringify({ download: { default_directory: browserDownloads, prompt_for_download: false, directory_upgrade: true } }),
  );

  // The real Haul window, with its own destination.
  const haul = spawn(path.join(bin, "haul"), ["--dest", haulDest], { env, stdio: ["ignore", "ignore", "inherit"] });
  children.push(haul);
  await waitFor("Haul's window to listen", () => fs.existsSync(path.join(dataDir, "haul.sock")));

  const { browser, context, sw, proc } = await launch(id, []);
  const tab = await context.newPage();
  const ua = await tab.evaluate(() => navigator.userAgent);

  // 1. A 20 MiB file behind a cookie and a Referer check lands in Haul, byte-exact; the
  // browser's folder stays empty; the server saw the cookie, the Referer and the browser's UA.
  await tab.goto(page("/page.html"));
  await tab.click("#big");
  await waitFor("big.bin in Haul's folder", () => landed(haulDest, "big.bin"), 60000);
  await sleep(1000);
  assert.deepEqual(files(browserDownloads), [], "the browser's download folder stays empty");
  const bigs = seen.filter((s) => s.name === "big.bin");
  assert.ok(bigs.length >= 2, "the browser's request, then Haul's");
  for (const s of bigs) {
    assert.equal(s.status, 200, "every request for it had the cookie and the Referer");
    assert.equal(s.ua, ua, "the browser's User-Agent");
  }
  const inBrowser = await sw.evaluate(() => chrome.downloads.search({ filenameRegex: "big" }));
  assert.deepEqual(inBrowser, [], "no trace of it in the browser's downloads");
  console.log("ok 1 - a 20 MiB download needing a cookie and a Referer landed in Haul, byte-exact");

  // 2. Under the size rule: the browser keeps it.
  await tab.click("#small");
  await waitFor("small.bin in the browser's folder", () => landed(browserDownloads, "small.bin"));
  assert.ok(!fs.existsSync(path.join(haulDest, "small.bin")));
  console.log("ok 2 - a file under the size rule stayed with the browser");

  // 3. Alt held while clicking: the browser keeps that one.
  await tab.click("#alt", { modifiers: ["Alt"] });
  await waitFor("alt.bin in the browser's folder", () => landed(browserDownloads, "alt.bin"));
  assert.ok(!fs.existsSync(path.join(haulDest, "alt.bin")));
  console.log("ok 3 - the Alt-click stayed with the browser");

  // 4. A site on the never list (set in the options page): the browser keeps it.
  const options = await context.newPage();
  await options.goto(`chrome-extension://${id}/options.html`);
  await options.fill("#never", "localhost");
  await options.click("#save");
  await waitFor("saved", async () => (await options.textContent("#saved")) === "Saved.");
  if (SHOTS) await options.screenshot({ path: path.join(SHOTS, "options-en.png"), fullPage: true });
  await options.close();
  await tab.goto(`http://localhost:${port}/never.html`);
  await tab.click("#never");
  await waitFor("never.bin in the browser's folder", () => landed(browserDownloads, "never.bin"));
  assert.ok(!fs.existsSync(path.join(haulDest, "never.bin")));
  console.log("ok 4 - a site on the never list stayed with the browser");

  // 5. "Download with Haul" on a link; "Download all links with Haul" on a selection.
  await tab.goto(page("/page.html"));
  const tabId = await sw.evaluate(async (u) => (await chrome.tabs.query({ url: u }))[0].id, page("/page.html"));
  const menu = await sw.evaluate(
    ([linkUrl, pageUrl, id]) => globalThis.haulMenuClicked({ menuItemId: "haul-link", linkUrl, pageUrl }, { id, url: pageUrl }),
    [page("/files/menu.bin"), page("/page.html"), tabId],
  );
  assert.ok(menu.ok, JSON.stringify(menu));
  await waitFor("menu.bin in Haul's folder", () => landed(haulDest, "menu.bin"));
  await tab.evaluate(() => {
    const range = document.createRange();
    range.selectNodeContents(document.getElementById("sel"));
    const s = document.getSelection();
    s.removeAllRanges();
    s.addRange(range);
  });
  const all = await sw.evaluate(
    ([pageUrl, id]) => globalThis.haulMenuClicked({ menuItemId: "haul-selection", pageUrl, frameId: 0 }, { id, url: pageUrl }),
    [page("/page.html"), tabId],
  );
  assert.ok(all.ok, JSON.stringify(all));
  const { recent } = await sw.evaluate(() => chrome.storage.local.get("recent"));
  assert.equal(recent[0].pick, 2, "the selection's two links");
  console.log("ok 5 - the context menus handed a link and a selection's two links to Haul");

  // 6. A video stream seen in a page's requests: "Download video with Haul" hands its
  // playlist over, with the page's cookie, the page as Referer and the browser's UA.
  await tab.goto(page("/video.html"));
  await waitFor("the page's player to fetch its playlist", async () => (await tab.title()) === "seen");
  const videoTab = await sw.evaluate(async (u) => (await chrome.tabs.query({ url: u }))[0].id, page("/video.html"));
  const stream = await waitFor("the stream noted for the tab", () =>
    sw.evaluate(async (t) => ((await chrome.storage.session.get("streams")).streams || {})[t], videoTab),
  );
  assert.equal(stream.url, page("/media/index.m3u8"));
  const before = seen.filter((s) => s.name === "index.m3u8").length;
  const video = await sw.evaluate(
    ([pageUrl, id]) => globalThis.haulMenuClicked({ menuItemId: "haul-video", pageUrl }, { id, url: pageUrl }),
    [page("/video.html"), videoTab],
  );
  assert.ok(video.ok, JSON.stringify(video));
  const haulsRequest = await waitFor("Haul to fetch the playlist", () => seen.filter((s) => s.name === "index.m3u8")[before]);
  assert.ok(haulsRequest.cookie.includes(`session=${session}`), "the page's cookie");
  assert.equal(haulsRequest.referer, page("/video.html"));
  assert.equal(haulsRequest.ua, ua);
  console.log("ok 6 - a stream seen in the page went to Haul with the page's cookie, Referer and UA");

  if (SHOTS) await shootPopup(context, id, "popup-en.png");

  // 7. Haul not running: the window starts and gets the item.
  await quitWindows();
  await tab.goto(page("/page.html"));
  await tab.click("#late");
  const lateIn = await waitFor(
    "late.bin in Haul's folder",
    () => [haulDest, path.join(home, "Downloads")].find((d) => landed(d, "late.bin")),
    60000,
  );
  assert.ok(windowsStarted().length === 1, "the host started one window");
  assert.ok(!fs.existsSync(path.join(browserDownloads, "late.bin")));
  console.log(`ok 7 - with Haul not running, the window started and took the item (into ${lateIn})`);

  // 8. The host program missing: the browser keeps the download, and the popup says why.
  fs.unlinkSync(path.join(bin, "haul-browser-host"));
  await tab.click("#kept");
  await waitFor("kept.bin in the browser's folder", () => landed(browserDownloads, "kept.bin"));
  assert.ok(!fs.existsSync(path.join(haulDest, "kept.bin")));
  const popup = await shootPopup(context, id, "popup-missing-en.png");
  assert.match(popup, /not installed for this browser/, popup);
  // Said once, in the person's language: not again in the browser's own (English) words.
  assert.doesNotMatch(popup, /Specified native messaging host/, popup);
  console.log("ok 8 - with the host missing, the browser kept the download and the popup said so");
  await stop({ browser, proc });

  // The popup and the options page in Chinese (both scripts), for the screenshots.
  if (SHOTS) {
    for (const [lang, tag] of [["zh-CN", "zh-CN"], ["zh-TW", "zh-TW"]]) {
      const again = await launch(id, [`--lang=${lang}`], { LANGUAGE: lang.replace("-", "_") });
      const text = await shootPopup(again.context, id, `popup-${tag}.png`);
      assert.match(text, lang === "zh-CN" ? /最近交出/ : /最近交出/);
      const opts = await again.context.newPage();
      await opts.goto(`chrome-extension://${id}/options.html`);
      await opts.screenshot({ path: path.join(SHOTS, `options-${tag}.png`), fullPage: true });
      await stop(again);
    }
  }
  console.log("all browser tests passed");
}

// Starts Chromium as the brief says, and connects without taking over its downloads.
async function launch(id, extra, extraEnv = {}) {
  const profile = userData;
  try {
    fs.unlinkSync(path.join(profile, "DevToolsActivePort"));
  } catch (_) {}
  const args = [
    "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
    `--user-data-dir=${profile}`, "--remote-debugging-port=0",
    `--load-extension=${EXT}`, `--disable-extensions-except=${EXT}`,
    ...extra, "about:blank",
  ];
  const proc = spawn(CHROMIUM, args, { env: { ...env, ...extraEnv }, stdio: ["ignore", "ignore", "pipe"] });
  children.push(proc);
  let log = "";
  proc.stderr.on("data", (d) => {
    log += d;
  });
  const portFile = path.join(profile, "DevToolsActivePort");
  const cdp = await waitFor("Chromium's DevTools port", () => fs.existsSync(portFile) && fs.readFileSync(portFile, "utf8").split("\n")[0]).catch((e) => {
    throw new Error(`${e.message}\n${log}`);
  });
  const browser = await chromium.connectOverCDP(`http://127.0.0.1:${cdp}`, { noDefaults: true });
  const context = browser.contexts()[0];
  const sw = await waitFor("the extension's service worker", () =>
    context.serviceWorkers().find((w) => w.url().startsWith(`chrome-extension://${id}/`)),
  );
  return { browser, context, sw, proc };
}

// Disconnects and ends the browser (a CDP connection's close leaves it running).
async function stop({ browser, proc }) {
  await browser.close();
  const ended = new Promise((r) => proc.once("exit", r));
  proc.kill("SIGTERM");
  await ended;
}

// Opens the popup as a page, waits for its answer, screenshots it; returns its text.
async function shootPopup(context, id, name) {
  const popup = await context.newPage();
  await popup.setViewportSize({ width: 324, height: 360 });
  await popup.goto(`chrome-extension://${id}/popup.html`);
  await waitFor("the popup's answer", async () => !(await popup.getAttribute("#status", "class")).endsWith("status"));
  await sleep(300);
  if (SHOTS) await popup.screenshot({ path: path.join(SHOTS, name) });
  const text = await popup.textContent("body");
  await popup.close();
  return text;
}

// Ends this test's windows and waits until their lock is free.
async function quitWindows() {
  for (const pid of windowsStarted()) process.kill(pid, "SIGTERM");
  await waitFor("the windows to end", () => windowsStarted().length === 0, 15000);
}

main().then(
  () => {
    server.close();
    cleanup();
    fs.rmSync(work, { recursive: true, force: true });
    process.exit(0);
  },
  (e) => {
    console.error("browser test failed:", e);
    console.error("requests seen:", JSON.stringify(seen.map(({ cookie, ...s }) => ({ ...s, cookie: cookie ? "(set)" : "" }))));
    cleanup();
    process.exit(1);
  },
);

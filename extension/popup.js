// The toolbar popup: whether Haul answers (and if not, why and what to do), the switch that
// pauses catching, and the last few items handed over. Must not touch: the rules' defaults.
"use strict";

for (const el of document.querySelectorAll("[data-i18n]")) {
  el.textContent = HAUL.t(el.dataset.i18n);
}
document.documentElement.lang = chrome.i18n.getUILanguage();

const status = document.getElementById("status");
const problem = document.getElementById("problem");

function show(text, good) {
  status.textContent = text;
  status.className = "status " + (good ? "ok" : "bad");
}

async function check() {
  try {
    const reply = await HAUL.ask({ type: "hello" });
    if (reply && reply.ok) {
      show(HAUL.t(reply.window ? "haulRunning" : "haulReady"), true);
      return;
    }
    show(HAUL.t("haulRefused"), false);
    problem.textContent = (reply && reply.error) || "";
    problem.hidden = !problem.textContent;
  } catch (e) {
    const why = String((e && e.message) || e);
    const missing = hostMissing(why);
    show(HAUL.t(missing ? "hostMissing" : "hostBroken"), false);
    // The browser's own words only where the sentence above cannot say what happened (they
    // are in English whatever the browser's language).
    problem.textContent = missing ? "" : why;
    problem.hidden = missing;
  }
}

// Chromium: "Specified native messaging host not found."; Firefox: "No such native application".
function hostMissing(why) {
  return /not found|no such native application/i.test(why || "");
}

// Why an item stayed with the browser, in the person's language where it is known.
function reason(why) {
  return hostMissing(why) ? HAUL.t("notInstalledShort") : why;
}

async function render() {
  const rules = await HAUL.loadRules();
  document.getElementById("catching").checked = !rules.paused;
  const { recent = [], lastProblem = "" } = await chrome.storage.local.get({ recent: [], lastProblem: "" });
  const list = document.getElementById("recent");
  list.replaceChildren();
  for (const r of recent) {
    const li = document.createElement("li");
    const name = r.pick ? HAUL.t("linksPicked", [String(r.pick)]) : r.name;
    li.textContent = r.ok ? (r.pick ? name : HAUL.t("handed", [name])) : HAUL.t("keptByBrowser", [name, reason(r.why)]);
    li.className = r.ok ? "" : "bad";
    li.title = li.textContent;
    list.appendChild(li);
  }
  document.getElementById("none").hidden = recent.length > 0;
  if (lastProblem && problem.hidden && !hostMissing(lastProblem)) {
    problem.textContent = lastProblem;
  }
}

document.getElementById("catching").addEventListener("change", async (e) => {
  await chrome.storage.local.set({ paused: !e.target.checked });
});
document.getElementById("options").addEventListener("click", (e) => {
  e.preventDefault();
  chrome.runtime.openOptionsPage();
});

render();
check();

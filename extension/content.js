// Haul's extension in each page: tells the background which link was clicked with the
// modifier held (Alt, as in IDM: that download stays with the browser), and answers "which
// links are in the selection?" for "Download all links with Haul".
// Must not touch: the page's own behaviour (it only listens).
"use strict";

document.addEventListener(
  "mousedown",
  (event) => {
    if (!event.altKey) return;
    const link = event.target instanceof Element ? event.target.closest("a[href]") : null;
    if (link) chrome.runtime.sendMessage({ type: "keep", url: link.href }).catch(() => {});
  },
  true,
);

chrome.runtime.onMessage.addListener((message, _sender, reply) => {
  if (!message || message.type !== "selectedLinks") return false;
  const selection = document.getSelection();
  const links = new Set();
  if (selection) {
    for (let i = 0; i < selection.rangeCount; i++) {
      const range = selection.getRangeAt(i);
      for (const a of document.querySelectorAll("a[href]")) {
        if (range.intersectsNode(a)) links.add(a.href);
      }
    }
  }
  reply({ links: [...links] });
  return false;
});

// The extension's three languages are complete: every message the extension uses exists in
// English, 简体中文 and 繁體中文, with the same placeholders, and none is left untranslated
// (the same text as English) but for names and units.
// Usage: node extension/tests/locales.test.cjs (exit 1 on a gap).
"use strict";

const assert = require("node:assert/strict");
const fs = require("node:fs");
const path = require("node:path");

const ext = path.resolve(__dirname, "..");
const load = (loc) => JSON.parse(fs.readFileSync(path.join(ext, "_locales", loc, "messages.json"), "utf8"));
const en = load("en");

// Every key the code and pages name.
const used = new Set();
for (const file of fs.readdirSync(ext).filter((f) => /\.(js|html|json)$/.test(f))) {
  const text = fs.readFileSync(path.join(ext, file), "utf8");
  for (const m of text.matchAll(/data-i18n="([A-Za-z]+)"|HAUL\.t\("([A-Za-z]+)"|__MSG_([A-Za-z]+)__/g)) {
    used.add(m[1] || m[2] || m[3]);
  }
}
for (const key of used) assert.ok(en[key], `'${key}' is used but not in en`);

const same = new Set(["extName", "mib", "handed"]);
for (const loc of ["zh_CN", "zh_TW"]) {
  const catalog = load(loc);
  assert.deepEqual(Object.keys(catalog).sort(), Object.keys(en).sort(), `${loc} has every key`);
  for (const [key, value] of Object.entries(en)) {
    assert.deepEqual(
      Object.keys(catalog[key].placeholders || {}).sort(),
      Object.keys(value.placeholders || {}).sort(),
      `${loc} ${key}: the same placeholders`,
    );
    if (!same.has(key)) assert.notEqual(catalog[key].message, value.message, `${loc} ${key} is translated`);
  }
}
console.log(`the extension's ${used.size} messages are complete in en, zh_CN and zh_TW`);

// The HTTP API through a LibreTranslate client nobody here wrote: the `libretranslate` npm
// package (it reads GET /languages, then POSTs JSON to /translate). KHULASA_HTTP=http://host:port.
import { test } from "node:test";
import assert from "node:assert/strict";
import { translate } from "libretranslate";

const apiurl = process.env.KHULASA_HTTP;
assert.ok(apiurl, "KHULASA_HTTP=http://host:port of a khulasa server's HTTP API");

test("libretranslate (npm) gets Arabic→English from khulasa", async () => {
  const text = await translate({ query: "ارتفعت أسعار النفط بنسبة 4% اليوم.", source: "ar", target: "en", apiurl });
  assert.equal(typeof text, "string");
  assert.ok(text.trim().length > 0);
  assert.ok(!/[\u0600-\u06ff]{4}/.test(text) || text !== "ارتفعت أسعار النفط بنسبة 4% اليوم.");
});

test("libretranslate (npm) with source auto and a list of texts", async () => {
  const texts = await translate({ query: ["قال الوزير إن الاقتصاد ينمو.", "The minister spoke."], target: "en", apiurl });
  assert.ok(Array.isArray(texts) && texts.length === 2);
  assert.ok(texts[0].length > 0);
  assert.equal(texts[1], "The minister spoke.");
});

test("libretranslate (npm) with format html keeps the markup", async () => {
  const html = await translate({ query: '<p class="lead">قال <b>الوزير</b></p>', source: "ar", target: "en", format: "html", apiurl });
  assert.match(html, /^<p class="lead">[^<]+<b>[^<]+<\/b><\/p>$/);
  assert.ok(!html.includes("الوزير"));
});

test("libretranslate (npm) refuses a language khulasa does not serve, before calling /translate", async () => {
  await assert.rejects(translate({ query: "hola", source: "es", target: "en", apiurl }), /not found/);
});

test("the /v1 JSON from fetch: every field of the proto's JSON mapping", async () => {
  const response = await fetch(`${apiurl}/v1/digest`, {
    method: "POST",
    headers: { "Content-Type": "application/json" },
    body: JSON.stringify({ id: "web-1", text: "ارتفعت أسعار النفط.\nقال الوزير إن الاقتصاد ينمو." }),
  });
  assert.equal(response.status, 200);
  const digest = await response.json();
  assert.deepEqual(Object.keys(digest).sort(),
    ["detectedLanguage", "id", "paragraphs", "summary", "summarySentences", "timings", "translation"]);
  assert.equal(digest.paragraphs[0].index, 0);
  assert.equal(typeof digest.timings.sourceTokens, "number");
  const bad = await fetch(`${apiurl}/v1/digest`, { method: "POST", headers: { "Content-Type": "application/json" }, body: "{}" });
  assert.equal(bad.status, 400);
  assert.deepEqual(await bad.json(), { error: "text is empty", code: "INVALID_ARGUMENT" });
});

test("each translation's warnings beside translatedText; the npm client still gets its string", async () => {
  const query = "ارتفعت أسعار النفط بنسبة ٤٠٪ في بغداد والقاهرة يوم الأربعاء.";
  const response = await fetch(`${apiurl}/translate`, {
    method: "POST",
    headers: { "Content-Type": "application/json" },
    body: JSON.stringify({ q: [query], source: "ar", target: "en" }),
  });
  const answer = await response.json();
  assert.ok(Array.isArray(answer.warnings) && answer.warnings.length === 1 && Array.isArray(answer.warnings[0]));
  for (const w of answer.warnings[0]) assert.deepEqual(Object.keys(w).sort(), ["code", "message", "severity", "source"]);
  const text = await translate({ query, source: "ar", target: "en", apiurl });
  assert.equal(text, answer.translatedText[0]);
});

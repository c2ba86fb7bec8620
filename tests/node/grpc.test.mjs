// The gRPC contract as a Node.js service sees it: @grpc/grpc-js with the .proto loaded at run
// time by @grpc/proto-loader (lowerCamelCase field names). Every RPC of khulasa.v1.NewsDigest,
// against a real server on the tiny bundle (random weights: the English is noise, so these
// check names, types and behaviour, not wording). KHULASA_GRPC=host:port names the server.
import { after, test } from "node:test";
import assert from "node:assert/strict";
import path from "node:path";
import { fileURLToPath } from "node:url";
import grpc from "@grpc/grpc-js";
import protoLoader from "@grpc/proto-loader";

const here = path.dirname(fileURLToPath(import.meta.url));
const address = process.env.KHULASA_GRPC;
assert.ok(address, "KHULASA_GRPC=host:port of a khulasa server");

const definition = protoLoader.loadSync("khulasa/v1/khulasa.proto", {
  includeDirs: [path.join(here, "..", "..", "proto")],
  keepCase: false, longs: String, enums: String, defaults: true, oneofs: true,
});
const { NewsDigest } = grpc.loadPackageDefinition(definition).khulasa.v1;
const client = new NewsDigest(address, grpc.credentials.createInsecure());
const deadline = () => ({ deadline: Date.now() + 120_000 });

const ARTICLE = [
  "ارتفعت أسعار النفط بنسبة 4% اليوم في الأسواق العالمية.",
  "وقال وزير الطاقة إن الإنتاج سيرتفع في عام 2025.",
  "وأضاف أن المحادثات مع الشركاء ستستمر الأسبوع المقبل.",
].join("\n");

const unary = (method, request) => new Promise((resolve, reject) => {
  const metadata = new grpc.Metadata();
  metadata.set("x-request-id", `node-${method}`);
  const call = client[method](request, metadata, deadline(), (error, response) => (error ? reject(error) : resolve(response)));
  call.on("status", (status) => { call.trailers = status.metadata; });
});

function assertSegment(segment, paragraph) {
  assert.deepEqual(Object.keys(segment).sort(), ["confidence", "paragraph", "score", "source", "translation", "unsure", "warnings"]);
  assert.equal(typeof segment.source, "string");
  assert.equal(typeof segment.translation, "string");
  assert.equal(typeof segment.score, "number");
  assert.equal(segment.paragraph, paragraph);
  assert.ok(Array.isArray(segment.warnings) && segment.warnings.every((w) => typeof w === "string"));
}

function assertParagraph(p, index, source) {
  assert.deepEqual(Object.keys(p).sort(), ["index", "segments", "source", "translation"]);
  assert.equal(p.index, index);
  assert.equal(p.source, source);
  assert.ok(p.translation.length > 0);
  p.segments.forEach((s) => assertSegment(s, index));
}

function assertTimings(t) {
  for (const key of ["totalMs", "translateMs", "summarizeMs"]) assert.equal(typeof t[key], "number", key);
  for (const key of ["sourceTokens", "targetTokens"]) assert.ok(Number.isInteger(t[key]) && t[key] > 0, key);
}

test("Translate: texts in, one Translation each, in order; English comes back unchanged", async () => {
  const response = await unary("Translate", { texts: [ARTICLE, "The minister spoke."], sourceLanguage: "" });
  assert.deepEqual(Object.keys(response), ["translations"]);
  const [ar, en] = response.translations;
  assert.deepEqual(Object.keys(ar).sort(), ["detectedLanguage", "segments", "text"]);
  assert.equal(ar.detectedLanguage, "ar");
  assert.ok(ar.text.length > 0);
  assert.equal(ar.segments.length, 3);
  ar.segments.forEach((s, i) => assertSegment(s, i));
  // Random weights drop the number: the faithfulness check says so.
  assert.ok(ar.segments[0].warnings.includes("missing_number:4") || /\b4\b/.test(ar.segments[0].translation));
  assert.equal(en.text, "The minister spoke.");
  assert.equal(en.detectedLanguage, "en");
});

test("Summarize: a summary and its sentences, each tied to paragraph indexes", async () => {
  const response = await unary("Summarize", { text: ARTICLE, maxSentences: 2, summaryMethod: "extractive" });
  assert.deepEqual(Object.keys(response).sort(), ["detectedLanguage", "sentences", "summary"]);
  assert.equal(response.detectedLanguage, "ar");
  assert.ok(response.sentences.length >= 1 && response.sentences.length <= 2);
  for (const sentence of response.sentences) {
    assert.equal(typeof sentence.text, "string");
    assert.ok(sentence.paragraphs.every((i) => Number.isInteger(i) && i >= 0 && i < 3));
  }
});

test("Digest: paragraphs aligned with the source, summary sentences, timings, the caller's id", async () => {
  const response = await unary("Digest", { id: "n1", text: ARTICLE });
  assert.deepEqual(Object.keys(response).sort(),
    ["detectedLanguage", "error", "id", "paragraphs", "summary", "summarySentences", "timings", "translation"]);
  assert.equal(response.id, "n1");
  assert.equal(response.error, null); // a message field that is not set
  assert.equal(response.paragraphs.length, 3);
  ARTICLE.split("\n").forEach((source, i) => assertParagraph(response.paragraphs[i], i, source));
  assert.equal(response.translation, response.paragraphs.map((p) => p.translation).join("\n") + "");
  assertTimings(response.timings);
});

test("Digest: bad input is INVALID_ARGUMENT with the field named, rich details and the request id", async () => {
  const error = await unary("Digest", { text: "   " }).then(() => null, (e) => e);
  assert.ok(error, "an empty text must be refused");
  assert.equal(error.code, grpc.status.INVALID_ARGUMENT);
  assert.equal(error.details, "text is empty");
  assert.ok(error.metadata.get("grpc-status-details-bin").length === 1); // google.rpc.Status with BadRequest
  assert.equal(error.metadata.get("x-request-id")[0], "node-Digest");
});

test("StreamDigest: each paragraph in order, then the summary, then done", async () => {
  const events = await new Promise((resolve, reject) => {
    const seen = [];
    const call = client.StreamDigest({ id: "s1", text: ARTICLE }, deadline());
    call.on("data", (event) => seen.push(event));
    call.on("error", reject);
    call.on("end", () => resolve(seen));
  });
  assert.deepEqual(events.map((e) => e.event), ["paragraph", "paragraph", "paragraph", "summary", "done"]);
  ARTICLE.split("\n").forEach((source, i) => assertParagraph(events[i].paragraph, i, source));
  assert.equal(events[0].summary, undefined); // the oneof's other members are absent, not defaulted
  assert.equal(typeof events[3].summary.text, "string");
  assert.ok(Array.isArray(events[3].summary.sentences));
  assert.equal(events[4].done.id, "s1");
  assert.equal(events[4].done.detectedLanguage, "ar");
  assertTimings(events[4].done.timings);
});

test("DigestMany: one answer per id, a bad item answered with an error while the stream goes on", async () => {
  const answers = await new Promise((resolve, reject) => {
    const seen = [];
    const call = client.DigestMany(deadline());
    call.on("data", (response) => seen.push(response));
    call.on("error", reject);
    call.on("end", () => resolve(seen));
    call.write({ id: "good-1", text: ARTICLE });
    call.write({ id: "bad", text: "" });
    call.write({ id: "english", text: "Oil prices rose on Monday." });
    call.write({ id: "good-2", text: "قال الوزير إن الاقتصاد ينمو." });
    call.end();
  });
  const byId = Object.fromEntries(answers.map((a) => [a.id, a]));
  assert.deepEqual(Object.keys(byId).sort(), ["bad", "english", "good-1", "good-2"]);
  assert.deepEqual(byId.bad.error, { code: grpc.status.INVALID_ARGUMENT, message: "text is empty" });
  assert.deepEqual(byId.bad.paragraphs, []);
  for (const id of ["good-1", "good-2"]) {
    assert.equal(byId[id].error, null);
    assert.equal(byId[id].detectedLanguage, "ar");
    assert.ok(byId[id].translation.length > 0);
  }
  assert.equal(byId.english.translation, "Oil prices rose on Monday.");
});

test("GetModelInfo: the bundle, its models, languages and limits", async () => {
  const info = await unary("GetModelInfo", {});
  assert.equal(info.bundleName, "tiny");
  assert.deepEqual(info.sourceLanguages, ["ar", "en"]);
  assert.equal(info.targetLanguage, "en");
  assert.ok(["model", "extractive"].includes(info.defaultSummaryMethod));
  assert.ok(info.models.length >= 1);
  for (const model of info.models) {
    assert.deepEqual(Object.keys(model).sort(),
      ["engine", "family", "license", "maxInputTokens", "name", "quantization", "roles", "source"]);
    assert.ok(Number.isInteger(model.maxInputTokens) && model.maxInputTokens > 0);
    assert.ok(model.roles.every((r) => ["translate", "summarize"].includes(r)));
  }
  for (const key of ["maxTextChars", "maxTexts", "maxMessageBytes", "maxSummarySentences"]) {
    assert.ok(Number.isInteger(info.limits[key]) && info.limits[key] > 0, key);
  }
  assert.equal(info.device, "cpu");
  assert.match(info.serverVersion, /^\d+\.\d+/);
});

after(() => client.close());

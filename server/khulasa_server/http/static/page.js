// The reading page: streams POST /v1/digest/stream (server-sent events, each a DigestEvent in
// protobuf's JSON mapping) and renders source and English side by side, the summary on top.
// No framework, nothing fetched from anywhere but this server.
"use strict";

const $ = (selector, root = document) => root.querySelector(selector);

// What each segment warning means, for an editor: the CLI's own sentences (khulasa/flags.py),
// loaded from /flags.json. Notes (nothing missing) are shown quietly; unknown codes as they come.
// Severities group the flags in each article's header, most severe first (khulasa/flags.py too).
const FLAGS = {};
const NOTES = new Set();
const SEVERITY = { kinds: {}, order: ["high", "medium", "low"], fallback: "medium" };
const flagWords = fetch("/flags.json")
  .then((response) => response.json())
  .then((words) => {
    Object.assign(FLAGS, words.flags, words.notes);
    Object.keys(words.notes).forEach((code) => NOTES.add(code));
    if (words.severity) {
      Object.assign(SEVERITY.kinds, words.severity.kinds);
      SEVERITY.order = words.severity.order;
      SEVERITY.fallback = words.severity.fallback;
    }
  })
  .catch(() => { /* codes are shown as they come */ });

// Flags carry ASCII digits ("12"); show a number as the article wrote it ("١٢").
function asWritten(number, source) {
  const arabic = number.replace(/[0-9.,]/g, (c) => "٠١٢٣٤٥٦٧٨٩٫٬"["0123456789.,".indexOf(c)]);
  const eastern = number.replace(/[0-9]/g, (c) => "۰۱۲۳۴۵۶۷۸۹"[Number(c)]);
  return [number, arabic, eastern].find((form) => source.includes(form)) || number;
}

function explain(code, source = "") {
  const at = code.indexOf(":");
  const [name, raw] = at < 0 ? [code, ""] : [code.slice(0, at), code.slice(at + 1)];
  const value = name === "missing_number" ? asWritten(raw, source) : raw;
  const words = FLAGS[name];
  if (!words) return `Note from the server: ${code}`;
  const sentence = words.replace("{value}", value);
  return sentence.charAt(0).toUpperCase() + sentence.slice(1) + ".";
}

const isNote = (code) => NOTES.has(code.split(":")[0]);
const kindOf = (code) => code.split(":")[0];
const severityOf = (code) => SEVERITY.kinds[kindOf(code)] || SEVERITY.fallback;

// A segment's English with the words the model was least sure of in <mark>: spans are in code
// points (Python's indexes), so the text is cut by code point, not by UTF-16 unit.
function marked(segment) {
  const points = Array.from(segment.translation);
  const spans = [...(segment.unsure || [])].sort((a, b) => (a.start || 0) - (b.start || 0));
  const parts = [];
  let at = 0;
  for (const span of spans) {
    const start = Math.max(span.start || 0, at);
    const end = Math.min(span.end || 0, points.length);
    if (start >= end) continue;
    parts.push(points.slice(at, start).join(""));
    parts.push(el("mark", { class: "unsure", text: points.slice(start, end).join(""),
      title: `The model was least sure of these words (log-probability ${(span.logProb || 0).toFixed(2)}).` }));
    at = end;
  }
  parts.push(points.slice(at).join(""));
  return parts;
}

function el(tag, props = {}, ...children) {
  const node = document.createElement(tag);
  for (const [key, value] of Object.entries(props)) {
    if (key === "class") node.className = value;
    else if (key === "text") node.textContent = value;
    else node.setAttribute(key, value);
  }
  for (const child of children) node.append(child);
  return node;
}

const state = { controller: null, articles: [], settings: null };

function setStatus(text) { $("#status").textContent = text; }

function busy(on) {
  $("#go").disabled = on;
  $("#stop").disabled = !on;
  $("#input").setAttribute("aria-busy", on ? "true" : "false");
}

function headers() {
  const h = { "Content-Type": "application/json" };
  const key = $("#api-key").value.trim();
  if (key) h.Authorization = `Bearer ${key}`;
  return h;
}

// -- one article ---------------------------------------------------------------------------

class ArticleView {
  constructor(title, index) {
    this.index = index;
    this.prefix = `a${index}`;
    this.title = title;
    this.paragraphs = [];
    this.summary = { text: "", sentences: [] };
    this.done = null;
    this.root = $("#article-template").content.firstElementChild.cloneNode(true);
    this.root.id = this.prefix;
    this.root.setAttribute("aria-labelledby", `${this.prefix}-title`);
    const heading = $(".digest-title", this.root);
    heading.id = `${this.prefix}-title`;
    heading.textContent = title;
    heading.dir = "auto";
    $(".copy", this.root).addEventListener("click", () => this.copy());
    $(".download-json", this.root).addEventListener("click", () => this.download("json"));
    $(".download-html", this.root).addEventListener("click", () => this.download("html"));
    $("#results").append(this.root);
  }

  pairId(i) { return `${this.prefix}-p${i}`; }

  addParagraph(p) {
    this.paragraphs.push(p);
    const flags = p.segments.flatMap((s, k) => s.warnings.map((w) => ({ segment: k, code: w, source: s.source })));
    const real = flags.filter((f) => !isNote(f.code));
    const english = el("div", { class: "en", lang: "en" });
    p.segments.forEach((s, k) => {
      if (!s.translation) return;
      const own = s.warnings.filter((w) => !isNote(w));
      const span = el("span", { class: own.length ? "seg flagged" : "seg" }, ...marked(s));
      english.append(span);
      if (own.length) {
        // The flag in place: a mark right after its sentence, its words on hover and below.
        span.setAttribute("aria-describedby", `${this.pairId(p.index)}-flags`);
        span.title = own.map((w) => explain(w, s.source)).join("\n");
        english.append(el("sup", { class: `flag-mark ${severityOf(own[0])}`, title: span.title, text: "⚑" }));
      }
      english.append(" ");
    });
    if (!english.textContent.trim()) english.textContent = p.translation;
    const number = el("span", { class: "num", "aria-hidden": "true", text: String(p.index + 1) });
    const item = el("li", { class: real.length ? "pair has-flags" : "pair", id: this.pairId(p.index), tabindex: "-1",
      "aria-label": `Paragraph ${p.index + 1}` },
      number,
      el("div", { class: "ar", dir: "rtl", lang: "ar", text: p.source }),
      english);
    if (flags.length) {
      // One line per distinct check, with how many sentences raised it and where the first is.
      const groups = new Map();
      for (const f of flags) {
        if (!groups.has(f.code)) groups.set(f.code, []);
        groups.get(f.code).push(f.source);
      }
      const list = el("ul", { class: "flags", id: `${this.pairId(p.index)}-flags`, "aria-label": `Checks for paragraph ${p.index + 1}` });
      const shown = real.length ? `${real.length} to check` : `${flags.length} note${flags.length > 1 ? "s" : ""}`;
      const fold = el("details", { class: "flag-fold" }, el("summary", { text: shown }), list);
      if (real.length) fold.open = true;
      const ordered = [...groups].sort(([a], [b]) => isNote(a) - isNote(b)); // flags first, then notes
      for (const [code, sources] of ordered) {
        const quote = sources[0].length > 60 ? `${sources[0].slice(0, 60)}…` : sources[0];
        const many = sources.length > 1 ? ` (${sources.length} sentences)` : "";
        const note = isNote(code);
        list.append(el("li", { class: `${note ? "flag note" : `flag ${severityOf(code)}`} flag-${kindOf(code)}`, "data-code": code },
          el("span", { class: "flag-icon", "aria-hidden": "true", text: note ? "i" : "!" }),
          el("span", { class: "flag-text", text: explain(code, sources[0]) + many }),
          el("span", { class: "flag-where", dir: "rtl", lang: "ar", text: quote })));
      }
      item.append(fold);
    }
    $(".pairs", this.root).append(item);
  }

  setSummary(summary) {
    this.summary = summary;
    const list = $(".summary-list", this.root);
    list.replaceChildren();
    $(".pending", this.root).hidden = true;
    if (!summary.sentences.length) {
      list.append(el("li", { class: "empty", text: "No summary for this text." }));
    }
    for (const sentence of summary.sentences) {
      const links = el("span", { class: "sources" });
      sentence.paragraphs.forEach((i, n) => {
        const link = el("a", { href: `#${this.pairId(i)}`, class: "source-link",
          "aria-label": `Source: paragraph ${i + 1}`, text: `¶${i + 1}` });
        link.addEventListener("click", (event) => { event.preventDefault(); this.focusParagraph(i); });
        link.addEventListener("mouseenter", () => this.highlight(i, true));
        link.addEventListener("mouseleave", () => this.highlight(i, false));
        link.addEventListener("focus", () => this.highlight(i, true));
        link.addEventListener("blur", () => this.highlight(i, false));
        links.append(n ? " " : "", link);
      });
      if (!sentence.paragraphs.length) links.append(el("span", { class: "no-source", text: "no source paragraph found" }));
      const own = (sentence.warnings || []).filter((w) => !isNote(w));
      const said = own.map((w) => el("span", { class: `flag-mark ${severityOf(w)}`, text: ` ⚑ ${explain(w)}` }));
      list.append(el("li", {}, el("span", { class: "sentence", lang: "en", text: sentence.text }), " ", links, ...said));
    }
  }

  highlight(i, on) {
    const pair = document.getElementById(this.pairId(i));
    if (pair) pair.classList.toggle("lit", on);
  }

  focusParagraph(i) {
    const pair = document.getElementById(this.pairId(i));
    if (!pair) return;
    pair.scrollIntoView({ block: "center", behavior: "smooth" });
    pair.focus({ preventScroll: true });
    pair.classList.add("lit");
    setTimeout(() => pair.classList.remove("lit"), 1600);
  }

  finish(done) {
    this.done = done;
    const flagged = this.paragraphs.filter((p) => p.segments.some((s) => s.warnings.some((w) => !isNote(w)))).length;
    const count = $(".flag-count", this.root);
    $(".flag-head", this.root).hidden = false;
    count.textContent = flagged
      ? `${flagged} of ${this.paragraphs.length} paragraphs have something to check (marked with !).`
      : "No paragraph raised a check.";
    // The header: every flag counted by severity, then by kind, most severe first.
    const codes = [
      ...this.paragraphs.flatMap((p) => p.segments.flatMap((s) => s.warnings)),
      ...this.summary.sentences.flatMap((s) => s.warnings || []),
    ].filter((w) => !isNote(w));
    const groups = new Map();
    for (const code of codes) {
      const level = severityOf(code);
      if (!groups.has(level)) groups.set(level, new Map());
      const kinds = groups.get(level);
      kinds.set(kindOf(code), (kinds.get(kindOf(code)) || 0) + 1);
    }
    const order = [...SEVERITY.order, ...[...groups.keys()].filter((l) => !SEVERITY.order.includes(l)).sort()];
    const rows = $(".flag-groups", this.root);
    rows.replaceChildren();
    for (const level of order.filter((l) => groups.has(l))) {
      const kinds = [...groups.get(level)].sort((a, b) => b[1] - a[1] || a[0].localeCompare(b[0]));
      const total = kinds.reduce((n, [, c]) => n + c, 0);
      rows.append(el("li", { class: `flag-group ${level}`, "data-severity": level },
        el("strong", { text: `${level} ${total}` }), `: ${kinds.map(([k, c]) => `${c} ${k.replace(/_/g, " ")}`).join(", ")}`));
    }
    const marks = this.root.querySelectorAll("mark.unsure").length;
    if (marks) rows.append(el("li", { class: "flag-group unsure-hint", text: `${marks} highlighted phrases: the model was least sure of them.` }));
    const t = done.timings;
    $(".timings", this.root).textContent =
      `${this.paragraphs.length} paragraphs, detected language “${done.detectedLanguage}”, ` +
      `${(t.totalMs / 1000).toFixed(1)} s (translation ${(t.translateMs / 1000).toFixed(1)} s, ` +
      `summary ${(t.summarizeMs / 1000).toFixed(1)} s).`;
    for (const b of this.root.querySelectorAll(".tools button")) b.disabled = false;
  }

  fail(message) {
    this.root.append(el("p", { class: "error", role: "alert", text: message }));
  }

  englishText() {
    const summary = this.summary.sentences.map((s) => `- ${s.text}`).join("\n");
    const body = this.paragraphs.map((p) => p.translation).join("\n\n");
    return `${this.title}\n\nSummary\n${summary}\n\nTranslation\n${body}\n`;
  }

  // The shape of POST /v1/digest's answer (DigestResponse in the JSON mapping).
  json() {
    return {
      id: this.title,
      translation: this.paragraphs.map((p) => p.translation).join("\n"),
      summary: this.summary.text,
      paragraphs: this.paragraphs,
      summarySentences: this.summary.sentences,
      timings: this.done ? this.done.timings : null,
      detectedLanguage: this.done ? this.done.detectedLanguage : "",
    };
  }

  html() {
    const esc = (s) => s.replace(/[&<>"]/g, (c) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;" })[c]);
    const english = (p) => p.segments.length
      ? p.segments.map((s) => marked(s).map((part) => (typeof part === "string" ? esc(part) : part.outerHTML)).join("")).join(" ")
      : esc(p.translation);
    const summary = this.summary.sentences.map((s) =>
      `<li>${esc(s.text)} ${s.paragraphs.map((i) => `<a href="#p${i}">¶${i + 1}</a>`).join(" ")}</li>`).join("");
    const pairs = this.paragraphs.map((p) => {
      const own = p.segments.flatMap((s) => s.warnings.filter((w) => !isNote(w)).map((w) => explain(w, s.source)));
      const flags = own.map((text) => `<li>${esc(text)}</li>`).join("");
      return `<section class="pair" id="p${p.index}"><p dir="rtl" lang="ar">${esc(p.source)}</p>` +
        `<p lang="en"><span class="num">¶${p.index + 1}</span> ${english(p)}</p>` +
        (flags ? `<details class="flags" open><summary>${own.length} to check</summary><ul>${flags}</ul></details>` : "") +
        `</section>`;
    }).join("\n");
    return `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>${esc(this.title)}</title>` +
      `<meta name="viewport" content="width=device-width, initial-scale=1"><style>` +
      `body{font:16px/1.6 system-ui,sans-serif;max-width:72rem;margin:2rem auto;padding:0 1rem;color:#1b1f24}` +
      `.pair{display:grid;grid-template-columns:1fr 1fr;gap:1.5rem;border-top:1px solid #d0d7de;padding:.75rem 0}` +
      `.flags{grid-column:1/-1;color:#7a4500;margin:0}@media(max-width:700px){.pair{grid-template-columns:1fr}}` +
      `</style></head><body><h1>${esc(this.title)}</h1><h2>Summary</h2><ol>${summary}</ol>\n${pairs}</body></html>\n`;
  }

  async copy() {
    const text = this.englishText();
    try {
      await navigator.clipboard.writeText(text);
    } catch {
      const area = el("textarea", { class: "offscreen", "aria-hidden": "true" });
      area.value = text;
      document.body.append(area);
      area.select();
      document.execCommand("copy");
      area.remove();
    }
    setStatus(`Copied the English of “${this.title}”.`);
  }

  download(kind) {
    const body = kind === "json" ? JSON.stringify(this.json(), null, 2) : this.html();
    const type = kind === "json" ? "application/json" : "text/html";
    const url = URL.createObjectURL(new Blob([body], { type: `${type};charset=utf-8` }));
    const base = this.title.replace(/\.txt$/i, "").replace(/[^\p{L}\p{N}_-]+/gu, "-") || "article";
    const link = el("a", { href: url, download: `${base}.${kind}` });
    document.body.append(link);
    link.click();
    link.remove();
    setTimeout(() => URL.revokeObjectURL(url), 10_000);
  }
}

// -- streaming ------------------------------------------------------------------------------

async function* serverSentEvents(response) {
  const reader = response.body.getReader();
  const decoder = new TextDecoder();
  let buffer = "";
  for (;;) {
    const { value, done } = await reader.read();
    if (done) break;
    buffer += decoder.decode(value, { stream: true });
    let end;
    while ((end = buffer.indexOf("\n\n")) >= 0) {
      const block = buffer.slice(0, end);
      buffer = buffer.slice(end + 2);
      const fields = {};
      for (const line of block.split("\n")) {
        const at = line.indexOf(": ");
        if (at > 0) fields[line.slice(0, at)] = line.slice(at + 2);
      }
      if (fields.event) yield { kind: fields.event, data: JSON.parse(fields.data) };
    }
  }
}

async function digestOne(text, title, index, total, signal) {
  const view = new ArticleView(title, index);
  state.articles.push(view);
  const body = { id: title, text, maxSentences: Number($("#sentences").value) || 0, summaryMethod: $("#method").value };
  const where = total > 1 ? ` (article ${index + 1} of ${total})` : "";
  setStatus(`Translating “${title}”${where}…`);
  const response = await fetch("/v1/digest/stream", { method: "POST", headers: headers(), body: JSON.stringify(body), signal });
  if (!response.ok) {
    const problem = await response.json().catch(() => ({ error: response.statusText }));
    const retry = response.headers.get("Retry-After");
    view.fail(`The server refused “${title}” (HTTP ${response.status}): ${problem.error}` +
      (retry ? ` Try again in ${retry} s.` : ""));
    return false;
  }
  for await (const { kind, data } of serverSentEvents(response)) {
    if (kind === "paragraph") {
      view.addParagraph(data.paragraph);
      setStatus(`“${title}”${where}: ${view.paragraphs.length} paragraphs translated…`);
    } else if (kind === "summary") {
      view.setSummary(data.summary);
    } else if (kind === "done") {
      view.finish(data.done);
    } else if (kind === "error") {
      view.fail(`The server stopped “${title}”: ${data.error}`);
      return false;
    }
  }
  return view.done !== null;
}

async function run(items) {
  await flagWords;
  const controller = new AbortController();
  state.controller = controller;
  busy(true);
  let ok = 0;
  try {
    for (let i = 0; i < items.length; i++) {
      const index = state.articles.length;
      if (await digestOne(items[i].text, items[i].title, index, items.length, controller.signal)) ok++;
    }
    setStatus(items.length > 1 ? `Done: ${ok} of ${items.length} articles.` : ok ? "Done." : "Stopped with an error.");
  } catch (error) {
    setStatus(error.name === "AbortError" ? "Stopped." : `Could not reach the server: ${error.message}`);
  } finally {
    busy(false);
    state.controller = null;
  }
}

function fromTextarea() {
  const text = $("#article").value;
  if (!text.trim()) {
    setStatus("Paste an article first, or open .txt files.");
    $("#article").focus();
    return;
  }
  const firstLine = text.trim().split("\n")[0];
  run([{ text, title: firstLine.length > 70 ? `${firstLine.slice(0, 70)}…` : firstLine }]);
}

// Every file is read by the server (POST /v1/read: text in UTF-8, UTF-16 or cp1256, Markdown,
// HTML, .docx), as the CLI reads files; one it cannot read is named with the reason.
async function readFile(file) {
  const form = new FormData();
  form.append("file", file, file.name);
  const h = headers();
  delete h["Content-Type"];
  const response = await fetch("/v1/read", { method: "POST", headers: h, body: form });
  const body = await response.json().catch(() => ({ error: response.statusText }));
  if (!response.ok) return { problem: (body.error || `HTTP ${response.status}`).replace(/^file: /, "") };
  return { title: body.title ? `${file.name} · ${body.title}` : file.name, text: body.text };
}

async function fromFiles(files) {
  const read = await Promise.all([...files].map(readFile));
  const problems = read.filter((r) => r.problem).map((r) => r.problem);
  const items = read.filter((r) => !r.problem && r.text.trim());
  if (problems.length) setStatus(problems.join(" "));
  if (!items.length) {
    if (!problems.length) setStatus("These files hold no text to translate.");
    return;
  }
  await run(items);
  if (problems.length) setStatus(`${$("#status").textContent} Not read: ${problems.join(" ")}`);
}

async function loadSettings() {
  try {
    const settings = await (await fetch("/frontend/settings")).json();
    state.settings = settings;
    $("#key-field").hidden = !settings.keyRequired;
    $("#article").maxLength = settings.charLimit;
  } catch { /* the page still works without them */ }
}

function init() {
  $("#input").addEventListener("submit", (event) => { event.preventDefault(); fromTextarea(); });
  $("#article").addEventListener("keydown", (event) => {
    if (event.key === "Enter" && (event.ctrlKey || event.metaKey)) { event.preventDefault(); fromTextarea(); }
  });
  $("#stop").addEventListener("click", () => state.controller && state.controller.abort());
  $("#clear").addEventListener("click", () => {
    $("#results").replaceChildren();
    state.articles = [];
    setStatus("Results cleared.");
  });
  $("#files").addEventListener("change", (event) => { fromFiles(event.target.files); event.target.value = ""; });
  const area = $("#article");
  area.addEventListener("dragover", (event) => { event.preventDefault(); area.classList.add("dropping"); });
  area.addEventListener("dragleave", () => area.classList.remove("dropping"));
  area.addEventListener("drop", (event) => {
    area.classList.remove("dropping");
    if (event.dataTransfer && event.dataTransfer.files.length) { event.preventDefault(); fromFiles(event.dataTransfer.files); }
  });
  loadSettings();
}

init();

"""The reading page at GET / in a real browser: Playwright driving Debian's Chromium (never a
browser that Playwright downloads) against a real server on the tiny bundle."""

from __future__ import annotations

import json
import re

import pytest
from conftest import ARTICLES, program, start_server
from PIL import Image, ImageStat
from playwright import sync_api as playwright

from khulasa_client import Client


@pytest.fixture(scope="module")
def browser():
    with playwright.sync_playwright() as p:
        browser = p.chromium.launch(executable_path=program("chromium", "chromium-browser"), args=["--no-sandbox", "--disable-gpu"])
        yield browser
        browser.close()


@pytest.fixture
def page(browser, server):
    context = browser.new_context(viewport={"width": 1280, "height": 900}, permissions=["clipboard-read", "clipboard-write"])
    page = context.new_page()
    base = f"http://127.0.0.1:{server.http.port}"
    page.requests = []
    page.on("request", lambda r: page.requests.append(r.url))
    page.problems = []
    page.on("pageerror", lambda e: page.problems.append(str(e)))
    page.goto(base + "/")
    page.base = base
    yield page
    context.close()
    # Nothing but this server was asked for anything: no CDN, no fonts from elsewhere.
    assert all(u.startswith((base, "data:", "blob:")) for u in page.requests), page.requests
    assert page.problems == []


def _wait_done(page, count: int = 1) -> None:
    page.wait_for_function(f"document.querySelectorAll('.digest .timings:not(:empty)').length >= {count}", timeout=120_000)


def _not_blank(path, rtl_right: bool = True) -> None:
    image = Image.open(path).convert("L")
    width, height = image.size
    assert ImageStat.Stat(image).stddev[0] > 20, "the screenshot is (nearly) one colour"

    def ink(box) -> int:
        return sum(image.crop(box).histogram()[:128])  # dark pixels

    assert ink((0, 0, width // 2, height)) > 2000 and ink((width // 2, 0, width, height)) > 2000


def test_paste_an_article_and_read_it(page, seed_text, tmp_path):
    paragraphs = [line.strip() for line in seed_text.splitlines() if line.strip()]  # shown as sent
    assert page.title().startswith("khulasa")
    page.fill("#article", seed_text)
    page.click("#go")
    _wait_done(page)
    article = page.locator(".digest")
    assert article.count() == 1
    pairs = article.locator(".pair")
    assert pairs.count() == len(paragraphs) == 11
    for i, source in enumerate(paragraphs):
        pair = pairs.nth(i)
        assert pair.get_attribute("id") == f"a0-p{i}"
        assert pair.locator('.ar[dir="rtl"][lang="ar"]').inner_text() == source
        assert pair.locator('.en[lang="en"]').inner_text().strip()
    # The summary sits above the paragraphs.
    summary_box = article.locator(".summary").bounding_box()
    assert summary_box["y"] < pairs.nth(0).bounding_box()["y"]
    sentences = article.locator(".summary-list > li")
    assert 1 <= sentences.count() <= 3
    for link in article.locator(".summary-list .source-link").all():
        assert page.locator(link.get_attribute("href")).count() == 1
    # Faithfulness flags: on the paragraphs whose segments carry warnings, in words; a split
    # sentence is a quiet note (nothing is missing), not a flag.
    rows = article.locator(".flag").evaluate_all(
        "els => els.map(e => [e.dataset.code, e.classList.contains('note'), e.querySelector('.flag-text').textContent])")
    assert rows and all(text and ":" not in text.split(" ")[0] for _, _, text in rows)
    arabic_digits = str.maketrans("0123456789.", "٠١٢٣٤٥٦٧٨٩٫")
    for code, note, text in rows:
        assert note == code.startswith("split_long_sentence")
        if code.startswith("missing_number:"):
            number = code.split(":", 1)[1]
            # The CLI's own words (khulasa.flags), with the number as the article wrote it.
            assert re.match(rf"Number ({re.escape(number)}|{re.escape(number.translate(arabic_digits))}) "
                            r"not found in the English\.$", text), text
        if code == "repetition_cut":
            assert "repeated itself" in text
    flagged = article.locator(".pair.has-flags")
    with_flags = {i for i, p in enumerate(pairs.all()) if p.locator(".flag:not(.note)").count()}
    assert flagged.count() == len(with_flags) >= 1
    # The status line says it is finished; the export buttons are on.
    assert page.locator("#status").inner_text() == "Done."
    assert article.locator(".tools button:disabled").count() == 0
    shot = tmp_path / "page-1280.png"
    page.screenshot(path=str(shot), full_page=True)
    _not_blank(shot)


def test_summary_links_lead_to_their_paragraphs_and_exports_work(page, seed_text, tmp_path):
    page.select_option("#method", "extractive")  # each sentence comes from one paragraph: links are certain
    page.fill("#sentences", "3")
    page.fill("#article", seed_text)
    page.click("#go")
    _wait_done(page)
    with page.expect_download() as info:
        page.click(".download-json")
    data = json.loads(open(info.value.path(), encoding="utf-8").read())
    # Up to 3 sentences: the extractive summary leaves out repeats, and random weights write
    # many (how many depends on the model's noise). One link per source paragraph of each.
    sentences = data["summarySentences"]
    assert len(data["paragraphs"]) == 11 and 1 <= len(sentences) <= 3
    links = page.locator(".summary-list .source-link")
    cited = [i for s in sentences for i in s["paragraphs"]]
    assert links.count() == len(cited) >= 1
    for n, i in enumerate(cited):
        assert links.nth(n).inner_text() == f"¶{i + 1}"
    target = links.nth(links.count() - 1).get_attribute("href")
    links.nth(links.count() - 1).click()
    assert page.evaluate("document.activeElement.id") == target.lstrip("#")
    assert data["detectedLanguage"] == "ar" and data["timings"]["totalMs"] > 0
    assert info.value.suggested_filename.endswith(".json")
    with page.expect_download() as info:
        page.click(".download-html")
    exported = open(info.value.path(), encoding="utf-8").read()
    assert exported.startswith("<!doctype html>") and exported.count('dir="rtl"') == 11
    page.click(".copy")
    page.wait_for_function("document.querySelector('#status').textContent.startsWith('Copied')")
    copied = page.evaluate("navigator.clipboard.readText()")
    assert "Summary" in copied and data["paragraphs"][0]["translation"] in copied


def test_several_txt_files_chosen_or_dropped_at_a_phone_width(browser, server, tmp_path):
    context = browser.new_context(viewport={"width": 420, "height": 900})
    page = context.new_page()
    try:
        page.goto(f"http://127.0.0.1:{server.http.port}/")
        files = [ARTICLES / "sport_final.txt", ARTICLES / "economy_prices.txt"]
        page.set_input_files("#files", [str(f) for f in files])
        _wait_done(page, 2)
        assert page.locator(".digest .digest-title").all_inner_texts() == [f.name for f in files]
        assert page.locator("#status").inner_text() == "Done: 2 of 2 articles."
        # Nothing overflows sideways at 420 px: one column, source above English.
        assert page.evaluate("document.documentElement.scrollWidth") <= 420
        pair = page.locator(".pair").first
        assert pair.locator(".ar").bounding_box()["y"] < pair.locator(".en").bounding_box()["y"]
        # Dropping files on the text area does the same.
        page.evaluate("""(texts) => {
            const data = new DataTransfer();
            texts.forEach(([name, text]) => data.items.add(new File([text], name, { type: "text/plain" })));
            document.querySelector("#article").dispatchEvent(new DragEvent("drop", { dataTransfer: data, bubbles: true }));
        }""", [[f.name, f.read_text(encoding="utf-8")] for f in files])
        _wait_done(page, 4)
        assert page.locator(".digest .digest-title").all_inner_texts() == [f.name for f in files] * 2
        shot = tmp_path / "page-420.png"
        page.screenshot(path=str(shot), full_page=True)
        _not_blank(shot)
    finally:
        context.close()


def test_keyboard_only(page, seed_text):
    focus = lambda: page.evaluate("document.activeElement.id || document.activeElement.className")  # noqa: E731

    def tab_to(predicate: str, limit: int = 25) -> None:
        for _ in range(limit):
            page.keyboard.press("Tab")
            if page.evaluate(f"(() => {{ const e = document.activeElement; return {predicate}; }})()"):
                return
        raise AssertionError(f"Tab never reached {predicate}; stuck on {focus()}")

    page.keyboard.press("Tab")
    assert focus() == "skip"  # the first stop: skip to the results
    tab_to("e.id === 'article'")
    page.keyboard.insert_text(seed_text)
    tab_to("e.id === 'method'")
    page.keyboard.press("ArrowDown")
    page.keyboard.press("ArrowDown")
    assert page.eval_on_selector("#method", "e => e.value") == "extractive"
    tab_to("e.id === 'go'")
    page.keyboard.press("Enter")
    _wait_done(page)
    tab_to("e.classList.contains('source-link')")
    href = page.evaluate("document.activeElement.getAttribute('href')")
    page.keyboard.press("Enter")
    assert "#" + focus() == href  # focus moved to the paragraph the sentence draws on
    # Every control has a label, and every focusable thing shows where the focus is.
    unlabeled = page.evaluate("[...document.querySelectorAll('input, select, textarea')]"
                              ".filter(e => !e.labels || !e.labels.length).map(e => e.id)")
    assert unlabeled == []


CONTRAST = """(selector) => {
  const rgb = (s) => s.match(/[\\d.]+/g).map(Number);
  const lum = ([r, g, b]) => { const f = (c) => { c /= 255; return c <= 0.03928 ? c / 12.92 : ((c + 0.055) / 1.055) ** 2.4; };
    return 0.2126 * f(r) + 0.7152 * f(g) + 0.0722 * f(b); };
  return [...document.querySelectorAll(selector)].slice(0, 5).map((e) => {
    let back = e, bg;
    do { bg = getComputedStyle(back).backgroundColor; back = back.parentElement; }
    while (back && (bg === 'rgba(0, 0, 0, 0)' || bg === 'transparent'));
    const [a, b] = [lum(rgb(getComputedStyle(e).color)), lum(rgb(bg))];
    return (Math.max(a, b) + 0.05) / (Math.min(a, b) + 0.05);
  });
}"""


def test_text_contrast_meets_wcag_aa(page, seed_text):
    page.fill("#article", seed_text)
    page.click("#go")
    _wait_done(page)
    for selector in ("label", ".help", "#status", "button.primary", "button:not(:disabled)", ".ar", ".en",
                     ".summary h3", ".sentence", ".flag-text", ".flag-where", ".flag-count", ".timings", ".columns span"):
        ratios = page.evaluate(CONTRAST, selector)
        assert ratios and min(ratios) >= 4.5, (selector, ratios)


def test_the_page_asks_for_the_key_when_the_server_requires_one(browser, bundles, tmp_path):
    tokens = tmp_path / "tokens"
    tokens.write_text("s3cret\n")
    server = start_server(bundles["tiny"], http_listen="127.0.0.1:0", auth_token_file=str(tokens))
    context = browser.new_context()
    try:
        page = context.new_page()
        page.goto(f"http://127.0.0.1:{server.http.port}/")
        page.wait_for_selector("#api-key", state="visible")
        page.fill("#article", "ارتفعت أسعار النفط اليوم.")
        page.click("#go")
        alert = page.wait_for_selector(".digest .error[role=alert]")
        assert "HTTP 401" in alert.inner_text() and "bearer token" in alert.inner_text()
        page.fill("#api-key", "s3cret")
        page.click("#go")
        _wait_done(page)
        assert page.locator(".digest").nth(1).locator(".pair").count() == 1
    finally:
        context.close()
        server.stop(0, drain=0)



def test_the_words_the_model_was_unsure_of_are_marked_in_place(browser, bundles, seed_text):
    # End to end on the tiny LLM bundle, whose random weights leave tokens under the unsure bound
    # (the tiny Marian's do not): the server's own spans, from CTranslate2's log-probabilities,
    # are the words the page marks, paragraph by paragraph, each with its explanation on hover.
    llm = start_server(bundles["tiny-llm"], http_listen="127.0.0.1:0")
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    try:
        with Client(f"127.0.0.1:{llm.port}", timeout=120) as client:
            answer = client.digest(seed_text)
        expected = [[s.translation[u.start : u.end] for s in p.segments for u in s.unsure] for p in answer.paragraphs]
        assert any(expected), "the tiny LLM's answer has no unsure span to mark"
        page = context.new_page()
        page.goto(f"http://127.0.0.1:{llm.http.port}/")
        page.fill("#article", seed_text)
        page.click("#go")
        _wait_done(page)
        pairs = page.locator(".digest .pair")
        assert pairs.count() == len(expected)
        for i, words in enumerate(expected):
            marks = pairs.nth(i).locator(".en mark.unsure")
            assert [m.text_content() for m in marks.all()] == words
            assert all(m.get_attribute("title") for m in marks.all())
    finally:
        context.close()
        llm.stop(0)

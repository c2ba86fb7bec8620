"""What the reader sees: faithfulness flags in text, markdown and HTML (a count on top, each
flag at its paragraph saying what to check), every summary sentence linked to a paragraph,
paragraph markers isolated from the text's direction, a page that fits a 420 px phone, and a
bilingual page for `translate` too. Pages are checked in headless Chromium."""

from __future__ import annotations

import html
import json
import subprocess

import pytest
from conftest import program
from khulasa.v1 import khulasa_pb2 as pb
from test_cli import khulasa

from khulasa_client.render import render
from khulasa_server.pipeline.attribution import attribute

LONG_TOKEN = "https://example.com/" + "a" * 160


def _response() -> pb.DigestResponse:
    first = pb.Segment(source="ارتفعت الأسعار ١٢٪ اليوم.", translation="Prices rose 5% today.",
                       warnings=["missing_number:12", "split_long_sentence"])
    second = pb.Segment(source="قال الوزير أمام UN إن الاقتصاد ينمو.", translation="The minister said it grows grows.",
                        warnings=["missing_name:UN", "repetition_cut", "missing_term:الوزير", "output_length_limit"])
    return pb.DigestResponse(
        id="sample", detected_language="ar", translation="Prices rose 5% today.\nThe minister said it grows grows.\n",
        summary_sentences=[pb.SummarySentence(text="The minister said الاقتصاد ينمو", paragraphs=[1, 0]),
                           pb.SummarySentence(text="Prices rose.", paragraphs=[0])],
        paragraphs=[pb.Paragraph(index=0, source=f"{first.source} {LONG_TOKEN}", translation=f"{first.translation} {LONG_TOKEN}",
                                 segments=[first]),
                    pb.Paragraph(index=1, source=second.source + " وأضاف.", translation=second.translation,
                                 segments=[second, pb.Segment(source="وأضاف.", translation="He added added.",
                                                              warnings=["repetition_cut"])])],
    )


EXPLAINED = [  # beside their sentence, numbered within the paragraph
    "¶1  Prices rose 5% today. ⚑1 " + LONG_TOKEN + "\n    ⚑1 number ١٢ not found in the English\n",
    "    ⚑1 name “UN” not found in the English\n",
    "    ⚑1 the model repeated itself and the loop was cut: check that nothing is missing\n",
    "    ⚑1 glossary term “الوزير” not translated as the glossary requires\n",
    "    ⚑1 the English stopped at its length limit: the end of the sentence may be missing\n",
    "    ⚑2 the model repeated itself and the loop was cut: check that nothing is missing\n",  # the other sentence
]


def test_flags_are_shown_in_text_markdown_and_html():
    response = _response()
    text = render(response, "text")
    head = "⚑ 6 flags to check: high 5 (2 repetition cut, 1 missing name, 1 missing number, 1 output length limit); medium 1"
    assert head in text and all(line in text for line in EXPLAINED)
    assert "split_long_sentence" not in text  # informational, not something to check
    assert text.index("Summary") < text.index("⚑ 6 flags") < text.index("Translation")
    markdown = render(response, "markdown", "sample")
    assert "> ⚑ 6 flags to check: high 5" in markdown and "**¶2** The minister said it grows grows. **⚑1**" in markdown
    assert "⚑1 *number ١٢ not found in the English*" in markdown
    page = render(response, "html", "sample")
    assert "<summary>⚑ 6 flags to check</summary>" in page
    assert page.index("flags to check") < page.index("<h2>Summary</h2>")  # the count on top
    assert '<section class="pair flagged" id="p1">' in page and '<section class="pair flagged" id="p2">' in page
    section = page[page.index('id="p1"'):page.index('id="p2"')]
    assert "⚑1 number <bdi>١٢</bdi> not found in the English" in section
    translated = pb.TranslateResponse(translations=[pb.Translation(text="x", detected_language="ar", segments=[
        pb.Segment(source="بلغ ١٢ مليون.", translation="It reached million.", paragraph=0, warnings=["missing_number:12"])])])
    for fmt in ("text", "markdown"):
        assert "number ١٢ not found in the English" in render(translated, fmt), fmt
    assert "number <bdi>١٢</bdi> not found in the English" in render(translated, "html")


def test_flags_of_a_real_digest_are_visible(server):
    run = khulasa("--server", f"127.0.0.1:{server.port}", "digest", "-", stdin="قال الوزير إن ٩٥٪ من التذاكر بيعت أمس.")
    assert run.returncode == 0, run.stderr
    data = json.loads(khulasa("--server", f"127.0.0.1:{server.port}", "digest", "-", "--format", "json",
                              stdin="قال الوزير إن ٩٥٪ من التذاكر بيعت أمس.").stdout)
    warnings = [w for p in data["paragraphs"] for s in p["segments"] for w in s["warnings"]]
    assert "missing_number:95" in warnings  # random weights never write 95
    assert "number ٩٥ not found in the English" in run.stdout and "flags to check: high" in run.stdout


def test_every_summary_sentence_links_to_a_paragraph(client, llm_client, seed_text):
    for c in (client, llm_client):
        response = c.digest(seed_text, summary_method="model")
        assert response.summary_sentences
        for sentence in response.summary_sentences:
            assert sentence.paragraphs, sentence.text
        summary = c.summarize(seed_text, summary_method="model")
        assert all(s.paragraphs for s in summary.sentences)
    assert attribute("xq zv", ["", "Prices rose.", "Talks ended."]) == [1]  # nothing shared: the first paragraph
    assert attribute("pricey", ["Talks ended.", "Prices rose."]) == [1]  # letters shared


CHROMIUM_FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                  "--disable-component-update", "--disable-sync", "--no-first-run", "--allow-file-access-from-files"]
# Measures a page inside an iframe of a given width (headless windows are never narrower than
# 500 px): horizontal overflow, where each paragraph's two sides are, and where the pilcrow and
# the digit of each summary marker are drawn.
MEASURE = """<!doctype html><body style="margin:0"><pre id="measure"></pre>
<iframe src="PAGE" style="width:WIDTHpx;height:4000px;border:0" onload="measure(this.contentWindow)"></iframe>
<script>
function measure(win) {
  const doc = win.document, out = {scrollWidth: doc.documentElement.scrollWidth, markers: [], pairs: []};
  for (const a of doc.querySelectorAll(".summary a")) {
    const node = (a.querySelector("bdi") || a).firstChild, r = doc.createRange();
    r.setStart(node, 0); r.setEnd(node, 1); const pilcrow = r.getBoundingClientRect().left;
    r.setStart(node, 1); r.setEnd(node, 2); out.markers.push([a.textContent, pilcrow, r.getBoundingClientRect().left]);
  }
  for (const p of doc.querySelectorAll("section.pair")) {
    const en = p.querySelector(".en").getBoundingClientRect(), ar = p.querySelector(".ar").getBoundingClientRect();
    out.pairs.push({en: [en.left, en.top, en.right, en.bottom], ar: [ar.left, ar.top, ar.right, ar.bottom]});
  }
  document.getElementById("measure").textContent = JSON.stringify(out);
}
</script></body>"""


def _measure(chromium: str, page, width: int, tmp_path) -> dict:
    frame = tmp_path / f"measure-{width}.html"
    frame.write_text(MEASURE.replace("PAGE", page.name).replace("WIDTH", str(width)))
    dom = subprocess.run([chromium, *CHROMIUM_FLAGS, f"--user-data-dir={tmp_path / 'profile'}", "--window-size=1200,1600",
                          "--dump-dom", frame.as_uri()], capture_output=True, text=True, timeout=120).stdout
    start = dom.index('<pre id="measure">') + len('<pre id="measure">')
    return json.loads(dom[start:dom.index("</pre>", start)].replace("&amp;", "&"))


def _screenshot(chromium: str, page, width: int, tmp_path) -> None:
    """shot-420.png, shot-1200.png beside the page (for a person to look at, too)."""
    subprocess.run([chromium, *CHROMIUM_FLAGS, f"--user-data-dir={tmp_path / 'profile'}", f"--window-size={width},1600",
                    f"--screenshot={tmp_path / f'shot-{width}.png'}", page.as_uri()], capture_output=True, timeout=120, check=True)


def _check_layout(chromium: str, page, tmp_path) -> None:
    phone = _measure(chromium, page, 420, tmp_path)
    assert phone["scrollWidth"] <= 420  # long tokens wrap: nothing to scroll sideways
    for pair in phone["pairs"]:
        assert pair["ar"][1] >= pair["en"][3] - 1  # one column: the Arabic under the English
    for text, pilcrow, digit in phone["markers"]:
        assert pilcrow < digit, text  # "¶2", never "2¶", even after Arabic
    wide = _measure(chromium, page, 1200, tmp_path)
    assert wide["scrollWidth"] <= 1200
    for pair in wide["pairs"]:
        assert pair["ar"][0] >= pair["en"][2]  # two columns: the Arabic beside the English


def test_page_markers_and_phone_layout_in_chromium(tmp_path):
    chromium = program("chromium", "chromium-browser")
    page = tmp_path / "sample.html"
    page.write_text(render(_response(), "html", "sample"), encoding="utf-8")
    measured = _measure(chromium, page, 420, tmp_path)
    assert [m[0] for m in measured["markers"]] == ["¶2", "¶1", "¶1"]
    _check_layout(chromium, page, tmp_path)
    assert page.read_text().count("<bdi dir=\"ltr\">¶") == 3


@pytest.mark.parametrize("command", ["digest", "translate"])
def test_real_pages_in_chromium(server, seed_text, tmp_path, command):
    chromium = program("chromium", "chromium-browser")
    page = tmp_path / f"{command}.html"
    run = khulasa("--server", f"127.0.0.1:{server.port}", command, "-", "--format", "html", "--output", str(page),
                  stdin=seed_text + LONG_TOKEN + "\n")
    assert run.returncode == 0, run.stderr
    html_text = page.read_text(encoding="utf-8")
    assert html_text.count('<section class="pair') == 12 and html_text.count('lang="ar" dir="rtl"') == 12
    for line in [line.strip() for line in seed_text.splitlines() if line.strip()]:
        assert f">{html.escape(line)}</div>" in html_text  # the Arabic as sent, beside its English
    assert "flags to check</summary>" in html_text
    _check_layout(chromium, page, tmp_path)
    if command == "digest":
        from PIL import Image

        for width in (420, 1200):
            _screenshot(chromium, page, width, tmp_path)
            shot = Image.open(tmp_path / f"shot-{width}.png").convert("L")
            assert shot.size[0] == width
            halves = [shot.crop(box).histogram()[:128] for box in ((0, 0, width // 2, shot.size[1]),
                                                                 (width // 2, 0, width, shot.size[1]))]
            assert all(sum(h) > 1000 for h in halves)  # text on both sides: nothing collapsed or cut off

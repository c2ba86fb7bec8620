"""Fixed terminology: per request and from a server file; in LLM prompts; checked in output."""

import pytest
from conftest import start_server
from test_cli import khulasa

from khulasa_client import ApiError
from khulasa_server.pipeline import glossary
from khulasa_server.pipeline.options import ArticleOptions

TEXT = "قال المتحدث باسم الكرملين إن المحادثات ستستمر."


def test_terms_are_matched_after_normalization_and_checked():
    terms = glossary.check({"الكرمليـن": "the Kremlin"})  # tatweel in the term is normalized away
    found = glossary.terms_in(terms, TEXT)
    assert found == [("الكرملين", "the Kremlin")]
    assert glossary.note(found) == "Translate these terms exactly as given: الكرملين = the Kremlin."
    assert glossary.missing(found, "A Kremlin spokesman said") == ["الكرملين"]
    assert glossary.missing(found, "The spokesman for the Kremlin said") == []


def test_request_glossary_is_flagged_when_missed(client):
    segment = client.translate([TEXT], glossary={"الكرملين": "the Kremlin"}).translations[0].segments[0]
    assert "missing_term:الكرملين" in segment.warnings  # random weights never write it
    assert not [w for w in client.translate([TEXT]).translations[0].segments[0].warnings if w.startswith("missing_term")]


def test_llm_prompt_carries_the_terms(llm_server):
    engine = llm_server.core.pipeline.translation.engine.engine
    note = glossary.note([("الكرملين", "the Kremlin")])
    prompt = engine.prompt("translate", TEXT, note)
    assert note in prompt and prompt.index(note) > prompt.index(TEXT)
    response = llm_server.core.pipeline.digest(TEXT, ArticleOptions(glossary={"الكرملين": "the Kremlin"}))
    assert "missing_term:الكرملين" in response.paragraphs[0].segments[0].warnings


def test_server_glossary_file_applies_to_every_request(bundles, tmp_path):
    path = tmp_path / "terms.tsv"
    path.write_text("# newsroom terms\nالكرملين\tthe Kremlin\n", encoding="utf-8")
    server = start_server(bundles["tiny"], glossary_file=str(path))
    try:
        segments = server.core.pipeline.translate([TEXT])[0].segments
        assert "missing_term:الكرملين" in segments[0].warnings
    finally:
        server.stop(0)
    path.write_text("no tab here\n")
    with pytest.raises(ValueError, match="expected 'arabic<TAB>english'"):
        glossary.load_file(path)


def test_bad_glossary_is_invalid_argument(client):
    with pytest.raises(ApiError) as info:
        client.digest(TEXT, glossary={"  ": "x"})
    assert info.value.code == "INVALID_ARGUMENT" and "glossary" in info.value.fields


def test_cli_glossary_flag(server, tmp_path):
    path = tmp_path / "terms.tsv"
    path.write_text("الكرملين\tthe Kremlin\n", encoding="utf-8")
    run = khulasa("--server", f"127.0.0.1:{server.port}", "translate", "-", "--format", "json", "--glossary", str(path),
                  stdin=TEXT)
    assert run.returncode == 0, run.stderr
    assert "missing_term:الكرملين" in run.stdout

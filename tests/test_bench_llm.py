"""The LLM benchmark harness runs end to end (a smoke: tiny-llm, one round, no llama.cpp, no
timing asserted); the earlier version is this same source tree, through the same path."""

import json
import sys

from conftest import ROOT, SAMPLE
from tokenizers import Tokenizer

from khulasa_server.models import bundle
from khulasa_server.models.engines.base import length_bound
from khulasa_server.models.engines.generator import render_prompt

sys.path.insert(0, str(ROOT / "tests" / "bench"))
import backward_score  # noqa: E402
import llm as bench_llm  # noqa: E402
import sample_digest  # noqa: E402


def test_bench_llm_smoke_writes_its_results(bundles, tmp_path):
    out = tmp_path / "llm.json"
    assert bench_llm.main(["--bundle", str(bundles["tiny-llm"]), "--baseline-src", str(ROOT), "--smoke",
                           "--many", "2,3", "--bulk", "--out", str(out)]) == 0
    result = json.loads(out.read_text())
    assert result["ctranslate2_cpu"]["isa"]
    assert set(result["systems"]) == {"khulasa", "khulasa before"} and result["article_paragraphs"] == 11
    for name, system in result["systems"].items():
        [single] = system["single"]
        assert single["total_s"] >= single["translate_s"] > 0 and single["translate_tokens"] > 0
        assert set(system["many"]) == {"2", "3"}
        [many] = system["many"]["3"]
        assert many["articles_per_min"] > 0 and system["peak_rss_mb"] >= system["serving_rss_mb"] > 0
        # the engine's own step counts of the workload: every generated token is a row-step
        decode = many["decode"]
        assert decode["calls"] >= 1 and decode["steps"] >= 1 and decode["row_steps_output"] >= many["translate_tokens"]
    assert result["systems"]["khulasa"]["bulk"]["articles"] == 3 and result["systems"]["khulasa"]["bulk"]["seconds"] > 0
    assert set(result["medians"]["ratios"]) == {"single_latency_vs_before", "many_2_throughput_vs_before",
                                                "many_3_throughput_vs_before", "peak_rss_vs_before", "serving_rss_vs_before",
                                                *(f"many_{n}_same_{k}_vs_before" for n in (2, 3) for k in ("paragraphs", "summaries"))}
    assert 0 <= result["medians"]["ratios"]["many_3_same_paragraphs_vs_before"] <= 1
    # what the checks cost, as the server times them (issue: checks and confidence ≤ 5 % of a digest)
    figures = result["medians"]["khulasa"]
    assert 0 < figures["single_checks_share"] < 1 and 0 < figures["many_3_checks_share"] < 1
    # and the table for the docs, one column per system
    assert "| khulasa | khulasa before |" in bench_llm.table(result)
    assert "the checks' time" in bench_llm.table(result)
    assert result["best"]["ratios"].keys() == result["medians"]["ratios"].keys()


def test_llama_peer_gets_khulasas_prompts_and_bounds(bundles):
    entry = bundle.load(bundles["tiny-llm"]).model_for("translate")
    tok = Tokenizer.from_file(str(entry.file(entry.tokenizer.file)))
    article = bench_llm.peer_article(entry, tok, SAMPLE.read_text(encoding="utf-8"))
    assert len(article["paragraphs"]) == len(article["bounds"]) == 11
    first = SAMPLE.read_text(encoding="utf-8").splitlines()[0]
    assert tok.decode(article["paragraphs"][0], skip_special_tokens=False) == render_prompt(entry, "translate", first)
    assert article["bounds"][0] == length_bound(entry.decoding["translate"], len(tok.encode(first, add_special_tokens=False).ids))


def test_sample_digest_records_every_segment_and_the_checks_time(bundles, tmp_path):
    out = tmp_path / "sample.json"
    assert sample_digest.main(["--bundle", str(bundles["tiny-llm"]), "--article", str(SAMPLE), "--out", str(out)]) == 0
    record = json.loads(out.read_text(encoding="utf-8"))
    assert {p["paragraph"] for p in record["paragraphs"]} == set(range(11))
    assert all(0 <= p["confidence"] <= 1 and isinstance(p["warnings"], list) for p in record["paragraphs"])
    assert record["summary"] and record["checks_s"] > 0 and record["ctranslate2_cpu"]["isa"]


def test_backward_score_reads_every_labelled_sentence(bundles, tmp_path):
    """The probe of the source-given-English signal runs on a real (tiny) model: every labelled
    sentence scored, AUCs on the tuned and the held-out sentences apart."""
    out = tmp_path / "backward.json"
    assert backward_score.main(["--bundle", str(bundles["tiny-llm"]), "--out", str(out)]) == 0
    result = json.loads(out.read_text(encoding="utf-8"))
    assert result["scored_sentences"] == result["tuned"]["sentences"] + result["held_out"]["sentences"] > 100
    for part in ("tuned", "held_out"):
        assert all(0 <= result[part][k] <= 1 for k in ("auc_forward_confidence", "auc_backward_score", "auc_both"))

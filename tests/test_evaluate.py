import json

import pytest
from conftest import ROOT

from khulasa_server.tools import evaluate
from khulasa_server.tools.models_cli import main as models_main

DATA = ROOT / "tests" / "data" / "eval_news.jsonl"
NAMES_DATA = ROOT / "tests" / "data" / "eval_names.jsonl"
ATTRIBUTION_DATA = ROOT / "tests" / "data" / "eval_attribution.jsonl"  # who said what: roles, institutions
HELDOUT_DATA = ROOT / "tests" / "data" / "eval_heldout.jsonl"  # never tuned on


@pytest.mark.parametrize(
    "path, count, numbers, names", [(DATA, 60, 40, 80), (NAMES_DATA, 60, 20, 120), (ATTRIBUTION_DATA, 50, 0, 250), (HELDOUT_DATA, 40, 24, 95)]
)
def test_eval_sets_are_large_enough_and_well_formed(path, count, numbers, names):
    articles = evaluate.load_set(path)
    sentences = [s for a in articles for s in a["sentences"]]
    assert len(sentences) >= count and len({a["topic"] for a in articles}) >= 4
    assert sum(len(evaluate.source_numbers(s["ar"])) for s in sentences) >= numbers
    assert sum(len(s["entities"]) for s in sentences) >= names
    for s in sentences:
        for number in evaluate.source_numbers(s["ar"]):  # every source number is in the reference
            assert evaluate.number_found(number, s["en"]), (number, s["en"])
        for entity in s["entities"]:
            assert entity.lower() in s["en"].lower(), (entity, s["en"])


def test_number_matching():
    assert evaluate.number_found("5000", "more than 5,000 trucks")
    assert evaluate.number_found("50", "50,000 fans") and evaluate.number_found("14", "by 14%")
    assert not evaluate.number_found("3", "rose 3.5%") and not evaluate.number_found("27.6", "27.65")
    assert evaluate.source_numbers("ارتفع ٣٫٥٪ في ٢٠٢٤") == ["3.5", "2024"]


def test_numbers_kept_in_words_count():
    """Style guides spell out small numbers ("more than three years" for 3): kept, as the
    product's own check reads it; the digits-only figure stays beside it."""
    scores = evaluate.translation_scores(
        [{"ar": "عقدت قبل أكثر من 3 سنوات و6 أشهر.", "en": "It was held more than 3 years and 6 months ago."}],
        ["It was held more than three years and 7 months ago."],
    )
    assert scores["number_recall"] == 50.0 and scores["number_recall_digits"] == 0.0


def test_rouge():
    assert evaluate.rouge("the cat sat", "the cat sat") == {"rouge1": 100.0, "rouge2": 100.0, "rougeL": 100.0}
    scores = evaluate.rouge("the cat sat on the mat", "the cat was on the mat")
    assert round(scores["rouge1"], 1) == 83.3 and round(scores["rouge2"], 1) == 60.0
    assert evaluate.rouge("", "anything")["rougeL"] == 0.0


def test_name_flag_scores():
    scores = evaluate.name_flag_scores(
        [["Cairo"], ["Peskov"], ["Oman"], []],
        ["in Cairo", "the spokesman", "in Muscat", "nothing"],
        [[], ["unverified_name:بيسكوف"], [], ["missing_name:Paris"]],
    )
    assert scores == {"flagged_sentences": 2,
                      "exact": {"sentences_losing_a_name": 2, "precision": 50.0, "recall": 50.0},
                      "any_spelling": {"sentences_losing_a_name": 2, "precision": 50.0, "recall": 50.0}}
    spelled = evaluate.name_flag_scores([["Shoukry"], ["Shoukry"]], ["Shakari said", "Sherry said"], [[], ["unverified_name:شكري"]])
    assert spelled["exact"]["recall"] == 50.0 and spelled["any_spelling"] == {
        "sentences_losing_a_name": 1, "precision": 100.0, "recall": 100.0}


def test_eval_command_runs_on_the_tiny_bundle(bundles, tmp_path, capsys):
    out = tmp_path / "result.json"
    code = models_main(["eval", str(bundles["tiny"]), "--data", str(DATA), "--data", str(NAMES_DATA), "--limit", "2",
                        "--set", "translate.beam_size=2", "--out", str(out)])
    assert code == 0
    report = json.loads(out.read_text())
    assert [r["data"] for r in report["sets"]] == [str(DATA), str(NAMES_DATA)]
    for result in report["sets"]:
        assert result["sentences"] == 10 and result["entities"] > 0
        for key in ("bleu", "chrf", "number_recall", "entity_recall"):
            assert 0 <= result[key] <= 100
        assert set(result["summary"]) == {"model", "extractive"}
        assert result["decoding"]["translator"]["translate"]["beam_size"] == 2
        # noise loses every name, and the flags say so
        assert result["name_flags"]["flagged_sentences"] > 0 and result["name_flags"]["exact"]["precision"] == 100.0
        assert result["name_repair"]["tried"] == 0  # a seq2seq bundle is not re-prompted
        assert len(result["outputs"]) == 10 and all("warnings" in o for o in result["outputs"])
    assert report["sets"][0]["numbers"] > 0
    assert "--set translate.beam_size=2" in report["command"]
    cpu = report["ctranslate2_cpu"]  # what CTranslate2 picked: results depend on it
    assert cpu["isa"] in ("GENERIC", "AVX", "AVX2", "AVX512", "NEON") and cpu["gemm_s8"] and cpu["vnni"] in ("true", "false")
    printed = capsys.readouterr().out
    assert "| BLEU |" in printed and ": eval_names |" in printed


def test_eval_reports_repairs_on_the_llm_bundle(bundles, tmp_path):
    out = tmp_path / "result.json"
    assert models_main(["eval", str(bundles["tiny-llm"]), "--data", str(NAMES_DATA), "--limit", "1",
                        "--methods", "extractive", "--out", str(out)]) == 0
    repair = json.loads(out.read_text())["sets"][0]["name_repair"]
    assert repair["tried"] > 0 and 0 <= repair["kept"] <= repair["tried"] and repair["examples"]
    assert models_main(["eval", str(bundles["tiny-llm"]), "--data", str(NAMES_DATA), "--limit", "1",
                        "--methods", "extractive", "--no-repair", "--out", str(out)]) == 0
    assert json.loads(out.read_text())["sets"][0]["name_repair"]["tried"] == 0


def test_eval_can_set_a_task_input_budget(bundles, tmp_path):
    """summarize.max_input_tokens=N: summarizing in chunks against summarizing in one pass."""
    out = tmp_path / "result.json"
    assert models_main(["eval", str(bundles["tiny-llm"]), "--data", str(DATA), "--limit", "1", "--methods", "model",
                        "--set", "summarize.max_input_tokens=40", "--out", str(out)]) == 0
    result = json.loads(out.read_text())["sets"][0]
    assert result["input_tokens"] == {"translate": 128, "summarize": 40}
    assert "max_input_tokens" not in result["decoding"]["summarizer"].get("summarize", {})


def test_eval_reports_the_held_out_set_apart(bundles, tmp_path, capsys, monkeypatch):
    """The default run measures the held-out set too, marked as such (it is never tuned on)."""
    monkeypatch.chdir(ROOT)
    out = tmp_path / "result.json"
    assert models_main(["eval", str(bundles["tiny"]), "--limit", "1", "--methods", "extractive", "--out", str(out)]) == 0
    sets = json.loads(out.read_text())["sets"]
    assert [(r["data"].rsplit("/", 1)[-1], r["held_out"]) for r in sets] == [
        ("eval_news.jsonl", False), ("eval_names.jsonl", False), ("eval_attribution.jsonl", False), ("eval_heldout.jsonl", True)
    ]
    assert ": eval_heldout (held out) |" in capsys.readouterr().out


def test_eval_translates_each_article_as_one_text(llm_server):
    """A sentence per paragraph of one text: its outputs line up with the sentences, and a
    surname alone reaches the model spelled as the article's full name (Jabeur, not Gaber)."""
    from khulasa_server.models.scheduler import LRUCache
    from khulasa_server.pipeline import names
    from khulasa_server.pipeline.names.source import english_in_source, surnames
    from khulasa_server.text.normalize import normalize

    pipeline = llm_server.core.pipeline
    sentences = ["تأهلت التونسية أنس جابر إلى الدور نصف النهائي.", "وقالت جابر إنها جاهزة للمباراة المقبلة."]
    article = {"id": "t", "summary": "Ons Jabeur reached the semi-finals.",
               "sentences": [{"ar": s, "en": "x", "entities": ["Jabeur"]} for s in sentences]}
    result = evaluate.evaluate(pipeline, [article], ["extractive"])
    assert len(result["outputs"]) == 2 and all(o["hypothesis"] for o in result["outputs"])
    found = [names.find(normalize(s)) for s in sentences]
    read = english_in_source(normalize(sentences[1]), found[1], "all", surnames(found))
    assert "Jabeur" in read and pipeline.translation.engine.cache.get(LRUCache.key("translate", read))

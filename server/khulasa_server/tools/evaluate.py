"""Quality measurement on an Arabic→English news set: BLEU and chrF (sacrebleu), faithfulness
(source numbers and listed names found in the English), and summary ROUGE against reference
summaries for each summary method. `khulasa-models eval BUNDLE` runs it."""

from __future__ import annotations

import dataclasses
import json
import re
import time
from collections import Counter
from pathlib import Path
from typing import Any

from khulasa_server.pipeline import names
from khulasa_server.pipeline.checks import number_found, number_kept, source_numbers
from khulasa_server.pipeline.names.repair import NAME_FLAGS
from khulasa_server.pipeline.options import ArticleOptions
from khulasa_server.pipeline.pipeline import Pipeline
from khulasa_server.text.normalize import normalize

_WORD = re.compile(r"[a-z0-9]+")


def load_set(path: Path, limit: int | None = None) -> list[dict[str, Any]]:
    articles = [json.loads(line) for line in Path(path).read_text(encoding="utf-8").splitlines() if line.strip()]
    return articles[:limit] if limit else articles


def _ngrams(tokens: list[str], n: int) -> Counter:
    return Counter(tuple(tokens[i : i + n]) for i in range(len(tokens) - n + 1))


def _f1(overlap: float, hyp: int, ref: int) -> float:
    if not hyp or not ref or not overlap:
        return 0.0
    p, r = overlap / hyp, overlap / ref
    return 200 * p * r / (p + r)


def _lcs(a: list[str], b: list[str]) -> int:
    row = [0] * (len(b) + 1)
    for x in a:
        prev = 0
        for j, y in enumerate(b, 1):
            prev, row[j] = row[j], prev + 1 if x == y else max(row[j], row[j - 1])
    return row[-1]


def rouge(hypothesis: str, reference: str) -> dict[str, float]:
    """ROUGE-1, ROUGE-2 and ROUGE-L F1 (0–100) on lowercased alphanumeric tokens, no stemming."""
    h, r = _WORD.findall(hypothesis.lower()), _WORD.findall(reference.lower())
    scores = {}
    for n in (1, 2):
        hn, rn = _ngrams(h, n), _ngrams(r, n)
        scores[f"rouge{n}"] = _f1(sum((hn & rn).values()), sum(hn.values()), sum(rn.values()))
    scores["rougeL"] = _f1(_lcs(h, r), len(h), len(r))
    return scores


def apply_overrides(pipeline: Pipeline, overrides: list[str]) -> None:
    """TASK.KEY=VALUE decoding overrides (e.g. translate.beam_size=2) for experiments;
    TASK.max_input_tokens=N sets the task's input budget (e.g. to compare summarizing in
    chunks with summarizing in one pass); TASK.examples=N keeps the prompt's first N worked
    examples."""
    for item in overrides:
        key, _, raw = item.partition("=")
        task, _, option = key.partition(".")
        if not (task and option and raw):
            raise ValueError(f"override {item!r} is not TASK.KEY=VALUE")
        value: Any = json.loads(raw) if raw[0].isdigit() or raw in ("true", "false") else raw
        engine = pipeline.translation.engine if task == "translate" else pipeline.summary.engine
        if option == "max_input_tokens":
            engine.entry.max_input_tokens_by_task[task] = int(value)
            continue
        if option == "examples":  # only the first N worked examples of the bundle's prompt
            prompt = engine.entry.prompts[task]
            engine.entry.prompts[task] = dataclasses.replace(prompt, examples=prompt.examples[: int(value)])
            continue
        # Checked as a manifest's option is: a misspelled one is refused (BundleError), not ignored.
        engine.entry.decoding[task] = engine.entry.options(task).with_option(option, value, f"--set {task}")


def name_flag_scores(entities: list[list[str]], hypotheses: list[str], warnings: list[list[str]]) -> dict[str, Any]:
    """How well the name flags (missing_name, unverified_name) point at sentences whose English
    lost a listed name, sentence by sentence: precision = flagged sentences that did lose one,
    recall = sentences that lost one and were flagged. A name counts as lost when its listed
    spelling is absent ("exact"), or, less strictly, when no capitalized word of the English has
    its consonants either ("any spelling": Shakari for Shoukry is kept, Sherry is not)."""
    flagged = [any(w.startswith(NAME_FLAGS) for w in ws) for ws in warnings]
    out: dict[str, Any] = {"flagged_sentences": sum(flagged)}
    lost_exact = [any(e.lower() not in h.lower() for e in ents) for ents, h in zip(entities, hypotheses)]
    lost_any = [any(not names.english_name_kept(e, h) for e in ents) for ents, h in zip(entities, hypotheses)]
    for label, lost in (("exact", lost_exact), ("any_spelling", lost_any)):
        both = sum(a and b for a, b in zip(lost, flagged))
        out[label] = {
            "sentences_losing_a_name": sum(lost),
            "precision": round(100 * both / sum(flagged), 1) if any(flagged) else None,
            "recall": round(100 * both / sum(lost), 1) if any(lost) else None,
        }
    return out


def name_finder_scores(sentences: list[dict[str, Any]]) -> dict[str, Any]:
    """What the name finder sees in the sources, against the listed names (no model needed):
    listed names covered by a gazetteer hit or a candidate, and candidates that are a listed
    name (matched by consonant skeleton, so Shoukry is شكري)."""
    covered = listed = candidates_total = candidates_listed = places_total = places_listed = 0
    for s in sentences:
        found = names.find(normalize(s["ar"]))
        entities = s.get("entities", [])
        joined = " ".join(entities)
        places = [h for h in found.places if names.place_kept(h, joined)]
        others = [c for c in found.others if names.other_kept(c, joined)]
        places_total += len(found.places)
        places_listed += len(places)
        candidates_total += len(found.others)
        candidates_listed += len(others)
        for entity in entities:
            listed += 1
            covered += any(names.place_kept(h, entity) for h in found.places) or any(
                names.other_kept(c, entity) for c in found.others
            )
    return {
        "listed_names": listed,
        "covered": round(100 * covered / max(1, listed), 1),
        "gazetteer_hits": places_total,
        "gazetteer_hits_listed": round(100 * places_listed / max(1, places_total), 1),
        "candidates": candidates_total,
        "candidates_listed": round(100 * candidates_listed / max(1, candidates_total), 1),
    }


def translation_scores(sentences: list[dict[str, Any]], hypotheses: list[str]) -> dict[str, Any]:
    """BLEU, chrF, numbers kept and names kept of one English output per sentence."""
    import sacrebleu

    references = [s["en"] for s in sentences]
    bleu_metric, chrf_metric = sacrebleu.BLEU(), sacrebleu.CHRF()
    bleu = bleu_metric.corpus_score(hypotheses, [references])
    chrf = chrf_metric.corpus_score(hypotheses, [references])
    numbers = [(n, h) for s, h in zip(sentences, hypotheses) for n in source_numbers(s["ar"])]
    entities = [(e, h) for s, h in zip(sentences, hypotheses) for e in s.get("entities", [])]
    # a number counts as kept in digits or in words, as the product's own check reads it
    # (style guides spell out "three years"); the digits-only figure is kept beside it
    numbers_found = sum(number_kept(n, h) for n, h in numbers)
    numbers_in_digits = sum(number_found(n, h) for n, h in numbers)
    entities_found = sum(e.lower() in h.lower() for e, h in entities)
    return {
        "bleu": round(bleu.score, 1),
        "chrf": round(chrf.score, 1),
        "number_recall": round(100 * numbers_found / max(1, len(numbers)), 1),
        "number_recall_digits": round(100 * numbers_in_digits / max(1, len(numbers)), 1),
        "entity_recall": round(100 * entities_found / max(1, len(entities)), 1),
        "faithfulness": round(100 * (numbers_found + entities_found) / max(1, len(numbers) + len(entities)), 1),
        "numbers": len(numbers),
        "entities": len(entities),
        "metric_signatures": {"bleu": bleu_metric.get_signature().format(), "chrf": chrf_metric.get_signature().format()},
    }


def _found(entities: list[str], text: str) -> int:
    return sum(e.lower() in text.lower() for e in entities)


def evaluate(pipeline: Pipeline, articles: list[dict[str, Any]], methods: list[str], max_sentences: int = 2) -> dict[str, Any]:
    sentences = [s for a in articles for s in a["sentences"]]
    repairs = pipeline.translation.name_repairs
    before = (repairs.tried, repairs.kept, repairs.seconds)
    repairs.record = []
    start = time.perf_counter()
    # Each article one text, its sentences paragraphs, as a newsroom sends it: every sentence
    # reaches the model as it would alone, and what spans an article (a surname spelled as its
    # full name, names/source.surnames) is measured too.
    results = pipeline.translate(
        ["\n\n".join(s["ar"] for s in a["sentences"]) for a in articles], ArticleOptions(source_language="ar")
    )
    translate_seconds = time.perf_counter() - start
    hypotheses, warnings = [], []
    for article, result in zip(articles, results):
        for n in range(len(article["sentences"])):
            own = [seg for seg in result.segments if seg.paragraph == n]
            hypotheses.append(" ".join(seg.translation for seg in own if seg.translation))
            warnings.append([w for seg in own for w in seg.warnings])
    quality = translation_scores(sentences, hypotheses)
    flags = name_flag_scores([s.get("entities", []) for s in sentences], hypotheses, warnings)

    log, repairs.record = repairs.record, None
    kept = {src: (first, second) for src, first, second, better in log if better}
    # The first decoding of every sentence, as it was before any repair replaced it: the same
    # run without the repair (the first pass does not depend on it).
    first_pass = [kept.get(normalize(s["ar"]), (h,))[0] for s, h in zip(sentences, hypotheses)]
    by_source = {normalize(s["ar"]): s.get("entities", []) for s in sentences}
    repair = {
        "segments": len(sentences),
        "tried": repairs.tried - before[0],
        "kept": repairs.kept - before[1],
        "seconds": round(repairs.seconds - before[2], 1),
        "names_fixed": sum(
            max(0, _found(by_source.get(src, []), second) - _found(by_source.get(src, []), first))
            for src, (first, second) in kept.items()
        ),
        "names_lost": sum(
            max(0, _found(by_source.get(src, []), first) - _found(by_source.get(src, []), second))
            for src, (first, second) in kept.items()
        ),
        "without_repair": {
            **translation_scores(sentences, first_pass),
            # the name flags of the first decoding (what the repair acted on)
            "name_flags": name_flag_scores(
                [s.get("entities", []) for s in sentences],
                first_pass,
                [names.check(names.find(normalize(s["ar"])), h) for s, h in zip(sentences, first_pass)],
            ),
        },
        "examples": [{"ar": src, "first": first, "repaired": second, "kept": better} for src, first, second, better in log],
    }

    summaries: dict[str, Any] = {}
    offset = 0
    per_article = []
    for article in articles:
        count = len(article["sentences"])
        per_article.append(hypotheses[offset : offset + count])
        offset += count
    for method in methods:
        options = pipeline.resolve(ArticleOptions(max_sentences=max_sentences, summary_method=method))
        start = time.perf_counter()
        scores = []
        led = 0
        for article, english in zip(articles, per_article):
            summary = pipeline.summary.summarize(english, options)
            scores.append(rouge(summary.text, article["summary"]))
            led += bool(summary.sentences) and lead_covered(summary.sentences[0].text, article["summary"])
        summaries[method] = {key: round(sum(s[key] for s in scores) / len(scores), 1) for key in ("rouge1", "rouge2", "rougeL")}
        summaries[method]["seconds"] = round(time.perf_counter() - start, 1)
        summaries[method]["lead_covered"] = round(100 * led / len(articles), 1)
        # Per article, in the set's order: lets two runs be compared article by article.
        summaries[method]["rougeL_per_article"] = [round(s["rougeL"], 1) for s in scores]

    return {
        "bundle": pipeline.bundle.name,
        "articles": len(articles),
        "sentences": len(sentences),
        **quality,
        "translate_seconds": round(translate_seconds, 1),
        "name_flags": flags,
        "name_finder": name_finder_scores(sentences),
        "name_repair": repair,
        "summary": summaries,
        "decoding": {
            name: {task: o.to_dict() for task, o in e.entry.decoding.items()}
            for name, e in (("translator", pipeline.translation.engine), ("summarizer", pipeline.summary.engine))
        },
        "input_tokens": {
            task: e.entry.input_tokens(task)
            for task, e in (("translate", pipeline.translation.engine), ("summarize", pipeline.summary.engine))
        },
        "outputs": [
            {"ar": s["ar"], "reference": s["en"], "hypothesis": h, "warnings": w}
            for s, h, w in zip(sentences, hypotheses, warnings)
        ],
    }


def markdown_row(result: dict[str, Any], label: str = "") -> str:
    s = result["summary"]
    cells = [
        label or result["bundle"],
        result["bleu"],
        result["chrf"],
        result["number_recall"],
        result["entity_recall"],
        *(s[m]["rougeL"] if m in s else "–" for m in ("model", "extractive")),
        result["translate_seconds"],
    ]
    return "| " + " | ".join(str(c) for c in cells) + " |"


LEAD_COVERED = 0.4  # share of the reference lead's content words the summary's first sentence must hold


def lead_covered(summary_first: str, reference_summary: str) -> bool:
    """Whether the summary's first sentence covers the article's main event: it holds at least
    LEAD_COVERED of the content words of the reference summary's first sentence (which the
    eval sets write as the article's news)."""
    from khulasa_server.pipeline.attribution import content_share
    from khulasa_server.text.segment import sentences_of

    reference = sentences_of(normalize(reference_summary))
    share = content_share(summary_first, reference[0]) if reference else None
    return share is not None and share >= LEAD_COVERED

"""How well the meaning flags and the confidence find what people labelled: `khulasa-models flags`
reads tests/data/eval_flags.jsonl (model outputs with their invented and lost names and their
meaning errors labelled by hand, docs/quality.md has the rules) and the tokens' log-probabilities
of those outputs (tests/data/eval_flags_log_probs.jsonl, made once with the model by
`khulasa-models flags --log-probs BUNDLE`: the same numbers the decoding callback reports, for
outputs decoded before the server kept them), so the figures follow the code and need no model.

Families: each meaning type (negation, number, substitution, omission, addition) is found when a
flag of its kind is on the sentence (`negation:`, `direction:` and `saying:` for negation, `number:` and
`missing_number:` for number, any flag for the others, which no check targets); `low_confidence`
is scored per sentence against "holds a major error" (a major meaning label or any name label)."""

from __future__ import annotations

import json
import math
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

from khulasa_server.pipeline import confidence, meaning
from khulasa_server.pipeline.checks import missing_numbers
from khulasa_server.pipeline.options import ArticleOptions
from khulasa_server.text.normalize import normalize
from khulasa_server.tools import evaluate, name_scores

TYPES = ("negation", "number", "substitution", "omission", "addition")
# Which flag kinds point at which meaning type.
POINTS_AT = {"negation": ("negation", "saying", "direction"), "number": ("number", "missing_number")}
# A flag is right when its sentence holds a labelled error of one of these types: a verb of
# saying that is gone is a negation (a denial made a statement) or a substitution (a warning
# made a report).
RIGHT_FOR = {
    "negation": ("negation",),
    "direction": ("negation",),
    "saying": ("negation", "substitution"),
    "number": ("number",),
    "missing_number": ("number",),
}


def row_key(row: dict[str, Any]) -> str:
    return f"{row.get('set', '')}#{row.get('n', '')}"


def load_log_probs(path: str | Path) -> dict[str, list[tuple[int, int, float]]]:
    out = {}
    if Path(path).is_file():
        with open(path, encoding="utf-8") as handle:
            for line in handle:
                if line.strip():
                    row = json.loads(line)
                    out[row["key"]] = [tuple(t) for t in row["tokens"]]
    return out


def meaning_flags(row: dict[str, Any]) -> list[str]:
    source = normalize(row["ar"])
    return meaning.check(source, row["hypothesis"]) + [f"missing_number:{n}" for n in missing_numbers(source, row["hypothesis"])]


def sentence_confidence(row: dict[str, Any], tokens: Sequence[tuple[int, int, float]] | None) -> float | None:
    if not tokens:
        return None
    return confidence.of(tokens, row["hypothesis"], 0.0)


def major(row: dict[str, Any]) -> bool:
    """Whether a reader of this sentence believes something false or misses a key fact."""
    names = row.get("added") or row.get("lost") or row.get("changed_role")
    return bool(names) or any(m["severity"] == "major" for m in row.get("meaning", []))


def _ratio(part: int, whole: int) -> float | None:
    return round(100 * part / whole, 1) if whole else None


def score(rows: list[dict[str, Any]], log_probs: dict[str, list[tuple[int, int, float]]], threshold: float) -> dict[str, Any]:
    by_type = {t: {"major": 0, "found": 0, "all": 0, "found_all": 0} for t in TYPES}
    flags_total = flags_right = 0
    kinds: dict[str, dict[str, int]] = {}
    majors = flagged_majors = flagged = flagged_right = 0
    errors = []
    for row in rows:
        mine = meaning_flags(row)
        names = name_scores.flags_of(row)
        sure = sentence_confidence(row, log_probs.get(row_key(row)))
        low = sure is not None and sure < threshold
        every = mine + names + (["low_confidence"] if low else [])
        labels = row.get("meaning", [])
        for label in labels:
            kinds_for = POINTS_AT.get(label["type"])
            hit = any(f.partition(":")[0] in kinds_for for f in mine) if kinds_for else bool(every)
            entry = by_type[label["type"]]
            entry["all"] += 1
            entry["found_all"] += hit
            if label["severity"] == "major":
                entry["major"] += 1
                entry["found"] += hit
        for f in mine:
            kind = f.partition(":")[0]
            right = any(label["type"] in RIGHT_FOR.get(kind, ()) for label in labels)
            kinds.setdefault(kind, {"flags": 0, "right": 0})
            kinds[kind]["flags"] += 1
            kinds[kind]["right"] += right
            flags_total += 1
            flags_right += right
            if not right:
                errors.append({"key": row_key(row), "wrong_flag": f, "hypothesis": row["hypothesis"]})
        has_major_meaning = any(m["severity"] == "major" for m in labels)
        majors += has_major_meaning
        flagged_majors += has_major_meaning and bool(every)
        flagged += bool(every)
        flagged_right += bool(every) and major(row)
        for label in labels:
            if label["type"] == "negation" and not any(f.partition(":")[0] in POINTS_AT["negation"] for f in mine):
                errors.append({"key": row_key(row), "missed": label, "hypothesis": row["hypothesis"]})
    return {
        "sentences": len(rows),
        "meaning_by_type": {
            t: {**c, "recall_major": _ratio(c["found"], c["major"]), "recall_all": _ratio(c["found_all"], c["all"])}
            for t, c in by_type.items()
        },
        "meaning_flags": {
            "flags": flags_total,
            "right": flags_right,
            "precision": _ratio(flags_right, flags_total),
            "kinds": kinds,
        },
        "sentences_with_major_meaning_error": majors,
        "all_flags_and_low_confidence": {
            "recall_major_meaning": _ratio(flagged_majors, majors),
            "flagged_sentences": flagged,
            "precision_any_error": _ratio(flagged_right, flagged),
        },
        "confidence": confidence_curve(rows, log_probs),
        "errors": errors,
    }


def confidence_curve(rows: list[dict[str, Any]], log_probs: dict[str, list[tuple[int, int, float]]]) -> dict[str, Any]:
    """low_confidence alone at a range of thresholds: recall and precision against "holds a
    major error" (sentences whose outputs have log-probabilities only)."""
    scored = [(sentence_confidence(r, log_probs.get(row_key(r))), major(r)) for r in rows]
    pairs = [(c, m) for c, m in scored if c is not None]
    positives = sum(m for _, m in pairs)
    curve = []
    for threshold in (0.1, 0.15, 0.2, 0.25, 0.3, 0.35, 0.4, 0.5, 0.6, 0.7):
        low = [m for c, m in pairs if c < threshold]
        curve.append(
            {
                "threshold": threshold,
                "flagged": len(low),
                "recall": _ratio(sum(low), positives),
                "precision": _ratio(sum(low), len(low)),
            }
        )
    return {
        "sentences": len(pairs),
        "with_major_error": positives,
        # Calibration: the mean confidence (the estimated chance of no major error) beside the
        # share of sentences that hold none.
        "mean_confidence": round(sum(c for c, _ in pairs) / len(pairs), 3) if pairs else None,
        "share_without_major_error": round(1 - positives / len(pairs), 3) if pairs else None,
        "curve": curve,
        "auc": _auc(pairs),
    }


def _auc(pairs: list[tuple[float, bool]]) -> float | None:
    """The chance that a sentence with a major error has lower confidence than one without."""
    bad = [c for c, m in pairs if m]
    good = [c for c, m in pairs if not m]
    if not bad or not good:
        return None
    wins = sum((b < g) + 0.5 * (b == g) for b in bad for g in good)
    return round(wins / (len(bad) * len(good)), 3)


def fit(rows: list[dict[str, Any]], log_probs: dict[str, list[tuple[int, int, float]]], steps: int = 4000) -> list[float]:
    """Logistic regression of "no major error" on confidence.features (gradient descent on the
    mean log-loss, a little L2): the coefficients confidence.COEFFICIENTS holds."""
    xs, ys = [], []
    for row in rows:
        tokens = log_probs.get(row_key(row))
        if tokens:
            kept = [lp for start, _, lp in tokens if start < len(row["hypothesis"])]
            if kept:
                mean, lowest, share = confidence.features(kept)
                xs.append([1.0, mean, max(lowest, -30.0), share])
                ys.append(0.0 if major(row) else 1.0)
    return [round(a, 3) for a in logistic(xs, ys, steps, rate=0.1, l2=0.01)]


def logistic(xs: list[list[float]], ys: list[float], steps: int, rate: float, l2: float = 0.0) -> list[float]:
    """Weights of a logistic regression of ys (0 or 1) on xs, whose first column is 1 (the
    intercept, not penalized): gradient descent on the mean log-loss, with L2 weight l2."""
    w = [0.0] * len(xs[0])
    for _ in range(steps):
        grad = [0.0] * len(w)
        for x, y in zip(xs, ys):
            p = 1.0 / (1.0 + math.exp(-sum(a * b for a, b in zip(w, x))))
            for k in range(len(w)):
                grad[k] += (p - y) * x[k] / len(xs)
        w = [a - rate * (g + (l2 * a if k else 0.0)) for k, (a, g) in enumerate(zip(w, grad))]
    return w


def by_set(rows: list[dict[str, Any]], log_probs: dict[str, list[tuple[int, int, float]]], threshold: float) -> dict[str, Any]:
    sets: dict[str, list[dict[str, Any]]] = {}
    for row in rows:
        sets.setdefault(row.get("set", ""), []).append(row)
    tuned = [r for r in rows if r.get("set") != HELD_OUT]
    held = [r for r in rows if r.get("set") == HELD_OUT]
    out = {"tuned (three sets)": score(tuned, log_probs, threshold)}
    if held:
        out[f"held out ({HELD_OUT})"] = score(held, log_probs, threshold)
    return out


# The set the meaning checks and the confidence were never tuned on (written after them).
HELD_OUT = "eval_meaning"


def table(result: dict[str, Any]) -> str:
    lines = [
        "| set | negation recall (major) | number recall (major) | meaning flags precision | "
        "major meaning errors flagged (any flag or low_confidence) | precision of flagged sentences | confidence AUC | "
        "mean confidence / share without major error |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for name, part in result.items():
        t = part["meaning_by_type"]
        a = part["all_flags_and_low_confidence"]
        lines.append(
            f"| {name} | {t['negation']['recall_major']} ({t['negation']['major']}) | {t['number']['recall_major']} "
            f"({t['number']['major']}) | {part['meaning_flags']['precision']} | {a['recall_major_meaning']} "
            f"({part['sentences_with_major_meaning_error']}) | {a['precision_any_error']} | {part['confidence']['auc']} | "
            f"{part['confidence']['mean_confidence']} / {part['confidence']['share_without_major_error']} |"
        )
    lines += ["", "| set | threshold | flagged | recall % | precision % |", "|---|---|---|---|---|"]
    for name, part in result.items():
        for point in part["confidence"]["curve"]:
            lines.append(f"| {name} | {point['threshold']} | {point['flagged']} | {point['recall']} | {point['precision']} |")
    return "\n".join(lines)


def write_log_probs(bundle: str, rows: Iterable[dict[str, Any]], out: str | Path) -> int:
    """Each labelled output's token log-probabilities under the bundle's translate prompt
    (CTranslate2's score_batch: one forward pass over prompt and output, as decoding saw them)."""
    from khulasa_server.models import bundle as bundle_mod
    from khulasa_server.models.engines import Runtime, load_engine
    from khulasa_server.models.engines.base import token_spans

    loaded = bundle_mod.load(bundle)
    engine: Any = load_engine(loaded.model_for("translate"), Runtime())
    rows = list(rows)
    written = 0
    with open(out, "w", encoding="utf-8") as handle:
        for start in range(0, len(rows), 8):
            part = rows[start : start + 8]
            prompts = [engine.prompt_tokens("translate", normalize(r["ar"])) for r in part]
            outputs = [engine.tokenize(r["hypothesis"]) for r in part]
            results = engine._model.score_batch([p + o for p, o in zip(prompts, outputs)])
            for row, prompt, output, result in zip(part, prompts, outputs, results):
                lps = list(result.log_probs)[len(prompt) - 1 :]
                text = row["hypothesis"]
                spans = token_spans(output, lps, engine._tok.decode, 0, len(text))
                handle.write(json.dumps({"key": row_key(row), "tokens": [list(s) for s in spans]}) + "\n")
                written += 1
    return written


# Summaries: does the first sentence carry the news, and what do the checks flag?


def summary_scores(pipeline: Any, stored: Iterable[str | Path], methods: Sequence[str], max_sentences: int = 2) -> dict[str, Any]:
    """Lead covered, words and unsupported flags of each method's summaries, on the English of
    stored eval results (`khulasa-models eval --out`), so no translation is run again. For the
    model, "before" is its own first sentence (what the summary led with before lead_first)."""
    from khulasa_server.pipeline.results import Timings
    from khulasa_server.pipeline.summary import SUMMARY_WORDS
    from khulasa_server.text.segment import sentences_of

    out: dict[str, Any] = {}
    for path in stored:
        for result in json.loads(Path(path).read_text(encoding="utf-8"))["sets"]:
            articles = evaluate.load_set(Path(result["data"]))
            hypotheses = [o["hypothesis"] for o in result["outputs"]]
            english, start = [], 0
            for article in articles:
                english.append(hypotheses[start : start + len(article["sentences"])])
                start += len(article["sentences"])
            part: dict[str, Any] = {"translation": _lead_ceiling(articles, english)}
            for method in methods:
                options = pipeline.resolve(ArticleOptions(max_sentences=max_sentences, summary_method=method))
                counts = {"articles": 0, "lead_covered": 0, "lead_covered_before": 0, "over_words": 0, "unsupported": 0}
                examples = []
                for article, paragraphs in zip(articles, english):
                    summary = pipeline.summary.summarize(paragraphs, options)
                    first = summary.sentences[0].text if summary.sentences else ""
                    if method == "model":  # the model's own first sentence, from the cache
                        raw = sentences_of(normalize(pipeline.summary.reduce(paragraphs, Timings(), max_sentences)))
                        before = raw[0] if raw else ""
                    else:
                        before = first
                    counts["articles"] += 1
                    counts["lead_covered"] += evaluate.lead_covered(first, article["summary"])
                    counts["lead_covered_before"] += evaluate.lead_covered(before, article["summary"])
                    counts["over_words"] += len(summary.text.split()) > SUMMARY_WORDS
                    flags = [w for s in summary.sentences for w in s.warnings]
                    counts["unsupported"] += len(flags)
                    examples.append({"id": article.get("id", ""), "summary": summary.text, "flags": flags})
                n = counts["articles"]
                part[method] = {
                    **counts,
                    "lead_covered_pct": _ratio(counts["lead_covered"], n),
                    "lead_covered_before_pct": _ratio(counts["lead_covered_before"], n),
                    "examples": examples,
                }
            out[Path(result["data"]).stem] = part
    return out


def _lead_ceiling(articles: list[dict[str, Any]], english: list[list[str]]) -> dict[str, Any]:
    """What the translated sentences allow: how often the English of the article's first
    sentence covers the reference lead (a summary that leads with it scores that), and how
    often any sentence of the English does (no extractive summary can score more; the model's,
    which rewrites, can)."""
    from khulasa_server.text.segment import sentences_of

    first = any_sentence = 0
    for article, paragraphs in zip(articles, english):
        sentences = [s for p in paragraphs for s in sentences_of(normalize(p))]
        first += bool(sentences) and evaluate.lead_covered(sentences[0], article["summary"])
        any_sentence += any(evaluate.lead_covered(s, article["summary"]) for s in sentences)
    n = len(articles)
    return {
        "articles": n,
        "first_sentence_covers": first,
        "any_sentence_covers": any_sentence,
        "first_sentence_covers_pct": _ratio(first, n),
        "any_sentence_covers_pct": _ratio(any_sentence, n),
    }


def summaries_command(bundle: str, stored: list[str], methods: str, out: str | None) -> int:
    """`khulasa-models flags --summaries BUNDLE`: summary_scores printed as a table."""
    import sys

    from khulasa_server.errors import BundleError
    from khulasa_server.pipeline import Pipeline
    from khulasa_server.service.config import Settings

    try:
        pipeline = Pipeline.from_settings(Settings(bundle=bundle), gather=False)
    except BundleError as exc:
        print(f"khulasa-models: {exc}", file=sys.stderr)
        return 2
    result = summary_scores(pipeline, stored, methods.split(","))
    if out:
        text = json.dumps({"command": f"khulasa-models flags --summaries {bundle}", **result}, indent=2, ensure_ascii=False)
        Path(out).write_text(text + "\n", encoding="utf-8")
    print("| set | method | lead covered % | (before: own first sentence) % | over 60 words | unsupported flags |")
    print("|---|---|---|---|---|---|")
    for name, part in result.items():
        ceiling = part["translation"]
        print(
            f"| {name} | (the English: first sentence / any sentence, the bound of extractive) | "
            f"{ceiling['first_sentence_covers_pct']} / "
            f"{ceiling['any_sentence_covers_pct']} | | | |"
        )
        for method, c in part.items():
            if method == "translation":
                continue
            print(
                f"| {name} | {method} | {c['lead_covered_pct']} | {c['lead_covered_before_pct']} | "
                f"{c['over_words']} | {c['unsupported']} |"
            )
    return 0

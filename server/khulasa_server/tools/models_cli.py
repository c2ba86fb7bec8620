"""`khulasa-models`: build and check model bundles."""

from __future__ import annotations

import argparse
import sys
import textwrap
from pathlib import Path

from khulasa_server import __version__
from khulasa_server.errors import BundleError
from khulasa_server.models import bundle as bundle_mod
from khulasa_server.service.config import NAMES_IN_SOURCE, Settings, names_in_source
from khulasa_server.tools import recipes
from khulasa_server.tools.recipes.presets import QWEN_CODER, QWEN_CODER_CHANGES, QWEN_CODER_VERSION
from khulasa_server.tools.recipes.prompts import EXAMPLES

PACKAGE = Path(__file__).resolve().parent.parent  # khulasa_server: its data/ ships with it

# The evaluation sets: general news, and news heavy in people, places and organizations.
DEFAULT_SETS = ("tests/data/eval_news.jsonl", "tests/data/eval_names.jsonl", "tests/data/eval_attribution.jsonl")
# Written for measuring only: no check, prompt or option was ever tuned on it; reported apart.
HELDOUT_SET = "tests/data/eval_heldout.jsonl"
# The default model's outputs on those sets, with their invented and lost names labelled by hand.
FLAG_SET = "tests/data/eval_flags.jsonl"
# Those outputs' token log-probabilities under the default model (`khulasa-models flags --log-probs`).
LOG_PROB_SET = "tests/data/eval_flags_log_probs.jsonl"
# The default model's English of the four sets (`khulasa-models eval` results), for scoring summaries.
STORED_ENGLISH = ("docs/eval/qwen2.5-coder-1.5b.json", "docs/eval/qwen2.5-coder-1.5b-meaning-first.json")


def _build(args: argparse.Namespace) -> int:
    if args.examples and args.kind != QWEN_CODER:
        print(f"khulasa-models: --examples applies to {QWEN_CODER} only, not {args.kind}", file=sys.stderr)
        return 2
    out = Path(args.out) if args.out else bundle_mod.khulasa_home() / "bundles" / args.kind
    if (out / bundle_mod.MANIFEST).is_file():
        try:
            existing = bundle_mod.load(out)
        except BundleError as exc:
            print(f"khulasa-models: {out} exists but is not a valid bundle: {exc}", file=sys.stderr)
            return 1
        print(f"{args.kind}: already built at {out}")
        listed = len(existing.model_for("translate").prompts["translate"].examples) if args.kind == QWEN_CODER else 0
        if args.examples != listed:
            print(f"{args.kind}: it lists {listed} worked examples, not {args.examples}: remove {out} and build again")
        if args.kind == QWEN_CODER and existing.version != QWEN_CODER_VERSION:
            print(
                f"{args.kind}: that is version {existing.version or '?'}; this khulasa builds version "
                f"{QWEN_CODER_VERSION} ({QWEN_CODER_CHANGES[QWEN_CODER_VERSION]}): remove {out} and build again to get it"
            )
        return 0
    try:
        recipes.build(args.kind, out, bundle_mod.khulasa_home(), log=lambda line: print(line, flush=True), examples=args.examples)
    except (OSError, RuntimeError, ValueError) as exc:
        print(f"khulasa-models: building {args.kind} failed: {exc}", file=sys.stderr)
        return 1
    print(f"{args.kind}: built at {out}")
    return 0


def _verify(args: argparse.Namespace) -> int:
    try:
        loaded = bundle_mod.load(args.bundle)
    except BundleError as exc:
        print(f"khulasa-models: {exc}", file=sys.stderr)
        return 1
    files = len(loaded.manifest.get("checksums", {}))
    print(f"{loaded.name} {loaded.version}: {files} files verified at {loaded.path}")
    return 0


def _eval(args: argparse.Namespace) -> int:
    import json

    from khulasa_server.models.cpu import ctranslate2_cpu
    from khulasa_server.pipeline import Pipeline
    from khulasa_server.tools import evaluate

    try:
        import sacrebleu  # noqa: F401
    except ImportError:
        print("khulasa-models: eval needs sacrebleu: pip install 'khulasa[eval]'", file=sys.stderr)
        return 2
    try:
        settings = Settings(
            bundle=args.bundle,
            max_batch_tokens=args.max_batch_tokens,
            name_repair=not args.no_repair,
            names_in_source=names_in_source(args.names_in_source),
        )
        pipeline = Pipeline.from_settings(settings, gather=False)
        pipeline.translation.name_terms_first = args.name_terms_first  # an experiment of eval's alone
        evaluate.apply_overrides(pipeline, args.set)
    except (BundleError, ValueError) as exc:
        print(f"khulasa-models: {exc}", file=sys.stderr)
        return 1
    data = args.data or [*DEFAULT_SETS, HELDOUT_SET]
    results = []
    for path in data:
        result = evaluate.evaluate(pipeline, evaluate.load_set(path, args.limit), args.methods.split(","), args.max_sentences)
        results.append({"data": str(path), "held_out": Path(path).name == Path(HELDOUT_SET).name, **result})
    options = (
        [f"--data {d}" for d in args.data]
        + [f"--set {x}" for x in args.set]
        + (["--no-repair"] if args.no_repair else [])
        + (["--name-terms-first"] if args.name_terms_first else [])
        + ([f"--names-in-source {args.names_in_source}"] if args.names_in_source != Settings.names_in_source else [])
        + ([f"--limit {args.limit}"] if args.limit else [])
        + ([f"--methods {args.methods}"] if args.methods != "model,extractive" else [])
        + ([f"--max-batch-tokens {args.max_batch_tokens}"] if args.max_batch_tokens != 4096 else [])
    )
    out = {
        "bundle": pipeline.bundle.name,
        "bundle_version": pipeline.bundle.version,
        "command": " ".join(["khulasa-models eval", args.bundle, *options]),
        "ctranslate2_cpu": ctranslate2_cpu(),
        "sets": results,
    }
    text = json.dumps(out, indent=2, ensure_ascii=False)
    if args.out:
        Path(args.out).write_text(text + "\n", encoding="utf-8")
    print(text if not args.out else f"wrote {args.out}")
    print("| set | BLEU | chrF | numbers kept % | names kept % | summary ROUGE-L (model) | (extractive) | translate s |")
    print("|---|---|---|---|---|---|---|---|")
    for path, result in zip(data, results):
        held = " (held out)" if result["held_out"] else ""
        print(evaluate.markdown_row(result, f"{args.label or pipeline.bundle.name}: {Path(path).stem}{held}"))
    return 0


def _flags(args: argparse.Namespace) -> int:
    import json

    from khulasa_server.pipeline import confidence
    from khulasa_server.tools import name_scores, trust

    rows = name_scores.load(args.data or [FLAG_SET])
    if args.log_probs:
        try:
            written = trust.write_log_probs(args.log_probs, rows, LOG_PROB_SET)
        except BundleError as exc:
            print(f"khulasa-models: {exc}", file=sys.stderr)
            return 2
        print(f"wrote {LOG_PROB_SET} ({written} outputs)")
        return 0
    if args.summaries:
        return trust.summaries_command(args.summaries, args.stored or list(STORED_ENGLISH), args.methods, args.out)
    log_probs = trust.load_log_probs(LOG_PROB_SET)
    if args.fit:
        print("confidence coefficients:", trust.fit([r for r in rows if r.get("set") != trust.HELD_OUT], log_probs))
        return 0
    result = name_scores.by_set(rows)
    meaning = trust.by_set(rows, log_probs, confidence.LOW_CONFIDENCE if args.threshold is None else args.threshold)
    if args.out:
        text = json.dumps({"command": "khulasa-models flags", **result, "meaning": meaning}, indent=2, ensure_ascii=False)
        Path(args.out).write_text(text + "\n")
        print(f"wrote {args.out}")
    print(name_scores.table({name: part for name, part in result.items()}))
    print()
    print(trust.table(meaning))
    return 0


def _gazetteer(args: argparse.Namespace) -> int:
    try:
        from khulasa_server.tools import build_gazetteer

        rows = build_gazetteer.write(Path(args.out))
    except ImportError as exc:
        print(f"khulasa-models: gazetteer needs {exc.name}: pip install 'khulasa[names]'", file=sys.stderr)
        return 2
    except OSError as exc:
        print(f"khulasa-models: cannot write {args.out}: {exc}", file=sys.stderr)
        return 2
    print(f"wrote {rows} names to {args.out}")
    return 0


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="khulasa-models", description="Build and verify khulasa model bundles.")
    p.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    sub = p.add_subparsers(dest="command", required=True)
    build = sub.add_parser(
        "build",
        help="build a bundle",
        description="\n".join(
            textwrap.fill(f"{name}: {text}.", 90, subsequent_indent="  ") for name, text in recipes.DESCRIPTIONS.items()
        ),
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    build.add_argument("kind", choices=recipes.KINDS)
    build.add_argument("--out", help="bundle directory (default: $KHULASA_HOME/bundles/KIND)")
    build.add_argument(
        "--examples",
        type=int,
        choices=range(len(EXAMPLES) + 1),
        default=0,
        metavar="N",
        help=f"{QWEN_CODER} only: N worked examples (0-{len(EXAMPLES)}) in the translation prompt; 2 keep more names "
        "but make batched decoding up to 2x slower (docs/quality.md)",
    )
    build.set_defaults(run=_build)
    verify = sub.add_parser("verify", help="check a bundle's manifest and every file's sha256")
    verify.add_argument("bundle", help="bundle directory or name")
    verify.set_defaults(run=_verify)
    ev = sub.add_parser("eval", help="BLEU, chrF, faithfulness, name flags and summary ROUGE of a bundle on the news sets")
    ev.add_argument("bundle", help="bundle directory or name")
    ev.add_argument(
        "--data",
        action="append",
        default=[],
        metavar="JSONL",
        help=f"JSONL articles, repeatable (default: {', '.join(DEFAULT_SETS)} and the held-out {HELDOUT_SET})",
    )
    ev.add_argument("--limit", type=int, help="only the first N articles")
    ev.add_argument("--methods", default="model,extractive", help="summary methods to score (default: %(default)s)")
    ev.add_argument("--max-sentences", type=int, default=2, help="summary length (default: %(default)s)")
    ev.add_argument(
        "--set",
        action="append",
        default=[],
        metavar="TASK.KEY=VALUE",
        help="decoding override for the run, e.g. translate.beam_size=2 (repeatable)",
    )
    ev.add_argument("--no-repair", action="store_true", help="do not decode name-flagged segments again")
    ev.add_argument(
        "--name-terms-first",
        action="store_true",
        help="give gazetteer names as terms in every first prompt, not only when decoding a flagged segment again",
    )
    ev.add_argument(
        "--names-in-source",
        choices=NAMES_IN_SOURCE,
        default=Settings.names_in_source,
        help="write known names in English into the source before translation: people too, gazetteer names only, or "
        "none (default: %(default)s, as the server)",
    )
    ev.add_argument(
        "--max-batch-tokens",
        type=int,
        default=4096,
        help="source tokens per decoding batch (default: %(default)s); outputs depend slightly on batching",
    )
    ev.add_argument("--label", default="", help="row label in the printed table")
    ev.add_argument("--out", help="write the JSON result here")
    ev.set_defaults(run=_eval)
    fl = sub.add_parser(
        "flags",
        help="precision and recall of the name flags on hand-labelled model outputs (no model needed)",
        description="Runs the name checks on fixed model outputs whose invented and lost names, places, "
        "institutions and roles were labelled by hand, and prints the confusion table.",
    )
    fl.add_argument("--data", action="append", default=[], metavar="JSONL", help=f"labelled outputs (default: {FLAG_SET})")
    fl.add_argument("--out", help="write the JSON result (with every wrong and missed flag) here")
    fl.add_argument("--log-probs", metavar="BUNDLE", help=f"write {LOG_PROB_SET} with this bundle's model, then stop")
    fl.add_argument("--summaries", metavar="BUNDLE", help="score summaries (lead, unsupported) on stored English, then stop")
    fl.add_argument("--stored", action="append", default=[], metavar="JSON", help="eval results whose English to summarize")
    fl.add_argument("--methods", default="model,extractive", help="summary methods for --summaries (default: %(default)s)")
    fl.add_argument("--fit", action="store_true", help="print confidence coefficients fitted on the tuned sets, then stop")
    fl.add_argument("--threshold", type=float, help="low_confidence below this (default: the server's, 0.3)")
    fl.set_defaults(run=_flags)
    gz = sub.add_parser(
        "gazetteer",
        help="regenerate the gazetteer of place and date names from CLDR, GeoNames and iso-codes",
        description="Writes the Arabic -> English name list the server checks translations against "
        "(shipped as khulasa_server/data/gazetteer.tsv). Needs the names extra: pip install 'khulasa[names]'.",
    )
    gz.add_argument("--out", default=str(PACKAGE / "data" / "gazetteer.tsv"), help="output TSV (default: the packaged file)")
    gz.set_defaults(run=_gazetteer)
    return p


def main(argv: list[str] | None = None) -> int:
    args = parser().parse_args(argv)
    return args.run(args)


if __name__ == "__main__":
    sys.exit(main())

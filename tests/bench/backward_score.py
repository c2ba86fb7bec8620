"""Is the source given the English a signal of a major error? The same model scores the Arabic
of each labelled sentence after its English under a reverse (English to Arabic) prompt, in one
forward pass (CTranslate2's score_batch, no decoding); the mean log-probability of the Arabic
is compared with the forward confidence (the segment's own, from its decoding) as a detector of
sentences with a major error (tools/trust.major), by AUC, and both together by a logistic fit on
the tuned sets, read on the held-out set.

    python tests/bench/backward_score.py --bundle ~/.cache/khulasa/bundles/qwen2.5-coder-1.5b \\
        --out docs/eval/backward-score.json
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path

import ctranslate2

from khulasa_server.models import bundle as bundle_mod
from khulasa_server.models.cpu import ctranslate2_cpu
from khulasa_server.models.tokenizers import load_tokenizers
from khulasa_server.text.normalize import normalize
from khulasa_server.tools import trust

ROOT = Path(__file__).resolve().parents[2]
SYSTEM = ("You are a professional translator. Translate the user's English news text into Arabic. "
          "Answer with the translation only.")


def backward(generator, tok, rows: list[dict]) -> list[float]:
    """Mean log-probability of each row's Arabic after its English (chatml, the reverse prompt)."""
    head = f"<|im_start|>system\n{SYSTEM}<|im_end|>\n<|im_start|>user\n"
    start, turn_end = tok.encode_markup(head), tok.encode_markup("<|im_end|>\n<|im_start|>assistant\n")
    pairs = []
    for row in rows:
        before = start + tok.encode(row["hypothesis"]) + turn_end
        pairs.append((before, tok.encode(normalize(row["ar"])) + tok.encode_markup("<|im_end|>")))
    scored = generator.score_batch([b + a for b, a in pairs], max_batch_size=16)
    # log_probs[i] is token i + 1's given those before it: the answer's start at len(before) - 1.
    return [sum(s.log_probs[len(b) - 1 :]) / len(a) for (b, a), s in zip(pairs, scored)]


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--bundle", required=True)
    p.add_argument("--data", default=str(ROOT / "tests" / "data" / "eval_flags.jsonl"))
    p.add_argument("--log-probs", default=str(ROOT / "tests" / "data" / "eval_flags_log_probs.jsonl"))
    p.add_argument("--threads", type=int, default=os.cpu_count() or 1)
    p.add_argument("--out", default="")
    args = p.parse_args(argv)
    entry = bundle_mod.load(bundle_mod.resolve(args.bundle), verify_checksums=False).model_for("translate")
    tok, _ = load_tokenizers(entry)
    generator = ctranslate2.Generator(str(entry.path), compute_type="int8", intra_threads=args.threads)
    rows = [json.loads(line) for line in Path(args.data).read_text(encoding="utf-8").splitlines() if line.strip()]
    stored = trust.load_log_probs(args.log_probs)
    start = time.perf_counter()
    back = backward(generator, tok, rows)
    seconds = time.perf_counter() - start
    forward = [trust.sentence_confidence(r, stored.get(trust.row_key(r))) for r in rows]
    keep = [i for i, f in enumerate(forward) if f is not None]
    held = {i for i in keep if rows[i]["set"] == trust.HELD_OUT}
    tuned = [i for i in keep if i not in held]
    xs = [[1.0, forward[i], back[i]] for i in tuned]
    w = trust.logistic(xs, [0.0 if trust.major(rows[i]) else 1.0 for i in tuned], 20000, rate=0.05)
    result: dict = {
        "command": "python tests/bench/backward_score.py " + " ".join(sys.argv[1:] if argv is None else argv),
        "ctranslate2_cpu": ctranslate2_cpu(),
        "load_average": round(os.getloadavg()[0], 2),
        "scored_sentences": len(rows),
        "scoring_seconds": round(seconds, 1),
        "fit_on_tuned": [round(x, 3) for x in w],
    }
    for part, members in (("tuned", tuned), ("held_out", sorted(held))):
        major = [trust.major(rows[i]) for i in members]
        result[part] = {
            "sentences": len(members),
            "with_major_error": sum(major),
            "auc_forward_confidence": trust._auc([(forward[i], m) for i, m in zip(members, major)]),
            "auc_backward_score": trust._auc([(back[i], m) for i, m in zip(members, major)]),
            "auc_both": trust._auc([(w[0] + w[1] * forward[i] + w[2] * back[i], m) for i, m in zip(members, major)]),
        }
    print(json.dumps({k: v for k, v in result.items() if k in ("scoring_seconds", "tuned", "held_out")}, indent=1))
    if args.out:
        Path(args.out).write_text(json.dumps(result, indent=1) + "\n", encoding="utf-8")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

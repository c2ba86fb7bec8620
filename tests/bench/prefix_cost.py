"""What a longer cached prefix (worked examples in the translate prompt) costs a batched call.

    python tests/bench/prefix_cost.py --bundle DIR [--examples 0,2] [--batches 1,8,32] [--out JSON]

For each count of worked examples (the recipe's, tools/recipes/prompts.py EXAMPLES, their Arabic
with names in English as --names-in-source all writes a text) and each batch size, one child
process loads the bundle's generator and makes one CTranslate2 call as the engine does: the
chat turn up to the text as `static_prompt` (computed once and cached), the same short
paragraph in every row, 40 steps forced. It reports the call's seconds and the child's peak
RSS. profile_llm.py's steps put the whole prompt in every row; this measures the prefix as the
server gives it.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import os
import resource
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
TEXT = "وقال المتحدث باسم الكرملين إن روسيا مستعدة لجولة جديدة من المحادثات مع أوكرانيا في إسطنبول."
STEPS = 40


def one_call(bundle_dir: str, examples: int, batch: int) -> dict:
    import ctranslate2
    from tokenizers import Tokenizer

    from khulasa_server.models import bundle as bundle_mod
    from khulasa_server.models.engines.generator import render_prompt
    from khulasa_server.tools.recipes.prompts import EXAMPLES, in_source

    bundle = bundle_mod.load(bundle_dir)
    entry = bundle.models[bundle.roles["translate"]]
    prompt = dataclasses.replace(entry.prompts["translate"], examples=in_source(EXAMPLES[:examples]))
    entry = dataclasses.replace(entry, prompts={**entry.prompts, "translate": prompt})
    tok = Tokenizer.from_file(str(entry.path / entry.tokenizer.file))
    full = tok.encode(render_prompt(entry, "translate", TEXT), add_special_tokens=False).tokens
    other = tok.encode(render_prompt(entry, "translate", "X"), add_special_tokens=False).tokens
    cut = next(i for i, (a, b) in enumerate(zip(full, other)) if a != b)
    generator = ctranslate2.Generator(str(entry.path), device="cpu", compute_type="int8", intra_threads=os.cpu_count() or 1)
    loaded = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    start = time.perf_counter()
    generator.generate_batch([full[cut:]] * batch, static_prompt=full[:cut], max_length=STEPS, min_length=STEPS,
                             include_prompt_in_result=False, max_batch_size=0)
    seconds = time.perf_counter() - start
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return {"examples": examples, "batch": batch, "prefix_tokens": cut, "row_tokens": len(full) - cut, "steps": STEPS,
            "seconds": round(seconds, 2), "peak_rss_mb": peak // 1024, "rss_after_load_mb": loaded // 1024}


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--bundle", required=True)
    p.add_argument("--examples", default="0,2")
    p.add_argument("--batches", default="1,8,32")
    p.add_argument("--out", default="")
    p.add_argument("--child", nargs=2, type=int, help=argparse.SUPPRESS)
    args = p.parse_args()
    if args.child:
        print(json.dumps(one_call(args.bundle, *args.child)))
        return
    from khulasa_server.models.cpu import ctranslate2_cpu

    rows = []
    for batch in map(int, args.batches.split(",")):
        for examples in map(int, args.examples.split(",")):
            out = subprocess.run([sys.executable, __file__, "--bundle", args.bundle, "--child", str(examples), str(batch)],
                                 check=True, capture_output=True, text=True).stdout
            rows.append(json.loads(out.strip().splitlines()[-1]))
            print(rows[-1], flush=True)
    result = {"command": "python tests/bench/prefix_cost.py " + " ".join(sys.argv[1:]).replace(args.bundle, "BUNDLE"),
              "load_average": os.getloadavg(), "ctranslate2_cpu": ctranslate2_cpu(), "calls": rows}
    if args.out:
        Path(args.out).write_text(json.dumps(result, indent=2) + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()

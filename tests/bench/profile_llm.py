"""Where the time of an LLM decoding step goes, on raw CTranslate2 (no khulasa around it).

    python tests/bench/profile_llm.py --bundle DIR [--out docs/bench/llm-profile.json]

Measures, on the bundle's generator with its translate prompt:
  - step: milliseconds per decoding step for batches of M equal-length prompts (no prompt
    tails: every member starts decoding at once), and the prefill of those prompts;
  - tail: two prompts of different lengths in one call, against each alone: CTranslate2
    forwards a batch's prompts at once only up to the shortest, the rest one step at a time;
  - threads: the batch-1 step with 1 thread and with all cores;
  - gemm: with ONEDNN_VERBOSE, time per matrix shape in one batch-1 step (a child process).
For the share of oneDNN's weight repacking, run it under perf (a JIT map names the kernels):
    ONEDNN_JIT_PROFILE=2 perf record -e cpu-clock -g -o perf.data \\
        python tests/bench/profile_llm.py --bundle DIR --only decode
    perf report -i perf.data --no-children --sort sym | head
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import os
import subprocess
import sys
import time
from collections import defaultdict
from pathlib import Path

import ctranslate2
from tokenizers import Tokenizer

from khulasa_server.models import bundle as bundle_mod
from khulasa_server.models.cpu import ctranslate2_cpu
from khulasa_server.models.engines.generator import render_prompt

ROOT = Path(__file__).resolve().parents[2]
ARTICLE = ROOT / "tests" / "data" / "articles" / "politics_talks.txt"


def prompt_of(entry, tok: Tokenizer, words: int) -> list[str]:
    """A translate prompt whose text is the first `words` words of the sample article."""
    text = " ".join(ARTICLE.read_text(encoding="utf-8").split()[:words])
    return tok.encode(render_prompt(entry, "translate", text), add_special_tokens=False).tokens


def timed(generator, prompts: list[list[str]], steps: int) -> float:
    start = time.perf_counter()
    generator.generate_batch(prompts, max_length=steps, min_length=steps, include_prompt_in_result=False,
                             max_batch_size=0)
    return time.perf_counter() - start


def step_ms(generator, prompts: list[list[str]], steps: int = 17) -> tuple[float, float]:
    """(prefill ms, ms per decoding step): one step against `steps` steps, best of two."""
    first = min(timed(generator, prompts, 1) for _ in range(2))
    whole = min(timed(generator, prompts, steps) for _ in range(2))
    return 1000 * first, 1000 * (whole - first) / (steps - 1)


def gemm_shares(bundle: Path, threads: int) -> dict:
    """oneDNN's own timing of each GEMM shape over a few batch-1 steps (child process)."""
    env = {**os.environ, "ONEDNN_VERBOSE": "1"}
    code = ("import sys, ctranslate2; g = ctranslate2.Generator(sys.argv[1], compute_type='int8', intra_threads=int(sys.argv[2])); "
            "g.generate_batch([['<|im_start|>', 'user', 'Ċ']], max_length=9, min_length=9, include_prompt_in_result=False)")
    out = subprocess.run([sys.executable, "-c", code, str(bundle), str(threads)], env=env, capture_output=True, text=True,
                         check=True).stdout
    totals: dict[str, float] = defaultdict(float)
    calls: dict[str, int] = defaultdict(int)
    for line in out.splitlines():
        if line.startswith("onednn_verbose,exec,cpu,gemm_api"):
            fields = line.split(",")
            kind = "int8" if "src_u8" in line or "src_s8" in line else "float32"
            key = f"{kind} {fields[-2]}"
            totals[key] += float(fields[-1])
            calls[key] += 1
    whole = sum(totals.values())
    return {key: {"ms": round(ms, 1), "calls": calls[key], "share": round(ms / whole, 3)}
            for key, ms in sorted(totals.items(), key=lambda kv: -kv[1])[:8]}


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--bundle", required=True)
    p.add_argument("--threads", type=int, default=os.cpu_count() or 1)
    p.add_argument("--batches", default="1,2,4,8,16")
    p.add_argument("--only", choices=["decode", "steps"],
                   help="decode: only 64 batch-1 steps (to run under perf); steps: only the step times of --batches")
    p.add_argument("--examples", type=int, help="keep only the translate prompt's first N worked examples")
    p.add_argument("--out", default="")
    args = p.parse_args(argv)
    path = bundle_mod.resolve(args.bundle)
    entry = bundle_mod.load(path, verify_checksums=False).model_for("translate")
    if args.examples is not None:  # the step time with a shorter cached prefix
        prompt = entry.prompts["translate"]
        entry.prompts["translate"] = dataclasses.replace(prompt, examples=prompt.examples[: args.examples])
    tok = Tokenizer.from_file(str(entry.file(entry.tokenizer.file)))
    generator = ctranslate2.Generator(str(entry.path), compute_type="int8", intra_threads=args.threads)
    prompt = prompt_of(entry, tok, 60)
    timed(generator, [prompt], 2)  # warm up
    if args.only == "decode":
        print(f"64 steps: {timed(generator, [prompt], 64):.1f} s")
        return 0
    result = {"bundle": str(path), "ctranslate2": ctranslate2.__version__, "threads": args.threads,
              "cores": os.cpu_count(), "prompt_tokens": len(prompt), "load_average_at_start": os.getloadavg()[0],
              "command": "python tests/bench/profile_llm.py " + " ".join(argv if argv is not None else sys.argv[1:]),
              "ctranslate2_cpu": ctranslate2_cpu()}
    result["step"] = {}
    for m in [int(x) for x in args.batches.split(",")]:
        prefill, step = step_ms(generator, [prompt] * m)
        result["step"][str(m)] = {"prefill_ms": round(prefill, 1), "step_ms": round(step, 1),
                                  "tokens_per_s": round(1000 * m / step, 1)}
        print(m, result["step"][str(m)], flush=True)
    if args.only == "steps":
        result["load_average_at_end"] = os.getloadavg()[0]
        if args.out:
            Path(args.out).write_text(json.dumps(result, indent=2) + "\n")
        return 0
    one, top = result["step"]["1"]["step_ms"], max(result["step"], key=int)
    # step(M) ~ fixed + M * per_row: the share one more row adds, what GeneratorEngine plans with.
    per_row = (result["step"][top]["step_ms"] - one) / (int(top) - 1)
    result["row_cost"] = round(per_row / max(one - per_row, 1e-9), 4)
    short = prompt_of(entry, tok, 10)
    alone = [step_ms(generator, [p])[0] for p in (short, prompt)]
    together = 1000 * timed(generator, [short, prompt], 1)
    result["tail"] = {"prompt_tokens": [len(short), len(prompt)], "prefill_alone_ms": [round(a, 1) for a in alone],
                      "one_step_together_ms": round(together, 1),
                      "forced_steps": len(prompt) - len(short)}
    print("tail", result["tail"], flush=True)
    single = ctranslate2.Generator(str(entry.path), compute_type="int8", intra_threads=1)
    timed(single, [prompt], 2)
    result["threads_step_ms"] = {"1": round(step_ms(single, [prompt])[1], 1), str(args.threads): one}
    del single
    result["gemm_batch1"] = gemm_shares(entry.path, args.threads)
    result["load_average_at_end"] = os.getloadavg()[0]
    print(json.dumps(result, indent=1))
    if args.out:
        Path(args.out).write_text(json.dumps(result, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""The default LLM path against the peer users would pick instead: khulasa against llama.cpp.

    make bench-llm        # writes docs/bench/llm.json and docs/bench/llm.png

In one run, systems interleaved round by round (this machine's noise is 10-15 %):
  - khulasa: a khulasa-server process on --bundle, Digest over gRPC (its cache off);
  - khulasa before: the same, with the code at --baseline-src (a copy of an earlier commit,
    which `make bench-llm` exports) on --baseline-bundle (that code's conversion of the GGUF);
  - llama.cpp: llama-cpp-python on the GGUF the bundle is converted from, same prompts (as
    token ids), same output bounds, same thread count, greedy (tests/bench/llama_peer.py says
    what is and is not llama.cpp there).
Measured for each: the first of --articles digested alone (translation, summary and total
seconds, translation target tokens/s), then the first N at once for each N of --many (wall
seconds, articles/min; khulasa over one DigestMany stream, llama.cpp in turn as its server
serves them), and the peak RSS of the process that holds the model (VmHWM, after the largest
N). For khulasa, each workload's decoding steps as the engine counts them (khulasa_decode_*
on /metrics: calls, steps, and the row-steps spent on output, on prompt tails fed one per
step, and idle), and with --bulk the largest N through khulasa-bulk on a local Ray.
The default workload: the four sample articles and the twelve in tests/data/articles/more.
Nothing here asserts a time; --smoke only checks that the harness runs (tests/test_bench_llm.py).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import re
import signal
import statistics
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import ctranslate2
from tokenizers import Tokenizer

from khulasa_client import AsyncClient, Client, RetryPolicy
from khulasa_client.core import digest_request
from khulasa_server.models import bundle as bundle_mod
from khulasa_server.models.cpu import ctranslate2_cpu
from khulasa_server.models.engines.base import length_bound, search_options
from khulasa_server.models.engines.generator import render_prompt
from khulasa_server.pipeline.options import DEFAULT_SUMMARY_SENTENCES
from khulasa_server.text.normalize import normalize
from khulasa_server.text.segment import split_paragraphs

sys.path.insert(0, str(Path(__file__).parent))
from run import rss_peak_mb, source_path, start_server  # noqa: E402

ROOT = Path(__file__).resolve().parents[2]
ARTICLES = ROOT / "tests" / "data" / "articles"
DEFAULT_ARTICLES = [ARTICLES / n for n in ("politics_talks.txt", "economy_prices.txt", "mixed_quotes.txt", "sport_final.txt")] + sorted(
    (ARTICLES / "more").glob("*.txt"))


def decode_counts(metrics_port: int) -> dict[str, float]:
    """khulasa_decode_* counters of a server, summed over models: calls, steps, prefill_tokens,
    row_steps_{output,prompt,idle} (server/khulasa_server/models/engines/steps.py says what they are)."""
    body = urllib.request.urlopen(f"http://127.0.0.1:{metrics_port}/metrics", timeout=10).read().decode()
    counts: dict[str, float] = {}
    for m in re.finditer(r'^khulasa_decode_(\w+)_total\{([^}]*)\} (\S+)', body, re.M):
        kind = re.search(r'kind="(\w+)"', m.group(2))
        key = m.group(1) + (f"_{kind.group(1)}" if kind else "")
        counts[key] = counts.get(key, 0.0) + float(m.group(3))
    return counts


def reset_peak(pid: int) -> None:
    """Start the process's peak RSS (VmHWM) over from its current RSS, so the peak reported is
    the workload's, not the model load's (Linux: /proc/PID/clear_refs, 5)."""
    with open(f"/proc/{pid}/clear_refs", "w") as f:
        f.write("5")


def rss_mb(pid: int) -> float:
    with open(f"/proc/{pid}/status") as f:
        return int(re.search(r"VmRSS:\s+(\d+)", f.read()).group(1)) / 1024


class Khulasa:
    """A khulasa-server process; src: a source tree of another version (None: this one)."""

    def __init__(self, name: str, bundle: Path, threads: int, src: Path | None = None, replicas: int = 1):
        env = {"PYTHONPATH": source_path(src)} if src else None
        self.name = name
        # replicas: CTranslate2 inter_threads, sharing the weights, each with threads / replicas
        self.proc, self.port, self.metrics_port, self.serving_s = start_server(bundle, threads, replicas, env=env)
        self.serving_rss_mb = round(rss_mb(self.proc.pid), 1)
        self.bundle, self.threads, self.src = bundle, threads, src

    async def _digests(self, texts: list[str]) -> tuple[float, list]:
        async with AsyncClient(f"127.0.0.1:{self.port}", timeout=3600, retry=RetryPolicy(max_attempts=1)) as client:
            start = time.perf_counter()
            responses = await asyncio.gather(*(client.digest(t, source_language="ar") for t in texts))
            return time.perf_counter() - start, responses

    def warm(self) -> None:
        async def one():
            async with AsyncClient(f"127.0.0.1:{self.port}", timeout=3600, retry=RetryPolicy(max_attempts=1)) as client:
                await client.translate(["قال الوزير إن المحادثات ستستأنف."], source_language="ar")
        asyncio.run(one())

    def single(self, text: str) -> dict:
        seconds, [response] = asyncio.run(self._digests([text]))
        t = response.timings
        return {"total_s": round(seconds, 2), "translate_s": round(t.translate_ms / 1000, 2),
                "summary_s": round(t.summarize_ms / 1000, 2), "translate_tokens": t.target_tokens,
                "checks_s": round(getattr(t, "checks_ms", 0.0) / 1000, 3),
                "translate_tokens_per_s": round(t.target_tokens / max(t.translate_ms / 1000, 1e-9), 1),
                "summary": response.summary}

    def many(self, texts: list[str]) -> dict:
        """The texts at once over one DigestMany stream, and the decoding steps they took."""
        before = decode_counts(self.metrics_port)
        with Client(f"127.0.0.1:{self.port}", timeout=3600, retry=RetryPolicy(max_attempts=1)) as client:
            start = time.perf_counter()
            responses = list(client.digest_many(digest_request(t, id=str(i), source_language="ar") for i, t in enumerate(texts)))
            seconds = time.perf_counter() - start
        failed = [r.error for r in responses if getattr(r, "error", None)]
        if failed:
            raise SystemExit(f"{self.name}: {len(failed)} digests failed, e.g. {failed[0]}")
        after = decode_counts(self.metrics_port)
        tokens = sum(r.timings.target_tokens for r in responses)
        checks = sum(getattr(r.timings, "checks_ms", 0.0) for r in responses) / 1000
        responses.sort(key=lambda r: int(r.id))
        flags = [w.split(":")[0] for r in responses for p in r.paragraphs for s in p.segments for w in s.warnings]
        return {"seconds": round(seconds, 2), "articles_per_min": round(60 * len(texts) / seconds, 2),
                "translate_tokens": tokens, "translate_tokens_per_s": round(tokens / seconds, 1),
                "checks_s": round(checks, 3), "decode": {k: round(after[k] - before.get(k, 0)) for k in after},
                "flags": {f: flags.count(f) for f in sorted(set(flags))},
                "paragraphs": [p.translation for r in responses for p in r.paragraphs],
                "summaries": [r.summary for r in responses]}

    def bulk(self, paths: list[Path]) -> dict:
        """The articles through khulasa-bulk on a local Ray (one replica, all threads); wall
        time of the command, Ray's start included."""
        import shutil
        import tempfile

        work = Path(tempfile.mkdtemp(prefix="khulasa-bench-bulk-"))
        try:
            (work / "in").mkdir()
            for p in paths:
                shutil.copy(p, work / "in" / p.name)
            env = {**os.environ, **({"PYTHONPATH": source_path(self.src)} if self.src else {})}
            start = time.perf_counter()
            subprocess.run([sys.executable, "-m", "khulasa_server.bulk.cli", str(work / "in"), "--bundle", str(self.bundle),
                            "--output", str(work / "out"), "--replicas", "1", "--threads-per-replica", str(self.threads)],
                           check=True, env=env, capture_output=True, text=True)
            seconds = time.perf_counter() - start
        finally:
            shutil.rmtree(work, ignore_errors=True)
        return {"articles": len(paths), "seconds": round(seconds, 2), "articles_per_min": round(60 * len(paths) / seconds, 2)}

    def close(self) -> None:
        self.proc.send_signal(signal.SIGTERM)
        self.proc.wait(timeout=120)


def peer_article(entry, tok: Tokenizer, text: str) -> dict:
    """An article as llama_peer.py takes it: each paragraph's translate prompt as khulasa
    builds it, in token ids, and the output bound khulasa gives that paragraph."""
    options = entry.decoding["translate"]
    paragraphs = [p.text for p in split_paragraphs(normalize(text))]
    prompts = [tok.encode(render_prompt(entry, "translate", p), add_special_tokens=False).ids for p in paragraphs]
    bounds = [length_bound(options, len(tok.encode(p, add_special_tokens=False).ids)) for p in paragraphs]
    return {"paragraphs": prompts, "bounds": bounds}


def peer_settings(entry) -> dict:
    """What a peer needs besides the articles: khulasa's penalties, summary prompt and bounds."""
    summarize = entry.decoding["summarize"]
    return {
        "translate": {"repeat_penalty": search_options(entry.decoding["translate"])["repetition_penalty"]},
        "summarize": {"template": render_prompt(entry, "summarize", "{text}"),
                      "repeat_penalty": search_options(summarize)["repetition_penalty"],
                      "max_tokens": int(summarize.max_decoding_length), "sentences": DEFAULT_SUMMARY_SENTENCES},
    }


def build_flags(python_or_binary: str) -> str:
    """The cmake arguments tests/bench/build_llama.sh recorded for the build this came from."""
    for parent in Path(python_or_binary).absolute().parents:  # a venv's python links out of it
        if (parent / "build-flags.txt").exists():
            return (parent / "build-flags.txt").read_text().strip()
    return ""


class Llama:
    """tests/bench/llama_peer.py in the llama-cpp-python virtualenv, fed khulasa's prompts:
    one sequence at a time (llama-cpp-python has no batching)."""

    def __init__(self, python: str, gguf: Path, entry, threads: int):
        self.name = "llama.cpp"
        self.entry = entry
        self.tok = Tokenizer.from_file(str(entry.file(entry.tokenizer.file)))
        self.proc = subprocess.Popen([python, str(Path(__file__).with_name("llama_peer.py"))], stdin=subprocess.PIPE,
                                     stdout=subprocess.PIPE, text=True)
        n_ctx = entry.input_tokens("summarize") + 1024
        self.info = self._ask({"gguf": str(gguf), "threads": threads, "n_ctx": n_ctx})
        self.info["build_flags"] = build_flags(python)
        self.serving_s, self.serving_rss_mb = self.info["load_s"], self.info["peak_rss_mb"]

    def _ask(self, message: dict) -> dict:
        self.proc.stdin.write(json.dumps(message) + "\n")
        self.proc.stdin.flush()
        line = self.proc.stdout.readline()
        if not line:
            raise SystemExit(f"llama.cpp peer exited with {self.proc.wait()}")
        return json.loads(line)

    def _job(self, texts: list[str]) -> dict:
        return self._ask({"articles": [peer_article(self.entry, self.tok, t) for t in texts], **peer_settings(self.entry)})

    def warm(self) -> None:
        self._job(["قال الوزير إن المحادثات ستستأنف."])

    def single(self, text: str) -> dict:
        [a] = self._job([text])["articles"]
        return {"total_s": a["total_s"], "translate_s": a["translate_s"], "summary_s": a["summary_s"],
                "translate_tokens": a["translate_tokens"],
                "translate_tokens_per_s": round(a["translate_tokens"] / max(a["translate_s"], 1e-9), 1),
                "summary_tokens": a["summary_tokens"], "summary_prompt_tokens": a.get("summary_prompt_tokens"),
                "summary": a["summary"]}

    def many(self, texts: list[str]) -> dict:
        reply = self._job(texts)
        tokens = sum(a["translate_tokens"] for a in reply["articles"])
        return {"seconds": reply["seconds"], "articles_per_min": round(60 * len(texts) / reply["seconds"], 2),
                "translate_tokens": tokens, "translate_tokens_per_s": round(tokens / reply["seconds"], 1)}

    def close(self) -> None:
        self.proc.stdin.close()
        self.proc.wait(timeout=60)


class LlamaServerPeer(Llama):
    """llama.cpp's own server (tests/bench/llama_server_peer.py): parallel slots, continuous
    batching, every paragraph of every article sent at once."""

    def __init__(self, binary: str, gguf: Path, entry, threads: int, slots: int, context: int):
        from llama_server_peer import LlamaServer

        self.entry = entry
        self.tok = Tokenizer.from_file(str(entry.file(entry.tokenizer.file)))
        self.server = LlamaServer(binary, gguf, threads, slots, context, lambda t: peer_article(entry, self.tok, t))
        self.name, self.proc, self.info = "llama-server", self.server.proc, self.server.info
        self.serving_s, self.serving_rss_mb = self.server.serving_s, self.server.serving_rss_mb

    def _job(self, texts: list[str]) -> dict:
        return self.server.job(texts, peer_settings(self.entry))

    def close(self) -> None:
        self.server.close()


def median(rows: list[dict], key: str) -> float:
    return round(statistics.median(r[key] for r in rows), 2)


def best(rows: list[dict], key: str) -> float:
    """The best round: least time, most throughput. Other work on a shared machine only ever
    adds time, and llama.cpp's spinning threads lose far more to it than CTranslate2 does."""
    values = [r[key] for r in rows]
    return round(max(values) if key.endswith(("per_min", "per_s")) else min(values), 2)


def summarize_runs(result: dict, of=median) -> dict:
    """One figure per system over the rounds (the median, or the best), and the goals' ratios."""
    out = {}
    for name, system in result["systems"].items():
        out[name] = {"peak_rss_mb": system["peak_rss_mb"], "serving_rss_mb": system["serving_rss_mb"]}
        if system["single"]:  # --rounds 0: no article alone
            out[name].update({"single_total_s": of(system["single"], "total_s"),
                              "single_translate_s": of(system["single"], "translate_s"),
                              "single_summary_s": of(system["single"], "summary_s"),
                              "single_translate_tokens_per_s": of(system["single"], "translate_tokens_per_s")})
            if system["single"][0].get("checks_s"):  # khulasa's checks, timed by the server (Timings.checks_ms)
                out[name]["single_checks_share"] = round(statistics.median(r["checks_s"] / r["total_s"] for r in system["single"]), 4)
        for n, rows in system["many"].items():
            if not rows:  # a size this system did not serve (--sequential-many)
                continue
            out[name][f"many_{n}_seconds"] = of(rows, "seconds")
            out[name][f"many_{n}_articles_per_min"] = of(rows, "articles_per_min")
            if rows[0].get("checks_s"):
                out[name][f"many_{n}_checks_share"] = round(statistics.median(r["checks_s"] / r["seconds"] for r in rows), 4)
        if system.get("bulk"):
            out[name]["bulk_articles_per_min"] = system["bulk"]["articles_per_min"]
    ratios = {}
    new = out["khulasa"]
    for other, tag in (("khulasa before", "before"), ("llama.cpp", "llama_cpp"), ("llama-server", "llama_server")):
        if other not in out:
            continue
        peer = out[other]
        if "single_total_s" in peer and "single_total_s" in new:
            ratios[f"single_latency_vs_{tag}"] = round(new["single_total_s"] / peer["single_total_s"], 3)
        for n in result["systems"]["khulasa"]["many"]:
            key = f"many_{n}_articles_per_min"
            if key not in peer:
                continue
            ratios[f"many_{n}_throughput_vs_{tag}"] = round(new[key] / peer[key], 3)
        ratios[f"peak_rss_vs_{tag}"] = round(new["peak_rss_mb"] / peer["peak_rss_mb"], 3)
        ratios[f"serving_rss_vs_{tag}"] = round(new["serving_rss_mb"] / peer["serving_rss_mb"], 3)
    out["ratios"] = ratios
    # What was decoded, this code against the one before: the share of paragraphs and summaries
    # with the very same English (the first round of each N).
    if "khulasa before" in result["systems"]:
        for n, rows in result["systems"]["khulasa"]["many"].items():
            old = result["systems"]["khulasa before"]["many"].get(n) or [{}]
            for key in ("paragraphs", "summaries"):
                new_texts, old_texts = rows[0].get(key), old[0].get(key)
                if new_texts and old_texts and len(new_texts) == len(old_texts):
                    same = sum(a == b for a, b in zip(new_texts, old_texts)) / len(new_texts)
                    out["ratios"][f"many_{n}_same_{key}_vs_before"] = round(same, 3)
    return out


def table(result: dict) -> str:
    """The run's medians as a Markdown table, a column per system, then khulasa's ratios."""
    names = list(result["systems"])
    figures = result["medians"]
    rows = [f"| {result['bundle']}, {result['cores']} cores, {result['threads']} threads, medians, {result['date']} | "
            + " | ".join(names) + " |",
            "|---" * (len(names) + 1) + "|"]

    def row(label: str, cell) -> None:
        rows.append(f"| {label} | " + " | ".join(cell(n) for n in names) + " |")

    for n in result["systems"][names[0]]["many"]:
        row(f"{n} articles at once", lambda s, n=n: f"{figures[s][f'many_{n}_seconds']:.1f} s "
            f"({figures[s][f'many_{n}_articles_per_min']:.2f} articles/min)" if f"many_{n}_seconds" in figures[s] else "—")
        def steps(s: str, n=n) -> str:
            decode = [r.get("decode") for r in result["systems"][s]["many"][n] if r.get("decode")]
            if not decode:
                return "—"
            d = decode[0]
            return (f"{d['calls']} calls, {d['steps']} steps, {d['row_steps_output'] / max(d['steps'], 1):.1f} output rows "
                    f"a step; {d['row_steps_prompt']} row-steps feeding prompt tails, {d['row_steps_idle']} idle")
        row(f"{n} at once: decoding steps", steps)
    row(f"one article ({result['article_paragraphs']} paragraphs)", lambda s: f"{figures[s]['single_total_s']:.1f} s "
        f"({figures[s]['single_translate_s']:.1f} translate + {figures[s]['single_summary_s']:.1f} summary)"
        if "single_total_s" in figures[s] else "—")
    shares = [k for k in figures[names[0]] if k.endswith("_checks_share")]
    if shares:
        row("the checks' time (Timings.checks_ms) against the wall time", lambda s: ", ".join(
            f"{k.removesuffix('_checks_share').replace('_', ' ')}: {100 * figures[s][k]:.2f} %" for k in shares
            if k in figures[s]) or "—")
    row("peak RSS", lambda s: f"{figures[s]['peak_rss_mb'] / 1024:.2f} GB")
    row("serving RSS", lambda s: f"{figures[s]['serving_rss_mb'] / 1024:.2f} GB")
    ratios = figures["ratios"]
    lines = "\n".join(rows) + "\n\nkhulasa against each: " + ", ".join(f"{k} {v}" for k, v in ratios.items()) + "\n"
    return lines + (f"\nLoad average (1 min) at start {result.get('load_average_at_start')}, at end "
                    f"{result.get('load_average_at_end')}.\n")


def plot(result: dict, path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    figures = result["best"]
    names = [n for n in result["systems"]]
    colors = {"khulasa": "tab:blue", "khulasa before": "tab:gray", "llama.cpp": "tab:orange", "llama-server": "tab:red"}
    fig, (left, middle, right) = plt.subplots(1, 3, figsize=(13, 4.2))
    translate = [figures[n]["single_translate_s"] for n in names]
    summary = [figures[n]["single_total_s"] - figures[n]["single_translate_s"] for n in names]
    left.bar(names, translate, color=[colors.get(n, "tab:green") for n in names], label="translation")
    left.bar(names, summary, bottom=translate, color=[colors.get(n, "tab:green") for n in names], alpha=0.45,
             label="summary (and the rest)")
    left.set(ylabel="seconds", title=f"One article digested alone ({result['article_paragraphs']} paragraphs)")
    left.legend(fontsize=8)
    sizes = list(result["systems"]["khulasa"]["many"])
    width = 0.8 / len(names)
    for k, n in enumerate(names):
        middle.bar([x + k * width for x in range(len(sizes))], [figures[n].get(f"many_{m}_articles_per_min", 0) for m in sizes],
                   width, color=colors.get(n, "tab:green"), label=n)
    middle.set_xticks([x + width * (len(names) - 1) / 2 for x in range(len(sizes))], [f"{m} at once" for m in sizes])
    middle.set(ylabel="articles per minute", title="Articles digested at once")
    middle.legend(fontsize=8)
    right.bar(names, [figures[n]["peak_rss_mb"] for n in names], color=[colors.get(n, "tab:green") for n in names])
    right.set(ylabel="MB", title=f"Peak RSS ({max(int(m) for m in sizes)} articles at once)")
    for axis in (left, middle, right):
        axis.grid(axis="y", alpha=0.3)
        axis.tick_params(axis="x", labelsize=8)
    fig.suptitle(f"{result['bundle']} on {result['cores']} CPU cores, {result['threads']} threads each, "
                 f"best of {result['rounds']} rounds ({result['date']})", fontsize=9)
    fig.tight_layout()
    fig.savefig(path, dpi=110)


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--bundle", required=True, help="the khulasa bundle (an LLM bundle: one generator model)")
    p.add_argument("--baseline-src", default="", help="source tree of the earlier version (with server/ and client/)")
    p.add_argument("--baseline-bundle", default="", help="bundle for the earlier version (default: --bundle)")
    p.add_argument("--llama-python", default="", help="python of a virtualenv with llama-cpp-python; empty: skip")
    p.add_argument("--llama-server", default="", help="a llama-server binary (tests/bench/build_llama.sh); empty: skip")
    p.add_argument("--slots", type=int, default=16, help="llama-server's parallel slots (-np)")
    p.add_argument("--context", type=int, default=32768, help="llama-server's total context (-c), shared by its slots")
    p.add_argument("--gguf", default="", help="the GGUF for llama.cpp (default: the bundle's, under $KHULASA_HOME/downloads)")
    p.add_argument("--articles", nargs="+", default=[str(a) for a in DEFAULT_ARTICLES],
                   help="article files: the first is digested alone, the first N at once for each N of --many")
    p.add_argument("--many", default="4,16", help="how many articles at once, comma-separated")
    p.add_argument("--sequential-many", default="",
                   help="the --many sizes llama-cpp-python serves too (it takes N times one article); empty: all")
    p.add_argument("--many-rounds", type=int, default=1, help="measurements of each system at each --many")
    p.add_argument("--bulk", action="store_true", help="also the largest --many through khulasa-bulk (khulasa only)")
    p.add_argument("--rounds", type=int, default=2, help="measurements of each system, interleaved")
    p.add_argument("--threads", type=int, default=os.cpu_count() or 1, help="threads of every system")
    p.add_argument("--replicas", type=int, default=1,
                   help="also this code as N replicas sharing the weights (inter_threads N, intra_threads threads/N)")
    p.add_argument("--out", default=str(ROOT / "docs" / "bench" / "llm.json"))
    p.add_argument("--plot", default=str(ROOT / "docs" / "bench" / "llm.png"))
    p.add_argument("--table", default=str(ROOT / "docs" / "bench" / "llm-table.md"), help="the figures as a Markdown table")
    p.add_argument("--smoke", action="store_true", help="one round, no plot: checks that the harness runs")
    p.add_argument("--from-json", default="", help="recompute the figures and the plot of an earlier run's JSON")
    args = p.parse_args(argv)
    if args.from_json:
        return report(json.loads(Path(args.from_json).read_text()), args.out, args.plot, args.table)
    if args.smoke:
        args.rounds, args.many_rounds, args.plot, args.table = 1, 1, "", ""
    sizes = [int(n) for n in args.many.split(",")]
    sequential = [int(n) for n in args.sequential_many.split(",") if n] if args.sequential_many else sizes
    bundle_path = bundle_mod.resolve(args.bundle)
    bundle = bundle_mod.load(bundle_path, verify_checksums=False)
    entry = bundle.model_for("translate")
    if entry.engine != "generator":
        raise SystemExit(f"{bundle_path}: bench-llm measures LLM bundles (engine generator), not {entry.engine}")
    texts = [Path(a).read_text(encoding="utf-8") for a in args.articles]
    if max(sizes) > len(texts):
        raise SystemExit(f"--many {max(sizes)}: only {len(texts)} articles")
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))  # stop the servers and the peer on the way out
    result = {"bundle": bundle.name, "bundle_version": bundle.version, "cores": os.cpu_count(), "threads": args.threads,
              "date": time.strftime("%Y-%m-%d"), "ctranslate2": ctranslate2.__version__, "rounds": args.rounds,
              "articles": [Path(a).name for a in args.articles],
              "article_paragraphs": len(split_paragraphs(normalize(texts[0]))),
              "command": "python tests/bench/llm.py " + " ".join(argv if argv is not None else sys.argv[1:]),
              "load_average_at_start": os.getloadavg()[0], "ctranslate2_cpu": ctranslate2_cpu(), "systems": {}}
    systems = [Khulasa("khulasa", bundle_path, args.threads)]
    if args.replicas > 1:  # the same code as replicas sharing the weights (inter_threads x intra_threads)
        systems.append(Khulasa(f"khulasa {args.replicas} replicas", bundle_path, args.threads, replicas=args.replicas))
    try:
        if args.baseline_src:
            baseline = bundle_mod.resolve(args.baseline_bundle) if args.baseline_bundle else bundle_path
            systems.append(Khulasa("khulasa before", baseline, args.threads, Path(args.baseline_src)))
        downloads = bundle_mod.khulasa_home() / "downloads" / bundle.name
        gguf = Path(args.gguf) if args.gguf else downloads / bundle.manifest.get("gguf", {}).get("file", "")
        if args.llama_server:
            systems.append(LlamaServerPeer(args.llama_server, gguf, entry, args.threads, args.slots, args.context))
        if args.llama_python:
            systems.append(Llama(args.llama_python, gguf, entry, args.threads))
        for system in systems:
            system.warm()
            load_peak = rss_peak_mb(system.proc.pid)
            reset_peak(system.proc.pid)
            result["systems"][system.name] = {"seconds_to_serving": round(system.serving_s, 2),
                                              "load_peak_rss_mb": round(load_peak, 1),
                                              "serving_rss_mb": system.serving_rss_mb, "info": getattr(system, "info", {}),
                                              "single": [],
                                              "many": {str(n): [] for n in sizes}}
        plan = [("single", 1, args.rounds)] + [("many", n, args.many_rounds) for n in sizes]
        for kind, n, rounds in plan:
            for r in range(rounds):
                for system in systems[r % len(systems):] + systems[: r % len(systems)]:  # a different one first each round
                    if kind == "many" and system.name == "llama.cpp" and n not in sequential:
                        continue
                    row = system.single(texts[0]) if kind == "single" else system.many(texts[:n])
                    row["load_average"] = round(os.getloadavg()[0], 2)
                    rows = result["systems"][system.name][kind]
                    (rows if kind == "single" else rows[str(n)]).append(row)
                    print(json.dumps({"system": system.name, kind: row}, ensure_ascii=False)[:600], flush=True)
                    Path(args.out).with_suffix(".json.tmp").write_text(json.dumps(result, ensure_ascii=False))
        for system in systems:  # since the warm-up: the workloads' peak, the largest N at once last
            result["systems"][system.name]["peak_rss_mb"] = round(rss_peak_mb(system.proc.pid), 1)
        if args.bulk:
            result["systems"]["khulasa"]["bulk"] = systems[0].bulk([Path(a) for a in args.articles[: max(sizes)]])
            print(json.dumps({"system": "khulasa", "bulk": result["systems"]["khulasa"]["bulk"]}), flush=True)
    finally:
        for system in systems:
            system.close()
    result["load_average_at_end"] = os.getloadavg()[0]
    return report(result, args.out, args.plot, args.table)


def report(result: dict, out: str, plot_path: str, table_path: str = "") -> int:
    result["medians"] = summarize_runs(result)
    result["best"] = summarize_runs(result, of=best)
    print(json.dumps({"medians": result["medians"], "best": result["best"]}, indent=1))
    Path(out).parent.mkdir(parents=True, exist_ok=True)
    Path(out).write_text(json.dumps(result, indent=2, ensure_ascii=False) + "\n")
    if plot_path:
        plot(result, Path(plot_path))
    if table_path:
        Path(table_path).write_text(table(result))
    print(table(result))
    print(f"wrote {out}" + "".join(f" and {p}" for p in (plot_path, table_path) if p))
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""Throughput benchmark: khulasa over real gRPC on loopback against raw CTranslate2.

    make bench-bundle && make bench        # full run, writes docs/bench/results.json and .png

For each beam size, in one run, on the same model and decoding options (every sentence's
output pinned to ~1.1x its source length, since random weights never stop by themselves):
  - ceiling: raw CTranslate2 with ideal offline batching (every sentence known in advance,
    sorted by length, the best of 1024-, 2048- and 4096-token batches), in process, no RPC;
  - batches of c: raw CTranslate2 on c sentences at a time in arrival order, the most that c
    clients who each wait for their answer can get from any server;
  - batch-1: raw CTranslate2 one sentence at a time (what per-request serving costs);
  - transformers: Hugging Face generate, fp32, fed the ceiling's batches (--transformers);
  - argos-translate: the same model as a local argos package, c threads (--argos-python;
    tests/bench/argos_peer.py says what is and is not argos there);
  - khulasa: a khulasa-server process, driven by 1, 4, 16 and 64 concurrent clients sending
    single sentences, whole articles (Translate), then Digests (translation + summary).
Reports target tokens/s, requests/s, articles/min, p50/p95/p99 latency, the server's peak RSS
(after translation alone, then after digests) and its time to SERVING. Nothing here asserts a
time; --smoke only checks that it runs.

With --baseline-src DIR (a source tree of another version, with server/ and client/; `make
bench` exports BEFORE there), a second server runs that code on the same bundle, and every
level's sentences, articles and digests are driven on both, one after the other (which one
goes first alternates by level), so that both see the same machine state: the report adds that
server's figures and the ratios this / that ("this_vs_baseline").
"""

from __future__ import annotations

import argparse
import asyncio
import dataclasses
import json
import math
import os
import re
import signal
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

import ctranslate2

from khulasa_client import AsyncClient, RetryPolicy
from khulasa_server.models import bundle as bundle_mod
from khulasa_server.models.cpu import ctranslate2_cpu
from khulasa_server.models.engines.base import length_bound, length_groups, length_terms
from khulasa_server.models.tokenizers import load_tokenizers
from khulasa_server.tools.evaluate import load_set

ROOT = Path(__file__).resolve().parents[2]


def sentences_and_articles(limit: int) -> tuple[list[str], list[str]]:
    articles = load_set(ROOT / "tests" / "data" / "eval_news.jsonl")
    sentences = [s["ar"] for a in articles for s in a["sentences"]]
    # Distinct texts (no cache hits), each still one sentence: the number goes before the stop.
    texts = [f"{s[:-1]} {i}{s[-1]}" for i, s in ((i, sentences[i % len(sentences)]) for i in range(limit))]
    return texts, [" ".join(s["ar"] for s in a["sentences"]) for a in articles]


def percentile(values: list[float], q: float) -> float:
    values = sorted(values)
    return values[min(len(values) - 1, int(math.ceil(q / 100 * len(values))) - 1)] if values else 0.0


class RawCT2:
    """The bench translator in process, no RPC, every output pinned to its own bound."""

    def __init__(self, entry, texts: list[str], beam: int, threads: int, replicas: int = 1):
        tokenizer, _ = load_tokenizers(entry)
        self.tokens = [[*entry.source_prefix, *tokenizer.encode(t), *entry.source_suffix] for t in texts]
        self.lengths = [len(t) for t in self.tokens]
        self.options = dataclasses.replace(entry.decoding["translate"], beam_size=beam)
        self.beam = beam
        self.replicas = replicas
        self.model = ctranslate2.Translator(str(entry.path), compute_type="int8", inter_threads=replicas,
                                            intra_threads=max(1, threads // replicas))

    def produced(self, *groups: list[int]) -> int:
        """Decodes batches (side by side on the replicas); returns the output tokens, each
        output counted up to its own bound as khulasa counts it (a batch decodes to its longest
        member's bound; the rest is padding, not output)."""
        pending = []
        for group in groups:
            bound = length_bound(self.options, max(self.lengths[i] for i in group))
            pending.append((group, self.model.translate_batch(
                [self.tokens[i] for i in group], beam_size=self.beam, max_decoding_length=bound,
                min_decoding_length=bound, max_batch_size=4096, batch_type="tokens", max_input_length=0,
                asynchronous=True)))
        return sum(len(r.result().hypotheses[0][:length_bound(self.options, self.lengths[i])])
                   for group, results in pending for i, r in zip(group, results))

    def rates(self, levels: list[int]) -> dict:
        # The best of three batch budgets: beam search prefers smaller batches than greedy.
        by_budget = {}
        for budget in (1024, 2048, 4096):
            start = time.perf_counter()
            target = self.produced(*length_groups(self.lengths, budget))
            by_budget[str(budget)] = round(target / (time.perf_counter() - start), 1)
        # c clients that each wait for their answer can never put more than c sentences in
        # flight: raw CTranslate2 on batches of c in arrival order (c / replicas per replica,
        # side by side) is the most any server can do.
        closed_loop = {}
        for c in (c for c in levels if c > 1):
            size = -(-c // self.replicas)
            start = time.perf_counter()
            produced = self.produced(*(list(range(first, min(first + size, len(self.lengths))))
                                       for first in range(0, len(self.lengths), size)))
            closed_loop[str(c)] = round(produced / (time.perf_counter() - start), 1)
        return {"ceiling_tokens_per_s": max(by_budget.values()), "ceiling_by_batch_tokens": by_budget,
                "ceiling_sentences": len(self.lengths), "batches_of_c_tokens_per_s": closed_loop}

    def overhead(self, port: int, texts: list[str], count: int) -> dict:
        """One sentence at a time, each through raw CTranslate2 and then through khulasa, in
        turn, so that both see the same machine state; the difference is gRPC + pipeline."""
        from khulasa_client import Client

        raw, served = [], []
        with Client(f"127.0.0.1:{port}", timeout=600) as client:
            self.produced([0])  # warm both up outside the timings
            client.translate([texts[0]], source_language="ar")
            for i in range(min(count, len(texts))):
                t0 = time.perf_counter()
                self.produced([i])
                t1 = time.perf_counter()
                client.translate([texts[i]], source_language="ar")
                t2 = time.perf_counter()
                raw.append(t1 - t0)
                served.append(t2 - t1)
        return {
            "sentences": len(raw),
            "batch1_ms_per_sentence": round(1000 * statistics.median(raw), 2),
            "batch1_tokens_per_s": round(sum(length_bound(self.options, n) for n in self.lengths[:len(raw)]) / sum(raw), 1),
            "khulasa_ms_per_sentence": round(1000 * statistics.median(served), 2),
            "overhead_ms_median": round(1000 * statistics.median(b - a for a, b in zip(raw, served)), 2),
            "overhead_ms_p90": round(1000 * percentile([b - a for a, b in zip(raw, served)], 90), 2),
        }


def transformers_generate(entry, texts: list[str], beam: int, threads: int) -> dict:
    """Hugging Face transformers (fp32, CPU) on a MarianMTModel of the same shapes, outputs
    pinned to the same lengths, fed the ceiling's ideal batches and then batches of 16 in
    arrival order (a transformers server with perfect batching under 16 waiting clients)."""
    import torch
    import transformers

    torch.set_num_threads(threads)
    torch.manual_seed(0)
    config = json.loads((entry.path / "config.json").read_text())
    vocab = len(json.loads((entry.path / "shared_vocabulary.json").read_text()))
    model = transformers.MarianMTModel(transformers.MarianConfig(
        vocab_size=vocab, d_model=512, encoder_layers=6, decoder_layers=6, encoder_attention_heads=8,
        decoder_attention_heads=8, encoder_ffn_dim=2048, decoder_ffn_dim=2048, max_position_embeddings=512,
        pad_token_id=vocab - 1, eos_token_id=2, decoder_start_token_id=vocab - 1, activation_function="swish",
    )).eval()
    tokenizer, _ = load_tokenizers(entry)
    ids = {t: i for i, t in enumerate(json.loads((entry.path / "shared_vocabulary.json").read_text()))}
    sequences = [[ids.get(t, 0) for t in tokenizer.encode(text)] + [ids[config.get("eos_token", "</s>")]] for text in texts]
    options = dataclasses.replace(entry.decoding["translate"], beam_size=beam)
    lengths = [len(s) for s in sequences]

    def rate(groups: list[list[int]]) -> float:
        generated = 0
        start = time.perf_counter()
        with torch.inference_mode():
            for group in groups:
                longest = max(lengths[i] for i in group)
                bound = length_bound(options, longest)
                batch = torch.full((len(group), longest), vocab - 1)
                mask = torch.zeros((len(group), longest), dtype=torch.long)
                for row, i in enumerate(group):
                    batch[row, : lengths[i]] = torch.tensor(sequences[i])
                    mask[row, : lengths[i]] = 1
                model.generate(input_ids=batch, attention_mask=mask, num_beams=beam, do_sample=False,
                               max_new_tokens=bound, min_new_tokens=bound)
                generated += sum(length_bound(options, lengths[i]) for i in group)
        return round(generated / (time.perf_counter() - start), 1)

    return {"tokens_per_s": rate(list(length_groups(lengths, 4096))),
            "batches_of_16_tokens_per_s": rate([list(range(i, min(i + 16, len(texts)))) for i in range(0, len(texts), 16)]),
            "sentences": len(texts), "torch": torch.__version__, "transformers": transformers.__version__,
            "dtype": "float32"}


def bundle_with_beam(source: Path, beam: int, work: Path) -> Path:
    """The same models with another beam size (a manifest beside links to the model files)."""
    manifest = json.loads((source / bundle_mod.MANIFEST).read_text())
    loaded = bundle_mod.load(source, verify_checksums=False)
    for name, entry in loaded.models.items():
        for task, options in entry.decoding.items():
            entry.decoding[task] = options.with_option("beam_size", beam, f"models.{name}.decoding.{task}")
        manifest["models"][name] = entry.to_dict(loaded.path)  # the checksums stay: the files are the same
    target = work / f"beam{beam}"
    target.mkdir()
    for child in source.iterdir():
        if child.name != bundle_mod.MANIFEST:
            (target / child.name).symlink_to(child.resolve())
    (target / bundle_mod.MANIFEST).write_text(json.dumps(manifest))
    return target


def start_server(bundle: Path, threads: int, replicas: int = 1, env: dict[str, str] | None = None,
                 extra: list[str] | None = None) -> tuple[subprocess.Popen, int, int, float]:
    """A khulasa-server process (env: extra environment, e.g. PYTHONPATH of another version;
    extra: more command-line options)."""
    start = time.perf_counter()
    cmd = [sys.executable, "-m", "khulasa_server.app", "--bundle", str(bundle), "--listen", "127.0.0.1:0",
           "--metrics-listen", "127.0.0.1:0", "--cache-size", "0", "--max-queue-tokens", "10000000",
           "--max-inflight-per-client", "100000", "--inter-threads", str(replicas),
           "--intra-threads", str(max(1, threads // replicas)),
           "--no-verify-bundle", *(extra or [])]
    proc = subprocess.Popen(cmd, stderr=subprocess.PIPE, text=True, env={**os.environ, "KHULASA_LOG_LEVEL": "info", **(env or {})})
    ports = {}
    for line in proc.stderr:
        for key in ("listening", "metrics"):
            if f'"msg": "{key}"' in line:
                ports[key] = int(re.search(r':(\d+)"', line.split('"address": ')[1]).group(1))
        if len(ports) == 2:
            break
    import threading

    threading.Thread(target=proc.stderr.read, daemon=True).start()
    from khulasa_client import Client

    with Client(f"127.0.0.1:{ports['listening']}", timeout=60) as client:
        while client.health() != "SERVING":
            time.sleep(0.02)
    return proc, ports["listening"], ports["metrics"], time.perf_counter() - start


def target_tokens(metrics_port: int) -> float:
    body = urllib.request.urlopen(f"http://127.0.0.1:{metrics_port}/metrics", timeout=10).read().decode()
    return sum(float(m.group(1)) for m in re.finditer(r'khulasa_tokens_total\{direction="target",model="translator"\} (\S+)', body))


def rss_peak_mb(pid: int) -> float:
    with open(f"/proc/{pid}/status") as f:
        return int(re.search(r"VmHWM:\s+(\d+)", f.read()).group(1)) / 1024


async def drive(port: int, metrics_port: int, texts: list[str], concurrency: int, kind: str) -> dict:
    async with AsyncClient(f"127.0.0.1:{port}", timeout=600, retry=RetryPolicy(max_attempts=1)) as client:
        while await client.health() != "SERVING":
            await asyncio.sleep(0.05)
        gate = asyncio.Semaphore(concurrency)
        latencies = [0.0] * len(texts)

        async def one(i: int) -> None:
            async with gate:
                t0 = time.perf_counter()
                if kind == "digests":
                    await client.digest(texts[i], source_language="ar")
                else:
                    await client.translate([texts[i]], source_language="ar")
                latencies[i] = time.perf_counter() - t0

        before = target_tokens(metrics_port)
        start = time.perf_counter()
        await asyncio.gather(*(one(i) for i in range(len(texts))))
        seconds = time.perf_counter() - start
        tokens = target_tokens(metrics_port) - before
    result = {
        "concurrency": concurrency, "requests": len(texts), "seconds": round(seconds, 2),
        "requests_per_s": round(len(texts) / seconds, 2), "target_tokens_per_s": round(tokens / seconds, 1),
        "p50_ms": round(1000 * percentile(latencies, 50), 1), "p95_ms": round(1000 * percentile(latencies, 95), 1),
        "p99_ms": round(1000 * percentile(latencies, 99), 1),
    }
    if kind != "sentences":
        result["articles_per_min"] = round(60 * len(texts) / seconds, 1)
    return result


def argos(python: str, entry, sentences: list[str], articles: list[str], beam: int, threads: int,
          levels: list[int]) -> dict:
    """argos-translate in its own virtualenv (tests/bench/argos_peer.py), each sentence's output
    pinned to the same bound as in every other system here."""
    options = entry.decoding["translate"]
    assert options.max_decoding_length is None, "the bench pins lengths by ratio"
    job = {"model": str(entry.path), "spm": str(entry.path / entry.tokenizer.source), "beam": beam,
           "threads": threads, "sentences": sentences, "articles": articles, "concurrency": levels,
           "bound": {**dict(zip(("ratio", "extra"), length_terms(options))),
                     "suffix": len(entry.source_prefix) + len(entry.source_suffix)}}
    done = subprocess.run([python, str(Path(__file__).with_name("argos_peer.py"))], input=json.dumps(job),
                          capture_output=True, text=True, check=False)
    if done.returncode != 0:
        raise SystemExit(f"argos run failed:\n{done.stderr[-3000:]}")
    return json.loads(done.stdout.strip().splitlines()[-1])


def source_path(src: str | Path) -> str:
    """PYTHONPATH for a source tree of another version (its server/ and client/)."""
    return os.pathsep.join(str(Path(src).resolve() / part) for part in ("server", "client"))


def versus(this: dict, that: dict) -> dict:
    """Per kind and level, this / that: throughput (requests/s) and p50 latency."""
    out = {}
    for kind in ("sentences", "articles", "digests"):
        theirs = {r["concurrency"]: r for r in that[kind]}
        out[kind] = {str(r["concurrency"]): {
            "throughput": round(r["requests_per_s"] / theirs[r["concurrency"]]["requests_per_s"], 3),
            "p50_latency": round(r["p50_ms"] / theirs[r["concurrency"]]["p50_ms"], 3)} for r in this[kind]}
    return out


def ratios(run: dict) -> dict:
    by_c = {r["concurrency"]: r for r in run["sentences"]}
    if not by_c:  # --kinds without sentences
        return {}
    one, top = by_c[min(by_c)], max(by_c)
    out = {
        f"khulasa_at_{top}_vs_ceiling": round(by_c[top]["target_tokens_per_s"] / run["raw"]["ceiling_tokens_per_s"], 3),
        f"requests_per_s_{top}_vs_1": round(by_c[top]["requests_per_s"] / one["requests_per_s"], 2),
        "overhead_ms_per_sentence_at_1": run["raw"]["overhead_ms_median"],
    }
    if 16 in by_c:
        k16 = by_c[16]["target_tokens_per_s"]
        out["khulasa_at_16_vs_ceiling"] = round(k16 / run["raw"]["ceiling_tokens_per_s"], 3)
        if "16" in run["raw"]["batches_of_c_tokens_per_s"]:
            out["khulasa_at_16_vs_batches_of_16"] = round(k16 / run["raw"]["batches_of_c_tokens_per_s"]["16"], 3)
        out["requests_per_s_16_vs_1"] = round(by_c[16]["requests_per_s"] / one["requests_per_s"], 2)
        if "transformers" in run:
            out["khulasa_at_16_vs_transformers"] = round(k16 / run["transformers"]["tokens_per_s"], 2)
            out["khulasa_at_16_vs_transformers_batches_of_16"] = round(k16 / run["transformers"]["batches_of_16_tokens_per_s"], 2)
        argos_16 = {r["concurrency"]: r for r in run.get("argos", {}).get("sentences", [])}.get(16)
        if argos_16:
            out["khulasa_at_16_vs_argos"] = round(k16 / argos_16["target_tokens_per_s"], 2)
    articles = {r["concurrency"]: r for r in run["articles"]}.get(16)
    if articles:  # whole articles: the same ratios, no target
        a16 = articles["target_tokens_per_s"]
        out["articles_at_16_vs_ceiling"] = round(a16 / run["raw"]["ceiling_tokens_per_s"], 3)
        if "transformers" in run:
            out["articles_at_16_vs_transformers"] = round(a16 / run["transformers"]["tokens_per_s"], 2)
        argos_16 = {r["concurrency"]: r for r in run.get("argos", {}).get("articles", [])}.get(16)
        if argos_16:
            out["articles_at_16_vs_argos"] = round(a16 / argos_16["target_tokens_per_s"], 2)
    return out


def plot(results: dict, path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, (left, right) = plt.subplots(1, 2, figsize=(11, 4.2))
    for run in results["runs"]:
        levels = [r["concurrency"] for r in run["sentences"]]
        label = f"khulasa, beam {run['beam']}"
        left.plot(levels, [r["target_tokens_per_s"] for r in run["sentences"]], marker="o", label=label)
        color = left.lines[-1].get_color()
        left.axhline(run["raw"]["ceiling_tokens_per_s"], linestyle="--", linewidth=1, color=color,
                     label=f"raw CTranslate2 ceiling, beam {run['beam']}")
        bound = run["raw"]["batches_of_c_tokens_per_s"]
        left.plot([int(c) for c in bound], list(bound.values()), marker="x", linestyle="none", color=color,
                  label=f"raw CTranslate2, batches of c, beam {run['beam']}")
        if "transformers" in run:
            left.axhline(run["transformers"]["tokens_per_s"], linestyle=":", linewidth=1, color=color,
                         label=f"transformers fp32, ideal batches, beam {run['beam']}")
            left.plot([16], [run["transformers"]["batches_of_16_tokens_per_s"]], marker="^", linestyle="none",
                      color=color, label=f"transformers fp32, batches of 16, beam {run['beam']}")
        right.plot(levels, [r["p95_ms"] for r in run["sentences"]], marker="o", label=label)
        if "baseline" in run:
            before = f"khulasa {run['baseline']['version']}, beam {run['beam']}"
            left.plot(levels, [r["target_tokens_per_s"] for r in run["baseline"]["sentences"]], marker=".",
                      linestyle="--", color=color, alpha=0.5, label=before)
            right.plot(levels, [r["p95_ms"] for r in run["baseline"]["sentences"]], marker=".", linestyle="--",
                       color=color, alpha=0.5, label=before)
        if "argos" in run:
            peer = run["argos"]["sentences"]
            name = f"argos-translate {run['argos']['argostranslate']}, beam {run['beam']}"
            left.plot([r["concurrency"] for r in peer], [r["target_tokens_per_s"] for r in peer], marker="s",
                      linestyle="-.", color=color, alpha=0.6, label=name)
            right.plot([r["concurrency"] for r in peer], [r["p95_ms"] for r in peer], marker="s",
                       linestyle="-.", color=color, alpha=0.6, label=name)
    left.set(xscale="log", xlabel="concurrent clients", ylabel="target tokens/s", title="Throughput (sentences)")
    right.set(xscale="log", yscale="log", xlabel="concurrent clients", ylabel="p95 latency, ms", title="p95 latency (sentences)")
    for axis in (left, right):
        axis.set_xticks(levels, [str(x) for x in levels])
        axis.grid(alpha=0.3)
        axis.legend(fontsize=7)
    layout = results.get("replicas", 1)
    threads = max(1, results["cores"] // layout)
    layout = f"{layout} replicas x {threads} thread{'s' if threads > 1 else ''}" if layout > 1 else "1 replica"
    fig.suptitle(f"{results['bundle']} on {results['cores']} CPU cores, {layout} ({results['date']})", fontsize=9)
    fig.tight_layout()
    fig.savefig(path, dpi=110)


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--bundle", required=True)
    p.add_argument("--out", default=str(ROOT / "docs" / "bench" / "results.json"))
    p.add_argument("--plot", default=str(ROOT / "docs" / "bench" / "throughput.png"))
    p.add_argument("--concurrency", default="1,4,16,64")
    p.add_argument("--beams", default="1,4")
    p.add_argument("--sentences", type=int, default=96, help="sentence requests per concurrency level")
    p.add_argument("--articles", type=int, default=24, help="whole-article Translate requests per concurrency level")
    p.add_argument("--digests", type=int, default=8, help="Digest requests (translation + summary) per level up to 16")
    p.add_argument("--transformers", type=int, default=96,
                   help="sentences for the Hugging Face transformers comparison (0: skip)")
    p.add_argument("--replicas", type=int, default=1,
                   help="CTranslate2 replicas (inter_threads) for khulasa and raw CTranslate2; threads split among them")
    p.add_argument("--overhead-sentences", type=int, default=32,
                   help="sentences sent one at a time through raw CTranslate2 and khulasa in turn")
    p.add_argument("--argos-python", default="",
                   help="python of a virtualenv with argostranslate (make bench makes one); empty: skip argos")
    p.add_argument("--argos-sentences", type=int, default=32, help="sentence requests per level for argos")
    p.add_argument("--argos-articles", type=int, default=8, help="article requests per level for argos")
    p.add_argument("--baseline-src", default="",
                   help="a source tree of another version (server/, client/): its server is driven alongside")
    p.add_argument("--kinds", default="sentences,articles,digests", help="which of the request kinds to drive")
    p.add_argument("--rounds", type=int, default=1,
                   help="rounds per level and kind (each server in turn); the round of median throughput is kept")
    p.add_argument("--baseline-label", default="", help="what to call the baseline in the results (e.g. its commit)")
    p.add_argument("--smoke", action="store_true", help="tiny counts, no plot: checks that the harness runs")
    args = p.parse_args(argv)
    if args.smoke:
        args.concurrency, args.beams, args.sentences, args.articles, args.digests, args.plot = "1,4", "1", 8, 2, 2, ""
        args.transformers, args.argos_python, args.overhead_sentences = 0, "", 4
    levels = [int(x) for x in args.concurrency.split(",")]
    kinds = set(args.kinds.split(","))
    threads = os.cpu_count() or 1
    source = bundle_mod.resolve(args.bundle)
    entry = bundle_mod.load(source, verify_checksums=False).model_for("translate")
    texts, articles = sentences_and_articles(args.sentences)
    article_texts = (articles * 8)[: args.articles]
    digest_texts = (articles * 8)[: args.digests]
    results = {"bundle": bundle_mod.load(source, verify_checksums=False).name, "cores": threads,
               "date": time.strftime("%Y-%m-%d"), "ctranslate2": ctranslate2.__version__, "replicas": args.replicas,
               "command": "python tests/bench/run.py " + " ".join(argv if argv is not None else sys.argv[1:]),
               "ctranslate2_cpu": ctranslate2_cpu(), "runs": []}
    with tempfile.TemporaryDirectory() as tmp:
        for beam in [int(b) for b in args.beams.split(",")]:
            raw = RawCT2(entry, texts, beam, threads, args.replicas)
            run = {"beam": beam, "raw": raw.rates(levels)}
            if args.transformers:
                run["transformers"] = transformers_generate(entry, texts[: args.transformers], beam, threads)
            if args.argos_python:
                run["argos"] = argos(args.argos_python, entry, texts[: args.argos_sentences], article_texts[: args.argos_articles],
                                     beam, threads, [c for c in levels if c <= 16])
            beam_bundle = bundle_with_beam(source, beam, Path(tmp))
            proc, port, metrics_port, serving_s = start_server(beam_bundle, threads, args.replicas)
            run["seconds_to_serving"] = round(serving_s, 2)
            servers = {"this": (proc, port, metrics_port)}
            try:
                if args.baseline_src:
                    other, other_port, other_metrics, other_s = start_server(
                        beam_bundle, threads, args.replicas, env={"PYTHONPATH": source_path(args.baseline_src)})
                    servers["baseline"] = (other, other_port, other_metrics)
                    run["baseline"] = {"version": args.baseline_label or Path(args.baseline_src).name,
                                       "seconds_to_serving": round(other_s, 2)}
                run["raw"].update(raw.overhead(port, texts, args.overhead_sentences))
                figures = {name: {"sentences": [], "articles": [], "digests": []} for name in servers}

                def each(turn: int, concurrency: int, kind: str, items: list[str]) -> None:
                    """Every server `args.rounds` times, alternately; the round of median throughput."""
                    if kind not in kinds:
                        return
                    got: dict[str, list[dict]] = {name: [] for name in servers}
                    for r in range(args.rounds):
                        names = list(servers) if (turn + r) % 2 == 0 else list(servers)[::-1]
                        for name in names:
                            _, grpc_port, metrics = servers[name]
                            got[name].append(asyncio.run(drive(grpc_port, metrics, items, concurrency, kind)))
                    for name, results in got.items():
                        results.sort(key=lambda x: x["requests_per_s"])
                        median = dict(results[len(results) // 2])
                        if args.rounds > 1:
                            median["rounds_requests_per_s"] = [x["requests_per_s"] for x in results]
                        figures[name][kind].append(median)

                for turn, c in enumerate(levels):
                    each(turn, c, "sentences", texts), each(turn, c, "articles", article_texts)
                peaks = {name: round(rss_peak_mb(server[0].pid), 1) for name, server in servers.items()}
                for turn, c in enumerate([c for c in levels if c <= 16]):
                    each(turn, c, "digests", digest_texts)
                run.update(figures["this"], server_peak_rss_mb_translation=peaks["this"],
                           server_peak_rss_mb=round(rss_peak_mb(proc.pid), 1))
                if "baseline" in servers:
                    run["baseline"].update(figures["baseline"], server_peak_rss_mb_translation=peaks["baseline"],
                                           server_peak_rss_mb=round(rss_peak_mb(servers["baseline"][0].pid), 1))
                    run["this_vs_baseline"] = versus(run, run["baseline"])
            finally:
                for server in servers.values():
                    server[0].send_signal(signal.SIGTERM)
                for server in servers.values():
                    server[0].wait(timeout=120)
            run["ratios"] = ratios(run)
            results["runs"].append(run)
            print(json.dumps(run, indent=1), flush=True)
    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    Path(args.out).write_text(json.dumps(results, indent=2) + "\n")
    if args.plot:
        plot(results, Path(args.plot))
    print(f"wrote {args.out}" + (f" and {args.plot}" if args.plot else ""))
    return 0


if __name__ == "__main__":
    sys.exit(main())

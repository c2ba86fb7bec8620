"""Whether two versions of khulasa answer the same requests with the same bytes.

    make same-outputs          # this code against OUTPUTS_BEFORE, on the tiny bundles

Builds the tiny bundles (random weights: tiny, tiny-llm, tiny-nllb) with this code, starts a
server of this code and one of the other version (--baseline-src: a source tree with server/
and client/) on each, and sends both the same requests over gRPC, one at a time: every sample
article of tests/data/articles (and more/) through Translate (its paragraphs), Summarize (the
model's and the extractive method), Digest (without and with a glossary), StreamDigest and
DigestMany (one article at a time). Each answer is compared as its deterministic protobuf serialization, with the
timings' milliseconds (which differ from run to run) zeroed. Writes a JSON report and prints
one line per bundle; exits 1 when any answer differs that the baseline gives the same in each of
its --repeats runs (those it gives differently depend on timing and are listed as unstable). A
refactoring that claims to change no output is checked with it.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
from pathlib import Path

import grpc
from khulasa.v1 import khulasa_pb2 as pb
from khulasa.v1 import khulasa_pb2_grpc as pb_grpc

from khulasa_server.tools.recipes import tiny

sys.path.insert(0, str(Path(__file__).resolve().parent))
from run import source_path, start_server  # noqa: E402

ROOT = Path(__file__).resolve().parents[2]
ARTICLES = ROOT / "tests" / "data" / "articles"
KINDS = ("tiny", "tiny-llm", "tiny-nllb")


def articles(limit: int) -> dict[str, str]:
    found = sorted([*ARTICLES.glob("*.txt"), *(ARTICLES / "more").glob("*.txt")])
    return {p.stem: p.read_text(encoding="utf-8") for p in found[:limit]}


# One article of a DigestMany stream at a time: articles decoded side by side share batches
# whose make-up depends on timing, and random weights are that sensitive to it.
ONE_AT_A_TIME = ["--digest-many-concurrency", "1"]


def requests(texts: dict[str, str]) -> list[tuple[str, str, object]]:
    """(label, rpc, request) for every article: the same list for both servers."""
    out: list[tuple[str, str, object]] = []
    for name, text in texts.items():
        paragraphs = [p for p in text.split("\n\n") if p.strip()]
        first_word = next(w for w in text.split() if len(w) > 3)
        glossary = {first_word: "Glossary"}
        out += [
            (f"{name} Translate", "Translate", pb.TranslateRequest(texts=paragraphs, source_language="ar")),
            (f"{name} Summarize model", "Summarize",
             pb.SummarizeRequest(text=text, source_language="ar", summary_method="model", max_sentences=3)),
            (f"{name} Summarize extractive", "Summarize",
             pb.SummarizeRequest(text=text, source_language="ar", summary_method="extractive", max_sentences=3)),
            (f"{name} Digest", "Digest", pb.DigestRequest(id=name, text=text, source_language="ar")),
            (f"{name} Digest glossary", "Digest",
             pb.DigestRequest(id=name, text=text, source_language="ar", glossary=glossary)),
            (f"{name} StreamDigest", "StreamDigest", pb.DigestRequest(id=name, text=text, source_language="ar")),
        ]
    many = [pb.DigestRequest(id=name, text=text, source_language="ar") for name, text in list(texts.items())[:4]]
    out.append(("DigestMany", "DigestMany", many))
    return out


def cleared(message) -> bytes:
    """The message's bytes with its timings' milliseconds zeroed (token counts and every other
    field must be the same)."""
    copy = type(message)()
    copy.CopyFrom(message)
    holders = [copy]
    if copy.DESCRIPTOR.name == "DigestEvent" and copy.HasField("done"):
        holders.append(copy.done)
    for holder in holders:
        if "timings" in holder.DESCRIPTOR.fields_by_name and holder.HasField("timings"):
            holder.timings.total_ms = holder.timings.translate_ms = holder.timings.summarize_ms = 0
            holder.timings.checks_ms = 0
    return copy.SerializeToString(deterministic=True)


def answers(port: int, calls: list[tuple[str, str, object]]) -> list[bytes | str]:
    """Each call's answer bytes (a stream's messages joined), or its error as text."""
    out: list[bytes | str] = []
    with grpc.insecure_channel(f"127.0.0.1:{port}") as channel:
        stub = pb_grpc.NewsDigestStub(channel)
        grpc.channel_ready_future(channel).result(timeout=60)
        for _, rpc, request in calls:
            try:
                if rpc == "StreamDigest":
                    out.append(b"|".join(cleared(m) for m in stub.StreamDigest(request, timeout=600)))
                elif rpc == "DigestMany":
                    out.append(b"|".join(cleared(m) for m in stub.DigestMany(iter(request), timeout=600)))  # type: ignore[call-overload]
                else:
                    out.append(cleared(getattr(stub, rpc)(request, timeout=600)))
            except grpc.RpcError as exc:
                out.append(f"{exc.code().name}: {exc.details()}")
    return out


def compare(bundle: Path, baseline_src: str, calls: list[tuple[str, str, object]], repeats: int = 2) -> dict:
    """This code's answers against the baseline's. The baseline answers `repeats` times: an
    answer it gives differently from one run to the next depends on timing (with name repair,
    a paragraph's pieces reach the scheduler from threads, and how they share batches changes
    the greedy output of random weights), so no version can be held to it. Such answers are
    listed as unstable; every other answer must be the same bytes."""
    runs: dict[str, list[list[bytes | str]]] = {"this": [], "baseline": []}
    for name, src, times in (("this", "", 1), ("baseline", baseline_src, repeats)):
        env = {"PYTHONPATH": source_path(src)} if src else None
        for _ in range(times):
            proc, port, _, _ = start_server(bundle, os.cpu_count() or 1, env=env, extra=ONE_AT_A_TIME)
            try:
                runs[name].append(answers(port, calls))
            finally:
                proc.terminate()
                proc.wait(timeout=60)
    this, baseline = runs["this"][0], runs["baseline"]
    unstable = [label for k, (label, _, _) in enumerate(calls) if len({run[k] for run in baseline}) > 1]
    differ = [
        label for k, (label, _, _) in enumerate(calls) if label not in unstable and this[k] != baseline[0][k]
    ]
    identical = sum(this[k] in {run[k] for run in baseline} for k in range(len(calls)))
    errors = [label for (label, _, _), a in zip(calls, this) if isinstance(a, str)]
    return {
        "calls": len(calls),
        "identical": identical,  # the same bytes as one of the baseline's runs
        "different": differ,  # answers the baseline gives the same every run, and this code otherwise
        "unstable": unstable,  # answers the baseline itself gives differently from run to run
        "baseline_runs": repeats,
        "errors_this": errors,
    }


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--baseline-src", required=True, help="a source tree of the other version (server/, client/)")
    p.add_argument("--baseline-label", default="", help="what to call it in the report (e.g. its commit)")
    p.add_argument("--kinds", default=",".join(KINDS), help="tiny bundles to build and compare on")
    p.add_argument("--articles", type=int, default=16, help="sample articles to send (tests/data/articles, more/)")
    p.add_argument("--out", default="", help="write the JSON report here")
    p.add_argument("--repeats", type=int, default=2, help="runs of the baseline, to tell timing-dependent answers")
    args = p.parse_args(argv)
    calls = requests(articles(args.articles))
    report = {"baseline": args.baseline_label or args.baseline_src, "bundles": {}}
    with tempfile.TemporaryDirectory() as tmp:
        for kind in args.kinds.split(","):
            bundle = tiny.build(kind, Path(tmp) / kind)
            found = report["bundles"][kind] = compare(bundle, args.baseline_src, calls, args.repeats)
            print(f"{kind}: {found['identical']}/{found['calls']} answers byte-identical"
                  + (f"; {len(found['unstable'])} the baseline itself answers differently run to run" if found["unstable"] else "")
                  + (f"; different: {', '.join(found['different'])}" if found["different"] else ""), flush=True)
    if args.out:
        Path(args.out).parent.mkdir(parents=True, exist_ok=True)
        Path(args.out).write_text(json.dumps(report, indent=2) + "\n")
    return 1 if any(b["different"] for b in report["bundles"].values()) else 0


if __name__ == "__main__":
    sys.exit(main())

"""How often the pipeline tokenizes, and what that costs: the sample articles digested (and
their first lines translated as one Translate call) through a pipeline set up as the server
sets it up (cross-request gathering, cache off).

    python tests/bench/tokenize_profile.py --bundle DIR [--repeat 3]

Prints JSON: calls of the tokenizers' encode methods and the CPU seconds of the threads that
ran them (counted by wrapping the methods: the engine runs on the gathering engine's worker
threads, which cProfile, one thread at a time, would not see), the process's CPU seconds for
the whole run, and a hash of every output (two versions of the code given the same bundle
must print the same hash)."""

from __future__ import annotations

import argparse
import hashlib
import json
import threading
import time
from pathlib import Path

from khulasa_server.models import tokenizers
from khulasa_server.models.engines import Runtime
from khulasa_server.pipeline import Pipeline

ARTICLES = Path(__file__).resolve().parent.parent / "data" / "articles"


def load(bundle: str) -> Pipeline:
    options = dict(max_batch_tokens=4096, max_delay=0.0, max_queue_tokens=1 << 30, cache_size=0)
    try:
        from khulasa_server.pipeline.options import GatheringOptions

        return Pipeline.load(bundle, Runtime(), gathering=GatheringOptions(**options))
    except ImportError:  # a tree from before the options were typed
        pass
    try:
        return Pipeline.load(bundle, Runtime(), gathering=options)
    except TypeError:  # the option's earlier name
        return Pipeline.load(bundle, Runtime(), batching=options)


def work(pipeline: Pipeline, articles: list[str], repeat: int) -> list[str]:
    outputs = []
    for _ in range(repeat):
        for text in articles:
            result = pipeline.digest(text)
            outputs += [result.translation, result.summary.text]
        sentences = [line for text in articles for line in text.splitlines() if line.strip()]
        outputs += [t.text for t in pipeline.translate(sentences[:8])]
    return outputs


class Counted:
    """Calls of every tokenizer class's encode, and the CPU seconds of the threads in them."""

    def __init__(self):
        self.calls, self.seconds, self.on = 0, 0.0, False
        self._lock = threading.Lock()
        for cls in (tokenizers.SentencePieceTokenizer, tokenizers.HFTokenizer):
            cls.encode = self._wrap(cls.encode)

    def _wrap(self, encode):
        def counted(tok, text):
            start = time.thread_time()
            try:
                return encode(tok, text)
            finally:
                if self.on:
                    with self._lock:
                        self.calls += 1
                        self.seconds += time.thread_time() - start
        return counted


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--bundle", required=True)
    p.add_argument("--repeat", type=int, default=3)
    args = p.parse_args()
    articles = [f.read_text(encoding="utf-8") for f in sorted(ARTICLES.glob("*.txt"))]
    counted = Counted()
    pipeline = load(args.bundle)
    try:
        work(pipeline, articles[:1], 1)  # warm up: first calls load lazily
        counted.on = True
        cpu = time.process_time()
        outputs = work(pipeline, articles, args.repeat)
        cpu = time.process_time() - cpu
        counted.on = False
    finally:
        pipeline.close()
    print(json.dumps({
        "bundle": args.bundle, "articles": len(articles), "repeat": args.repeat,
        "tokenizer_encode_calls": counted.calls, "tokenizer_cpu_seconds": round(counted.seconds, 3),
        "process_cpu_seconds": round(cpu, 2),
        "outputs_sha256": hashlib.sha256("\x00".join(outputs).encode()).hexdigest()[:16],
    }))


if __name__ == "__main__":
    main()

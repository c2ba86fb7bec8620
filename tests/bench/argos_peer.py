"""argos-translate (the engine behind LibreTranslate) on the bench translator, for run.py.

Runs in a virtualenv of its own (argostranslate pins stanza and pulls spacy and torch):
`make bench` creates it. Reads a job as JSON on stdin and prints the result as JSON:
  {"model": translator dir, "spm": source sentencepiece, "beam": 4, "threads": 2,
   "sentences": [...], "articles": [...], "concurrency": [1, 16],
   "bound": {"ratio": 1.1, "extra": 0, "suffix": 1}}

What is argos here and what is not:
  - the model is installed the way users install one: a .argosmodel zip built from the bench
    translator, then argostranslate.package.install_from_path;
  - requests go through argos's public translate() (paragraphs, its sentencepiece tokenizer,
    its translate_batch call: 32-token batches, its beam size and length penalty), c threads at
    a time, as a threaded HTTP front end such as LibreTranslate calls it;
  - its CTranslate2 call is wrapped to pin each sentence's output to the bound khulasa uses for
    it (random weights never stop by themselves). argos asks for 32-token batches; sentences of
    20-60 tokens are one to a batch, so the wrapper decodes them one at a time, each with its
    own bound, with argos's options otherwise untouched;
  - argos's CachedTranslation (it reuses the paragraphs of the previous call, a help when one
    user edits a text) is bypassed, as khulasa's cache is off here: every request is decoded;
  - its sentence splitter (MiniSBD, a model download) is replaced by a split after . ! ? and
    the Arabic question mark: this only removes work from argos.
"""

from __future__ import annotations

import json
import math
import os
import re
import shutil
import statistics
import sys
import tempfile
import threading
import time
import zipfile
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path


def build_package(model: Path, spm: Path, work: Path) -> Path:
    root = work / "translate-ar_en-bench"
    (root / "model").mkdir(parents=True)
    for name in ("config.json", "model.bin", "shared_vocabulary.json"):
        if (model / name).exists():
            shutil.copy(model / name, root / "model" / name)
    shutil.copy(spm, root / "sentencepiece.model")
    (root / "metadata.json").write_text(json.dumps({
        "package_version": "1.0", "argos_version": "1.11", "from_code": "ar", "from_name": "Arabic",
        "to_code": "en", "to_name": "English", "type": "translate"}))
    archive = work / "translate-ar_en-bench.argosmodel"
    with zipfile.ZipFile(archive, "w", zipfile.ZIP_STORED) as z:
        for path in sorted(root.rglob("*")):
            z.write(path, path.relative_to(work))
    shutil.rmtree(root)
    return archive


class Pinned:
    """argos's ctranslate2.Translator with each sentence's output length pinned."""

    def __init__(self, model, ratio: float, extra: int, suffix: int):
        self.model, self.ratio, self.extra, self.suffix = model, ratio, extra, suffix
        self.tokens = 0
        self.lock = threading.Lock()

    def translate_batch(self, source, target_prefix=None, **options):
        results = []
        for n, tokens in enumerate(source):
            # khulasa_server.models.engines.base.length_bound, which this virtualenv cannot import.
            bound = math.ceil(self.ratio * (len(tokens) + self.suffix)) + self.extra
            options.update(max_decoding_length=bound, min_decoding_length=bound)
            prefix = [target_prefix[n]] if target_prefix else None
            results += self.model.translate_batch([tokens], target_prefix=prefix, **options)
        with self.lock:
            self.tokens += sum(len(r.hypotheses[0]) for r in results)
        return results


class Sentences:
    def split_sentences(self, text: str) -> list[str]:
        return [s for s in re.split(r"(?<=[.!?\u061f])\s+", text) if s.strip()]


def percentile(values: list[float], q: float) -> float:
    values = sorted(values)
    return values[min(len(values) - 1, max(0, int(-(-q * len(values) // 100)) - 1))]


def main() -> int:
    job = json.load(sys.stdin)
    work = Path(tempfile.mkdtemp(prefix="argos-bench-"))
    os.environ.update(XDG_DATA_HOME=str(work / "data"), XDG_CONFIG_HOME=str(work / "config"),
                      XDG_CACHE_HOME=str(work / "cache"), ARGOS_DEVICE_TYPE="cpu", ARGOS_COMPUTE_TYPE="int8",
                      ARGOS_BEAM_SIZE=str(job["beam"]), ARGOS_INTER_THREADS="1",
                      ARGOS_INTRA_THREADS=str(job["threads"]))
    try:
        import ctranslate2
        from argostranslate import package, settings, translate

        package.install_from_path(build_package(Path(job["model"]), Path(job["spm"]), work))
        translation = translate.get_translation_from_codes("ar", "en")
        inner = getattr(translation, "underlying", translation)
        pinned = Pinned(ctranslate2.Translator(str(inner.pkg.package_path / "model"), device=settings.device,
                                               inter_threads=settings.inter_threads,
                                               intra_threads=settings.intra_threads,
                                               compute_type=settings.compute_type), **job["bound"])
        inner.translator, inner.sentencizer = pinned, Sentences()

        def one(text: str) -> float:
            start = time.perf_counter()
            inner.translate(text)
            return time.perf_counter() - start

        one(job["sentences"][0])  # load and warm up outside the timings
        result = {"argostranslate": "1.11.0", "ctranslate2": ctranslate2.__version__, "beam": job["beam"],
                  "batch_size_tokens": settings.batch_size, "length_penalty": 0.2}
        for kind in ("sentences", "articles"):
            texts, result[kind] = job[kind], []
            for c in job["concurrency"]:
                pinned.tokens = 0
                start = time.perf_counter()
                with ThreadPoolExecutor(c) as pool:
                    latencies = list(pool.map(one, texts))
                seconds = time.perf_counter() - start
                result[kind].append({"concurrency": c, "requests": len(texts), "seconds": round(seconds, 2),
                                     "requests_per_s": round(len(texts) / seconds, 2),
                                     "target_tokens_per_s": round(pinned.tokens / seconds, 1),
                                     "p50_ms": round(1000 * statistics.median(latencies), 1),
                                     "p95_ms": round(1000 * percentile(latencies, 95), 1)})
        print(json.dumps(result))
    finally:
        shutil.rmtree(work, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""One article digested by the library's Pipeline (what the server's Digest runs, default
settings, name repair on), every segment's confidence, unsure words and flags written as JSON:
the record docs/quality.md reads its sample-article section from.

    python tests/bench/sample_digest.py --bundle ~/.cache/khulasa/bundles/qwen2.5-coder-1.5b \\
        --article ../shared/seeds/000_83ce3ce0af87be83.txt --out docs/eval/sample-digest-trust.json
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path

from khulasa_server.models.cpu import ctranslate2_cpu
from khulasa_server.pipeline import Pipeline
from khulasa_server.service.config import Settings


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--bundle", required=True)
    p.add_argument("--article", required=True, help="a text file")
    p.add_argument("--out", required=True)
    args = p.parse_args(argv)
    text = Path(args.article).read_text(encoding="utf-8")
    pipeline = Pipeline.from_settings(Settings(bundle=args.bundle), gather=False)
    start = time.perf_counter()
    result = pipeline.digest(text)
    seconds = time.perf_counter() - start
    t = result.timings
    record = {
        "command": "python tests/bench/sample_digest.py " + " ".join(sys.argv[1:] if argv is None else argv),
        "article": Path(args.article).name,
        "seconds": round(seconds, 1),
        "checks_s": round(t.checks_ms / 1000, 3),
        "load_average": round(os.getloadavg()[0], 2),
        "ctranslate2_cpu": ctranslate2_cpu(),
        "paragraphs": [
            {"paragraph": s.paragraph, "source": s.source, "translation": s.translation, "confidence": s.confidence,
             "unsure": [s.translation[a:b] for a, b, _ in s.unsure],
             "warnings": s.warnings}
            for paragraph in result.paragraphs
            for s in paragraph.segments
        ],
        "summary": [{"text": s.text, "paragraphs": s.paragraphs, "warnings": s.warnings} for s in result.summary.sentences],
    }
    Path(args.out).write_text(json.dumps(record, ensure_ascii=False, indent=1) + "\n", encoding="utf-8")
    print(f"{seconds:.1f} s, checks {t.checks_ms / 1000:.2f} s; {sum(len(s['warnings']) for s in record['paragraphs'])} flags")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

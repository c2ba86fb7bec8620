"""The work of one khulasa-bulk actor: the bundle loaded once, then batches of rows digested.

Each actor digests `in_flight` articles at once on threads; their sentences meet in the same
gathering engine the server uses, so CTranslate2 decodes them in shared batches (as the server
does for concurrent requests). A record that fails gets its error in its row; the batch goes on.
"""

from __future__ import annotations

import os
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pyarrow as pa

from khulasa_server.errors import InvalidArgument
from khulasa_server.pipeline.options import ArticleOptions
from khulasa_server.pipeline.results import DigestResult

TIMINGS = pa.struct(
    [
        ("total_ms", pa.float64()),
        ("translate_ms", pa.float64()),
        ("summarize_ms", pa.float64()),
        ("source_tokens", pa.int64()),
        ("target_tokens", pa.int64()),
    ]
)
OUTPUT = pa.schema(
    [
        ("id", pa.string()),
        ("translation", pa.string()),
        ("summary", pa.string()),
        ("paragraphs", pa.list_(pa.string())),  # English of each source paragraph, by index
        # Each summary sentence: its text, the paragraph indexes it draws on, and its warnings
        # ("unsupported:SPAN": what the cited paragraphs do not support), as the server returns them.
        (
            "summary_sentences",
            pa.list_(
                pa.struct([("text", pa.string()), ("paragraphs", pa.list_(pa.int32())), ("warnings", pa.list_(pa.string()))])
            ),
        ),
        ("warnings", pa.list_(pa.struct([("paragraph", pa.int32()), ("warning", pa.string())]))),
        ("detected_language", pa.string()),
        ("timings", TIMINGS),
        ("error", pa.string()),  # empty when the article was digested
        ("node", pa.string()),  # the Ray node that digested it
    ]
)
SKIPPED = "skipped"  # an extra column between digester and sink: rows already written, only counted


def row(id: str, result: DigestResult | None = None, error: str = "", node: str = "") -> dict[str, Any]:
    if result is None:
        return {
            "id": id,
            "translation": "",
            "summary": "",
            "paragraphs": [],
            "summary_sentences": [],
            "warnings": [],
            "detected_language": "",
            "timings": None,
            "error": error,
            "node": node,
        }
    t = result.timings
    return {
        "id": id,
        "translation": result.translation,
        "summary": result.summary.text,
        "paragraphs": [p.translation for p in result.paragraphs],
        "summary_sentences": [
            {"text": s.text, "paragraphs": s.paragraphs, "warnings": list(s.warnings)} for s in result.summary.sentences
        ],
        "warnings": [{"paragraph": s.paragraph, "warning": w} for p in result.paragraphs for s in p.segments for w in s.warnings],
        "detected_language": result.detected_language,
        "timings": {
            "total_ms": t.total_ms,
            "translate_ms": t.translate_ms,
            "summarize_ms": t.summarize_ms,
            "source_tokens": t.source_tokens,
            "target_tokens": t.target_tokens,
        },
        "error": "",
        "node": node,
    }


class Digester:
    """Ray Data calls the class once per actor (the bundle is loaded here, once) and then the
    instance on each batch."""

    def __init__(
        self,
        bundle: str,
        threads: int = 1,
        in_flight: int = 8,
        summary_method: str = "",
        max_sentences: int = 3,
        source_language: str = "",
        glossary: dict[str, str] | None = None,
        max_text_chars: int = 100_000,
        verify: bool = True,
        name_repair: bool = True,
        names_in_source: str = "all",  # the server's default (config.Settings)
    ):
        from khulasa_server.pipeline.pipeline import Pipeline
        from khulasa_server.service.config import Settings
        from khulasa_server.service.core import Core

        settings = Settings(
            bundle=bundle,
            verify_bundle=verify,
            name_repair=name_repair,
            names_in_source=names_in_source,
            inter_threads=1,
            intra_threads=threads,
            # Threads of one actor share batches; the queue bound only has to hold what they send.
            max_queue_tokens=1 << 30,
            max_text_chars=max_text_chars,
            max_summary_sentences=max(max_sentences, Settings.max_summary_sentences),
        )
        pipeline = Pipeline.from_settings(settings, glossary=glossary)
        self.core = Core(settings)  # the server's checks and operations, without a front end's limits
        self.core.serve(pipeline, {})
        self.options = ArticleOptions(source_language=source_language, max_sentences=max_sentences, summary_method=summary_method)
        self.pool = ThreadPoolExecutor(max_workers=in_flight, thread_name_prefix="digest")
        self.node = _node()

    def _one(self, id: str, text: str) -> dict[str, Any]:
        call = self.core.call("bulk", "Digest", id)  # no deadline, no per-client slot: the job's own
        try:
            return row(id, call.context().run(self.core.digest, text, self.options), node=self.node)
        except Exception as exc:  # one bad article must not stop the job; its row says why
            error = call.failed(exc)
            message = error.message if isinstance(exc, InvalidArgument) else f"internal error: {type(exc).__name__}: {exc}"
            return row(id, error=message, node=self.node)
        finally:
            call.end()

    def __call__(self, batch: pa.Table) -> pa.Table:
        records = batch.to_pylist()
        futures = {
            n: self.pool.submit(self._one, r["id"], r["text"])
            for n, r in enumerate(records)
            if not r["skipped"] and not r["error"]
        }
        rows = []
        for n, r in enumerate(records):
            if n in futures:
                rows.append(futures[n].result())
            else:
                rows.append(row(r["id"], error=r["error"], node=self.node))
        table = pa.Table.from_pylist(rows, schema=OUTPUT)
        return table.append_column(SKIPPED, pa.array([r["skipped"] for r in records], pa.bool_()))


def _node() -> str:
    try:
        import ray

        return ray.get_runtime_context().get_node_id()
    except Exception:  # outside Ray (a unit test calling the class directly)
        return f"local-{os.getpid()}"

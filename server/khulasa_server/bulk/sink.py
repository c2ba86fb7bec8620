"""khulasa-bulk's output: a directory of parts plus `_manifest.json`.

Each write task writes the rows it gets as one part, first under a temporary name and then
renamed, so a part that exists is complete. The name is a hash of the part's ids: should Ray run
a write again (a lost task retried, a node gone), it rewrites the same file rather than adding
a second copy of the rows. A rerun reads the ids of the parts present and skips them, so an
interrupted job resumes where it stopped. The manifest, rewritten at the end of each run, lists
the parts, the row count and each run's counts; the parts themselves are the record.
"""

from __future__ import annotations

import collections
import hashlib
import json
import time
import uuid
from dataclasses import dataclass, field
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.fs as pafs
import pyarrow.parquet as pq
from ray.data.block import BlockAccessor
from ray.data.datasource import Datasink

from khulasa_server.bulk import FORMATS, UsageError
from khulasa_server.bulk.digester import OUTPUT, SKIPPED
from khulasa_server.bulk.sources import filesystem

MANIFEST = "_manifest.json"
TEMP_MARK = ".tmp-"


def _is_part(name: str, fmt: str) -> bool:
    return name.startswith("part-") and name.endswith("." + fmt) and TEMP_MARK not in name


@dataclass
class Output:
    """The output directory: its parts, the ids they hold, the manifest."""

    location: str
    format: str
    fs: pafs.FileSystem = field(init=False)
    path: str = field(init=False)

    def __post_init__(self):
        self.fs, self.path = filesystem(self.location)
        self.path = self.path.rstrip("/")

    def prepare(self) -> None:
        """Create the directory; refuse a file, or parts of the other format; drop the
        temporary files an interrupted run left."""
        info = self.fs.get_file_info(self.path)
        if info.type == pafs.FileType.File:
            raise UsageError(f"{self.location}: is a file; --output names a directory")
        try:
            self.fs.create_dir(self.path, recursive=True)
            # Written and removed now, so that a directory nobody may write to is told before
            # Ray starts and the first block is digested, not at its first part.
            probe = f"{self.path}/.write-check{TEMP_MARK}{uuid.uuid4().hex}"
            with self.fs.open_output_stream(probe) as f:
                f.write(b"")
            self.fs.delete_file(probe)
        except OSError as exc:
            raise UsageError(f"{self.location}: cannot write there ({_reason(exc)}); choose another --output") from None
        for f in self.fs.get_file_info(pafs.FileSelector(self.path)):
            name = f.base_name
            other = [x for x in FORMATS if x != self.format and _is_part(name, x)]
            if other:
                raise UsageError(
                    f"{self.location}: holds {other[0]} parts; rerun with --format {other[0]} or choose another --output"
                )
            if name.startswith(".part-") and TEMP_MARK in name:
                self.fs.delete_file(f.path)

    def parts(self) -> list[str]:
        return sorted(
            f.path
            for f in self.fs.get_file_info(pafs.FileSelector(self.path))
            if f.type == pafs.FileType.File and _is_part(f.base_name, self.format)
        )

    def ids(self, part: str) -> list[str]:
        try:
            if self.format == "parquet":
                with self.fs.open_input_file(part) as f:
                    return pq.read_table(f, columns=["id"]).column("id").to_pylist()
            with self.fs.open_input_stream(part) as f:
                return [json.loads(line)["id"] for line in f.read().decode("utf-8").splitlines() if line.strip()]
        except (OSError, ValueError, KeyError, pa.ArrowException) as exc:
            raise UsageError(f"{part}: unreadable part ({exc}); remove it and rerun to redo its rows") from None

    def written(self) -> dict[str, list[str]]:
        """Ids of every committed part, by part."""
        return {part: self.ids(part) for part in self.parts()}

    def write_manifest(self, manifest: dict[str, Any]) -> None:
        target = f"{self.path}/{MANIFEST}"
        temp = f"{self.path}/.{MANIFEST}{TEMP_MARK}{uuid.uuid4().hex}"
        with self.fs.open_output_stream(temp) as f:
            f.write(json.dumps(manifest, indent=1, ensure_ascii=False).encode("utf-8"))
        self.fs.move(temp, target)

    def read_manifest(self) -> dict[str, Any]:
        try:
            with self.fs.open_input_stream(f"{self.path}/{MANIFEST}") as f:
                return json.loads(f.read())
        except (OSError, ValueError):
            return {}


def _reason(exc: OSError) -> str:
    return exc.strerror or str(exc).splitlines()[0]


def part_name(ids: list[str]) -> str:
    return hashlib.sha256("\n".join(ids).encode("utf-8")).hexdigest()[:24]


class PartSink(Datasink):
    """Writes each write task's rows as one part and returns its counts; the driver's copy
    gathers them in on_write_complete."""

    def __init__(self, output: Output):
        self.output = output
        self.returns: list[dict[str, Any]] = []

    def get_name(self) -> str:
        return "WriteParts"

    def write(self, blocks, ctx) -> dict[str, Any]:
        tables = [BlockAccessor.for_block(b).to_arrow() for b in blocks]
        tables = [t for t in tables if t.num_rows]
        if not tables:
            return {"done": 0, "failed": 0, "skipped": 0, "nodes": {}, "part": ""}
        table = pa.concat_tables(tables)
        skipped = table.column(SKIPPED)
        kept = table.filter(pc.invert(skipped)).select(OUTPUT.names).cast(OUTPUT)
        failed = sum(1 for e in kept.column("error").to_pylist() if e)
        counts = {
            "done": kept.num_rows - failed,
            "failed": failed,
            "skipped": table.num_rows - kept.num_rows,
            "nodes": dict(collections.Counter(kept.column("node").to_pylist())),
            "part": "",
        }
        if kept.num_rows:
            counts["part"] = self._commit(kept)
        return counts

    def _commit(self, table: pa.Table) -> str:
        out = self.output
        name = f"part-{part_name(table.column('id').to_pylist())}.{out.format}"
        temp = f"{out.path}/.{name}{TEMP_MARK}{uuid.uuid4().hex}"
        with out.fs.open_output_stream(temp) as f:
            if out.format == "parquet":
                pq.write_table(table, f)
            else:
                for record in table.to_pylist():
                    f.write((json.dumps(record, ensure_ascii=False) + "\n").encode("utf-8"))
        out.fs.move(temp, f"{out.path}/{name}")  # the rename is the commit
        return name

    def on_write_complete(self, write_result) -> None:
        self.returns = [r for r in write_result.write_returns if r]


def totals(returns: list[dict[str, Any]]) -> dict[str, Any]:
    result: dict[str, Any] = {"done": 0, "failed": 0, "skipped": 0, "nodes": collections.Counter()}
    for r in returns:
        for key in ("done", "failed", "skipped"):
            result[key] += r[key]
        result["nodes"].update(r["nodes"])
    return result


def run_record(started: float, counts: dict[str, Any]) -> dict[str, Any]:
    return {
        "started": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(started)),
        "seconds": round(time.time() - started, 1),
        **{k: counts[k] for k in ("done", "failed", "skipped")},
        "nodes": dict(counts["nodes"]),
    }

"""What khulasa-bulk reads: JSONL files of {"id", "text"} records, Parquet files with `id` and
`text` columns, directories of article files (.txt, .md, .html, .docx, read as the CLI reads
them: khulasa/documents.py; id = the path below the directory without its type, as the khulasa
CLI names them) and single article files (id = the file's stem), on any filesystem
pyarrow knows (local paths, s3://, gs://, hdfs://…).

The driver lists the inputs and cuts them into blocks of at most `rows` records: groups of .txt
files, ranges of lines of a JSONL file (found by one pass over the file that only counts line
ends), slices of a Parquet row group. Each block is one Ray read task, read in a worker, so an
archive larger than memory streams through, and each block is one unit of work downstream
(one actor call, one output part). A wrong path or a Parquet file without the columns is an
operator's mistake, reported before any work starts. A record that cannot be read (bad JSON, no
text, not UTF-8) becomes a row with its error: it still gets its output row, and the job goes on.
"""

from __future__ import annotations

import io
import json
import os
from collections.abc import Iterator
from dataclasses import dataclass

import pyarrow as pa
import pyarrow.fs as pafs
import pyarrow.parquet as pq
from khulasa import documents
from ray.data.block import BlockMetadata
from ray.data.datasource import Datasource, ReadTask

from khulasa_server.bulk import UsageError

ROW = pa.schema([("id", pa.string()), ("text", pa.string()), ("error", pa.string()), ("skipped", pa.bool_())])
_CHUNK = 1 << 22  # bytes read at a time when counting a JSONL file's lines


def filesystem(path: str) -> tuple[pafs.FileSystem, str]:
    """pyarrow filesystem and the path within it; plain paths are local."""
    if "://" in path:
        return pafs.FileSystem.from_uri(path)
    return pafs.LocalFileSystem(), os.path.abspath(path)


@dataclass(frozen=True)
class Block:
    """One read task's records: .txt files, or lines [line, line + count) of a JSONL file
    starting at byte `offset`, or rows [offset, offset + count) of a Parquet row group."""

    kind: str  # text | jsonl | parquet
    fs: pafs.FileSystem
    label: str  # the INPUT as written, for fallback ids and messages
    paths: tuple[str, ...]
    ids: tuple[str, ...] = ()  # of the .txt files
    offset: int = 0
    line: int = 1
    count: int = 0
    group: int = 0
    size: int = 0

    @property
    def rows(self) -> int:
        return len(self.ids) if self.kind == "text" else self.count


def _text_blocks(fs, raw: str, path: str, rows: int) -> list[Block]:
    files = sorted(
        (
            f
            for f in fs.get_file_info(pafs.FileSelector(path, recursive=True))
            if f.type == pafs.FileType.File and f.path.lower().endswith(documents.SUFFIXES)
        ),
        key=lambda f: f.path,
    )
    if not files:
        raise UsageError(f"{raw}: a directory with no file of a supported type ({documents.SUPPORTED})")
    root = path.rstrip("/") + "/"
    return [
        Block(
            "text",
            fs,
            raw,
            tuple(f.path for f in group),
            tuple(f.path[len(root) :].rsplit(".", 1)[0] for f in group),
            size=sum(f.size for f in group),
        )
        for group in (files[i : i + rows] for i in range(0, len(files), rows))
    ]


def _jsonl_blocks(fs, raw: str, path: str, rows: int) -> list[Block]:
    """Line ranges of `rows` lines; one pass over the file that only looks for line ends."""
    blocks: list[Block] = []
    start = position = 0
    line = lines = 0
    last = b"\n"
    with fs.open_input_stream(path) as f:
        while chunk := f.read(_CHUNK):
            last = chunk[-1:]
            at = chunk.find(b"\n")
            while at >= 0:
                lines += 1
                if lines == rows:
                    blocks.append(
                        Block("jsonl", fs, raw, (path,), offset=start, line=line + 1, count=lines, size=position + at + 1 - start)
                    )
                    start, line, lines = position + at + 1, line + lines, 0
                at = chunk.find(b"\n", at + 1)
            position += len(chunk)
    if position > start:  # the last lines, the last one perhaps without a line end
        count = lines + (last != b"\n")
        blocks.append(Block("jsonl", fs, raw, (path,), offset=start, line=line + 1, count=count, size=position - start))
    return blocks


def _parquet_blocks(fs, raw: str, path: str, rows: int) -> list[Block]:
    try:
        with fs.open_input_file(path) as f:
            meta = pq.ParquetFile(f).metadata
    except (OSError, pa.ArrowException) as exc:
        raise UsageError(f"{raw}: not a readable Parquet file ({exc})") from None
    names = meta.schema.to_arrow_schema().names
    missing = [c for c in ("id", "text") if c not in names]
    if missing:
        raise UsageError(f"{raw}: Parquet file without column(s) {', '.join(missing)} (has: {', '.join(names)})")
    blocks = []
    first = 0  # the row group's first row in the file, for fallback ids
    for g in range(meta.num_row_groups):
        group = meta.row_group(g)
        for start in range(0, group.num_rows, rows):
            count = min(rows, group.num_rows - start)
            blocks.append(
                Block(
                    "parquet",
                    fs,
                    raw,
                    (path,),
                    offset=start,
                    line=first + start,
                    count=count,
                    group=g,
                    size=group.total_byte_size * count // max(1, group.num_rows),
                )
            )
        first += group.num_rows
    return blocks


def plan(inputs: list[str], rows: int) -> list[Block]:
    """The inputs cut into blocks of at most `rows` records; UsageError names a bad INPUT."""
    blocks: list[Block] = []
    for given in inputs:
        fs, path = filesystem(given)
        # Fallback ids are named after the input: the same file must give the same ids however
        # its path was typed (./x.jsonl, x.jsonl, /abs/x.jsonl), or a rerun digests it again.
        raw = given if "://" in given else path
        try:
            info = fs.get_file_info(path)
        except OSError as exc:
            raise UsageError(f"{raw}: {exc}") from None
        if info.type == pafs.FileType.NotFound:
            raise UsageError(f"{raw}: no such file or directory")
        if info.type == pafs.FileType.Directory:
            blocks += _text_blocks(fs, raw, path, rows)
        elif path.endswith(".jsonl"):
            blocks += _jsonl_blocks(fs, raw, path, rows)
        elif path.endswith(".parquet"):
            blocks += _parquet_blocks(fs, raw, path, rows)
        elif path.lower().endswith(documents.SUFFIXES):
            blocks.append(Block("text", fs, raw, (path,), (path.rsplit("/", 1)[-1].rsplit(".", 1)[0],), size=info.size))
        else:
            raise UsageError(
                f"{raw}: expected a .jsonl or .parquet file, an article file ({documents.SUPPORTED}) or a directory of them"
            )
    return blocks


# -- reading, in Ray workers -------------------------------------------------------------


def _jsonl(block: Block) -> Iterator[tuple[str, str, str]]:
    """(id, text, error) as the CLI reads records: one without an id is named FILE:LINE."""
    with block.fs.open_input_file(block.paths[0]) as raw:
        raw.seek(block.offset)
        reader = io.BufferedReader(raw)
        for n in range(block.line, block.line + block.count):
            line = reader.readline()
            where = f"{block.label}:{n}"
            if not line.strip():
                continue
            try:
                record = json.loads(line.decode("utf-8"))
            except UnicodeDecodeError:
                yield where, "", f"{where}: not UTF-8 text"
                continue
            except json.JSONDecodeError as exc:
                yield where, "", f"{where}: not JSON ({exc.msg})"
                continue
            if not isinstance(record, dict):
                yield where, "", f'{where}: needs a JSON object with a "text" string'
            elif "id" in record and record["id"] is not None and not isinstance(record["id"], str):
                # 7 and "7" would be one id in the output: a rerun would skip the other record.
                yield where, "", f'{where}: "id" must be a string, got {json.dumps(record["id"])[:40]}'
            elif not isinstance(record.get("text"), str):
                yield str(record.get("id") or where), "", f'{where}: needs a "text" string'
            else:
                yield str(record.get("id") or where), record["text"], ""


def _parquet(block: Block) -> Iterator[tuple[str, str, str]]:
    with block.fs.open_input_file(block.paths[0]) as f:
        table = pq.ParquetFile(f).read_row_group(block.group, columns=["id", "text"]).slice(block.offset, block.count)
    for n, (id, text) in enumerate(zip(table.column("id").to_pylist(), table.column("text").to_pylist()), block.line):
        where = f"{block.label}:row {n}"
        id = where if id is None or id == "" else str(id)
        if isinstance(text, str):
            yield id, text, ""
        else:
            yield id, "", f"{where}: text is {'missing' if text is None else 'not a string'}"


def _text_files(block: Block, done: frozenset[str]) -> Iterator[tuple[str, str, str]]:
    for path, id in zip(block.paths, block.ids):
        if id in done:  # not even read
            yield id, "", ""
            continue
        try:
            with block.fs.open_input_stream(path) as f:
                yield id, documents.read(f.read(), path).text, ""
        except documents.Unreadable as exc:
            yield id, "", str(exc)
        except OSError as exc:
            yield id, "", f"{path}: {exc}"


def read(block: Block, done: frozenset[str]) -> pa.Table:
    """The block's rows; ids already written come as skipped rows without their text (they
    are counted, not digested)."""
    records = _text_files(block, done) if block.kind == "text" else (_jsonl if block.kind == "jsonl" else _parquet)(block)
    columns: dict[str, list] = {name: [] for name in ROW.names}
    for id, text, error in records:
        for name, value in (("id", id), ("text", text)):
            if not _is_unicode(value):  # JSON's "\\ud800" escapes give lone surrogates
                id, text, error = _printable(id), "", f"{id!a}: {name} is not valid Unicode text (a lone surrogate)"
                break
        skipped = id in done
        for column, cell in zip(ROW.names, (id, "" if skipped else text, "" if skipped else error, skipped)):
            columns[column].append(cell)
    return pa.Table.from_pydict(columns, schema=ROW)


_DONE: dict[str, frozenset[str]] = {}  # per worker process: the done ids, fetched once


def _done(ref) -> frozenset[str]:
    if ref is None:
        return frozenset()
    key = ref.hex()
    if key not in _DONE:
        import ray

        _DONE.clear()
        _DONE[key] = frozenset(ray.get(ref))
    return _DONE[key]


def _is_unicode(value: str) -> bool:
    try:
        value.encode("utf-8")
        return True
    except UnicodeEncodeError:
        return False


def _printable(id: str) -> str:
    return id.encode("utf-8", "backslashreplace").decode("utf-8")


class ArticleSource(Datasource):
    """One read task per block. `done`: an object ref to the ids already written, shared through
    Ray's object store rather than copied into every task."""

    def __init__(self, blocks: list[Block], done=None):
        super().__init__()
        self.blocks, self.done = blocks, done

    def get_name(self) -> str:
        return "ReadArticles"

    def estimate_inmemory_data_size(self) -> int | None:
        return sum(b.size for b in self.blocks) or None

    def get_read_tasks(self, parallelism: int, per_task_row_limit: int | None = None, data_context=None) -> list[ReadTask]:
        done_ref = self.done

        def task(block: Block) -> ReadTask:
            def read_block() -> list[pa.Table]:
                return [read(block, _done(done_ref))]

            metadata = BlockMetadata(num_rows=block.rows, size_bytes=block.size, input_files=tuple(block.paths), exec_stats=None)
            return ReadTask(read_block, metadata, schema=ROW, per_task_row_limit=per_task_row_limit)

        return [task(b) for b in self.blocks]

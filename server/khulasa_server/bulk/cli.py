"""`khulasa-bulk`: digest an archive on Ray Data.

    khulasa-bulk INPUT... --bundle DIR|NAME --output OUT [--format parquet|jsonl] [--replicas N]
                 [--threads-per-replica T] [--address RAY_ADDRESS] [--summary-method …] [--glossary FILE]

Without --address (or RAY_ADDRESS) it starts a Ray of its own on this machine; with it, it joins
that cluster (with token auth, as `ray start --head` sets up by default, RAY_AUTH_MODE=token
and the token in RAY_AUTH_TOKEN or ~/.ray/auth_token). Exit codes: 0 every record digested,
1 some records failed (each has its error in its row), 2 an operator's mistake (one line), 130
interrupted (rerun the same command to resume).
"""

from __future__ import annotations

import argparse
import hashlib
import json
import logging
import os
import re
import signal
import socket
import sys
import time
from typing import Any

from khulasa_server.bulk import FORMATS, UsageError
from khulasa_server.errors import BundleError, InvalidArgument
from khulasa_server.models import bundle as bundle_mod
from khulasa_server.models.schema import SUMMARY_METHODS
from khulasa_server.pipeline import glossary as glossary_mod
from khulasa_server.pipeline.options import DEFAULT_SUMMARY_SENTENCES
from khulasa_server.service.config import NAMES_IN_SOURCE, Settings, names_in_source

PROG = "khulasa-bulk"
EXAMPLES = """examples:
  khulasa-bulk articles/ --bundle tiny --output out/                   a local Ray on this machine
  khulasa-bulk feed.jsonl archive.parquet --bundle bench-opus --output out/ --replicas 2
  khulasa-bulk s3://news/2015/ --bundle /models/opus --output s3://news-out/2015/ \\
      --address ray-head:6379 --replicas 16 --threads-per-replica 2
  rerun the same command after an interruption: ids already in OUT are skipped
"""


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog=PROG,
        description="Translate and summarize an archive of Arabic articles on Ray Data.",
        epilog=EXAMPLES,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument(
        "inputs",
        nargs="+",
        metavar="INPUT",
        help='JSONL files of {"id", "text"} records, Parquet files with id and text columns, '
        ".txt files or directories of them (id = path below the directory, without .txt); "
        "local paths or any URI pyarrow reads (s3://, gs://, hdfs://)",
    )
    p.add_argument(
        "--bundle",
        required=True,
        help="bundle directory or name under $KHULASA_HOME/bundles; every Ray node must read it at the same path",
    )
    p.add_argument("--output", required=True, metavar="OUT", help="output directory (local or a URI every node can write)")
    p.add_argument("--format", choices=FORMATS, default="parquet", help="output parts (default: %(default)s)")
    p.add_argument("--replicas", type=int, default=1, help="actors, each with the bundle loaded once (default: %(default)s)")
    p.add_argument(
        "--threads-per-replica",
        type=int,
        default=1,
        help="CPU threads of each actor (its num_cpus and CTranslate2 threads; default: %(default)s)",
    )
    p.add_argument(
        "--address",
        default=os.environ.get("RAY_ADDRESS", ""),
        help="Ray cluster to join, HOST:PORT of its head (default: $RAY_ADDRESS; none: a local Ray)",
    )
    p.add_argument("--summary-method", choices=SUMMARY_METHODS, default="", help="default: the bundle's")
    p.add_argument("--max-sentences", type=int, default=DEFAULT_SUMMARY_SENTENCES, help="summary length (default: %(default)s)")
    p.add_argument("--source-language", default="", help="ar or en (default: detect per article)")
    p.add_argument("--glossary", metavar="FILE", help="TSV of 'arabic<TAB>english' terms the translation must use")
    p.add_argument(
        "--name-repair",
        default=Settings.name_repair,
        action=argparse.BooleanOptionalAction,
        help="with an LLM, decode a segment flagged for a lost name again with its names as terms (as the server)",
    )
    p.add_argument(
        "--names-in-source",
        choices=NAMES_IN_SOURCE,
        default=Settings.names_in_source,
        help="write known names in English into the source the model reads (as the server; default: %(default)s)",
    )
    p.add_argument(
        "--in-flight",
        type=int,
        default=8,
        help="articles each replica digests at once, their sentences decoded in shared batches (default: %(default)s)",
    )
    p.add_argument(
        "--batch-size",
        type=int,
        default=32,
        help="records per Ray block: the unit of work handed to an actor, and of each output part (default: %(default)s)",
    )
    p.add_argument(
        "--max-text-chars",
        type=int,
        default=Settings.max_text_chars,
        help="longer articles get an error row (default: %(default)s, as the server)",
    )
    return p


def _check(args: argparse.Namespace) -> None:
    for name in ("replicas", "threads_per_replica", "in_flight", "batch_size", "max_sentences", "max_text_chars"):
        if getattr(args, name) < 1:
            raise UsageError(f"--{name.replace('_', '-')} must be at least 1")
    if args.source_language and args.source_language not in ("ar", "en"):
        raise UsageError(f"--source-language must be ar or en, got {args.source_language!r}")


def _probe(address: str, timeout: float = 10.0) -> None:
    """Refuse a HOST:PORT nothing answers on at once: Ray itself would keep retrying for minutes."""
    host, _, port = address.rpartition(":")
    if "://" in address or not port.isdigit():
        return  # ray://… (Ray Client) or "auto": Ray's own checks apply
    try:
        socket.create_connection((host.strip("[]"), int(port)), timeout=timeout).close()
    except OSError as exc:
        raise UsageError(f"cannot reach the Ray cluster at {address}: {exc.strerror or exc}") from None


def _ray(address: str, cpus_needed: int):
    """Connect to the cluster, or start a local one; refuse a local one too small."""
    import ray

    options: dict[str, Any] = dict(logging_level=logging.WARNING, include_dashboard=False)
    if address:
        _probe(address)
    try:
        if address:
            ray.init(address=address, **options)
        else:  # a Ray of our own, never an existing one that happens to run here
            ray.init(address="local", num_cpus=os.cpu_count(), **options)
    except (ConnectionError, RuntimeError, ValueError) as exc:
        raise UsageError(
            f"cannot {'join the Ray cluster at ' + address if address else 'start a local Ray'}: "
            f"{str(exc).splitlines()[0] if str(exc) else type(exc).__name__}"
        ) from None
    cpus = int(ray.cluster_resources().get("CPU", 0))
    if cpus < cpus_needed:
        message = f"the Ray cluster has {cpus} CPUs; --replicas × --threads-per-replica needs {cpus_needed}"
        if not address:
            ray.shutdown()
            raise UsageError(message)
        print(f"{PROG}: {message}: waiting for the cluster to grow", file=sys.stderr)
    return ray


def _bundle(args: argparse.Namespace) -> str:
    """The bundle's path, its manifest checked here (each actor verifies the checksums where it
    runs). Joining a cluster, the driver may not hold the bundle itself: then the name is
    passed on as given and each node resolves it."""
    try:
        return str(bundle_mod.load(args.bundle, verify_checksums=False).path.resolve())
    except BundleError as exc:
        if args.address and not bundle_mod.resolve(args.bundle).exists():
            return args.bundle
        raise UsageError(str(exc)) from None


def _options(args: argparse.Namespace, terms) -> dict[str, Any]:
    """What decides a row's content besides its text: a rerun into the same output must match."""
    glossary = json.dumps(sorted((terms or {}).items()), ensure_ascii=False)
    return {
        "summary_method": args.summary_method,
        "max_sentences": args.max_sentences,
        "source_language": args.source_language,
        "max_text_chars": args.max_text_chars,
        "glossary_sha256": hashlib.sha256(glossary.encode()).hexdigest()[:16] if terms else "",
        "name_repair": args.name_repair,
        "names_in_source": names_in_source(args.names_in_source),
    }


def _same_run(output, bundle: str, options: dict[str, Any]) -> None:
    """Refuse to resume into an output written with another bundle or other options: its ids
    would all be skipped and the output would silently mix two runs. The first run records them."""
    manifest = output.read_manifest()
    if manifest.get("bundle") and manifest["bundle"] != bundle:
        raise UsageError(
            f"{output.location} was written with the bundle {manifest['bundle']}, not {bundle}; "
            "choose another --output (or rerun with that bundle to resume)"
        )
    recorded = manifest.get("options")
    if recorded is not None and recorded != options:
        changed = ", ".join(f"{k} {recorded.get(k)!r} → {v!r}" for k, v in options.items() if recorded.get(k) != v)
        raise UsageError(f"{output.location} was written with other options ({changed}); choose another --output")
    output.write_manifest({**manifest, "bundle": bundle, "options": options})


def run(args: argparse.Namespace) -> int:
    _check(args)
    if not args.address:
        # A Ray of our own listens on loopback only (Ray's single-machine mode); this must be
        # set before Ray is imported.
        os.environ.setdefault("RAY_ENABLE_WINDOWS_OR_OSX_CLUSTER", "0")
    from khulasa_server.bulk import sources
    from khulasa_server.bulk.sink import Output

    blocks = sources.plan(args.inputs, args.batch_size)
    bundle = _bundle(args)
    try:
        terms = glossary_mod.load_file(args.glossary) if args.glossary else None
    except (OSError, ValueError, InvalidArgument) as exc:
        raise UsageError(f"--glossary: {exc}") from None
    output = Output(args.output, args.format)
    output.prepare()
    _same_run(output, bundle, _options(args, terms))
    before = output.written()
    done_ids = {i for ids in before.values() for i in ids}

    ray = _ray(args.address, args.replicas * args.threads_per_replica)
    # SIGTERM (kill, a scheduler's stop) ends the run as Ctrl-C does, through ray.shutdown():
    # under Ray's own handler (set by ray.init) the driver dies at once and leaves the Ray it
    # started running.
    signal.signal(signal.SIGTERM, _interrupt)
    try:
        return _execute(ray, args, blocks, bundle, terms, output, done_ids)
    finally:
        ray.shutdown()


def _interrupt(signum, frame) -> None:
    raise KeyboardInterrupt


def _execute(ray, args, blocks, bundle_path, terms, output, done_ids) -> int:
    from ray.data import ActorPoolStrategy

    from khulasa_server.bulk.digester import Digester
    from khulasa_server.bulk.sink import PartSink, run_record, totals
    from khulasa_server.bulk.sources import ArticleSource

    started = time.time()
    source = ArticleSource(blocks, ray.put(sorted(done_ids)) if done_ids else None)
    sink = PartSink(output)
    # Reading and writing take no CPU slot (the slots are the actors') and run one task at a
    # time each: they are light, and every concurrent task would be a Python process more.
    # Each block of --batch-size records is one read task, one actor call and one output part
    # (Ray cuts blocks further when there are fewer of them than it wants in parallel).
    dataset = ray.data.read_datasource(source, num_cpus=0, concurrency=1).map_batches(
        Digester,
        # Two blocks at once per actor, on its one pool of --in-flight threads: the next block's
        # articles start as the last ones of the previous block finish.
        compute=ActorPoolStrategy(size=args.replicas, max_concurrent_calls_per_actor=2),
        num_cpus=args.threads_per_replica,
        batch_size=None,  # a whole block per call
        batch_format="pyarrow",
        fn_constructor_kwargs=dict(
            bundle=bundle_path,
            threads=args.threads_per_replica,
            in_flight=args.in_flight,
            summary_method=args.summary_method,
            max_sentences=args.max_sentences,
            source_language=args.source_language,
            glossary=terms,
            max_text_chars=args.max_text_chars,
            name_repair=args.name_repair,
            names_in_source=names_in_source(args.names_in_source),
        ),
    )
    try:
        dataset.write_datasink(sink, ray_remote_args={"num_cpus": 0}, concurrency=1)
    except Exception as exc:  # e.g. an actor that cannot load the bundle on its node
        raise JobFailed(_root_cause(exc)) from None
    seconds = time.time() - started
    counts = totals(sink.returns)

    # The parts now on disk are the record: every id must be there once.
    written = output.written()
    ids = [i for part in written.values() for i in part]
    duplicates = len(ids) - len(set(ids))
    manifest = output.read_manifest()
    manifest.update(
        format=args.format,
        bundle=bundle_path,
        options=_options(args, terms),
        rows=len(ids),
        unique_ids=len(set(ids)),
        parts={part.rsplit("/", 1)[-1]: len(part_ids) for part, part_ids in written.items()},
        runs=[*manifest.get("runs", []), run_record(started, counts)],
    )
    output.write_manifest(manifest)

    processed = counts["done"] + counts["failed"]
    nodes = ", ".join(f"{node[:8]} {n}" for node, n in sorted(counts["nodes"].items()))
    if nodes:
        print(f"{PROG}: articles by node: {nodes}", file=sys.stderr)
    if duplicates:
        print(f"{PROG}: {duplicates} ids appear more than once in {args.output} (repeated ids in the input?)", file=sys.stderr)
    print(
        f"{PROG}: {counts['done']} done, {counts['failed']} failed, {counts['skipped']} skipped (already written) "
        f"in {seconds:.1f} s, {processed / seconds * 60 if seconds else 0:.1f} articles/min; "
        f"{args.output}: {len(ids)} rows in {len(written)} parts",
        file=sys.stderr,
    )
    return 1 if counts["failed"] or duplicates else 0


class JobFailed(Exception):
    """The Ray job stopped (not a record's failure: those are in their rows)."""


def _root_cause(exc: BaseException) -> str:
    """The innermost error Ray reports, in one line: Ray wraps an actor's exception in its own
    (with the traceback as text), so the last "SomeError: message" line of the chain is it."""
    texts: list[str] = []
    link: BaseException | None = exc
    while link is not None and len(texts) < 10:
        texts.append(f"{type(link).__name__}: {link}")
        link = link.__cause__ or link.__context__
    lines = [re.sub(r"\x1b\[[0-9;]*m", "", line).strip() for text in texts for line in text.splitlines()]
    errors = [line for line in lines if re.match(r"^[\w.]+(Error|Exception): \S", line)]
    return errors[-1] if errors else lines[0]


def main(argv: list[str] | None = None) -> int:
    args = parser().parse_args(argv)
    try:
        return run(args)
    except UsageError as exc:
        print(f"{PROG}: {exc}", file=sys.stderr)
        return 2
    except JobFailed as exc:
        print(f"{PROG}: the job failed: {exc}; rerun the same command to resume", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print(f"{PROG}: interrupted; rerun the same command to resume", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())

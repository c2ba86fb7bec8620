"""Many inputs in one run of the CLI. Nothing is lost and nothing is sent that cannot be:

- ids must be distinct (each id names one result): repeated ids are refused before any work,
  and so are ids whose result files would clash (outputs.clashes);
- each input is checked before it is sent (valid text, the server's size limits from
  GetModelInfo): one that fails is that id's failure, and the others go on;
- every id leaves a record, a result or an error (outputs.py), and a rerun skips the results
  and retries the errors."""

from __future__ import annotations

import argparse
import sys
import threading
import time
from concurrent.futures import ThreadPoolExecutor, as_completed

from .client import Client
from .core import ArticleOptions, digest_request, summarize_request, translate_request
from .errors import ApiError
from .inputs import Item
from .outputs import DirectorySink, JsonlSink, Progress, clashes

# Statuses that mean "could not use the server" (exit 2) rather than "this input failed" (exit 1).
CONNECTION_CODES = {"UNAVAILABLE", "DEADLINE_EXCEEDED", "UNAUTHENTICATED", "PERMISSION_DENIED", "UNIMPLEMENTED"}


class UsageError(Exception):
    pass


def _ids(n: int) -> str:
    return f"{n} id" if n == 1 else f"{n} ids"


def _listed(names: list[str], limit: int = 8) -> str:
    return ", ".join(names[:limit]) + (f" and {len(names) - limit} more" if len(names) > limit else "")


def options(args: argparse.Namespace) -> ArticleOptions:
    """An article's options from the command line, named as the client's calls take them."""
    return ArticleOptions(
        max_sentences=args.max_sentences,
        source_language=args.source_language,
        summary_method=args.summary_method,
        glossary=args.terms,
    )


def request(args: argparse.Namespace, item: Item):
    """The request an item is sent as (built by the client library's own builders)."""
    if args.command == "translate":
        return translate_request([item.text], source_language=args.source_language, glossary=args.terms)
    if args.command == "digest":
        return digest_request(item.text, item.id, **options(args))
    return summarize_request(item.text, **options(args))


def call(client: Client, args: argparse.Namespace, item: Item):
    if args.command == "digest":
        return client.digest(item.text, id=item.id, **options(args))
    if args.command == "translate":
        return client.translate([item.text], source_language=args.source_language, glossary=args.terms)
    return client.summarize(item.text, **options(args))


def _refuse_repeated_ids(items: list[Item]) -> None:
    where: dict[str, list[str]] = {}
    for item in items:
        where.setdefault(item.id, []).append(item.where or item.id)
    repeated = [f"{id} ({', '.join(places)})" for id, places in where.items() if len(places) > 1]
    if repeated:
        raise UsageError(
            f"{_ids(len(repeated))} given to more than one input, and each id names one result: {_listed(repeated)}. "
            'Give every input its own id (distinct file names, or distinct "id" in JSONL); nothing was sent'
        )


def _problem(client: Client, args: argparse.Namespace, item: Item, limits) -> tuple[str, str] | None:
    """Why an item cannot be sent, as (status name, message) the server would have given; None if it can."""
    if item.error:
        return "INVALID_ARGUMENT", item.error
    if limits is not None and len(item.text) > limits.max_text_chars:
        return "INVALID_ARGUMENT", (
            f"text has {len(item.text)} characters; the server's limit is "
            f"{limits.max_text_chars} (max_text_chars). Split the text."
        )
    size = request(args, item).ByteSize()
    limit = client.connection.max_message_bytes
    if limits is not None and limits.max_message_bytes:
        limit = min(limit, limits.max_message_bytes)
    if size > limit:
        return "RESOURCE_EXHAUSTED", f"the request is {size} bytes; the limit is {limit} (max_message_bytes)"
    return None


def _results(client: Client, args: argparse.Namespace, todo: list[Item]):
    """(item id, response or ApiError) as they complete, at most args.concurrency in flight."""
    if args.command == "digest":
        slots = threading.Semaphore(args.concurrency)

        def requests():
            for item in todo:
                slots.acquire()
                yield request(args, item)

        for result in client.digest_many(requests()):
            slots.release()
            yield result.id, result.error or result.response
        return
    with ThreadPoolExecutor(max_workers=args.concurrency) as pool:
        futures = {pool.submit(call, client, args, item): item.id for item in todo}
        for future in as_completed(futures):
            try:
                yield futures[future], future.result()
            except ApiError as exc:
                if exc.code in CONNECTION_CODES:
                    raise
                yield futures[future], exc


def _sink(args: argparse.Namespace, items: list[Item]):
    fmt = args.format or ("json" if args.output_dir else "jsonl")
    if args.output_dir:
        if fmt == "jsonl":
            raise UsageError("--output-dir writes one file per input: choose --format text, json, markdown or html")
        clash = clashes([item.id for item in items], fmt)
        if clash:
            raise UsageError(
                f"these ids would share a file in {args.output_dir} (file names ignore letter case on some systems): "
                f"{_listed([' / '.join(ids) for ids in clash])}. Give them distinct ids; nothing was sent"
            )
        return DirectorySink(args.output_dir, fmt, snake=args.json_keys == "snake")
    if fmt != "jsonl":
        raise UsageError(f"several inputs go to one JSONL stream; use --output-dir for --format {fmt}")
    return JsonlSink(args.output, snake=args.json_keys == "snake")


def run(client: Client, args: argparse.Namespace, items: list[Item]) -> int:
    _refuse_repeated_ids(items)
    sink = _sink(args, items)
    start = time.monotonic()
    pending = [item for item in items if not sink.done(item.id)]
    skipped = len(items) - len(pending)
    retried = [item.id for item in pending if sink.failed_before(item.id)]
    limits = client.model_info().limits if pending else None  # also: is the server there at all
    failed = done = 0

    def fail(id: str, code: str, message: str) -> None:
        nonlocal failed
        failed += 1
        sink.fail(id, code, message)
        progress.clear()
        print(f"khulasa: {id}: {code}: {message}", file=sys.stderr)

    sink.begin([item.id for item in pending])
    if retried:
        print(f"khulasa: retrying {_ids(len(retried))} that failed in an earlier run: {_listed(retried)}", file=sys.stderr)
    progress = Progress(len(pending))
    todo = []
    for item in pending:
        problem = _problem(client, args, item, limits)
        if problem:
            fail(item.id, *problem)
        else:
            todo.append(item)
    answered: set[str] = set()
    stopped = ""
    try:
        for id, result in _results(client, args, todo):
            answered.add(id)
            progress.step()
            if isinstance(result, ApiError):
                fail(id, result.code, result.message)
            else:
                sink.write(id, result)
                done += 1
    except ApiError as exc:
        stopped = f", {len(todo) - len(answered)} not done (the run stopped: {exc.code})"
        raise
    finally:
        progress.close()
        sink.close()
        print(
            f"khulasa: {done} done, {failed} failed, {skipped} skipped (already written){stopped} "
            f"in {time.monotonic() - start:.1f} s",
            file=sys.stderr,
        )
    return 1 if failed else 0

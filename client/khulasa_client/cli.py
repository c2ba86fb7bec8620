"""`khulasa`: the command-line client."""

from __future__ import annotations

import argparse
import os
import sys
import threading
import time
from concurrent.futures import ThreadPoolExecutor, as_completed

import grpc
from khulasa.v1 import khulasa_pb2 as pb

from . import completion
from .client import Client
from .connection import DEFAULT_SERVER, RetryPolicy
from .errors import ApiError
from .inputs import Item, collect, is_batch
from .outputs import DirectorySink, JsonlSink, Progress
from .render import FORMATS, render

# Statuses that mean "could not use the server" (exit 2) rather than "this input failed" (exit 1).
CONNECTION_CODES = {"UNAVAILABLE", "DEADLINE_EXCEEDED", "UNAUTHENTICATED", "PERMISSION_DENIED", "UNIMPLEMENTED"}


_CODE_NAMES = {code.value[0]: code.name for code in grpc.StatusCode}


class UsageError(Exception):
    pass


EXAMPLES = {
    "digest": """examples:
  khulasa digest article.txt                          summary, then the translation
  khulasa digest article.txt --format html > a.html   bilingual page, Arabic beside English
  khulasa digest - --format json < article.txt        keys: translation, summary, paragraphs, ...
  khulasa digest articles/ --output-dir out/ --format markdown --concurrency 8
  khulasa digest feed.jsonl --output results.jsonl    {"id","text"} lines in; rerun resumes
""",
    "translate": """examples:
  khulasa translate article.txt
  khulasa translate articles/ --glob '*.ar.txt' --output-dir out/ --format json
""",
    "summarize": """examples:
  khulasa summarize article.txt --max-sentences 2
  khulasa summarize article.txt --summary-method extractive
""",
    "health": "examples:\n  khulasa health\n  khulasa --server 10.0.0.5:50051 --tls-ca ca.pem health\n",
    "info": "examples:\n  khulasa info\n",
    "completion": "examples:\n  khulasa completion bash > /etc/bash_completion.d/khulasa\n"
                  "  source <(khulasa completion zsh)\n",
}


def _subparser(sub, name: str, help: str) -> argparse.ArgumentParser:
    return sub.add_parser(name, help=help, description=help, epilog=EXAMPLES[name],
                          formatter_class=argparse.RawDescriptionHelpFormatter)


def _add_work(p: argparse.ArgumentParser, summary: bool) -> None:
    p.add_argument("inputs", nargs="+", metavar="INPUT",
                   help="UTF-8 text files, directories (searched recursively), .jsonl files of "
                        "{\"id\", \"text\"} records, or - for standard input")
    p.add_argument("--glob", default="*.txt", help="files to take from directories (default: %(default)s)")
    p.add_argument("--format", choices=FORMATS, help="text, json, jsonl, markdown or html "
                   "(default: text for one input, jsonl for several)")
    p.add_argument("--output-dir", help="one result file per input, named by its id")
    p.add_argument("--output", help="write to this file (JSONL for several inputs) instead of standard output")
    p.add_argument("--concurrency", type=int, default=4, help="inputs in flight at once (default: %(default)s)")
    p.add_argument("--source-language", default="", help="ar or en (default: detect)")
    p.add_argument("--glossary", help="TSV file of 'arabic<TAB>english' terms the translation must use")
    if summary:
        p.add_argument("--max-sentences", type=int, default=0, help="summary length (default: the server's)")
        p.add_argument("--summary-method", choices=("model", "extractive"), default="",
                       help="default: the bundle's")


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="khulasa",
        description="Translate and summarize Arabic news through a khulasa server.",
        epilog="Run 'khulasa COMMAND --help' for each command's options and examples.",
    )
    p.add_argument("--server", default=os.environ.get("KHULASA_SERVER", DEFAULT_SERVER),
                   help="HOST:PORT, a comma-separated list used in turn, or dns:///NAME:PORT "
                        "(default: $KHULASA_SERVER or %(default)s)")
    p.add_argument("--timeout", type=float, default=300.0, help="seconds per call, retries included (default: %(default)s)")
    p.add_argument("--retries", type=int, default=3, help="retries on UNAVAILABLE or RESOURCE_EXHAUSTED (default: %(default)s)")
    p.add_argument("--token", default=os.environ.get("KHULASA_TOKEN"), help="bearer token (default: $KHULASA_TOKEN)")
    p.add_argument("--token-file", help="file holding the bearer token")
    p.add_argument("--tls", action="store_true", help="use TLS with the system's trusted CAs")
    p.add_argument("--tls-ca", help="PEM CA certificate to trust (implies --tls)")
    p.add_argument("--tls-cert", help="PEM client certificate, for mutual TLS")
    p.add_argument("--tls-key", help="PEM key of --tls-cert")
    p.add_argument("--tls-server-name", help="name expected in the server's certificate")
    sub = p.add_subparsers(dest="command", required=True, metavar="COMMAND")
    _add_work(_subparser(sub, "digest", "translation and summary of articles"), summary=True)
    _add_work(_subparser(sub, "translate", "English translation of texts"), summary=False)
    _add_work(_subparser(sub, "summarize", "English summary of articles"), summary=True)
    _subparser(sub, "health", "the server's health status")
    _subparser(sub, "info", "the server's bundle, models and limits")
    comp = _subparser(sub, "completion", "print a shell completion script")
    comp.add_argument("shell", choices=("bash", "zsh"))
    return p


def _client(args: argparse.Namespace) -> Client:
    return Client(
        args.server, timeout=args.timeout, retry=RetryPolicy(max_attempts=1 + max(0, args.retries)),
        token=args.token, token_file=args.token_file, tls=args.tls, tls_ca=args.tls_ca, tls_cert=args.tls_cert,
        tls_key=args.tls_key, tls_server_name=args.tls_server_name,
    )


def _glossary(args: argparse.Namespace) -> dict[str, str]:
    if not getattr(args, "glossary", None):
        return {}
    entries = {}
    with open(args.glossary, encoding="utf-8") as f:
        for n, line in enumerate(f, 1):
            if not line.strip() or line.lstrip().startswith("#"):
                continue
            source, sep, target = line.rstrip("\n").partition("\t")
            if not sep:
                raise UsageError(f"{args.glossary}:{n}: expected 'arabic<TAB>english'")
            entries[source.strip()] = target.strip()
    return entries


def _call(client: Client, args: argparse.Namespace, item: Item):
    if args.command == "digest":
        return client.digest(item.text, id=item.id, max_sentences=args.max_sentences, source_language=args.source_language,
                             summary_method=args.summary_method, glossary=args.terms)
    if args.command == "translate":
        return client.translate([item.text], source_language=args.source_language, glossary=args.terms)
    return client.summarize(item.text, max_sentences=args.max_sentences, source_language=args.source_language,
                            summary_method=args.summary_method, glossary=args.terms)


def _single(client: Client, args: argparse.Namespace, item: Item) -> int:
    if item.error:
        raise OSError(item.error)
    text = render(_call(client, args, item), args.format or "text", "" if item.id == "stdin" else item.id)
    if args.output:
        with open(args.output, "w", encoding="utf-8") as f:
            f.write(text)
    else:
        sys.stdout.write(text)
    return 0


def _results(client: Client, args: argparse.Namespace, todo: list[Item]):
    """(item id, response or ApiError) as they complete, at most args.concurrency in flight."""
    if args.command == "digest":
        slots = threading.Semaphore(args.concurrency)

        def requests():
            for item in todo:
                slots.acquire()
                yield pb.DigestRequest(id=item.id, text=item.text, max_sentences=args.max_sentences,
                                       source_language=args.source_language, summary_method=args.summary_method,
                                       glossary=args.terms)

        for response in client.digest_many(requests()):
            slots.release()
            if response.error.code:
                code = _CODE_NAMES.get(response.error.code, str(response.error.code))
                yield response.id, ApiError(code, response.error.message)
            else:
                yield response.id, response
        return
    with ThreadPoolExecutor(max_workers=args.concurrency) as pool:
        futures = {pool.submit(_call, client, args, item): item.id for item in todo}
        for future in as_completed(futures):
            try:
                yield futures[future], future.result()
            except ApiError as exc:
                if exc.code in CONNECTION_CODES:
                    raise
                yield futures[future], exc


def _batch(client: Client, args: argparse.Namespace, items: list[Item]) -> int:
    fmt = args.format or ("json" if args.output_dir else "jsonl")
    if args.output_dir:
        if fmt == "jsonl":
            raise UsageError("--output-dir writes one file per input: choose --format text, json, markdown or html")
        sink = DirectorySink(args.output_dir, fmt)
    elif fmt != "jsonl":
        raise UsageError(f"several inputs go to one JSONL stream; use --output-dir for --format {fmt}")
    else:
        sink = JsonlSink(args.output)
    if args.concurrency < 1:
        raise UsageError("--concurrency must be at least 1")
    start = time.monotonic()
    failures: list[str] = [f"{item.id}: {item.error}" for item in items if item.error]
    for failure in failures:
        print(f"khulasa: {failure}", file=sys.stderr)
    todo = [item for item in items if not item.error and not sink.done(item.id)]
    skipped = sum(1 for item in items if not item.error) - len(todo)
    progress = Progress(len(todo))
    done = 0
    try:
        for id, result in _results(client, args, todo):
            progress.step()
            if isinstance(result, ApiError):
                failures.append(f"{id}: {result.code}: {result.message}")
                progress.clear()
                print(f"khulasa: {failures[-1]}", file=sys.stderr)
            else:
                sink.write(id, result)
                done += 1
    finally:
        progress.close()
        if isinstance(sink, JsonlSink):
            sink.close()
        print(f"khulasa: {done} done, {len(failures)} failed, {skipped} skipped (already written) "
              f"in {time.monotonic() - start:.1f} s", file=sys.stderr)
    return 1 if failures else 0


def run(args: argparse.Namespace) -> int:
    if args.command == "completion":
        sys.stdout.write(completion.script(parser(), args.shell))
        return 0
    with _client(args) as client:
        if args.command == "health":
            print(client.health())
            return 0
        if args.command == "info":
            sys.stdout.write(render(client.model_info(), "json"))
            return 0
        args.terms = _glossary(args)
        if not is_batch(args.inputs) and not args.output_dir:
            return _single(client, args, next(collect(args.inputs, args.glob)))
        return _batch(client, args, list(collect(args.inputs, args.glob)))


def main(argv: list[str] | None = None) -> int:
    args = parser().parse_args(argv)
    try:
        return run(args)
    except UsageError as exc:
        print(f"khulasa: {exc}", file=sys.stderr)
        return 2
    except OSError as exc:
        print(f"khulasa: cannot read input: {exc}", file=sys.stderr)
        return 2
    except ApiError as exc:
        where = f" (server {args.server})" if exc.code in CONNECTION_CODES else ""
        print(f"khulasa: {exc.code}: {exc.message}{where}", file=sys.stderr)
        return 2 if exc.code in CONNECTION_CODES else 1
    except KeyboardInterrupt:
        print("khulasa: interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())

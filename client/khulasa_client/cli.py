"""`khulasa`: the command-line client."""

from __future__ import annotations

import argparse
import math
import os
import sys
from pathlib import Path

from khulasa import __version__

from . import batch, completion
from .batch import CONNECTION_CODES, UsageError
from .client import Client
from .connection import DEFAULT_SERVER, RetryPolicy
from .core import assemble
from .errors import ApiError, http_port_hint
from .inputs import Item, NothingToRead, collect, is_batch
from .outputs import LiveDigest
from .over_http import HttpClient, is_http
from .render import FORMATS, render, text_summary

EXAMPLES = {
    "digest": """examples:
  khulasa digest article.txt                          summary, then the translation
  khulasa digest article.txt --format html > a.html   bilingual page, Arabic beside English
  khulasa digest - --format json < article.txt        keys: translation, summary, paragraphs, ...
  khulasa digest articles/ --output-dir out/ --format markdown --concurrency 8
  khulasa digest feed.jsonl --output results.jsonl    {"id","text"} lines in; rerun resumes
  khulasa digest article.txt --server news-mt         options go before or after the command
""",
    "translate": """examples:
  khulasa translate article.txt
  khulasa translate article.txt --format html > a.html   Arabic beside English
  khulasa translate articles/ --glob '*.ar.txt' --output-dir out/ --format json
""",
    "summarize": """examples:
  khulasa summarize article.txt --max-sentences 2
  khulasa summarize article.txt --summary-method extractive
""",
    "health": "examples:\n  khulasa health\n  khulasa health --server 10.0.0.5:50051 --tls-ca ca.pem\n",
    "info": "examples:\n  khulasa info\n",
    "completion": "examples:\n  khulasa completion bash > /etc/bash_completion.d/khulasa\n"
    "  source <(khulasa completion zsh)\n"
    "  khulasa completion fish > ~/.config/fish/completions/khulasa.fish\n",
}


def _seconds(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        value = math.nan
    if not (value > 0 and math.isfinite(value)):
        raise argparse.ArgumentTypeError(f"expected seconds above 0, got {text!r}")
    return value


def _at_least(minimum: int):
    def parse(text: str) -> int:
        try:
            value = int(text)
        except ValueError:
            value = minimum - 1
        if value < minimum:
            raise argparse.ArgumentTypeError(f"expected a whole number of at least {minimum}, got {text!r}")
        return value

    parse.__name__ = f"at least {minimum}"
    return parse


def _connection_options(p: argparse.ArgumentParser, defaults: bool) -> None:
    """The options of every call, accepted before the command (with their defaults) and after
    it (without: a value given there overrides one given before)."""
    server = os.environ.get("KHULASA_SERVER", DEFAULT_SERVER)
    token = os.environ.get("KHULASA_TOKEN")

    def default(value):
        return value if defaults else argparse.SUPPRESS

    g = p.add_argument_group("connection (before or after the command)")
    g.add_argument(
        "--server",
        default=default(server),
        help=f"HOST[:PORT] (port 50051 when none is given), a comma-separated list used in turn, "
        f"dns:///NAME[:PORT], or http://HOST:PORT for the server's HTTP API (default: $KHULASA_SERVER, else {DEFAULT_SERVER})",
    )
    g.add_argument(
        "--timeout",
        type=_seconds,
        default=default(300.0),
        help="seconds per call, retries included (default: 300); a single article's digest streams and is "
        "bounded by --idle-timeout instead",
    )
    g.add_argument(
        "--idle-timeout",
        type=_seconds,
        default=default(180.0),
        help="seconds a streamed digest may wait for its next paragraph before giving up (default: 180)",
    )
    g.add_argument(
        "--retries", type=_at_least(0), default=default(3), help="retries on UNAVAILABLE or RESOURCE_EXHAUSTED (default: 3)"
    )
    g.add_argument("--token", default=default(token), help="bearer token (default: $KHULASA_TOKEN)")
    g.add_argument("--token-file", default=default(None), help="file holding the bearer token")
    g.add_argument("--tls", action="store_true", default=default(False), help="use TLS with the system's trusted CAs")
    g.add_argument("--tls-ca", default=default(None), help="PEM CA certificate to trust (implies --tls)")
    g.add_argument("--tls-cert", default=default(None), help="PEM client certificate, for mutual TLS")
    g.add_argument("--tls-key", default=default(None), help="PEM key of --tls-cert")
    g.add_argument("--tls-server-name", default=default(None), help="name expected in the server's certificate")


def _subparser(sub, name: str, help: str) -> argparse.ArgumentParser:
    p = sub.add_parser(
        name, help=help, description=help, epilog=EXAMPLES[name], formatter_class=argparse.RawDescriptionHelpFormatter
    )
    _connection_options(p, defaults=False)
    return p


def _add_work(p: argparse.ArgumentParser, summary: bool) -> None:
    p.add_argument(
        "inputs",
        nargs="+",
        metavar="INPUT",
        help="text or Markdown (UTF-8, UTF-16 or cp1256), HTML or .docx files, directories (searched recursively), "
        '.jsonl files of {"id", "text"} records, or - for standard input',
    )
    p.add_argument("--glob", help="files to take from directories (default: every .txt, .md, .html, .htm and .docx file)")
    p.add_argument("--encoding", default="", help="encoding of text files (default: detect UTF-8, UTF-16 or cp1256)")
    p.add_argument(
        "--format", choices=FORMATS, help="text, json, jsonl, markdown or html (default: text for one input, jsonl for several)"
    )
    out = p.add_mutually_exclusive_group()
    out.add_argument("--output-dir", help="one result file per input, named by its id ('/' makes folders)")
    out.add_argument("--output", help="write to this file (JSONL for several inputs) instead of standard output")
    p.add_argument("--concurrency", type=_at_least(1), default=4, help="inputs in flight at once (default: %(default)s)")
    p.add_argument(
        "--json-keys",
        choices=("camel", "snake"),
        default="camel",
        help="JSON keys as protobuf's JSON mapping names them (camel: summarySentences, as /v1 and grpcurl give), "
        "or the proto's field names (snake: summary_sentences, the CLI's keys before 0.2; to be removed)",
    )
    p.add_argument("--source-language", default="", help="ar or en (default: detect)")
    p.add_argument("--glossary", help="TSV file of 'arabic<TAB>english' terms the translation must use")
    if summary:
        p.add_argument("--max-sentences", type=_at_least(0), default=0, help="summary length (default: the server's)")
        p.add_argument(
            "--summary-method", choices=("model", "extractive"), default="", help="model or extractive (default: the bundle's)"
        )


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="khulasa",
        description="Translate and summarize Arabic news through a khulasa server.",
        epilog="Run 'khulasa COMMAND --help' for each command's options and examples.",
    )
    p.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    _connection_options(p, defaults=True)
    sub = p.add_subparsers(dest="command", required=True, metavar="COMMAND")
    _add_work(_subparser(sub, "digest", "translation and summary of articles"), summary=True)
    _add_work(_subparser(sub, "translate", "English translation of texts"), summary=False)
    _add_work(_subparser(sub, "summarize", "English summary of articles"), summary=True)
    _subparser(sub, "health", "the server's health status")
    _subparser(sub, "info", "the server's bundle, models, limits and version")
    comp = _subparser(sub, "completion", "print a shell completion script")
    comp.add_argument("shell", choices=completion.SHELLS)
    return p


def parse(argv: list[str] | None = None) -> argparse.Namespace:
    """Like parse_args, but an unknown option after the command is reported with that
    command's usage, not the top-level one."""
    p = parser()
    args, unknown = p.parse_known_args(argv)
    if unknown:
        completion.subcommands(p)[args.command].error(f"unrecognized arguments: {' '.join(unknown)}")
    return args


def _client(args: argparse.Namespace) -> Client:
    if is_http(args.server):  # the server's HTTP port: the same calls over its HTTP API
        return HttpClient(args.server, timeout=args.timeout, token=args.token, token_file=args.token_file, tls_ca=args.tls_ca)  # type: ignore[return-value]
    return Client(
        args.server,
        timeout=args.timeout,
        retry=RetryPolicy(max_attempts=1 + args.retries),
        token=args.token,
        token_file=args.token_file,
        tls=args.tls,
        tls_ca=args.tls_ca,
        tls_cert=args.tls_cert,
        tls_key=args.tls_key,
        tls_server_name=args.tls_server_name,
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


def _check_output(args: argparse.Namespace) -> None:
    """An output that cannot be written is refused before any work, so no result is lost."""
    if getattr(args, "output", None):
        path = Path(args.output)
        folder = path.parent
        if path.is_dir():
            raise UsageError(f"--output {args.output}: is a folder; give a file name (or use --output-dir)")
        if not folder.is_dir():
            raise UsageError(f"--output {args.output}: folder {folder} does not exist; create it first")
        if not os.access(folder, os.W_OK) or (path.exists() and not os.access(path, os.W_OK)):
            raise UsageError(f"--output {args.output}: cannot write there (permission denied)")
    if getattr(args, "output_dir", None):
        path = Path(args.output_dir)
        existing = next((p for p in (path, *path.parents) if p.exists()), None)
        if existing is not None and not existing.is_dir():
            raise UsageError(f"--output-dir {args.output_dir}: {existing} is a file, not a folder")
        if existing is not None and not os.access(existing, os.W_OK):
            raise UsageError(f"--output-dir {args.output_dir}: cannot write in {existing} (permission denied)")


def _paragraph_count(text: str) -> int:
    """The paragraphs the server will send: its non-blank lines."""
    return sum(1 for line in text.splitlines() if line.strip())


def _streamed(client: Client, args: argparse.Namespace, item: Item, echo: bool):
    """A single article's digest over StreamDigest: a progress line on a terminal, the
    paragraphs shown as they arrive (echo), no deadline for the whole, only --idle-timeout."""
    live = LiveDigest(_paragraph_count(item.text), sys.stderr, sys.stdout if echo else None)
    events = client.stream_digest(item.text, id=item.id, idle_timeout=args.idle_timeout, **batch.options(args))
    try:
        return assemble(live.watch(events), item.id)
    finally:
        live.close()


def _single(client: Client, args: argparse.Namespace, item: Item) -> int:
    if item.error:
        raise OSError(item.error)
    fmt = args.format or "text"
    id = "" if item.id == "stdin" else item.id
    echo = args.command == "digest" and fmt == "text" and not args.output and sys.stdout.isatty()
    if args.command == "digest":
        response = _streamed(client, args, item, echo)
    else:
        response = batch.call(client, args, item)
    if echo:  # the paragraphs are on the screen already: the summary and the flags' header follow
        sys.stdout.write("\n" + text_summary(response))
        return 0
    text = render(response, fmt, id, item.title, snake=args.json_keys == "snake")
    if args.output:
        with open(args.output, "w", encoding="utf-8") as f:
            f.write(text)
    else:
        sys.stdout.write(text)
    return 0


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
        _check_output(args)
        args.terms = _glossary(args)
        try:
            if not is_batch(args.inputs) and not args.output_dir:
                return _single(client, args, next(collect(args.inputs, args.glob, args.encoding)))
            return batch.run(client, args, list(collect(args.inputs, args.glob, args.encoding)))
        except NothingToRead as exc:
            raise UsageError(str(exc)) from None


def _explain(exc: ApiError, args: argparse.Namespace) -> str:
    """The server's message, and what to do where the CLI knows."""
    message = f"{exc.code}: {exc.message}"
    if exc.code == "DEADLINE_EXCEEDED" and "idle timeout" not in exc.message:
        message += f" (after --timeout {args.timeout:g} s: raise it for long work)"
    if exc.code in CONNECTION_CODES:
        message += f" (server {args.server})"
    hint = http_port_hint(exc, args.server)
    return f"{message}\nkhulasa: {hint}" if hint else message


def main(argv: list[str] | None = None) -> int:
    args = parse(argv)
    try:
        return run(args)
    except UsageError as exc:
        print(f"khulasa: {exc}", file=sys.stderr)
        return 2
    except OSError as exc:
        print(f"khulasa: cannot read input: {exc}", file=sys.stderr)
        return 2
    except ApiError as exc:
        print(f"khulasa: {_explain(exc, args)}", file=sys.stderr)
        return 2 if exc.code in CONNECTION_CODES else 1
    except KeyboardInterrupt:
        print("khulasa: interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())

"""`khulasa`: the command-line client."""

from __future__ import annotations

import argparse
import os
import sys

from . import render
from .client import DEFAULT_SERVER, ApiError, Client

# Statuses that mean "could not talk to a working server" (exit 2) rather than "this input
# failed" (exit 1).
_CONNECTION_CODES = {"UNAVAILABLE", "DEADLINE_EXCEEDED", "UNAUTHENTICATED", "PERMISSION_DENIED", "UNIMPLEMENTED"}

EXAMPLES = """examples:
  khulasa digest article.txt
  khulasa digest - --format json < article.txt
  khulasa translate article.txt --server 10.0.0.5:50051
  khulasa summarize article.txt --max-sentences 2
  khulasa health
  khulasa info
"""


def _read(path: str) -> str:
    if path == "-":
        return sys.stdin.read()
    with open(path, encoding="utf-8") as f:
        return f.read()


def _add_input(p: argparse.ArgumentParser) -> None:
    p.add_argument("input", help="a UTF-8 text file, or - for standard input")
    p.add_argument("--format", choices=("text", "json"), default="text")
    p.add_argument("--source-language", default="", help="ar or en; default: detect")


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="khulasa",
        description="Translate and summarize Arabic news through a khulasa server.",
        epilog=EXAMPLES,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument("--server", default=os.environ.get("KHULASA_SERVER", DEFAULT_SERVER),
                   help="HOST:PORT (default: $KHULASA_SERVER or %(default)s)")
    p.add_argument("--timeout", type=float, default=300.0, help="seconds per call (default: %(default)s)")
    sub = p.add_subparsers(dest="command", required=True)
    digest = sub.add_parser("digest", help="translation and summary of an article")
    _add_input(digest)
    digest.add_argument("--max-sentences", type=int, default=0, help="summary length (default: server's)")
    digest.add_argument("--summary-method", choices=("model", "extractive"), default="", help="default: the bundle's")
    translate = sub.add_parser("translate", help="English translation of a text")
    _add_input(translate)
    summarize = sub.add_parser("summarize", help="English summary of an article")
    _add_input(summarize)
    summarize.add_argument("--max-sentences", type=int, default=0)
    summarize.add_argument("--summary-method", choices=("model", "extractive"), default="", help="default: the bundle's")
    sub.add_parser("health", help="the server's health status")
    sub.add_parser("info", help="the server's bundle, models and limits")
    return p


def _run(args: argparse.Namespace, client: Client) -> str:
    if args.command == "health":
        return client.health() + "\n"
    if args.command == "info":
        return render.as_json(client.model_info()) + "\n"
    text = _read(args.input)
    if args.command == "digest":
        response = client.digest(
            text, max_sentences=args.max_sentences, source_language=args.source_language, summary_method=args.summary_method
        )
        return render.as_json(response) + "\n" if args.format == "json" else render.digest_text(response)
    if args.command == "translate":
        response = client.translate([text], source_language=args.source_language)
        return render.as_json(response) + "\n" if args.format == "json" else render.translate_text(response)
    response = client.summarize(
        text, max_sentences=args.max_sentences, source_language=args.source_language, summary_method=args.summary_method
    )
    return render.as_json(response) + "\n" if args.format == "json" else render.summarize_text(response)


def main(argv: list[str] | None = None) -> int:
    args = parser().parse_args(argv)
    try:
        with Client(args.server, timeout=args.timeout) as client:
            sys.stdout.write(_run(args, client))
    except OSError as exc:
        print(f"khulasa: cannot read input: {exc}", file=sys.stderr)
        return 2
    except UnicodeDecodeError:
        print("khulasa: input is not UTF-8 text", file=sys.stderr)
        return 2
    except ApiError as exc:
        where = f" (server {args.server})" if exc.code in _CONNECTION_CODES else ""
        print(f"khulasa: {exc.code}: {exc.message}{where}", file=sys.stderr)
        return 2 if exc.code in _CONNECTION_CODES else 1
    return 0


if __name__ == "__main__":
    sys.exit(main())

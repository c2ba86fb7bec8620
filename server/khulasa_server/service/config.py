"""Server settings, from (lowest to highest precedence) defaults, a TOML config file,
KHULASA_* environment variables, and command-line flags."""

from __future__ import annotations

import argparse
import dataclasses
import ipaddress
import math
import os
import re
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, fields
from pathlib import Path
from typing import Any

from khulasa_server import __version__

DEFAULT_BUNDLE = "qwen2.5-coder-1.5b"
INT_MAX = 2**31 - 1  # gRPC options and the protocol's limits are 32-bit
MAX_MESSAGE_BYTES = 2**30  # gRPC's own limit is set to twice this, which must stay below INT_MAX
LOG_LEVELS = ("debug", "info", "warning", "error")
NAMES_IN_SOURCE = ("all", "places", "off")  # --names-in-source, as every command takes it
_HOSTNAME = re.compile(r"[A-Za-z0-9]([A-Za-z0-9-]{0,62}[A-Za-z0-9])?(\.[A-Za-z0-9]([A-Za-z0-9-]{0,62}[A-Za-z0-9])?)*")


@dataclass
class Settings:
    bundle: str = DEFAULT_BUNDLE
    listen: str = "127.0.0.1:50051"
    device: str = "auto"
    compute_type: str = "default"
    inter_threads: int = 1
    intra_threads: int = 0
    max_batch_tokens: int = 4096
    batch_delay_ms: float = 5.0
    max_queue_tokens: int = 65536
    cache_size: int = 10000
    metrics_listen: str = ""
    http_listen: str = ""
    http_timeout: float = 600.0
    http_header_timeout: float = 10.0
    http_body_timeout: float = 30.0
    http_idle_timeout: float = 30.0
    http_max_connections: int = 1000
    stream_idle_timeout: float = 60.0
    workers: int = 128
    digest_many_concurrency: int = 16  # an LLM's calls fill only with many articles' rows queued
    max_text_chars: int = 100_000
    max_texts: int = 64
    max_message_bytes: int = 8 * 1024 * 1024
    max_summary_sentences: int = 10
    max_inflight_per_client: int = 64
    verify_bundle: bool = True
    name_repair: bool = True
    names_in_source: str = "all"
    grace: float = 10.0
    drain: float = 0.0
    log_level: str = "info"
    auth_token_file: str = ""
    glossary_file: str = ""
    tls_cert: str = ""
    tls_key: str = ""
    tls_client_ca: str = ""


_HELP = {
    "bundle": "bundle directory, or a bundle name under $KHULASA_HOME/bundles",
    "listen": "HOST:PORT to serve on (port 0 picks a free port)",
    "device": "auto, cpu or cuda",
    "compute_type": "CTranslate2 compute type; 'default': int8 on CPU, int8_float16 on a GPU",
    "inter_threads": "parallel model replicas (CTranslate2 inter_threads)",
    "intra_threads": "threads per replica; 0: cores / inter_threads",
    "max_batch_tokens": "largest padded batch handed to CTranslate2, in tokens",
    "batch_delay_ms": "how long the first request of a batch waits for others to join it",
    "max_queue_tokens": "source tokens of work allowed to wait; past it, RESOURCE_EXHAUSTED with a retry hint",
    "cache_size": "translated sentences kept in the in-memory cache (0: none)",
    "metrics_listen": "HOST:PORT for Prometheus metrics over HTTP (off when empty)",
    "http_listen": "HOST:PORT for the HTTP API (LibreTranslate-compatible and /v1 JSON) and the reading page "
    "at / (off when empty)",
    "http_timeout": "seconds an HTTP request may take (a client's X-Request-Timeout header can only shorten it)",
    "http_header_timeout": "seconds a client has to send a request's headers on the HTTP and metrics ports (past it, "
    "408 and the connection is closed), and to finish the HTTP/2 handshake on the gRPC port",
    "http_body_timeout": "seconds a client may pause while sending a request body; past it, 408",
    "http_idle_timeout": "seconds an idle keep-alive HTTP connection stays open",
    "http_max_connections": "open connections on the HTTP port (and, up to 64, the metrics port); past it, 503 and "
    "the connection is closed",
    "stream_idle_timeout": "seconds a DigestMany stream may wait for its next request with nothing in work; past it, "
    "the stream ends with DEADLINE_EXCEEDED",
    "workers": "gRPC handler threads: how many requests are worked on at once, and so the largest batch; past it, "
    "calls are refused at once with RESOURCE_EXHAUSTED (health has threads of its own)",
    "digest_many_concurrency": "articles of one DigestMany stream processed at once",
    "max_text_chars": "longest accepted text, in characters",
    "max_texts": "most texts in one Translate request",
    "max_message_bytes": "largest gRPC message received or sent",
    "max_summary_sentences": "largest accepted max_sentences",
    "max_inflight_per_client": "RPCs one client (bearer token, else address) may have in flight",
    "verify_bundle": "check every bundle file's sha256 before serving",
    "name_repair": "with an LLM, decode a segment flagged for a lost name again with its names as terms and "
    "keep the better (costs time on flagged segments only)",
    "names_in_source": "write known names in English into the source the model reads: all (people in their usual "
    "spelling too), places (gazetteer names only) or off (docs/quality.md has the measurement)",
    "grace": "seconds in-flight requests get to finish on SIGTERM",
    "drain": "seconds between health turning NOT_SERVING and refusing new calls on SIGTERM, so load balancers stop sending first",
    "log_level": "debug, info, warning or error",
    "auth_token_file": "require 'authorization: Bearer TOKEN' with a token from this file (one per line; "
    "re-read on SIGHUP; health and reflection stay open)",
    "glossary_file": "TSV of 'arabic<TAB>english' terms applied to every request",
    "tls_cert": "PEM certificate chain: serve TLS",
    "tls_key": "PEM private key of --tls-cert",
    "tls_client_ca": "PEM CA: require client certificates signed by it (mutual TLS)",
}


def _coerce(name: str, kind: type, value: Any) -> Any:
    """A value from the TOML file or the environment, in the setting's type. Strict: a TOML
    1.9 or true for a count is refused, not rounded to 1."""
    if kind is bool:
        if isinstance(value, bool):
            return value
        text = str(value).strip().lower()
        if text in ("1", "true", "yes", "on"):
            return True
        if text in ("0", "false", "no", "off"):
            return False
        raise ValueError(f"{name}: expected true or false, got {value!r}")
    if kind is str:
        if not isinstance(value, str):
            raise ValueError(f"{name}: expected a string, got {value!r}")
        return value
    if isinstance(value, bool):
        raise ValueError(f"{name}: expected {kind.__name__}, got {value!r}")
    if kind is int:
        if isinstance(value, int):
            return value
        if isinstance(value, str) and re.fullmatch(r"\s*[+-]?\d+\s*", value):
            return int(value)
        raise ValueError(f"{name}: expected int, got {value!r}")
    try:
        return kind(value)
    except (TypeError, ValueError):
        raise ValueError(f"{name}: expected {kind.__name__}, got {value!r}") from None


def address(value: str, name: str, host_required: bool = True) -> tuple[str, int]:
    """(host, port) of a HOST:PORT setting; IPv6 hosts in brackets ([::1]:50051)."""
    usage = f"{name}: expected HOST:PORT with a port from 0 to 65535 (IPv6 in brackets, e.g. [::1]:50051), got {value!r}"
    host, sep, port = value.rpartition(":")
    if not sep or not re.fullmatch(r"\d{1,5}", port) or int(port) > 65535:
        raise ValueError(usage)
    if not host:
        if host_required:
            raise ValueError(usage)
        return host, int(port)
    if host.startswith("[") and host.endswith("]"):
        try:
            ipaddress.IPv6Address(host[1:-1])
        except ValueError:
            raise ValueError(f"{name}: {host} is not an IPv6 address") from None
    elif ":" in host:
        raise ValueError(usage)
    elif re.fullmatch(r"[\d.]+", host):
        try:
            ipaddress.IPv4Address(host)
        except ValueError:
            raise ValueError(f"{name}: {host} is not an IPv4 address") from None
    elif not _HOSTNAME.fullmatch(host):
        raise ValueError(f"{name}: {host!r} is not a host name")
    return host, int(port)


def _types() -> dict[str, type]:
    defaults = Settings()
    return {f.name: type(getattr(defaults, f.name)) for f in fields(Settings)}


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="khulasa-server",
        description="Serve Arabic→English news translation and summaries over gRPC.",
        epilog="Every flag can also be set as KHULASA_<NAME> (e.g. KHULASA_LISTEN) or in the "
        "TOML file given by --config / KHULASA_CONFIG (keys as the flag names, with _).",
    )
    p.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    p.add_argument("--config", help="TOML settings file (default: $KHULASA_CONFIG, else none)")
    defaults = Settings()
    for name, kind in _types().items():
        flag = "--" + name.replace("_", "-")
        # The parser's own default stays None so that file and environment can be told from a
        # flag; the help shows the built-in value.
        help = f"{_HELP[name]} (default: {_shown(getattr(defaults, name))})".replace("%", "%%")
        if kind is bool:
            p.add_argument(flag, dest=name, default=None, action=argparse.BooleanOptionalAction, help=help)
        else:
            p.add_argument(flag, dest=name, default=None, type=kind, help=help)
    return p


def _shown(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value) if value != "" else "none"


def load(argv: list[str] | None = None, environ: Mapping[str, str] | None = None) -> Settings:
    env_vars: Mapping[str, str] = os.environ if environ is None else environ
    args = parser().parse_args(argv)
    types = _types()
    values: dict[str, Any] = {}
    config = args.config or env_vars.get("KHULASA_CONFIG")
    if config:
        with open(Path(config).expanduser(), "rb") as f:
            data = tomllib.load(f)
        unknown = sorted(set(data) - set(types))
        if unknown:
            raise ValueError(f"{config}: unknown settings {', '.join(unknown)}")
        values.update({k: _coerce(k, types[k], v) for k, v in data.items()})
    for name, kind in types.items():
        env = env_vars.get("KHULASA_" + name.upper())
        if env is not None:
            values[name] = _coerce("KHULASA_" + name.upper(), kind, env)
        flag = getattr(args, name)
        if flag is not None:
            values[name] = flag
    settings = dataclasses.replace(Settings(), **values)
    validate(settings)
    return settings


def names_in_source(value: str) -> str:
    """--names-in-source as the pipeline reads it: "off" is none ("")."""
    return "" if value == "off" else value


def validate(s: Settings) -> None:
    if s.device not in ("auto", "cpu", "cuda"):
        raise ValueError(f"device: expected auto, cpu or cuda, got {s.device!r}")
    address(s.listen, "listen")
    if s.metrics_listen:
        address(s.metrics_listen, "metrics_listen", host_required=False)
    if s.http_listen:
        address(s.http_listen, "http_listen")
    for name in ("http_timeout", "http_header_timeout", "http_body_timeout", "http_idle_timeout", "stream_idle_timeout"):
        value = getattr(s, name)
        if not (value > 0 and math.isfinite(value)):
            raise ValueError(f"{name}: must be a number of seconds more than 0, got {value}")
    if s.log_level.lower() not in LOG_LEVELS:
        raise ValueError(f"log_level: expected one of {', '.join(LOG_LEVELS)}, got {s.log_level!r}")
    if s.names_in_source not in ("", *NAMES_IN_SOURCE):
        raise ValueError(f"names_in_source: expected all, places or off, got {s.names_in_source!r}")
    s.names_in_source = names_in_source(s.names_in_source)
    if bool(s.tls_cert) != bool(s.tls_key):
        raise ValueError("tls_cert and tls_key go together")
    if s.tls_client_ca and not s.tls_cert:
        raise ValueError("tls_client_ca needs tls_cert and tls_key")
    for name in (
        "inter_threads",
        "workers",
        "digest_many_concurrency",
        "max_text_chars",
        "max_texts",
        "max_message_bytes",
        "max_summary_sentences",
        "max_batch_tokens",
        "max_queue_tokens",
        "max_inflight_per_client",
        "http_max_connections",
    ):
        if getattr(s, name) < 1:
            raise ValueError(f"{name}: must be at least 1")
    for name in ("intra_threads", "cache_size"):
        if getattr(s, name) < 0:
            raise ValueError(f"{name}: must be 0 or more")
    for f in fields(Settings):
        value = getattr(s, f.name)
        if isinstance(value, int) and not isinstance(value, bool) and value > INT_MAX:
            raise ValueError(f"{f.name}: {value} is too large (at most {INT_MAX})")
    if s.max_message_bytes > MAX_MESSAGE_BYTES:
        raise ValueError(f"max_message_bytes: {s.max_message_bytes} is too large (at most {MAX_MESSAGE_BYTES}, 1 GiB)")
    for name in ("batch_delay_ms", "grace", "drain"):
        value = getattr(s, name)
        if not math.isfinite(value) or value < 0:
            raise ValueError(f"{name}: must be a number of 0 or more, got {value}")

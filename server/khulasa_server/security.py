"""Bearer-token authentication and TLS credentials for the server."""

from __future__ import annotations

import hmac
import logging
import threading
from pathlib import Path

import grpc

log = logging.getLogger("khulasa.security")
# Probes and service discovery stay open so load balancers and grpcurl work without a token.
EXEMPT_PREFIXES = ("/grpc.health.v1.Health/", "/grpc.reflection.")


def _read_tokens(path: Path) -> list[bytes]:
    tokens = [line.strip() for line in path.read_text(encoding="utf-8").splitlines()]
    tokens = [t for t in tokens if t and not t.startswith("#")]
    if not tokens:
        raise ValueError(f"{path}: no tokens (one per line)")
    return [t.encode() for t in tokens]


class TokenAuth(grpc.ServerInterceptor):
    """Requires `authorization: Bearer <token>` with a token from the file; reload() re-reads it
    (the server calls it on SIGHUP), so tokens rotate without a restart."""

    def __init__(self, path: str | Path):
        self.path = Path(path)
        self._lock = threading.Lock()
        self._tokens = _read_tokens(self.path)

    def reload(self) -> None:
        try:
            tokens = _read_tokens(self.path)
        except (OSError, ValueError) as exc:  # keep serving with the tokens we have
            log.error("token file not reloaded: %s", exc)
            return
        with self._lock:
            self._tokens = tokens
        log.info("token file reloaded", extra={"tokens": len(tokens)})

    def allows(self, metadata) -> bool:
        header = next((v for k, v in metadata or () if k == "authorization"), "")
        scheme, _, token = header.partition(" ")
        if scheme.lower() != "bearer" or not token:
            return False
        presented = token.strip().encode()
        with self._lock:
            tokens = self._tokens
        # Compare against every token, in constant time each, so timing reveals nothing.
        return any([hmac.compare_digest(presented, t) for t in tokens])

    def intercept_service(self, continuation, details):
        if details.method.startswith(EXEMPT_PREFIXES) or self.allows(details.invocation_metadata):
            return continuation(details)
        handler = continuation(details)
        if handler is None:
            return None

        def deny(request, context):
            context.abort(grpc.StatusCode.UNAUTHENTICATED, "missing or invalid bearer token (authorization metadata)")

        kinds = {
            (False, False): grpc.unary_unary_rpc_method_handler,
            (False, True): grpc.unary_stream_rpc_method_handler,
            (True, False): grpc.stream_unary_rpc_method_handler,
            (True, True): grpc.stream_stream_rpc_method_handler,
        }
        make = kinds[(handler.request_streaming, handler.response_streaming)]
        return make(deny, request_deserializer=handler.request_deserializer, response_serializer=handler.response_serializer)


def server_credentials(cert: str, key: str, client_ca: str = "") -> grpc.ServerCredentials:
    """TLS with the given certificate chain; with client_ca, clients must present a
    certificate signed by it (mutual TLS)."""
    pair = (Path(key).read_bytes(), Path(cert).read_bytes())
    root = Path(client_ca).read_bytes() if client_ca else None
    return grpc.ssl_server_credentials([pair], root_certificates=root, require_client_auth=root is not None)


def is_loopback(listen: str) -> bool:
    host = listen.rsplit(":", 1)[0].strip("[]")
    return host in ("localhost", "::1") or host.startswith("127.")

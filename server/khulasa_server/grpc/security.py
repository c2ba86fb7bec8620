"""Bearer-token authentication and TLS credentials for the server."""

from __future__ import annotations

import hashlib
import hmac
import logging
import ssl
import threading
from pathlib import Path

import grpc

from khulasa_server.errors import Unauthenticated
from khulasa_server.grpc.interceptors import CALLER, rewrap

log = logging.getLogger("khulasa.security")
# Probes and service discovery stay open so load balancers and grpcurl work without a token.
EXEMPT_PREFIXES = ("/grpc.health.v1.Health/", "/grpc.reflection.")


def _read_tokens(path: Path) -> list[bytes]:
    """The file's tokens, one a line; blank lines and # comments skipped. Errors name the flag."""
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ValueError(f"--auth-token-file {path}: no such file") from None
    except UnicodeDecodeError:
        raise ValueError(f"--auth-token-file {path}: not UTF-8 text") from None
    except OSError as exc:
        raise ValueError(f"--auth-token-file {path}: cannot read it ({exc.strerror or exc})") from None
    tokens = [line.strip() for line in text.splitlines()]
    return [t.encode() for t in tokens if t and not t.startswith("#")]


class TokenAuth(grpc.ServerInterceptor):
    """Requires `authorization: Bearer <token>` with a token from the file; reload() re-reads it
    (the server calls it on SIGHUP), so tokens rotate without a restart."""

    def __init__(self, path: str | Path):
        self.path = Path(path)
        self._lock = threading.Lock()
        self._tokens = _read_tokens(self.path)
        if not self._tokens:  # at start, an empty file is a mistake; on reload, a revocation
            raise ValueError(f"--auth-token-file {self.path}: no tokens (one per line; # starts a comment)")

    def reload(self) -> None:
        """Fails closed: a file emptied, commented out or deleted revokes every token (an operator
        revoking a leaked token must not find the old ones still valid); only a file that exists
        but cannot be read keeps the tokens in use."""
        try:
            tokens = _read_tokens(self.path)
        except ValueError as exc:
            if self.path.exists():
                log.error("token file not reloaded, the tokens in use stay: %s", exc)
                return
            tokens = []
        with self._lock:
            self._tokens = tokens
        if tokens:
            log.info("token file reloaded", extra={"tokens": len(tokens)})
        else:
            log.warning("token file reloaded with no tokens: every call that needs one is refused", extra={"tokens": 0})

    def identify(self, metadata) -> str | None:
        """The caller's identity, "token:<hash>" of the token it matched, or None. Padding or
        case in the header does not make another identity."""
        header = next((v for k, v in metadata or () if k == "authorization"), "")
        if not isinstance(header, str):
            return None
        scheme, _, token = header.partition(" ")
        if scheme.lower() != "bearer":
            return None
        return self.match(token)

    def match(self, token: str) -> str | None:
        """ "token:<hash>" of the file's token equal to token (surrounding spaces aside), or None:
        the core asks this for every front end."""
        if not token.strip():
            return None
        presented = token.strip().encode()
        with self._lock:
            tokens = self._tokens
        # Compare against every token, in constant time each, so timing reveals nothing.
        matched = None
        for candidate in tokens:
            if hmac.compare_digest(presented, candidate):
                matched = candidate
        return None if matched is None else "token:" + hashlib.sha256(matched).hexdigest()[:12]

    def allows(self, metadata) -> bool:
        return self.identify(metadata) is not None

    def intercept_service(self, continuation, details):
        handler = continuation(details)
        if handler is None or details.method.startswith(EXEMPT_PREFIXES):
            return handler
        identity = self.identify(details.invocation_metadata)

        def authenticated(behavior, streaming):
            def run(request, context):
                if identity is None:
                    raise Unauthenticated("missing or invalid bearer token: pass --token (token= in the Python client)")
                CALLER.set(identity)  # in the call's own context (interceptors.OpenCall)
                return behavior(request, context)

            return run

        return rewrap(handler, authenticated)


def server_credentials(cert: str, key: str, client_ca: str = "") -> grpc.ServerCredentials:
    """TLS with the given certificate chain; with client_ca, clients must present a
    certificate signed by it (mutual TLS)."""
    # gRPC reads PEM only when the port is added, and fails with lines of its own; check the
    # files first so a wrong one gets one clear line.
    check = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    try:
        check.load_cert_chain(cert, key)
    except ssl.SSLError as exc:
        raise ValueError(
            f"tls_cert {cert} and tls_key {key} are not a PEM certificate chain and its key ({exc.reason})"
        ) from None
    if client_ca:
        try:
            check.load_verify_locations(cafile=client_ca)
        except ssl.SSLError as exc:
            raise ValueError(f"tls_client_ca {client_ca} is not a PEM certificate ({exc.reason})") from None
    pair = (Path(key).read_bytes(), Path(cert).read_bytes())
    root = Path(client_ca).read_bytes() if client_ca else None
    return grpc.ssl_server_credentials([pair], root_certificates=root, require_client_auth=root is not None)


def is_loopback(listen: str) -> bool:
    host = listen.rsplit(":", 1)[0].strip("[]")
    return host in ("localhost", "::1") or host.startswith("127.")

"""The HTTP front end (--http-listen): LibreTranslate's API, khulasa's own JSON API, health,
metrics and the reading page, served by uvicorn from the gRPC server's process on its own
thread and event loop, calling the same core, pipeline and batcher (no second copy of the models)."""

from __future__ import annotations

import asyncio
import errno
import logging
import math
import socket
import ssl
import threading
import time
from typing import Any

import uvicorn
from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.middleware import Middleware
from starlette.middleware.cors import CORSMiddleware
from starlette.requests import Request
from starlette.responses import JSONResponse

from khulasa_server.http import libretranslate, routes
from khulasa_server.http.common import HttpCalls
from khulasa_server.http.front import TIMEOUT_HEADER, Front
from khulasa_server.http.guard import Limits, protocol
from khulasa_server.service.core import Core

log = logging.getLogger("khulasa.http")


async def _not_found(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, HTTPException)  # the only class it is registered for
    return JSONResponse({"error": exc.detail}, status_code=exc.status_code, headers=exc.headers)


def build_app(front: Front, metrics_only: bool = False) -> Starlette:
    served = [r for r in routes.ROUTES if getattr(r, "path", "") == "/metrics"] if metrics_only else None
    s = front.settings
    app = Starlette(
        routes=served or [*libretranslate.ROUTES, *routes.ROUTES],
        middleware=[
            Middleware(HttpCalls, limit=s.max_message_bytes, body_timeout=s.http_body_timeout),
            # As LibreTranslate: browser extensions and web editors call it from other origins.
            Middleware(
                CORSMiddleware,
                allow_origins=["*"],
                allow_methods=["GET", "POST"],
                allow_headers=["Authorization", "Content-Type", "X-Request-Id", TIMEOUT_HEADER],
                expose_headers=["X-Request-Id", "Retry-After"],
                max_age=86400,
            ),
        ],
        exception_handlers={HTTPException: _not_found},
    )
    app.state.front = front
    return app


def _bind(listen: str, name: str) -> socket.socket:
    host, _, port = listen.rpartition(":")
    host = host.strip("[]") or "127.0.0.1"
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    # IPPROTO_TCP named explicitly: asyncio sets TCP_NODELAY only on sockets whose proto says
    # TCP, and without it each response's second write waits for a delayed ACK (+40 ms a request).
    sock = socket.socket(family, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind((host, int(port)))
        sock.listen(2048)
    except OSError as exc:
        sock.close()
        if exc.errno == errno.EADDRINUSE:
            raise OSError(f"cannot listen on {listen} ({name}): the port is in use (another server?)") from None
        raise OSError(f"cannot listen on {listen} ({name}): {exc.strerror or exc}") from None
    sock.setblocking(False)
    return sock


METRICS_MAX_CONNECTIONS = 64  # Prometheus scrapes with one connection; a few more for people


class HttpServer:
    """The HTTP API on --http-listen, or with metrics_only, /metrics alone on --metrics-listen:
    the same token, timeouts and connection cap on both."""

    def __init__(self, core: Core, metrics_only: bool = False):
        self.front = Front(core)
        self.settings = s = core.settings
        self.listen = s.metrics_listen if metrics_only else s.http_listen
        self.metrics_only = metrics_only
        cap = min(METRICS_MAX_CONNECTIONS, s.http_max_connections) if metrics_only else s.http_max_connections
        self.limits = Limits("metrics" if metrics_only else "HTTP", cap, s.http_header_timeout)
        self.port = 0
        self._server: uvicorn.Server | None = None
        self._thread: threading.Thread | None = None

    def start(self) -> int:
        """Listens (raises OSError when it cannot) and serves on a thread of its own."""
        s = self.settings
        sock = _bind(self.listen, "metrics_listen" if self.metrics_only else "http_listen")
        tls: dict[str, Any] = {}
        if s.tls_cert and not self.metrics_only:  # the gRPC side's certificate, and client CA for mutual TLS
            tls = dict(ssl_certfile=s.tls_cert, ssl_keyfile=s.tls_key)
            if s.tls_client_ca:
                tls.update(ssl_ca_certs=s.tls_client_ca, ssl_cert_reqs=ssl.CERT_REQUIRED)
        config = uvicorn.Config(
            build_app(self.front, self.metrics_only),
            http=protocol(self.limits),
            lifespan="off",
            log_config=None,
            access_log=False,
            server_header=False,
            timeout_graceful_shutdown=max(1, int(s.grace)),
            timeout_keep_alive=max(1, math.ceil(s.http_idle_timeout)),
            **tls,
        )
        self._server = uvicorn.Server(config)
        self._thread = threading.Thread(target=self._run, args=(sock,), name="http", daemon=True)
        self._thread.start()
        self.port = sock.getsockname()[1]
        return self.port

    def _run(self, sock: socket.socket) -> None:
        assert self._server is not None  # start() sets it before the thread starts
        asyncio.run(self._server.serve(sockets=[sock]))

    def drain(self) -> None:
        """/readyz answers 503 from now on; calls are still taken (load balancers move away)."""
        self.front.ready = False

    def stop(self, grace: float) -> None:
        """Stops listening and refuses new work (503); requests in flight get up to `grace`
        seconds, then their work is stopped and they answer 503, so the process exits in time."""
        self.front.ready = False
        self.front.closing = True
        if self._server is not None:
            # uvicorn's own cut comes after ours, so that the stopped requests' 503 gets out.
            self._server.config.timeout_graceful_shutdown = math.ceil(grace) + 3 if grace > 0 else None
            self._server.should_exit = True
            self._server.force_exit = grace <= 0
        end = time.monotonic() + grace
        while self.front.calls and time.monotonic() < end:
            time.sleep(0.05)
        self.front.abandon()
        if self._thread is not None:
            self._thread.join(grace + 5)
        self.front.close()

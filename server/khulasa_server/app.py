"""The server process: gRPC server, health, reflection, bundle loading, signals."""

from __future__ import annotations

import errno
import logging
import signal
import socket
import sys
import threading
import time
from concurrent import futures

import grpc
from grpc_health.v1 import health, health_pb2, health_pb2_grpc
from grpc_reflection.v1alpha import reflection
from khulasa.v1 import khulasa_pb2, khulasa_pb2_grpc

from khulasa_server import __version__, logs, metrics
from khulasa_server.errors import BundleError
from khulasa_server.grpc import admission, interceptors, security
from khulasa_server.grpc.service import NewsDigestService
from khulasa_server.models import bundle
from khulasa_server.pipeline import glossary, options
from khulasa_server.pipeline.pipeline import Pipeline
from khulasa_server.service import config
from khulasa_server.service.core import Core

log = logging.getLogger("khulasa.server")
OPEN_FILES_RESERVE = 256  # descriptors besides HTTP connections: gRPC's, the bundle's, the metrics port's
SERVICE_NAME = khulasa_pb2.DESCRIPTOR.services_by_name["NewsDigest"].full_name


class Server:
    """Listens first (health NOT_SERVING), then loads the bundle, then reports SERVING."""

    def __init__(self, settings: config.Settings):
        self.settings = settings
        self.auth = security.TokenAuth(settings.auth_token_file) if settings.auth_token_file else None
        self.core = Core(settings, self.auth)  # what gRPC and HTTP both call
        self.service = NewsDigestService(self.core)
        self.health = health.HealthServicer()
        limit = settings.max_message_bytes
        # Admission outermost: health on threads of its own, and no call queued behind busy workers.
        self.admission = admission.Admission(settings.workers)
        chain = [
            self.admission,
            interceptors.OpenCall(self.core),
            self.auth,
            interceptors.ClientLimit(),
            interceptors.Decode(limit),
        ]
        self.grpc = grpc.server(
            futures.ThreadPoolExecutor(max_workers=settings.workers, thread_name_prefix="rpc"),
            interceptors=[i for i in chain if i is not None],
            maximum_concurrent_rpcs=settings.workers + admission.BACKSTOP,
            # gRPC's own limits are twice ours: a message between the two reaches khulasa, which
            # refuses it with a status naming max_message_bytes (in DigestMany, as one failed
            # item); only one over twice the limit is cut off by gRPC itself.
            options=[
                ("grpc.max_receive_message_length", 2 * limit),
                ("grpc.max_send_message_length", 2 * limit),
                # Without this, a second server started on the same port shares it.
                ("grpc.so_reuseport", 0),
                # A connection that does not finish its HTTP/2 handshake in time is closed (gRPC's
                # default is 120 s): the HTTP port's header timeout, for the same reason.
                ("grpc.server_handshake_timeout_ms", max(1, int(settings.http_header_timeout * 1000))),
            ],
        )
        khulasa_pb2_grpc.add_NewsDigestServicer_to_server(self.service, self.grpc)
        health_pb2_grpc.add_HealthServicer_to_server(self.health, self.grpc)
        reflection.enable_server_reflection((SERVICE_NAME, health.SERVICE_NAME, reflection.SERVICE_NAME), self.grpc)
        self._set_health(health_pb2.HealthCheckResponse.NOT_SERVING)
        self.port = 0
        self.http = self.metrics = None
        if settings.http_listen or settings.metrics_listen:  # same process, same core and pipeline
            from khulasa_server.http import HttpServer

            self.http = HttpServer(self.core) if settings.http_listen else None
            self.metrics = HttpServer(self.core, metrics_only=True) if settings.metrics_listen else None

    def _set_health(self, status) -> None:
        for name in ("", SERVICE_NAME):
            self.health.set(name, status)

    def start(self) -> int:
        s = self.settings
        _check_free(s.listen)
        try:
            if s.tls_cert:
                port = self.grpc.add_secure_port(s.listen, security.server_credentials(s.tls_cert, s.tls_key, s.tls_client_ca))
            else:
                port = self.grpc.add_insecure_port(s.listen)
        except RuntimeError:  # gRPC could not bind (a race with another process, an odd address)
            port = 0
        if not security.is_loopback(s.listen) and not (s.tls_cert and self.auth):
            log.warning(
                "SERVING ON A NON-LOOPBACK ADDRESS WITHOUT %s: anyone who can reach %s can use this server",
                " AND ".join(x for x, on in (("TLS", s.tls_cert), ("TOKEN AUTH", self.auth)) if not on),
                s.listen,
            )
        if port == 0:
            raise OSError(f"could not listen on {self.settings.listen}: the port is in use or the address is not this machine's")
        self.grpc.start()
        self.port = port
        host = self.settings.listen.rsplit(":", 1)[0]
        log.info("listening", extra={"address": f"{host}:{port}", "version": __version__})
        if self.http:
            http_port = self.http.start()
            log.info("listening (HTTP)", extra={"address": f"{s.http_listen.rsplit(':', 1)[0]}:{http_port}"})
            if not security.is_loopback(s.http_listen) and not (s.tls_cert and self.auth):
                log.warning(
                    "HTTP ON A NON-LOOPBACK ADDRESS WITHOUT TLS AND TOKEN AUTH: anyone who can reach %s can use this server",
                    s.http_listen,
                )
        return port

    def load(self) -> None:
        s = self.settings
        runtime = options.runtime(s)
        start = time.perf_counter()
        terms = glossary.load_file(s.glossary_file) if s.glossary_file else None
        pipeline = Pipeline.from_settings(s, glossary=terms)
        metrics.MODEL_LOAD.set(time.perf_counter() - start)
        placed = runtime.model_options()
        self.core.serve(pipeline, {"device": placed["device"], "compute_type": placed["compute_type"]})
        self._set_health(health_pb2.HealthCheckResponse.SERVING)
        log.info(
            "bundle loaded",
            extra={
                "bundle": pipeline.bundle.name,
                "path": str(pipeline.bundle.path),
                "seconds": round(time.perf_counter() - start, 2),
                **placed,
            },
        )

    def start_metrics(self) -> int:
        """/metrics on --metrics-listen, behind the token file and the HTTP port's timeouts; the port."""
        assert self.metrics is not None  # only called with metrics_listen set
        return self.metrics.start()

    def ready_line(self) -> None:
        """Once the bundle is loaded: where a person opens the reading page."""
        if self.http and self.http.port:
            host = self.settings.http_listen.rsplit(":", 1)[0]
            shown = "127.0.0.1" if host in ("0.0.0.0", "") else "[::1]" if host == "[::]" else host
            log.info(f"ready: open http://{shown}:{self.http.port}/")

    def stop(self, grace: float | None = None, drain: float | None = None) -> None:
        self.health.enter_graceful_shutdown()  # NOT_SERVING from now on
        if self.http:
            self.http.drain()
        time.sleep(self.settings.drain if drain is None else drain)  # still accepting calls meanwhile
        grace = self.settings.grace if grace is None else grace
        stopped = self.grpc.stop(grace)
        if self.http:
            self.http.stop(grace)
        stopped.wait()
        self.service.close()
        self.admission.close()
        if self.core.pipeline is not None:
            self.core.pipeline.close()
        if self.metrics is not None:
            self.metrics.stop(0)


def _check_free(listen: str) -> None:
    """A clear message when the port is taken, before gRPC tries (it logs its own lines)."""
    host, port = config.address(listen, "listen")
    if port == 0:
        return
    try:
        addresses = socket.getaddrinfo(host.strip("[]"), port, type=socket.SOCK_STREAM)
    except OSError:
        return  # gRPC resolves it, or says it cannot
    for family, kind, proto, _, address in addresses:
        with socket.socket(family, kind, proto) as probe:
            probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # as gRPC binds
            try:
                probe.bind(address)
            except OSError as exc:
                if exc.errno == errno.EADDRINUSE:
                    raise OSError(f"cannot listen on {listen}: the port is in use (another server?)") from None


def raise_open_files(settings: config.Settings) -> int:
    """The open-files soft limit raised to the hard one (as nginx's worker_rlimit_nofile): both
    listeners, the bundle's files and every connection share it, and the common default soft
    limit of 1,024 is what a flood of idle connections exhausts first. Returns the limit."""
    try:
        import resource
    except ImportError:  # not a POSIX system
        return 0
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    target = hard if hard != resource.RLIM_INFINITY else max(soft, 1 << 20)
    if soft != resource.RLIM_INFINITY and soft < target:
        try:
            resource.setrlimit(resource.RLIMIT_NOFILE, (target, hard))
            soft = target
        except (OSError, ValueError) as exc:
            log.warning("could not raise the open-files limit from %d to %d: %s", soft, target, exc)
    room = soft - OPEN_FILES_RESERVE
    if settings.http_listen and soft != resource.RLIM_INFINITY and settings.http_max_connections > room:
        capped = max(16, room)
        log.warning(
            "the open-files limit (%d) leaves room for %d HTTP connections besides %d for gRPC, the bundle and "
            "the metrics port: http_max_connections lowered from %d (raise the limit with ulimit -n)",
            soft,
            capped,
            OPEN_FILES_RESERVE,
            settings.http_max_connections,
        )
        settings.http_max_connections = capped
    return soft


def main(argv: list[str] | None = None) -> int:
    try:
        settings = config.load(argv)
    except (ValueError, OSError) as exc:
        print(f"khulasa-server: {exc}", file=sys.stderr)
        return 2
    logs.setup(settings.log_level)
    raise_open_files(settings)
    try:  # the manifest alone (no weights): a wrong --bundle is told before anything listens
        bundle.load(settings.bundle, verify_checksums=False)
    except BundleError as exc:
        log.error("cannot serve: %s", exc, extra={"kind": type(exc).__name__})
        return 2
    try:
        server = Server(settings)
    except (OSError, ValueError) as exc:
        log.error("cannot start: %s", exc)
        return 2
    try:
        server.start()
        if settings.metrics_listen:
            log.info("metrics", extra={"address": settings.metrics_listen.rpartition(":")[0] + f":{server.start_metrics()}"})
    except (OSError, ValueError) as exc:
        log.error("cannot start: %s", exc)
        server.stop(0, 0)
        return 2
    stopping = threading.Event()
    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, lambda *_: stopping.set())
    # SIGHUP, whose default action ends the process, must never stop a server.
    signal.signal(signal.SIGHUP, lambda *_: _reload(server))
    try:
        server.load()
    except Exception as exc:  # a bad bundle must end the process with a message, not a trace
        log.error("cannot serve: %s", exc, extra={"kind": type(exc).__name__})
        server.stop(0)
        return 2
    server.ready_line()
    stopping.wait()
    log.info("shutting down", extra={"grace": settings.grace})
    server.stop()
    return 0


def _reload(server: Server) -> None:
    if server.auth:
        server.auth.reload()
    else:
        log.info("SIGHUP: nothing to reload (no --auth-token-file)")


if __name__ == "__main__":
    sys.exit(main())

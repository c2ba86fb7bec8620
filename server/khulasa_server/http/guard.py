"""The HTTP listeners' own defences, below the application: a cap on open connections and a
time limit on a request's headers (as nginx's client_header_timeout and Envoy's
request_headers_timeout). Without them a client that opens connections and sends nothing, or
one byte a second, holds a file descriptor each until the process runs out and every listener,
gRPC included, stops accepting. The request body's own timeout is the ASGI middleware's
(common.HttpCalls), where the answer can still be a normal 408."""

from __future__ import annotations

import asyncio
import json
import logging
from dataclasses import dataclass, field

import h11
from uvicorn.protocols.http.h11_impl import H11Protocol

from khulasa_server import metrics

log = logging.getLogger("khulasa.http")


@dataclass
class Limits:
    """One listener's limits and the state they share across its connections."""

    name: str  # "HTTP" or "metrics", for the log line
    max_connections: int
    header_timeout: float
    open: int = 0
    capped: bool = False  # the cap's log line is written once per episode, not per connection
    refused: int = field(default=0)


def _raw(status: int, reason: str, message: str, extra: str = "") -> bytes:
    body = json.dumps({"error": message}).encode()
    head = (
        f"HTTP/1.1 {status} {reason}\r\ncontent-type: application/json\r\ncontent-length: {len(body)}\r\n"
        f"connection: close\r\n{extra}\r\n"
    )
    return head.encode() + body


def protocol(limits: Limits) -> type[H11Protocol]:
    """uvicorn's h11 protocol with the listener's limits."""

    class Guarded(H11Protocol):
        _refused = False
        _header_timer: asyncio.TimerHandle | None = None

        def connection_made(self, transport) -> None:
            if limits.open >= limits.max_connections:
                self._refused = True
                limits.refused += 1
                metrics.HTTP_REFUSED_CONNECTIONS.labels(listener=limits.name).inc()
                if not limits.capped:
                    limits.capped = True
                    log.warning(
                        "%s connection cap reached: %d open; new connections get 503 until some close (http_max_connections)",
                        limits.name,
                        limits.open,
                    )
                message = f"the server has {limits.open} connections open, its limit (http_max_connections); retry later"
                transport.write(_raw(503, "Service Unavailable", message, "retry-after: 1\r\n"))
                transport.close()
                return
            limits.open += 1
            super().connection_made(transport)
            self._arm()

        def connection_lost(self, exc: Exception | None) -> None:
            if self._refused:
                return
            limits.open -= 1
            if limits.capped and limits.open < limits.max_connections * 0.9:
                limits.capped = False
                log.info(
                    "%s connections below the cap again", limits.name, extra={"open": limits.open, "refused": limits.refused}
                )
            self._disarm()
            super().connection_lost(exc)

        def data_received(self, data: bytes) -> None:
            # The first bytes of a further request on a kept-alive connection start its clock.
            if self._header_timer is None and self.conn.their_state is h11.IDLE:
                self._arm()
            super().data_received(data)

        def handle_events(self) -> None:
            super().handle_events()
            if self.conn.their_state is not h11.IDLE:  # the headers are in (or the connection is over)
                self._disarm()

        def _arm(self) -> None:
            self._header_timer = self.loop.call_later(limits.header_timeout, self._headers_late)

        def _disarm(self) -> None:
            if self._header_timer is not None:
                self._header_timer.cancel()
                self._header_timer = None

        def _headers_late(self) -> None:
            self._header_timer = None
            if self.transport.is_closing() or self.conn.their_state is not h11.IDLE:
                return
            if self.cycle is not None and not self.cycle.response_complete:
                return  # a request of this connection is still being answered
            message = f"the request headers did not arrive within {limits.header_timeout:g} s (http_header_timeout)"
            metrics.HTTP_TIMEOUTS.labels(kind="headers").inc()
            self.transport.write(_raw(408, "Request Timeout", message))
            self.transport.close()

    return Guarded

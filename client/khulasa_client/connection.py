"""How a client reaches servers: targets, TLS, token, message limits, and the retry policy
shared by the sync and asyncio clients."""

from __future__ import annotations

import json
import random
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

import grpc

DEFAULT_PORT = 50051
DEFAULT_SERVER = f"127.0.0.1:{DEFAULT_PORT}"
DEFAULT_MAX_MESSAGE_BYTES = 8 * 1024 * 1024
# Every khulasa call is idempotent, so these are safe to send again. CANCELLED is among them
# because this client never sees its own cancellations as a status (they raise instead): a
# CANCELLED status comes from a server that stopped with the call still waiting for a handler
# (gRPC core cancels such calls on shutdown: grpc/grpc#41785), and another replica can answer it.
RETRYABLE = frozenset({"UNAVAILABLE", "RESOURCE_EXHAUSTED", "CANCELLED"})


@dataclass(frozen=True)
class RetryPolicy:
    """Exponential backoff with full jitter; a server's RetryInfo hint, when given, is the
    minimum wait. Attempts include the first call."""

    max_attempts: int = 4
    initial_backoff: float = 0.2
    max_backoff: float = 5.0
    multiplier: float = 2.0
    codes: frozenset[str] = RETRYABLE

    def delay(self, attempt: int, hint: float | None = None, rng: random.Random = random._inst) -> float:
        ceiling = min(self.max_backoff, self.initial_backoff * self.multiplier**attempt)
        wait = rng.uniform(0, ceiling)
        return max(wait, hint) if hint is not None else wait


NO_RETRY = RetryPolicy(max_attempts=1)


@dataclass(frozen=True)
class Connection:
    """targets: one "host:port" (or a name with several addresses, balanced round-robin:
    "dns:///name:port", "ipv4:A:port,B:port"), or several, used in turn with failover."""

    targets: tuple[str, ...] = (DEFAULT_SERVER,)
    tls: bool = False
    tls_ca: str | None = None  # PEM file of the CA that signed the server's certificate
    tls_cert: str | None = None  # client certificate and key, for servers that require mTLS
    tls_key: str | None = None
    tls_server_name: str | None = None  # expected name in the server's certificate
    token: str | None = None
    max_message_bytes: int = DEFAULT_MAX_MESSAGE_BYTES
    retry: RetryPolicy = field(default_factory=RetryPolicy)

    @classmethod
    def make(cls, targets: str | Sequence[str] = DEFAULT_SERVER, token_file: str | None = None, **kwargs) -> Connection:
        if isinstance(targets, str):
            if targets.strip().startswith(("ipv4:", "ipv6:")):  # gRPC's own list: one balanced name
                targets = [targets.strip()]
            else:  # HOST:PORT,HOST:PORT: servers used in turn
                targets = [t.strip() for t in targets.split(",") if t.strip()]
        targets = [with_port(t) for t in targets]
        if not targets:
            raise ValueError("no server address given")
        if token_file:
            kwargs["token"] = Path(token_file).read_text(encoding="utf-8").strip()
        if any(kwargs.get(k) for k in ("tls_ca", "tls_cert", "tls_key", "tls_server_name")):
            kwargs["tls"] = True
        return cls(targets=tuple(targets), **kwargs)

    def metadata(self, extra: Sequence[tuple[str, str]] = ()) -> tuple[tuple[str, str], ...]:
        auth = (("authorization", f"Bearer {self.token}"),) if self.token else ()
        return (*auth, *extra)

    def options(self) -> list[tuple[str, object]]:
        options: list[tuple[str, object]] = [
            ("grpc.max_receive_message_length", self.max_message_bytes),
            ("grpc.max_send_message_length", self.max_message_bytes),
            ("grpc.service_config", json.dumps({"loadBalancingConfig": [{"round_robin": {}}]})),
        ]
        if self.tls_server_name:
            options.append(("grpc.ssl_target_name_override", self.tls_server_name))
        return options

    def credentials(self) -> grpc.ChannelCredentials | None:
        if not self.tls:
            return None

        def read(path: str | None) -> bytes | None:
            return Path(path).read_bytes() if path else None

        return grpc.ssl_channel_credentials(read(self.tls_ca), read(self.tls_key), read(self.tls_cert))

    def channel(self, target: str, aio: bool = False):
        module = grpc.aio if aio else grpc
        credentials = self.credentials()
        if credentials is None:
            return module.insecure_channel(target, options=self.options())
        return module.secure_channel(target, credentials, options=self.options())


_PORT = re.compile(r":\d+$")


def _address_with_port(address: str) -> str:
    if address.startswith("["):  # [IPv6] or [IPv6]:port
        return address if re.search(r"\]:\d+$", address) else f"{address}:{DEFAULT_PORT}"
    if address.count(":") > 1:  # a bare IPv6 address: no port can be told apart
        return f"[{address}]:{DEFAULT_PORT}"
    return address if _PORT.search(address) or not address else f"{address}:{DEFAULT_PORT}"


def with_port(target: str) -> str:
    """A target with khulasa's port where it names none ("news-mt" → "news-mt:50051"; gRPC
    itself would pick 443). Applies to plain hosts, [IPv6], dns:///NAME and each address of
    ipv4:/ipv6: lists; unix: sockets are left alone."""
    if target.startswith(("unix:", "unix-abstract:", "vsock:")):
        return target
    if target.startswith(("ipv4:", "ipv6:")):
        scheme, _, addresses = target.partition(":")
        return f"{scheme}:" + ",".join(_address_with_port(a) for a in addresses.split(","))
    if target.startswith("dns:"):
        head, _, name = target.rpartition("/")
        return f"{head}/{_address_with_port(name)}" if head else f"dns:{_address_with_port(target[4:])}"
    return _address_with_port(target)


def retry_wait(policy: RetryPolicy, code: str, retry_after: float | None, attempt: int, remaining: float) -> float | None:
    """Seconds to wait before attempt number `attempt` (1-based retries), or None to give up:
    the code is not retryable, attempts are spent, or the wait would pass the deadline."""
    if code not in policy.codes or attempt >= policy.max_attempts:
        return None
    wait = policy.delay(attempt - 1, retry_after)
    return wait if wait < remaining else None

"""Every error the service reports, in one hierarchy. Each class carries the gRPC status code
it maps to (by name, so this module needs no gRPC) and what the status details say: the field
for a bad request, the retry hint and the quota's subject for an overload. A front end turns
any KhulasaError into its status without knowing the class; anything else is INTERNAL."""

from __future__ import annotations

ECHO_LIMIT = 40  # characters of a caller's value quoted back in a message


def echo(value: str, limit: int = ECHO_LIMIT) -> str:
    """A caller's value for an error message: unprintable characters escaped, and capped, so a
    10,000-character or binary value cannot bloat the status (gRPC caps trailing metadata at a
    few kB)."""
    text = value if value.isprintable() else ascii(value)[1:-1]
    return text if len(text) <= limit else text[:limit] + "…"


class KhulasaError(Exception):
    """Base class. code: the gRPC status code name; message: what the caller is told (for
    INTERNAL, the caller is told only the request id; the log gets the rest)."""

    code = "INTERNAL"
    field: str | None = None  # the request field at fault (BadRequest details)
    retry_after: float | None = None  # seconds to wait (RetryInfo details)
    subject: str | None = None  # what ran out (QuotaFailure details)

    def __init__(self, message: str):
        super().__init__(message)
        self.message = message


class InvalidArgument(KhulasaError):
    """The caller sent something the service cannot take."""

    code = "INVALID_ARGUMENT"

    def __init__(self, field: str, message: str):
        super().__init__(message)
        self.field = field


class Unauthenticated(KhulasaError):
    code = "UNAUTHENTICATED"


class Unavailable(KhulasaError):
    code = "UNAVAILABLE"


class ResourceExhausted(KhulasaError):
    """A limit was hit. With retry_after, waiting helps (RetryInfo and QuotaFailure naming the
    subject); without it, the request itself is too large and retrying cannot help."""

    code = "RESOURCE_EXHAUSTED"

    def __init__(self, message: str, retry_after: float | None = None, subject: str | None = None):
        super().__init__(message)
        self.retry_after, self.subject = retry_after, subject


class Overloaded(ResourceExhausted):
    """The gathering engine's queue of waiting work is full (max_queue_tokens)."""

    def __init__(self, queued: int, limit: int, retry_after: float):
        super().__init__(
            f"the server's queue holds {queued} tokens of work, its limit is {limit} (max_queue_tokens); "
            f"retry in {retry_after:.1f} s",
            retry_after,
            "server:max_queue_tokens",
        )
        self.queued, self.limit = queued, limit


class TooManyInFlight(ResourceExhausted):
    """One client (its token, or its address without auth) has too many calls in flight."""

    def __init__(self, client: str, count: int, limit: int, retry_after: float):
        super().__init__(
            f"this client already has {count} requests in flight; the limit is {limit} (max_inflight_per_client)",
            retry_after,
            f"client:{client}",
        )


class DeadlineExceeded(KhulasaError):
    code = "DEADLINE_EXCEEDED"


class Cancelled(KhulasaError):
    code = "CANCELLED"


class BundleError(KhulasaError):
    """A bundle is missing, incomplete, corrupt, or does not match its manifest (a start-up
    error: the server exits 2 before serving; met during a call, it is an INTERNAL one)."""

"""Python client for the khulasa gRPC service (needs only grpcio and protobuf)."""

from khulasa import __version__

from .aio import AsyncClient
from .client import Client
from .connection import RetryPolicy
from .core import assemble
from .errors import ApiError

__all__ = ["ApiError", "AsyncClient", "Client", "RetryPolicy", "__version__", "assemble"]

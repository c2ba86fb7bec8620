"""Python client for the khulasa gRPC service (needs only grpcio and protobuf)."""

from .client import ApiError, Client

__all__ = ["ApiError", "Client"]
__version__ = "0.1.0"

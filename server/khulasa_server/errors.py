"""Errors the pipeline and bundle raise; the gRPC layer maps each to one status code."""


class KhulasaError(Exception):
    """Base class."""


class InvalidArgument(KhulasaError):
    """The caller sent something the service cannot take (maps to INVALID_ARGUMENT)."""

    def __init__(self, field: str, message: str):
        super().__init__(message)
        self.field = field
        self.message = message


class BundleError(KhulasaError):
    """A bundle is missing, incomplete, corrupt, or does not match its manifest."""

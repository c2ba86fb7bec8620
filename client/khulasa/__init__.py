"""khulasa: the gRPC contract (khulasa.v1), the words of its faithfulness flags (flags.py) and the
package version, shared by client and server."""

from importlib import metadata

try:
    __version__ = metadata.version("khulasa")  # the one source: pyproject.toml, through the installed metadata
except metadata.PackageNotFoundError:  # running from a source tree that was never installed
    __version__ = "0+unknown"

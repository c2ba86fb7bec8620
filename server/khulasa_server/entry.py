"""Console entry points. They check for the server's packages first, so a client-only install
(`pip install khulasa`) explains itself instead of printing an ImportError."""

from __future__ import annotations

import importlib.util
import sys

SERVER_PACKAGES = ("ctranslate2", "sentencepiece", "tokenizers", "numpy", "grpc_reflection")


def _check(prog: str) -> None:
    if sys.argv[1:] == ["--version"]:  # answerable without the server's packages
        from khulasa import __version__

        print(f"{prog} {__version__}")
        sys.exit(0)
    missing = [name for name in SERVER_PACKAGES if importlib.util.find_spec(name) is None]
    if missing:
        print(f"{prog}: needs the server packages ({', '.join(missing)} missing): pip install 'khulasa[server]'", file=sys.stderr)
        sys.exit(2)


def server() -> int:
    _check("khulasa-server")
    from khulasa_server.app import main

    return main()


def models() -> int:
    _check("khulasa-models")
    from khulasa_server.tools.models_cli import main

    return main()


def bulk() -> int:
    _check("khulasa-bulk")
    missing = [name for name in ("ray", "pyarrow") if importlib.util.find_spec(name) is None]
    if missing:
        print(f"khulasa-bulk: needs Ray Data ({', '.join(missing)} missing): pip install 'khulasa[ray]'", file=sys.stderr)
        return 2
    from khulasa_server.bulk.cli import main

    return main()

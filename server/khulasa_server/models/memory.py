"""Memory the process has freed, handed back to the system.

Loading a CTranslate2 model reads its weights into temporary buffers as well (the default
bundle's 1.55 GB model peaks at ~3.0 GB while it loads, then holds ~1.8 GB). glibc keeps freed
memory in its arenas for reuse; with other threads' arenas in the process (the tokenizers
library's, loaded first), those buffers stay resident: the server served at 3.06 GB RSS
instead of 1.80 GB (docs/bench/llm.md). malloc_trim(0) returns the free pages of every arena.
"""

from __future__ import annotations

import ctypes
import ctypes.util
from functools import lru_cache


@lru_cache(maxsize=1)
def _libc() -> ctypes.CDLL | None:
    name = ctypes.util.find_library("c")
    try:
        libc = ctypes.CDLL(name) if name else None
    except OSError:
        return None
    return libc if libc is not None and hasattr(libc, "malloc_trim") else None  # glibc only (not musl, macOS)


def release_freed() -> bool:
    """Return freed heap memory to the system; False where the C library cannot (then RSS
    is only higher, nothing else changes)."""
    libc = _libc()
    if libc is None:
        return False
    libc.malloc_trim(0)
    return True

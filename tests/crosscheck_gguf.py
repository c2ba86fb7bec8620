"""Evidence that khulasa's torch-free GGUF conversion equals the Transformers route.

    make gguf-check      # a separate venv with torch 2.13.0 (CPU) and transformers

Loads the default model's GGUF with transformers (dequantized, float32) and converts the same
file with khulasa_server.tools.recipes.gguf_qwen2 at float32 (so only the conversion differs, not the
int8 quantization), then compares on a few chat prompts: token ids from both tokenizers,
next-token logits at every position, and 24 greedy tokens. Writes a JSON report.
The GGUF carries Qwen2.5's tied embedding twice (Q4_K as embedding, Q6_K as output); the
conversion keeps one copy for both (gguf_qwen2.embedding_and_projection), so the Transformers
model gets the same tying before the comparison, and the report also says how far the
untied Transformers model is from it.
Not part of `make test`: it needs the 1.1 GB GGUF and ~16 GB of memory.
"""

from __future__ import annotations

import gc
import json
import sys
import tempfile
import time
from pathlib import Path

import ctranslate2
import numpy as np
import torch
import transformers
from tokenizers import Tokenizer

from khulasa_server.tools.recipes import gguf_qwen2, prompts

ARTICLES = [
    "أعلنت وزارة المالية أن معدل التضخم تراجع إلى 3.2% في شهر مارس.",
    "التقى وزير الخارجية المصري سامح شكري نظيره الأردني أيمن الصفدي في القاهرة يوم الأحد.",
    "Emoji 🙂, 中文, ١٢٣ and <b>markup</b> survive tokenization.",
]
GREEDY_TOKENS = 24


def chat(text: str) -> str:
    p = prompts.TRANSLATE
    return (f"<|im_start|>system\n{p.system}<|im_end|>\n<|im_start|>user\n"
            f"{p.user.replace('{text}', text)}<|im_end|>\n<|im_start|>assistant\n")


def tie(model, gguf_file: Path) -> None:
    """The Transformers model with the embedding/projection copy the conversion keeps."""
    ckpt = gguf_qwen2.GGUFCheckpoint(gguf_file)
    embeddings, projection = gguf_qwen2.embedding_and_projection(ckpt)
    if embeddings is not projection:
        return
    head, table = model.lm_head.weight, model.model.embed_tokens.weight
    if np.array_equal(projection, head.detach().numpy()):
        table.data.copy_(head.data)
    else:
        head.data.copy_(table.data)


def main(gguf_path: str, report_path: str) -> int:
    gguf_file = Path(gguf_path)
    texts = [chat(a) for a in ARTICLES]
    start = time.perf_counter()
    hf_tok = transformers.AutoTokenizer.from_pretrained(str(gguf_file.parent), gguf_file=gguf_file.name)
    model = transformers.AutoModelForCausalLM.from_pretrained(
        str(gguf_file.parent), gguf_file=gguf_file.name, dtype=torch.float32
    )
    model.eval()
    untied = []
    with torch.no_grad():
        for text in texts:
            ids = hf_tok(text, add_special_tokens=False).input_ids
            untied.append(model(torch.tensor([ids])).logits[0].numpy())
        tie(model, gguf_file)
    hf = []
    with torch.no_grad():
        for text in texts:
            ids = hf_tok(text, add_special_tokens=False).input_ids
            logits = model(torch.tensor([ids])).logits[0].numpy()
            greedy = model.generate(torch.tensor([ids]), max_new_tokens=GREEDY_TOKENS, do_sample=False)[0][len(ids):].tolist()
            hf.append((ids, logits, greedy))
    hf_seconds = time.perf_counter() - start
    del model
    gc.collect()

    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "ct2"
        gguf_qwen2.convert(gguf_file, out, quantization="float32")
        tok = Tokenizer.from_file(str(out / "tokenizer.json"))
        generator = ctranslate2.Generator(str(out), compute_type="float32")
        rows = []
        for text, (hf_ids, hf_logits, hf_greedy), hf_untied in zip(texts, hf, untied):
            encoding = tok.encode(text, add_special_tokens=False)
            logits = np.array(generator.forward_batch([encoding.tokens]))[0]
            result = generator.generate_batch([encoding.tokens], max_length=GREEDY_TOKENS, include_prompt_in_result=False)
            greedy = [tok.token_to_id(t) for t in result[0].sequences[0]]
            same_ids = encoding.ids == hf_ids
            rows.append({
                "prompt_tokens": len(hf_ids),
                "token_ids_equal": same_ids,
                "max_abs_logit_diff": float(np.abs(logits - hf_logits).max()) if same_ids else None,
                "argmax_agreement": float((logits.argmax(-1) == hf_logits.argmax(-1)).mean()) if same_ids else None,
                "greedy_equal": greedy == hf_greedy[: len(greedy)],
                "max_abs_logit_diff_to_untied": float(np.abs(logits - hf_untied).max()) if same_ids else None,
                "argmax_agreement_with_untied": float((logits.argmax(-1) == hf_untied.argmax(-1)).mean()) if same_ids else None,
                "greedy_text": tok.decode(greedy),
            })
    report = {
        "gguf": str(gguf_file),
        "transformers": transformers.__version__,
        "torch": torch.__version__,
        "ctranslate2": ctranslate2.__version__,
        "transformers_seconds": round(hf_seconds, 1),
        "prompts": rows,
    }
    Path(report_path).write_text(json.dumps(report, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    print(json.dumps(report, indent=2, ensure_ascii=False))
    ok = all(r["token_ids_equal"] and r["greedy_equal"] and r["max_abs_logit_diff"] < 0.05 for r in rows)
    print("EQUAL" if ok else "DIFFERENT")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main(*sys.argv[1:3]))

"""llama.cpp (llama-cpp-python) digesting articles the way khulasa does, for llm.py.

Runs in a virtualenv of its own, built from source (`make bench-llm` makes it). Loads the GGUF
once, then answers jobs, one JSON line each on stdin, with one JSON line each on stdout:
  {"articles": [{"paragraphs": [[token ids of each paragraph's translate prompt]],
                 "bounds": [max new tokens of each]}],
   "translate": {"repeat_penalty": 1.0},
   "summarize": {"template": "<|im_start|>system...{text}...", "repeat_penalty": 1.1, "max_tokens": 160,
                 "sentences": 3}}
  -> {"seconds": wall time of the job, "articles": [{"translate_s", "summary_s", "total_s",
      "translate_tokens", "summary_tokens", "summary_prompt_tokens", "english"}], "peak_rss_mb"}

What is llama.cpp here and what is not:
  - the same GGUF file khulasa's bundle is converted from, greedy (temperature 0), n_threads as
    khulasa's intra_threads, and the prompts khulasa builds, as token ids (so both read the
    same tokens); each output is bounded by the bound khulasa gives it;
  - llama-cpp-python decodes one sequence at a time (it has no batching), so an article's
    paragraphs go one after the other and articles "at once" are served in turn, as its
    server does; it reuses the KV cache of the longest common prefix of consecutive prompts
    (the system prompt), as khulasa's static prompt does;
  - its summary reads its own English: the paragraphs joined as khulasa joins them, in one pass,
    and stops, as khulasa's does, once it has one sentence more than the digest keeps (the same
    rule: khulasa_server.text.segment.sentences_of, imported from the repository);
  - khulasa's 6-gram ban has no llama.cpp counterpart; its repetition penalty maps to
    repeat_penalty (llama.cpp applies it to the last 64 tokens, CTranslate2 to all).
"""

from __future__ import annotations

import json
import re
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path[:0] = [str(ROOT / "server"), str(ROOT / "client")]  # pure-Python text rules only (and the version)
from khulasa_server.text.normalize import normalize  # noqa: E402
from khulasa_server.text.segment import sentences_of  # noqa: E402


def peak_rss_mb() -> float:
    with open("/proc/self/status") as f:
        return int(re.search(r"VmHWM:\s+(\d+)", f.read()).group(1)) / 1024


def complete(llm, prompt: list[int], max_tokens: int, repeat_penalty: float, sentences: int = 0) -> tuple[str, int, int]:
    stopping = None
    if sentences:
        import llama_cpp

        def enough(ids, _logits) -> bool:
            text = llm.detokenize(list(ids[len(prompt):])).decode("utf-8", errors="replace")
            return len(sentences_of(normalize(text))) > sentences

        stopping = llama_cpp.StoppingCriteriaList([enough])
    out = llm.create_completion(prompt, max_tokens=max_tokens, temperature=0.0, top_k=1, top_p=1.0, min_p=0.0,
                                repeat_penalty=repeat_penalty, stop=["<|im_end|>", "<|endoftext|>"],
                                stopping_criteria=stopping)
    usage = out["usage"]
    return out["choices"][0]["text"].strip(), usage["completion_tokens"], usage["prompt_tokens"]


def digest(llm, article: dict, job: dict) -> dict:
    start = time.perf_counter()
    english, produced = [], 0
    for prompt, bound in zip(article["paragraphs"], article["bounds"]):
        text, tokens, _ = complete(llm, prompt, bound, job["translate"]["repeat_penalty"])
        english.append(text)
        produced += tokens
    translated = time.perf_counter()
    summary = job["summarize"]
    prompt = summary["template"].replace("{text}", "\n".join(english))
    text, summary_tokens, prompt_tokens = complete(llm, llm.tokenize(prompt.encode(), add_bos=False, special=True),
                                                   summary["max_tokens"], summary["repeat_penalty"], summary["sentences"])
    done = time.perf_counter()
    return {"translate_s": round(translated - start, 2), "summary_s": round(done - translated, 2),
            "total_s": round(done - start, 2), "translate_tokens": produced, "summary_tokens": summary_tokens,
            "summary_prompt_tokens": prompt_tokens, "english": english, "summary": text}


def main() -> int:
    import llama_cpp

    config = json.loads(sys.stdin.readline())
    start = time.perf_counter()
    llm = llama_cpp.Llama(config["gguf"], n_ctx=config["n_ctx"], n_threads=config["threads"],
                          n_threads_batch=config["threads"], n_batch=512, verbose=False, seed=0)
    print(json.dumps({"llama_cpp_python": llama_cpp.__version__, "load_s": round(time.perf_counter() - start, 2),
                      "peak_rss_mb": round(peak_rss_mb(), 1),
                      "system_info": llama_cpp.llama_print_system_info().decode(errors="replace").strip()}), flush=True)
    for line in sys.stdin:
        job = json.loads(line)
        start = time.perf_counter()
        results = [digest(llm, article, job) for article in job["articles"]]
        print(json.dumps({"seconds": round(time.perf_counter() - start, 2), "articles": results,
                          "peak_rss_mb": round(peak_rss_mb(), 1)}), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""llama.cpp's own server as llm.py's peer: what a user who wants throughput from the GGUF runs.

`llama-server` (built by tests/bench/build_llama.sh) keeps one KV cache per slot (-np) within
a total context (-c) and refills a finished slot at the next decoding step (continuous
batching). It is fed as khulasa digests: every paragraph of every article sent at once (its
translate prompt as khulasa builds it, in token ids, and the output bound khulasa gives it),
and each article's summary sent as soon as that article's paragraphs are back, its prompt
khulasa's with the article's English in it, streamed and cut, as khulasa's is, once it has one
sentence more than the digest keeps. Greedy, the same thread count, repeat_penalty for
khulasa's repetition penalty (llama_peer.py says what differs in that).
"""

from __future__ import annotations

import http.client
import json
import re
import socket
import subprocess
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from khulasa_server.text.normalize import normalize
from khulasa_server.text.segment import sentences_of

STOP = ["<|im_end|>", "<|endoftext|>"]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class LlamaServer:
    """A llama-server process on `gguf`; jobs as llm.Llama takes them (peer_article's prompts)."""

    def __init__(self, binary: str, gguf: Path, threads: int, slots: int, context: int, articles):
        self.name = "llama-server"
        self.articles = articles  # text -> peer_article(...) and the job's settings (llm.py)
        self.port = free_port()
        self.log = Path(binary).resolve().parent / f"llama-server-{self.port}.log"
        command = [binary, "-m", str(gguf), "-t", str(threads), "-tb", str(threads), "-np", str(slots), "-c", str(context),
                   "--host", "127.0.0.1", "--port", str(self.port), "--no-webui"]
        start = time.perf_counter()
        self._log = open(self.log, "w")
        self.proc = subprocess.Popen(command, stdout=self._log, stderr=subprocess.STDOUT)
        while not self._healthy():
            if self.proc.poll() is not None:
                raise SystemExit(f"llama-server exited with {self.proc.returncode}: see {self.log}")
            time.sleep(0.5)
        self.serving_s = time.perf_counter() - start
        with open(f"/proc/{self.proc.pid}/status") as f:
            self.serving_rss_mb = round(int(re.search(r"VmRSS:\s+(\d+)", f.read()).group(1)) / 1024, 1)
        flags = Path(binary).resolve().parent.parent / "build-flags.txt"
        version = subprocess.run([binary, "--version"], capture_output=True, text=True, timeout=60)
        self.info = {"command": " ".join(command[1:]), "slots": slots, "context": context,
                     "build_flags": flags.read_text().strip() if flags.exists() else "",
                     "version": (version.stdout + version.stderr).strip()[-2000:]}
        self.pool = ThreadPoolExecutor(max_workers=max(256, 4 * slots))

    def _healthy(self) -> bool:
        try:
            return self._post("/health", None, method="GET") is not None
        except OSError:
            return False

    def _post(self, path: str, body: dict | None, method: str = "POST") -> dict | None:
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=3600)
        try:
            conn.request(method, path, body=json.dumps(body) if body is not None else None,
                         headers={"Content-Type": "application/json"})
            response = conn.getresponse()
            data = response.read()
            return json.loads(data) if response.status == 200 else None
        finally:
            conn.close()

    def _complete(self, prompt, max_tokens: int, repeat_penalty: float) -> tuple[str, int]:
        reply = self._post("/completion", {"prompt": prompt, "n_predict": max_tokens, "temperature": 0.0, "top_k": 1,
                                           "top_p": 1.0, "min_p": 0.0, "repeat_penalty": repeat_penalty, "stop": STOP,
                                           "cache_prompt": True})
        if reply is None:
            raise SystemExit(f"llama-server refused a completion: see {self.log}")
        return reply["content"].strip(), reply["tokens_predicted"]

    def _summary(self, prompt: str, max_tokens: int, repeat_penalty: float, sentences: int) -> tuple[str, int]:
        """Streamed, and the connection closed (which frees the slot) once the text has one
        sentence more than the digest keeps: khulasa's stopping rule."""
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=3600)
        text, tokens = "", 0
        try:
            conn.request("POST", "/completion", body=json.dumps({
                "prompt": prompt, "n_predict": max_tokens, "temperature": 0.0, "top_k": 1, "top_p": 1.0, "min_p": 0.0,
                "repeat_penalty": repeat_penalty, "stop": STOP, "cache_prompt": True, "stream": True}),
                headers={"Content-Type": "application/json"})
            response = conn.getresponse()
            for line in response:
                if not line.startswith(b"data: "):
                    continue
                chunk = json.loads(line[6:])
                text += chunk.get("content", "")
                tokens += 1 if chunk.get("content") else 0
                if chunk.get("stop") or len(sentences_of(normalize(text))) > sentences:
                    break
        finally:
            conn.close()
        return text.strip(), tokens

    def _digest(self, text: str, job: dict) -> dict:
        start = time.perf_counter()
        article = self.articles(text)
        repeat = job["translate"]["repeat_penalty"]
        done = list(self.pool.map(lambda pb: self._complete(pb[0], pb[1], repeat), zip(article["paragraphs"], article["bounds"])))
        translated = time.perf_counter()
        summary = job["summarize"]
        english = [t for t, _ in done]
        prompt = summary["template"].replace("{text}", "\n".join(english))
        text_out, summary_tokens = self._summary(prompt, summary["max_tokens"], summary["repeat_penalty"], summary["sentences"])
        end = time.perf_counter()
        return {"translate_s": round(translated - start, 2), "summary_s": round(end - translated, 2),
                "total_s": round(end - start, 2), "translate_tokens": sum(n for _, n in done),
                "summary_tokens": summary_tokens, "english": english, "summary": text_out}

    def job(self, texts: list[str], job: dict) -> dict:
        """Every article at once (each on a thread of its own, its paragraphs in parallel)."""
        start = time.perf_counter()
        with ThreadPoolExecutor(max_workers=len(texts)) as articles:
            results = list(articles.map(lambda t: self._digest(t, job), texts))
        return {"seconds": round(time.perf_counter() - start, 2), "articles": results}

    def close(self) -> None:
        self.pool.shutdown(wait=False, cancel_futures=True)
        self.proc.terminate()
        try:
            self.proc.wait(timeout=60)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
        self._log.close()

"""Prometheus metrics (served on --metrics-listen). Names start with khulasa_."""

from __future__ import annotations

from prometheus_client import Counter, Gauge, Histogram

# One count and one time per call of an operation (service/calls.py), by the front end it came
# through (grpc, http, bulk), its RPC name and the gRPC status code the caller got.
REQUESTS = Counter("khulasa_requests_total", "calls by front end, RPC and status code", ["front", "rpc", "code"])
SECONDS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300)
LATENCY = Histogram("khulasa_request_seconds", "call latency", ["front", "rpc"], buckets=SECONDS)
QUEUE_TOKENS = Gauge("khulasa_queue_tokens", "source tokens waiting in the gathering engine's queue", ["model"])
BATCH_TOKENS = Histogram(
    "khulasa_batch_tokens",
    "source tokens per decoded batch",
    ["model"],
    buckets=(8, 16, 32, 64, 128, 256, 512, 1024, 2048, 4096, 8192),
)
TOKENS = Counter("khulasa_tokens_total", "tokens decoded (source in, target out)", ["model", "direction"])
CACHE = Counter("khulasa_cache_total", "sentence cache lookups", ["result"])
REJECTED = Counter("khulasa_rejected_total", "requests refused because the queue was full")
DROPPED = Counter("khulasa_dropped_total", "queued work dropped: its caller cancelled or its deadline passed")
DIGEST_MANY_HELD = Gauge("khulasa_digest_many_answers_held", "DigestMany answers done and waiting for their client to take them")
MODEL_LOAD = Gauge("khulasa_model_load_seconds", "time to load the bundle")
NAME_REPAIRS = Counter(
    "khulasa_name_repairs_total", "segments decoded again for a flagged name (tried), and repairs kept", ["result"]
)
# Every HTTP request, calls or not (health, metrics, the page): the transport's own count.
HTTP_REQUESTS = Counter("khulasa_http_requests_total", "HTTP requests by route and status", ["route", "status"])
HTTP_LATENCY = Histogram(
    "khulasa_http_request_seconds", "HTTP request latency, to the end of the body", ["route"], buckets=SECONDS
)
# LLM decoding steps (models/engines/steps.py): calls, steps, and the row-steps of those calls by use.
DECODE_CALLS = Counter("khulasa_decode_calls_total", "CTranslate2 generate calls", ["model"])
DECODE_STEPS = Counter("khulasa_decode_steps_total", "decoding steps (one forward over a call's live rows)", ["model"])
DECODE_PREFILL = Counter("khulasa_decode_prefill_tokens_total", "prompt tokens forwarded at once, before the steps", ["model"])
DECODE_ROW_STEPS = Counter(
    "khulasa_decode_row_steps_total", "row-steps of decoding calls: prompt (fed one per step), output, idle", ["model", "kind"]
)
REJECTED_BUSY = Counter(
    "khulasa_rejected_busy_total", "gRPC calls refused at once because every handler thread was busy (workers)"
)
HTTP_REFUSED_CONNECTIONS = Counter(
    "khulasa_http_refused_connections_total", "HTTP connections refused at the cap (http_max_connections)", ["listener"]
)
HTTP_TIMEOUTS = Counter("khulasa_http_timeouts_total", "HTTP requests cut for slow headers or body", ["kind"])

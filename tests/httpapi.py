"""A plain HTTP client for the tests (stdlib http.client): status, headers and parsed body."""

from __future__ import annotations

import http.client
import json as jsonlib
import urllib.parse
from dataclasses import dataclass


@dataclass
class Reply:
    status: int
    headers: dict[str, str]
    body: object

    @property
    def error(self) -> str:
        return self.body["error"] if isinstance(self.body, dict) else ""


def call(port: int, method: str, path: str, *, json=None, form: dict | None = None, headers: dict | None = None,
         raw: bytes | None = None, timeout: float = 120) -> Reply:
    headers = dict(headers or {})
    body = raw
    if json is not None:
        body = jsonlib.dumps(json).encode()
        headers.setdefault("Content-Type", "application/json")
    elif form is not None:
        body = urllib.parse.urlencode(form).encode()
        headers.setdefault("Content-Type", "application/x-www-form-urlencoded")
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
    try:
        conn.request(method, path, body=body, headers=headers)
        response = conn.getresponse()
        data = response.read()
        kind = response.getheader("content-type", "")
        parsed = jsonlib.loads(data) if kind.startswith("application/json") else data.decode("utf-8", "replace")
        return Reply(response.status, {k.lower(): v for k, v in response.getheaders()}, parsed)
    finally:
        conn.close()


def sse_events(text: str) -> list[tuple[str, dict]]:
    """(event, data) pairs of a server-sent-events body."""
    events = []
    for block in text.split("\n\n"):
        fields = dict(line.split(": ", 1) for line in block.splitlines() if ": " in line)
        if "event" in fields:
            events.append((fields["event"], jsonlib.loads(fields["data"])))
    return events

"""Limits that protect the hub: request body size, and sliding-window rates per key."""

from __future__ import annotations

import json
import threading
import time
from collections import defaultdict, deque

from starlette.exceptions import HTTPException


class BodyLimit:
    """ASGI middleware: 413 for a request body over ``max_bytes``, before anything parses it.

    A declared Content-Length over the limit is refused at once; a chunked body is counted as it
    arrives and cut off at the limit (an ``HTTPException`` from ``receive``, which FastAPI passes on
    to the hub's error handlers), so a 100 MB upload never reaches the JSON parser. Either way the
    answer is the hub's JSON error (Starlette's own limit would answer a declared length in plain text).
    """

    def __init__(self, app, max_bytes: int) -> None:
        self.app = app
        self.max_bytes = max_bytes

    async def __call__(self, scope, receive, send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        length = dict(scope.get("headers") or []).get(b"content-length")
        if length is not None and (not length.isdigit() or int(length) > self.max_bytes):
            body = json.dumps({"error": "request too large", "detail": f"at most {self.max_bytes} bytes"}).encode()
            headers = [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())]
            await send({"type": "http.response.start", "status": 413, "headers": headers})
            await send({"type": "http.response.body", "body": body})
            return
        seen = 0

        async def counted_receive():
            nonlocal seen
            message = await receive()
            if message["type"] == "http.request":
                seen += len(message.get("body", b""))
                if seen > self.max_bytes:
                    raise HTTPException(413, "request too large")
            return message

        await self.app(scope, counted_receive, send)


class SlidingWindow:
    """At most ``limit`` events per ``window_s`` per key, in this process (thread-safe)."""

    def __init__(self, limit: int, window_s: float = 60.0) -> None:
        self.limit = limit
        self.window_s = window_s
        self._events: dict[str, deque[float]] = defaultdict(deque)
        self._lock = threading.Lock()

    def hit(self, key: str) -> float:
        """Record an event; 0 when allowed, else the seconds until the next one would be."""
        now = time.monotonic()
        with self._lock:
            events = self._events[key]
            while events and events[0] <= now - self.window_s:
                events.popleft()
            if len(events) >= self.limit:
                return events[0] + self.window_s - now
            events.append(now)
            if len(self._events) > 100_000:  # forget idle keys rather than grow without bound
                for stale in [k for k, v in self._events.items() if not v or v[-1] <= now - self.window_s]:
                    del self._events[stale]
            return 0.0

"""A steady stream of player messages to Rasa's REST webhook, in a thread, counting every answer.

Used by the publish tests and ``bench/publish.py``: a publish must leave no message unanswered.
A message counts as answered when the webhook returns 200 with at least one bot message.
"""

from __future__ import annotations

import itertools
import threading
import time
import uuid
from dataclasses import dataclass, field

import requests


@dataclass
class StreamFigures:
    sent: int = 0
    answered: int = 0
    failures: list[str] = field(default_factory=list)
    latencies_ms: list[float] = field(default_factory=list)

    @property
    def failed(self) -> int:
        return self.sent - self.answered

    @property
    def max_ms(self) -> float:
        return max(self.latencies_ms, default=0.0)


class MessageStream:
    """``with MessageStream(url, texts) as stream: ...`` then read ``stream.figures``."""

    def __init__(self, rasa_url: str, texts: list[str], pause_s: float = 0.05, timeout_s: float = 60.0) -> None:
        self.url = f"{rasa_url}/webhooks/rest/webhook"
        self.texts = texts
        self.pause_s = pause_s
        self.timeout_s = timeout_s
        self.figures = StreamFigures()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="message-stream", daemon=True)

    def _run(self) -> None:
        sender = f"stream-{uuid.uuid4().hex}"
        for number, text in enumerate(itertools.cycle(self.texts)):
            if self._stop.is_set():
                return
            if number % 5 == 0:  # short conversations, like players
                sender = f"stream-{uuid.uuid4().hex}"
            self.figures.sent += 1
            started = time.perf_counter()
            try:
                response = requests.post(self.url, json={"sender": sender, "message": text}, timeout=self.timeout_s)
                replies = response.json() if response.status_code == 200 else None
            except (requests.RequestException, ValueError) as exc:
                self.figures.failures.append(f"{text!r}: {exc}")
                continue
            self.figures.latencies_ms.append((time.perf_counter() - started) * 1000)
            if replies and any(r.get("text") for r in replies):
                self.figures.answered += 1
            else:
                self.figures.failures.append(f"{text!r}: HTTP {response.status_code} {str(replies)[:200]}")
            time.sleep(self.pause_s)

    def __enter__(self) -> MessageStream:
        self._thread.start()
        return self

    def __exit__(self, *_: object) -> None:
        self._stop.set()
        self._thread.join(self.timeout_s + 5)

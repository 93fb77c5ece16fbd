"""Talking to Rasa: forward a player message, resume the bot after an agent hands back.

A circuit breaker keeps a hung or dead Rasa from costing every player the full timeout: after a
few failures in a row the hub stops asking (the player is told at once that the assistant is
unavailable and offered a person), probes Rasa's /status in the background, and closes the
circuit again when Rasa answers.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from dataclasses import dataclass, field

import httpx

logger = logging.getLogger(__name__)


class RasaUnavailable(Exception):
    pass


@dataclass
class BotReply:
    text: str
    buttons: list[dict] = field(default_factory=list)
    meta: dict = field(default_factory=dict)


def merge_replies(raw: list[dict]) -> list[BotReply]:
    """Rasa's REST channel sends a bot answer's ``custom`` json as a separate message: join them."""
    replies: list[BotReply] = []
    for item in raw:
        if item.get("text"):
            replies.append(BotReply(item["text"], list(item.get("buttons") or [])))
        elif isinstance(item.get("custom"), dict):
            if replies and not replies[-1].meta:
                replies[-1].meta = item["custom"]
            elif replies:
                replies[-1].meta = {**replies[-1].meta, **item["custom"]}
    return replies


class CircuitBreaker:
    """Open after ``failures`` failures in a row; while open, calls fail at once until a probe succeeds."""

    def __init__(self, failures: int, probe_interval_s: float) -> None:
        self.failures_to_open = failures
        self.probe_interval_s = probe_interval_s
        self.failures = 0
        self.opened_at: float | None = None

    @property
    def open(self) -> bool:
        return self.opened_at is not None

    def succeeded(self) -> None:
        if self.opened_at is not None:
            logger.warning("Rasa answers again: circuit closed after %.0f s", time.monotonic() - self.opened_at)
        self.failures, self.opened_at = 0, None

    def failed(self) -> bool:
        """Count a failure; True when this one opened the circuit."""
        self.failures += 1
        if self.opened_at is None and self.failures >= self.failures_to_open:
            self.opened_at = time.monotonic()
            logger.warning("Rasa failed %d times in a row: circuit open", self.failures)
            return True
        return False


class RasaClient:
    """One pooled HTTP client for the hub's lifetime: no new connection per player message."""

    def __init__(
        self, base_url: str, timeout: float, token: str = "", breaker_failures: int = 3, probe_interval_s: float = 5.0
    ) -> None:
        self.base_url = base_url
        self.timeout = timeout
        self.params = {"token": token} if token else {}  # Rasa's API token (trackers, status)
        self._client: httpx.AsyncClient | None = None
        self.breaker = CircuitBreaker(breaker_failures, probe_interval_s)
        self._probe: asyncio.Task | None = None

    @property
    def client(self) -> httpx.AsyncClient:
        if self._client is None:
            self._client = httpx.AsyncClient(timeout=self.timeout)
        return self._client

    async def close(self) -> None:
        if self._probe is not None:
            self._probe.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._probe
            self._probe = None
        if self._client is not None:
            await self._client.aclose()
            self._client = None

    async def send(self, conversation_id: str, text: str, metadata: dict | None = None) -> list[BotReply]:
        if self.breaker.open:
            raise RasaUnavailable("circuit open: Rasa failed repeatedly, probing in the background")
        body = {"sender": conversation_id, "message": text, "metadata": metadata or {}}
        try:
            response = await self.client.post(f"{self.base_url}/webhooks/rest/webhook", json=body)
            response.raise_for_status()
            replies = merge_replies(response.json())
        except (httpx.HTTPError, ValueError) as exc:
            if self.breaker.failed():
                self._probe = asyncio.get_running_loop().create_task(self._probe_until_healthy())
            raise RasaUnavailable(str(exc)) from exc
        self.breaker.succeeded()
        return replies

    async def _probe_until_healthy(self) -> None:
        while self.breaker.open:
            await asyncio.sleep(self.breaker.probe_interval_s)
            if await self.healthy():
                self.breaker.succeeded()

    async def resume(self, conversation_id: str) -> None:
        """Un-pause the conversation in Rasa, clear the handoff slot, and listen again.

        The pause came right after ``action_handoff``, before Rasa's own ``action_listen``; without
        one, the next message matches no rule and Rasa falls back (and replays the handoff).
        """
        events = [
            {"event": "resume"},
            {"event": "slot", "name": "handoff_reason", "value": None},
            {"event": "action", "name": "action_listen"},
        ]
        try:
            response = await self.client.post(
                f"{self.base_url}/conversations/{conversation_id}/tracker/events", json=events, params=self.params
            )
            response.raise_for_status()
        except httpx.HTTPError as exc:
            raise RasaUnavailable(str(exc)) from exc

    async def tracker(self, conversation_id: str) -> dict:
        """Rasa's whole tracker of a conversation (for a player's data export)."""
        try:
            response = await self.client.get(
                f"{self.base_url}/conversations/{conversation_id}/tracker", params=self.params
            )
            response.raise_for_status()
            return response.json()
        except (httpx.HTTPError, ValueError) as exc:
            raise RasaUnavailable(str(exc)) from exc

    async def erase(self, conversation_id: str) -> None:
        """Replace the tracker's events with none: what the player said is gone from Rasa too."""
        try:
            response = await self.client.put(
                f"{self.base_url}/conversations/{conversation_id}/tracker/events", json=[], params=self.params
            )
            response.raise_for_status()
        except httpx.HTTPError as exc:
            raise RasaUnavailable(str(exc)) from exc

    async def healthy(self) -> bool:
        try:
            async with httpx.AsyncClient(timeout=3) as client:
                return (await client.get(f"{self.base_url}/status", params=self.params)).status_code == 200
        except httpx.HTTPError:
            return False

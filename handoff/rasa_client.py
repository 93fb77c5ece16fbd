"""Talking to Rasa: forward a player message, resume the bot after an agent hands back."""

from __future__ import annotations

from dataclasses import dataclass, field

import httpx


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


class RasaClient:
    """One pooled HTTP client for the hub's lifetime: no new connection per player message."""

    def __init__(self, base_url: str, timeout: float, token: str = "") -> None:
        self.base_url = base_url
        self.timeout = timeout
        self.params = {"token": token} if token else {}  # Rasa's API token (trackers, status)
        self._client: httpx.AsyncClient | None = None

    @property
    def client(self) -> httpx.AsyncClient:
        if self._client is None:
            self._client = httpx.AsyncClient(timeout=self.timeout)
        return self._client

    async def close(self) -> None:
        if self._client is not None:
            await self._client.aclose()
            self._client = None

    async def send(self, conversation_id: str, text: str, metadata: dict | None = None) -> list[BotReply]:
        body = {"sender": conversation_id, "message": text, "metadata": metadata or {}}
        try:
            response = await self.client.post(f"{self.base_url}/webhooks/rest/webhook", json=body)
            response.raise_for_status()
            return merge_replies(response.json())
        except (httpx.HTTPError, ValueError) as exc:
            raise RasaUnavailable(str(exc)) from exc

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

    async def healthy(self) -> bool:
        try:
            async with httpx.AsyncClient(timeout=3) as client:
                return (await client.get(f"{self.base_url}/status", params=self.params)).status_code == 200
        except httpx.HTTPError:
            return False

"""Push to connected WebSockets: each player's conversation and every agent console.

In-process fan-out (one hub process). Every event is also in the database, so a client that
reconnects fetches what it missed with ``GET …/messages?after=<id>``: nothing is lost.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections import defaultdict

from fastapi import WebSocket


class Broadcaster:
    def __init__(self) -> None:
        self._players: dict[str, set[WebSocket]] = defaultdict(set)
        self._agents: dict[int, set[WebSocket]] = defaultdict(set)

    def add_player(self, conversation_id: str, ws: WebSocket) -> None:
        self._players[conversation_id].add(ws)

    def remove_player(self, conversation_id: str, ws: WebSocket) -> None:
        self._players[conversation_id].discard(ws)

    def add_agent(self, agent_id: int, ws: WebSocket) -> None:
        self._agents[agent_id].add(ws)

    def remove_agent(self, agent_id: int, ws: WebSocket) -> None:
        self._agents[agent_id].discard(ws)

    async def to_player(self, conversation_id: str, event: dict) -> None:
        await self._send(list(self._players.get(conversation_id, ())), event)

    async def to_agents(self, event: dict, agent_ids: list[int] | None = None) -> None:
        targets = [
            ws for aid, sockets in self._agents.items() if agent_ids is None or aid in agent_ids for ws in sockets
        ]
        await self._send(targets, event)

    @staticmethod
    async def _send(sockets: list[WebSocket], event: dict) -> None:
        async def one(ws: WebSocket) -> None:
            with contextlib.suppress(Exception):  # a dead socket is cleaned up by its own handler
                await ws.send_json(event)

        await asyncio.gather(*(one(ws) for ws in sockets))

"""Push to connected WebSockets: each player's conversation and every agent console.

In-process fan-out (one hub process). Every event is also in the database, so a client that
reconnects fetches what it missed with ``GET …/messages?after=<id>``: nothing is lost.

A socket authenticates with its first frame, ``{"type": "auth", "token": "…"}``: a token in the
URL would be written to every access log on the way.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
from collections import defaultdict
from collections.abc import Awaitable, Callable

from fastapi import WebSocket, WebSocketDisconnect

AUTH_TIMEOUT_S = 10.0


async def authenticated_socket(websocket: WebSocket, check: Callable[[str], Awaitable[bool]]) -> bool:
    """Accept, then wait for the auth frame; close with 4401 (and return False) unless ``check`` passes."""
    await websocket.accept()
    try:
        frame = await asyncio.wait_for(websocket.receive_json(), AUTH_TIMEOUT_S)
    except (TimeoutError, WebSocketDisconnect, ValueError, KeyError):
        frame = None
    token = frame.get("token") if isinstance(frame, dict) and frame.get("type") == "auth" else None
    if not isinstance(token, str) or not token or len(token) > 256 or not await check(token):
        with contextlib.suppress(Exception):
            await websocket.close(code=4401)
        return False
    await websocket.send_json({"type": "ready"})
    return True


async def frames(websocket: WebSocket):
    """The JSON-object frames a client sends; anything else (not JSON, a list, a binary frame) is
    ignored, never a reason to drop the connection. Ends when the client disconnects."""
    while True:
        try:
            message = await websocket.receive()
        except (WebSocketDisconnect, RuntimeError):
            return
        if message["type"] == "websocket.disconnect":
            return
        try:
            frame = json.loads(message.get("text") or "")
        except ValueError:
            continue
        if isinstance(frame, dict):
            yield frame


class Broadcaster:
    def __init__(self) -> None:
        self._players: dict[str, set[WebSocket]] = defaultdict(set)
        self._agents: dict[int, set[WebSocket]] = defaultdict(set)

    def add_player(self, conversation_id: str, ws: WebSocket) -> None:
        self._players[conversation_id].add(ws)

    def remove_player(self, conversation_id: str, ws: WebSocket) -> None:
        self._players[conversation_id].discard(ws)
        if not self._players[conversation_id]:
            del self._players[conversation_id]

    def add_agent(self, agent_id: int, ws: WebSocket) -> None:
        self._agents[agent_id].add(ws)

    def remove_agent(self, agent_id: int, ws: WebSocket) -> None:
        self._agents[agent_id].discard(ws)
        if not self._agents[agent_id]:
            del self._agents[agent_id]

    def connected_agents(self) -> list[int]:
        return list(self._agents)

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

"""How stored rows are shown to players and agents."""

from __future__ import annotations

from handoff.models import Message


def message_out(message: Message, for_agent: bool = False) -> dict:
    out = {
        "id": message.id,
        "from": message.sender,
        "text": message.text,
        "buttons": message.buttons or [],
        "meta": message.meta or {},
        "created_at": message.created_at.isoformat(),
    }
    if for_agent:
        out["internal"] = message.internal
    return out

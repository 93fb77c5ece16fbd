"""How stored rows are shown to players and agents."""

from __future__ import annotations

from handoff.models import Message


def message_out(message: Message, for_agent: bool = False, with_original: bool = False) -> dict:
    """A message for a client. Players and agents see the masked text; ``with_original`` (the agent
    holding the conversation) adds what the player typed before masking, when it differed."""
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
    if with_original and message.original_text:
        out["original_text"] = message.original_text
    return out

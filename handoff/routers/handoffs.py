"""Intake from the bot: ``action_handoff`` asks the hub to take a conversation."""

from __future__ import annotations

from fastapi import APIRouter, Depends
from pydantic import Field
from sqlalchemy.orm import Session

from bot.handoff_client import REASONS
from bot.language.names import SUPPORTED
from handoff import queue
from handoff.deps import Hub, get_hub, require_service
from handoff.errors import HubError
from handoff.models import Conversation
from handoff.validation import RequestBody

router = APIRouter(prefix="/api/handoffs", tags=["bot intake"], dependencies=[Depends(require_service)])


class Suggestion(RequestBody):
    faq_id: str = Field(max_length=64)
    score: float | None = None


class HandoffIn(RequestBody):
    conversation_id: str = Field(max_length=64)
    language: str = Field(max_length=8)
    reason: str = Field(max_length=32)
    priority: str = Field("normal", pattern="^(normal|high)$")
    suggestions: list[Suggestion] = Field(default_factory=list, max_length=10)
    transcript: list[dict] = Field(default_factory=list, max_length=200)


@router.post("")
async def take_over(body: HandoffIn, hub: Hub = Depends(get_hub)) -> dict:
    if body.reason not in REASONS:
        raise HubError(422, "unknown reason", f"one of {', '.join(REASONS)}")

    def enqueue(session: Session) -> dict:
        conversation = session.get(Conversation, body.conversation_id)
        if conversation is None:
            raise HubError(404, "unknown conversation", "the hub did not start this conversation")
        if body.language in SUPPORTED:
            conversation.language = body.language
        priority = "high" if body.reason == "safer_gambling" or body.priority == "high" else "normal"
        queue.enqueue(session, conversation, body.reason, priority, [s.model_dump() for s in body.suggestions])
        session.flush()
        place, wait = queue.place_and_wait(session, conversation, hub.settings.default_wait_s)
        return {
            "state": conversation.state,
            "position": place,
            "estimated_wait_s": wait,
            "agents_online": queue.agents_online(session, conversation.language, hub.settings.presence_ttl_s),
        }

    result = await hub.db.write(enqueue)
    await hub.broadcaster.to_agents({"type": "queue", "conversation_id": body.conversation_id})
    return result

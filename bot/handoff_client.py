"""The one place where the bot asks the handoff hub to take a conversation.

The hub (``handoff/``) answers with the queue position and estimated wait. When no hub is
configured (``HANDOFF_URL`` empty) the request is only logged, and the player is still told a
person will take over; when a configured hub does not answer, the caller tells the player how else
to reach support.
"""

from __future__ import annotations

import logging
from dataclasses import asdict, dataclass, field

import requests

from bot.settings import Settings

logger = logging.getLogger(__name__)

REASONS = ("player_request", "low_confidence", "repeated_fallback", "topic_requires_human", "safer_gambling")


@dataclass
class HandoffRequest:
    conversation_id: str
    language: str
    reason: str
    priority: str  # "high" | "normal"
    suggestions: list[dict] = field(default_factory=list)  # [{"faq_id", "score"}]
    transcript: list[dict] = field(default_factory=list)  # [{"from", "text", "meta"?}]


@dataclass
class HandoffTicket:
    accepted: bool
    position: int | None = None
    estimated_wait_s: int | None = None


def request_handoff(request: HandoffRequest, settings: Settings) -> HandoffTicket:
    """Post the handoff to the hub; ``accepted=False`` when a configured hub cannot be reached."""
    if not settings.handoff_url:
        logger.info("handoff (no hub configured): %s reason=%s", request.conversation_id, request.reason)
        return HandoffTicket(accepted=True)
    try:
        response = requests.post(
            settings.handoff_url,
            json=asdict(request),
            headers={"Authorization": f"Bearer {settings.handoff_service_token}"},
            timeout=settings.handoff_timeout_s,
        )
        response.raise_for_status()
        body = response.json()
    except (requests.RequestException, ValueError) as exc:
        logger.error("handoff hub unreachable for %s: %s", request.conversation_id, exc)
        return HandoffTicket(accepted=False)
    return HandoffTicket(accepted=True, position=body.get("position"), estimated_wait_s=body.get("estimated_wait_s"))

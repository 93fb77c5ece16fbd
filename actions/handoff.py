"""Handing a conversation to a person: ``hand_off``, shared by every action that does it."""

from __future__ import annotations

import logging
from typing import Any

from rasa_sdk import Tracker
from rasa_sdk.events import ConversationPaused, SlotSet
from rasa_sdk.executor import CollectingDispatcher

from actions.conversation import language_of, message_meta, transcript
from actions.runtime import runtime
from bot.handoff_client import HandoffRequest, request_handoff

logger = logging.getLogger(__name__)

REASON_TEXT = {
    "repeated_fallback": "utter_handoff_repeated_fallback",
    "safer_gambling": "utter_handoff_priority",
}


def hand_off(
    dispatcher: CollectingDispatcher,
    tracker: Tracker,
    reason: str,
    suggestions: list[dict] | None = None,
    meta: dict | None = None,
) -> list[dict[str, Any]]:
    """Ask the hub to take over, tell the player in their language, and pause the bot."""
    rt = runtime()
    language = language_of(tracker)
    priority = "high" if reason == "safer_gambling" else "normal"
    # The caller's meta may be a whole message meta already: its own language/intent keys are ours to set.
    meta = {k: v for k, v in (meta or {}).items() if k not in ("language", "intent", "confidence")}
    ticket = request_handoff(
        HandoffRequest(
            conversation_id=tracker.sender_id,
            language=language,
            reason=reason,
            priority=priority,
            suggestions=suggestions or [],
            transcript=transcript(tracker),
        ),
        rt.settings,
    )
    if not ticket.accepted:
        dispatcher.utter_message(
            text=rt.text("utter_handoff_unavailable", language),
            json_message=message_meta(tracker, language, **{**meta, "outcome": "handoff"}, handoff=None),
        )
        return [SlotSet("handoff_reason", None)]
    meta = {**meta, "outcome": "handoff"}
    handoff_meta = {
        "reason": reason,
        "priority": priority,
        "position": ticket.position,
        "estimated_wait_s": ticket.estimated_wait_s,
    }
    dispatcher.utter_message(
        text=rt.text(REASON_TEXT.get(reason, "utter_handoff"), language),
        json_message=message_meta(tracker, language, **meta, handoff=handoff_meta),
    )
    return [
        SlotSet("handoff_reason", reason),
        SlotSet("fallback_streak", 0.0),
        SlotSet("miss_streak", 0.0),
        ConversationPaused(),
    ]

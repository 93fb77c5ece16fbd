"""Handing a conversation to a person: ``action_handoff`` and the shared ``hand_off``."""

from __future__ import annotations

import logging
from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.events import ConversationPaused, SlotSet
from rasa_sdk.executor import CollectingDispatcher

from actions.conversation import language_of, latest_entity, message_meta, transcript
from actions.runtime import runtime
from bot.handoff_client import REASONS, HandoffRequest, request_handoff

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
            json_message=message_meta(tracker, language, **(meta or {}), handoff=None),
        )
        return [SlotSet("handoff_reason", None)]
    handoff_meta = {
        "reason": reason,
        "priority": priority,
        "position": ticket.position,
        "estimated_wait_s": ticket.estimated_wait_s,
    }
    dispatcher.utter_message(
        text=rt.text(REASON_TEXT.get(reason, "utter_handoff"), language),
        json_message=message_meta(tracker, language, **(meta or {}), handoff=handoff_meta),
    )
    return [SlotSet("handoff_reason", reason), SlotSet("fallback_streak", 0.0), ConversationPaused()]


class ActionHandoff(Action):
    """The player asked for a person (or pressed a "talk to a person" button carrying a reason)."""

    def name(self) -> str:
        return "action_handoff"

    def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict) -> list[dict[str, Any]]:
        reason = latest_entity(tracker, "reason")
        if reason not in REASONS:
            reason = "player_request"
        return hand_off(dispatcher, tracker, reason, last_topic(tracker))


def last_topic(tracker: Tracker) -> list[dict]:
    """The FAQ topic the bot last answered, as the agent's first suggestion (often what the
    player still needs help with)."""
    topic_id = tracker.get_slot("faq_id")
    if not topic_id:
        return []
    return [{"faq_id": topic_id, "score": tracker.get_slot("faq_score")}]

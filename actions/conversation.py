"""Reading the conversation from Rasa's tracker: language, transcript, the last message's meta."""

from __future__ import annotations

from typing import Any

from rasa_sdk import Tracker
from rasa_sdk.events import SlotSet

from bot.language.names import DEFAULT_LANGUAGE, SUPPORTED

TRANSCRIPT_LIMIT = 50


def language_settled(tracker: Tracker) -> bool:
    """Whether the conversation's language was ever set (a sure detection, the widget, a switch)."""
    return any(e.get("event") == "slot" and e.get("name") == "language" for e in tracker.events)


def language_of(tracker: Tracker) -> str:
    """The conversation's language; until one is settled, the detector's best guess on this message
    beats the default (a first "moro moro" or "tjenare!" is too short to be sure, not to guess)."""
    if not language_settled(tracker):
        guess = tracker.latest_message.get("language")
        if guess in SUPPORTED:
            return guess
    language = tracker.get_slot("language")
    return language if language in SUPPORTED else DEFAULT_LANGUAGE


def settle_language(tracker: Tracker, language: str) -> list[dict]:
    """Keep a guessed language for the next turns (no event when the slot already holds it)."""
    return [] if tracker.get_slot("language") == language else [SlotSet("language", language)]


def latest_entity(tracker: Tracker, name: str) -> Any:
    for entity in tracker.latest_message.get("entities") or []:
        if entity.get("entity") == name:
            return entity.get("value")
    return None


def transcript(tracker: Tracker) -> list[dict]:
    """The last user and bot turns, oldest first, with bot meta where there was one."""
    turns: list[dict] = []
    for event in tracker.events:
        if event.get("event") == "user":
            turns.append({"from": "player", "text": event.get("text") or ""})
        elif event.get("event") == "bot":
            data = event.get("data") or {}
            if event.get("text"):
                turns.append({"from": "bot", "text": event["text"]})
            elif data.get("custom") and turns and turns[-1]["from"] == "bot":
                turns[-1]["meta"] = data["custom"]
    return turns[-TRANSCRIPT_LIMIT:]


def message_meta(tracker: Tracker, language: str, **extra: Any) -> dict:
    """The ``custom`` payload every bot answer carries (the slot contract, for clients)."""
    intent = tracker.latest_message.get("intent") or {}
    meta = {
        "language": language,
        "intent": intent.get("name"),
        "confidence": round(float(intent.get("confidence") or 0.0), 4),
        "faq_id": None,
        "faq_score": None,
    }
    meta.update(extra)
    return meta

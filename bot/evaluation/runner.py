"""Sending each case as a fresh conversation to the running Rasa server and reading the outcome."""

from __future__ import annotations

import uuid
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field

import requests

from bot.evaluation.dataset import Case


@dataclass
class Outcome:
    case: Case
    detected_language: str | None  # what the detector said about this message
    reply_language: str | None  # the conversation's language after the turn (slot)
    intent: str | None
    faq_id: str | None  # answered topic (slot), None if no answer
    handoff_reason: str | None
    faq_outcome: str | None  # answer | clarify | fallback | None (no FAQ lookup)
    suggestions: list[str]
    bot_texts: list[str]
    error: str | None = None
    reply_languages: list[str | None] = field(default_factory=list)  # the meta language of every text reply


def run_case(rasa_url: str, case: Case, timeout: float = 30.0, token: str = "") -> Outcome:
    sender = f"eval-{uuid.uuid4().hex}"
    try:
        replies = requests.post(
            f"{rasa_url}/webhooks/rest/webhook", json={"sender": sender, "message": case.text}, timeout=timeout
        ).json()
        tracker = requests.get(
            f"{rasa_url}/conversations/{sender}/tracker", params={"token": token} if token else {}, timeout=timeout
        ).json()
    except (requests.RequestException, ValueError) as exc:
        return Outcome(case, None, None, None, None, None, None, [], [], error=str(exc))
    latest = tracker.get("latest_message") or {}
    slots = tracker.get("slots") or {}
    customs = [r["custom"] for r in replies if isinstance(r.get("custom"), dict)]
    faq_meta = next((c for c in customs if "outcome" in c), {})
    return Outcome(
        case=case,
        detected_language=latest.get("language"),
        reply_language=slots.get("language"),
        intent=(latest.get("intent") or {}).get("name"),
        faq_id=slots.get("faq_id") if faq_meta.get("outcome") == "answer" else None,
        handoff_reason=slots.get("handoff_reason"),
        faq_outcome=faq_meta.get("outcome"),
        suggestions=[s["faq_id"] for s in faq_meta.get("suggestions") or []],
        bot_texts=[r["text"] for r in replies if r.get("text")],
        reply_languages=reply_languages(replies),
    )


def reply_languages(replies: list[dict]) -> list[str | None]:
    """Rasa's REST channel sends a reply's meta as a separate ``custom`` message after its text:
    the language each text reply carries (None for a text without meta)."""
    languages: list[str | None] = []
    for reply in replies:
        if reply.get("text"):
            languages.append(None)
        elif isinstance(reply.get("custom"), dict) and languages and languages[-1] is None:
            languages[-1] = reply["custom"].get("language")
    return languages


def run_cases(rasa_url: str, cases: list[Case], workers: int = 4, token: str = "") -> list[Outcome]:
    with ThreadPoolExecutor(workers) as pool:
        return list(pool.map(lambda c: run_case(rasa_url, c, token=token), cases))

"""``action_answer_faq``: answer from the FAQ index, ask "did you mean", or fall back.

Honours each topic's ``handling``: ``answer+offer`` adds a "talk to a person" button,
``human-priority`` answers with care and the help line, then hands off at once.
Two fallbacks in a row hand the conversation to a person (reason ``repeated_fallback``).
Messages the classifier calls out of scope are still looked up, and answered only when the index
is sure (a safety net for real questions, above all a player in trouble, worded unusually).
"""

from __future__ import annotations

import json
import logging
from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.events import SlotSet
from rasa_sdk.executor import CollectingDispatcher

from actions.conversation import language_of, latest_entity, message_meta
from actions.handoff import hand_off
from actions.runtime import Runtime, runtime
from bot.decision import ANSWER, CLARIFY, Decision, decide

logger = logging.getLogger(__name__)

OUT_OF_SCOPE = "out_of_scope"
MAX_QUERY_CHARS = 1000
MAX_RELATED = 2  # e5 reads 512 tokens at most; longer text only costs time


def human_payload(reason: str) -> str:
    return "/request_human" + json.dumps({"reason": reason})


def topic_payload(topic_id: str) -> str:
    return "/faq" + json.dumps({"faq_id": topic_id})


def suggestion_list(rt: Runtime, decision: Decision, language: str) -> list[dict]:
    return [
        {"faq_id": m.topic_id, "title": rt.kb.title(m.topic_id, language), "score": m.score}
        for m in decision.suggestions
    ]


class ActionAnswerFaq(Action):
    def name(self) -> str:
        return "action_answer_faq"

    def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict) -> list[dict[str, Any]]:
        rt = runtime()
        language = language_of(tracker)
        chosen = latest_entity(tracker, "faq_id")
        if chosen in rt.kb.topics:  # a "did you mean" button
            decision = Decision(ANSWER, chosen, 1.0)
        else:
            text = (tracker.latest_message.get("text") or "")[:MAX_QUERY_CHARS]
            matches = rt.index.query(text, language, top_k=max(5, rt.thresholds.max_suggestions))
            decision = decide(matches, rt.thresholds)
        intent = (tracker.latest_message.get("intent") or {}).get("name")
        if intent == OUT_OF_SCOPE and decision.outcome != ANSWER:
            # The classifier and the index agree this is not a question we know: say what we do.
            dispatcher.utter_message(
                text=rt.text("utter_out_of_scope", language),
                json_message=message_meta(
                    tracker, language, faq_score=round(decision.score, 4), outcome="out_of_scope"
                ),
            )
            return [SlotSet("faq_id", None), SlotSet("faq_score", round(decision.score, 4))]
        if decision.outcome == ANSWER:
            return self._answer(dispatcher, tracker, rt, decision, language)
        if decision.outcome == CLARIFY:
            return self._clarify(dispatcher, tracker, rt, decision, language)
        return self._fallback(dispatcher, tracker, rt, decision, language)

    def _answer(self, dispatcher, tracker, rt: Runtime, decision: Decision, language: str) -> list:
        topic = rt.kb.topics[decision.topic_id]
        answer, used = rt.kb.answer(topic.id, language)
        if used != language:
            logger.warning("topic %s has no %s text; answered in %s", topic.id, language, used)
        score = round(decision.score, 4)
        meta = {"faq_id": topic.id, "faq_score": score, "outcome": ANSWER, "handling": topic.handling}
        events = [SlotSet("faq_id", topic.id), SlotSet("faq_score", score), SlotSet("fallback_streak", 0.0)]
        # Topics players confuse link each other (topics.yml see_also): one tap to the neighbour.
        buttons = [
            {"title": rt.kb.title(related, language), "payload": topic_payload(related)}
            for related in topic.see_also[:MAX_RELATED]
        ]
        if topic.handling == "answer+offer":
            buttons.append(rt.button("talk_to_person", language, human_payload("topic_requires_human")))
        dispatcher.utter_message(text=answer, buttons=buttons, json_message=message_meta(tracker, language, **meta))
        if topic.handling == "human-priority":
            suggestions = [{"faq_id": topic.id, "score": score}]
            events += hand_off(dispatcher, tracker, "safer_gambling", suggestions, meta)
        return events

    def _clarify(self, dispatcher, tracker, rt: Runtime, decision: Decision, language: str) -> list:
        suggestions = suggestion_list(rt, decision, language)
        buttons = [{"title": s["title"], "payload": topic_payload(s["faq_id"])} for s in suggestions]
        buttons.append(rt.button("talk_to_person", language, human_payload("low_confidence")))
        score = round(decision.score, 4)
        dispatcher.utter_message(
            text=rt.text("utter_clarify", language),
            buttons=buttons,
            json_message=message_meta(tracker, language, faq_score=score, outcome=CLARIFY, suggestions=suggestions),
        )
        return [SlotSet("faq_id", None), SlotSet("faq_score", score)]

    def _fallback(self, dispatcher, tracker, rt: Runtime, decision: Decision, language: str) -> list:
        streak = int(tracker.get_slot("fallback_streak") or 0) + 1
        score = round(decision.score, 4)
        meta = {"faq_score": score, "outcome": "fallback", "suggestions": suggestion_list(rt, decision, language)}
        events = [SlotSet("faq_id", None), SlotSet("faq_score", score)]
        if streak >= 2:
            suggestions = [{"faq_id": s["faq_id"], "score": s["score"]} for s in meta["suggestions"]]
            return events + hand_off(dispatcher, tracker, "repeated_fallback", suggestions, meta)
        dispatcher.utter_message(
            text=rt.text("utter_faq_fallback", language),
            buttons=[rt.button("talk_to_person", language, human_payload("low_confidence"))],
            json_message=message_meta(tracker, language, **meta),
        )
        return events + [SlotSet("fallback_streak", float(streak))]


# Load the model and index while the action server starts, not on the first player's message.
try:
    runtime()
except Exception:  # noqa: BLE001 - the server must still start and report the problem per request
    logger.exception("could not load the FAQ runtime at start-up")

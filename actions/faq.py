"""``action_answer_faq`` and ``respond``, the one way every action turns a typed message into a reply.

``respond`` looks at the understanding of the message (``bot.understanding``), in this order:
1. signs of a gambling problem (the safer-gambling detector): a few words of care, the help line,
   and a priority handoff, whatever the intent or topic;
2. a request for a person or frustration with the bot (its own detector): a handoff;
3. the FAQ decision on calibrated probabilities: answer (honouring the topic's ``handling``:
   ``answer+offer`` adds a "talk to a person" button), "did you mean", or a fallback.
Out-of-scope messages are answered only when the decision is sure (and get "did you mean" when a
topic is likely, whatever the intent classifier said). Two non-answers in a row
(fallback or out of scope, in any order) offer a person; two fallbacks in a row hand over.
"""

from __future__ import annotations

import json
import logging
from dataclasses import replace
from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.events import SlotSet
from rasa_sdk.executor import CollectingDispatcher

from actions.conversation import language_of, latest_entity, message_meta, settle_language
from actions.handoff import hand_off
from actions.runtime import Runtime, runtime
from bot.decision import ANSWER, CLARIFY, Decision, Thresholds, decide
from bot.understanding.training import SAFER_GAMBLING_TOPIC
from bot.understanding.understand import Understanding

logger = logging.getLogger(__name__)

OUT_OF_SCOPE = "out_of_scope"
MAX_QUERY_CHARS = 1000  # e5 reads 512 tokens at most; longer text only costs time
MAX_RELATED = 2


def human_payload(reason: str) -> str:
    return "/request_human" + json.dumps({"reason": reason})


def topic_payload(topic_id: str) -> str:
    return "/faq" + json.dumps({"faq_id": topic_id})


def suggestion_list(rt: Runtime, decision: Decision, language: str) -> list[dict]:
    return [
        {"faq_id": s.topic_id, "title": rt.kb.title(s.topic_id, language), "score": round(s.probability, 4)}
        for s in decision.suggestions
    ]


def understanding_meta(understanding: Understanding) -> dict:
    """What the agent console and the review inbox show about how the bot read the message."""
    top = understanding.top
    return {
        "faq_similarity": round(top.score, 4) if top else None,
        "safer_gambling": round(understanding.safer_gambling, 4),
        "human_request": round(understanding.human_request, 4),
        **(
            {"question_part": understanding.text}
            if understanding.sentences and len(understanding.sentences) > 1
            else {}
        ),
    }


def understand_latest(rt: Runtime, tracker: Tracker, language: str) -> Understanding:
    text = (tracker.latest_message.get("text") or "")[:MAX_QUERY_CHARS]
    return rt.understand(text, language)


def respond(
    dispatcher: CollectingDispatcher, tracker: Tracker, rt: Runtime, understanding: Understanding, language: str
) -> list[dict[str, Any]]:
    """Reply to a typed message: safer gambling first, then a request for a person, then the FAQ."""
    extra = understanding_meta(understanding)
    if understanding.safer_gambling >= rt.settings.safer_gambling_threshold:
        return answer(dispatcher, tracker, rt, Decision(ANSWER, SAFER_GAMBLING_TOPIC, 1.0), language, extra)
    if understanding.human_request >= rt.settings.human_request_threshold:
        meta = {"outcome": "handoff", **extra}
        return hand_off(dispatcher, tracker, "player_request", last_topic(tracker), meta) + reset_streaks()
    intent = (tracker.latest_message.get("intent") or {}).get("name")
    decision = decide(understanding, thresholds_for(rt, intent))
    if decision.outcome == ANSWER and decision.topic_id == SAFER_GAMBLING_TOPIC:
        # The priority handoff is the detector's call alone; the topic is offered as a button instead.
        decision = Decision(CLARIFY, decision.topic_id, decision.probability, decision.suggestions)
    if decision.outcome == ANSWER:
        return answer(dispatcher, tracker, rt, decision, language, extra)
    if decision.outcome == CLARIFY:  # likely topics beat the classifier's "out of scope"
        return clarify(dispatcher, tracker, rt, decision, language, extra)
    if intent == OUT_OF_SCOPE:
        return out_of_scope(dispatcher, tracker, rt, decision, language, extra)
    return fallback(dispatcher, tracker, rt, decision, language, extra)


def thresholds_for(rt: Runtime, intent: str | None) -> Thresholds:
    """When the intent classifier says "out of scope" and the index names a topic, the two disagree:
    a direct answer then needs the index all but certain ("which phone should I buy" scores 0.97 for
    the mobile app); below that the player gets "did you mean" instead."""
    if intent != OUT_OF_SCOPE:
        return rt.thresholds
    strict = max(rt.thresholds.answer_probability, rt.settings.faq_out_of_scope_answer_probability)
    return replace(rt.thresholds, answer_probability=strict)


def last_topic(tracker: Tracker) -> list[dict]:
    """The FAQ topic the bot last answered: the agent's first suggestion."""
    topic_id = tracker.get_slot("faq_id")
    return [{"faq_id": topic_id, "score": tracker.get_slot("faq_score")}] if topic_id else []


def reset_streaks() -> list[dict]:
    return [SlotSet("fallback_streak", 0.0), SlotSet("miss_streak", 0.0)]


def answer(dispatcher, tracker, rt: Runtime, decision: Decision, language: str, extra: dict | None = None) -> list:
    topic = rt.kb.topics[decision.topic_id]
    text, used = rt.kb.answer(topic.id, language)
    if used != language:
        logger.warning("topic %s has no %s text; answered in %s", topic.id, language, used)
    score = round(decision.probability, 4)
    meta = {"faq_id": topic.id, "faq_score": score, "outcome": ANSWER, "handling": topic.handling, **(extra or {})}
    events = [SlotSet("faq_id", topic.id), SlotSet("faq_score", score), *reset_streaks()]
    if topic.handling == "human-priority":
        dispatcher.utter_message(text=text, json_message=message_meta(tracker, language, **meta))
        return events + hand_off(dispatcher, tracker, "safer_gambling", [{"faq_id": topic.id, "score": score}], meta)
    # Topics players confuse link each other (topics.yml see_also): one tap to the neighbour.
    buttons = [
        {"title": rt.kb.title(related, language), "payload": topic_payload(related)}
        for related in topic.see_also[:MAX_RELATED]
    ]
    if topic.handling == "answer+offer":
        buttons.append(rt.button("talk_to_person", language, human_payload("topic_requires_human")))
    dispatcher.utter_message(text=text, buttons=buttons, json_message=message_meta(tracker, language, **meta))
    return events


def clarify(dispatcher, tracker, rt: Runtime, decision: Decision, language: str, extra: dict | None = None) -> list:
    suggestions = suggestion_list(rt, decision, language)
    buttons = [{"title": s["title"], "payload": topic_payload(s["faq_id"])} for s in suggestions]
    buttons.append(rt.button("talk_to_person", language, human_payload("low_confidence")))
    score = round(decision.probability, 4)
    dispatcher.utter_message(
        text=rt.text("utter_clarify", language),
        buttons=buttons,
        json_message=message_meta(
            tracker, language, faq_score=score, outcome=CLARIFY, suggestions=suggestions, **(extra or {})
        ),
    )
    return [SlotSet("faq_id", None), SlotSet("faq_score", score), *reset_streaks()]


def missed(tracker: Tracker, fell_back: bool) -> tuple[int, int]:
    """(consecutive non-answers, consecutive fallbacks) including this turn."""
    misses = int(tracker.get_slot("miss_streak") or 0) + 1
    fallbacks = int(tracker.get_slot("fallback_streak") or 0) + 1 if fell_back else 0
    return misses, fallbacks


def out_of_scope(dispatcher, tracker, rt: Runtime, decision: Decision, language: str, extra: dict | None = None):
    misses, _ = missed(tracker, fell_back=False)
    score = round(decision.probability, 4)
    meta = message_meta(tracker, language, faq_score=score, outcome="out_of_scope", **(extra or {}))
    events = [SlotSet("faq_id", None), SlotSet("faq_score", score)]
    return events + not_answered(dispatcher, rt, "utter_out_of_scope", language, meta, misses, 0)


def fallback(dispatcher, tracker, rt: Runtime, decision: Decision, language: str, extra: dict | None = None) -> list:
    misses, fallbacks = missed(tracker, fell_back=True)
    score = round(decision.probability, 4)
    suggestions = suggestion_list(rt, decision, language)
    meta = message_meta(
        tracker, language, faq_score=score, outcome="fallback", suggestions=suggestions, **(extra or {})
    )
    events = [SlotSet("faq_id", None), SlotSet("faq_score", score)]
    if fallbacks >= 2:  # the same kind of question failed twice: a person takes over
        handed = [{"faq_id": s["faq_id"], "score": s["score"]} for s in suggestions]
        return events + reset_streaks() + hand_off(dispatcher, tracker, "repeated_fallback", handed, meta)
    return events + not_answered(dispatcher, rt, "utter_faq_fallback", language, meta, misses, fallbacks)


def not_answered(dispatcher, rt: Runtime, key: str, language: str, meta: dict, misses: int, fallbacks: int) -> list:
    """Say so, always with a way to a person; from the second non-answer in a row, offer one outright."""
    text = rt.text(key, language)
    if misses >= 2:
        text = f"{text} {rt.text('utter_offer_human_after_misses', language)}"
        meta = {**meta, "offer_human": True}
    button = rt.button("talk_to_person", language, human_payload("low_confidence"))
    dispatcher.utter_message(text=text, buttons=[button], json_message=meta)
    return [SlotSet("miss_streak", float(misses)), SlotSet("fallback_streak", float(fallbacks))]


class ActionAnswerFaq(Action):
    """A knowledge question (intents ``faq``, ``nlu_fallback``, ``out_of_scope``) or a "did you mean" button."""

    def name(self) -> str:
        return "action_answer_faq"

    def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict) -> list[dict[str, Any]]:
        rt = runtime()
        language = language_of(tracker)
        chosen = latest_entity(tracker, "faq_id")
        if chosen in rt.kb.topics:  # a "did you mean" button: the player said which topic
            events = answer(dispatcher, tracker, rt, Decision(ANSWER, chosen, 1.0), language)
        else:
            events = respond(dispatcher, tracker, rt, understand_latest(rt, tracker, language), language)
        return settle_language(tracker, language) + events


# Load the model and index while the action server starts, not on the first player's message.
try:
    runtime()
except Exception:  # noqa: BLE001 - the server must still start and report the problem per request
    logger.exception("could not load the FAQ runtime at start-up")

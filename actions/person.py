"""``action_handoff``: the player asked for a person (typed, or a "talk to a person" button)."""

from __future__ import annotations

from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.executor import CollectingDispatcher

from actions.conversation import language_of, latest_entity, settle_language
from actions.faq import answer, last_topic, understand_latest, understanding_meta
from actions.handoff import hand_off
from actions.runtime import runtime
from bot.decision import ANSWER, Decision, decide
from bot.handoff_client import REASONS
from bot.understanding.training import SAFER_GAMBLING_TOPIC


class ActionHandoff(Action):
    def name(self) -> str:
        return "action_handoff"

    def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict) -> list[dict[str, Any]]:
        language = language_of(tracker)
        return settle_language(tracker, language) + self.reply(dispatcher, tracker, language)

    def reply(self, dispatcher: CollectingDispatcher, tracker: Tracker, language: str) -> list[dict[str, Any]]:
        reason = latest_entity(tracker, "reason")
        if reason in REASONS:  # a button: the player chose, nothing to second-guess
            return hand_off(dispatcher, tracker, reason, last_topic(tracker))
        rt = runtime()
        understanding = understand_latest(rt, tracker, language)
        extra = understanding_meta(understanding)
        if understanding.safer_gambling >= rt.settings.safer_gambling_threshold:
            return answer(dispatcher, tracker, rt, Decision(ANSWER, SAFER_GAMBLING_TOPIC, 1.0), language, extra)
        if understanding.human_request < rt.settings.human_request_threshold:
            # The classifier heard a request for a person; the request detector did not. Only a message
            # the FAQ decision is sure about is taken for a knowledge question that mentions people
            # ("when will someone answer my e-mail?") and answered; in any doubt, a person it is.
            decision = decide(understanding, rt.thresholds)
            if decision.outcome == ANSWER and decision.topic_id != SAFER_GAMBLING_TOPIC:
                return answer(dispatcher, tracker, rt, decision, language, extra)
        return hand_off(dispatcher, tracker, "player_request", last_topic(tracker), extra)

"""Small talk and language switches as actions, so that every reply carries its meta.

``action_small_talk`` answers greetings, thanks, goodbyes, "are you a bot?", yes and no. A message
the classifier calls small talk can still carry a question ("hi! a question about the bonus"), a
request for a person or a sign of trouble: it is looked at like any typed message first, and only
a message that is not a knowledge question gets the small-talk reply.

``action_change_language`` confirms a switch ("in English please") in the new language.
"""

from __future__ import annotations

from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.events import SlotSet
from rasa_sdk.executor import CollectingDispatcher

from actions.conversation import language_of, message_meta, settle_language
from actions.faq import answer, human_payload, reset_streaks, respond, understand_latest, understanding_meta
from actions.runtime import runtime
from bot.decision import ANSWER, CLARIFY, decide
from bot.language.names import SUPPORTED

REPLIES = {
    "greet": "utter_greet",
    "goodbye": "utter_goodbye",
    "thank": "utter_you_are_welcome",
    "bot_challenge": "utter_iamabot",
    "affirm": "utter_anything_else",
    "deny": "utter_anything_else",
}
WITH_PERSON_BUTTON = {"bot_challenge"}
LANGUAGES_TOPIC = "support_languages"  # "are you a bot?": a person is the natural next step


class ActionSmallTalk(Action):
    def name(self) -> str:
        return "action_small_talk"

    def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict) -> list[dict[str, Any]]:
        rt = runtime()
        language = language_of(tracker)
        intent = (tracker.latest_message.get("intent") or {}).get("name") or "greet"
        understanding = understand_latest(rt, tracker, language)
        settings = rt.settings
        carries_more = (
            understanding.safer_gambling >= settings.safer_gambling_threshold
            or understanding.human_request >= settings.human_request_threshold
            or decide(understanding, rt.thresholds).outcome in (ANSWER, CLARIFY)
        )
        if carries_more:
            return settle_language(tracker, language) + respond(dispatcher, tracker, rt, understanding, language)
        buttons = []
        if intent in WITH_PERSON_BUTTON:
            buttons.append(rt.button("talk_to_person", language, human_payload("player_request")))
        dispatcher.utter_message(
            text=rt.text(REPLIES.get(intent, "utter_anything_else"), language),
            buttons=buttons,
            json_message=message_meta(tracker, language, outcome="small_talk"),
        )
        return settle_language(tracker, language) + reset_streaks()


class ActionChangeLanguage(Action):
    def name(self) -> str:
        return "action_change_language"

    def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict) -> list[dict[str, Any]]:
        rt = runtime()
        language = language_of(tracker)  # the slot already holds the language the player named
        written_in = tracker.latest_message.get("language")
        if written_in in SUPPORTED and written_in != language:
            # "Do you have support in Russian?" written in English names a language without asking
            # to switch: a question about our languages gets its answer in the language it was asked in.
            understanding = understand_latest(rt, tracker, written_in)
            decision = decide(understanding, rt.thresholds)
            if decision.outcome == ANSWER and decision.topic_id == LANGUAGES_TOPIC:
                return [SlotSet("language", written_in)] + answer(
                    dispatcher, tracker, rt, decision, written_in, understanding_meta(understanding)
                )
        dispatcher.utter_message(
            text=rt.text("utter_language_changed", language),
            json_message=message_meta(tracker, language, outcome="language_switch"),
        )
        return []

"""The custom actions, run in-process with the real knowledge base and index."""

from __future__ import annotations

import pytest
from rasa_sdk import Tracker
from rasa_sdk.executor import CollectingDispatcher

from actions.faq import ActionAnswerFaq
from actions.person import ActionHandoff
from actions.small_talk import ActionChangeLanguage, ActionSmallTalk


def tracker(text: str, language: str = "en", entities=None, intent="faq", **slots) -> Tracker:
    return Tracker(
        sender_id="unit-test",
        slots={"language": language, **slots},
        latest_message={
            "text": text,
            "intent": {"name": intent, "confidence": 0.97},
            "entities": entities or [],
        },
        events=[{"event": "user", "text": text}],
        paused=False,
        followup_action=None,
        active_loop={},
        latest_action_name="action_listen",
    )


@pytest.fixture(scope="module")
def run_action(faq_index):  # faq_index makes sure the index is built
    def run(action, t: Tracker):
        dispatcher = CollectingDispatcher()
        events = action.run(dispatcher, t, {})
        return dispatcher.messages, {e["name"]: e.get("value") for e in events if e["event"] == "slot"}, events

    return run


def test_answers_in_the_players_language(run_action, kb):
    messages, slots, _ = run_action(ActionAnswerFaq(), tracker("hur lång tid tar ett uttag till Trustly", "sv"))
    assert slots["faq_id"] == "withdrawal_time"
    assert messages[0]["text"] == kb.answer("withdrawal_time", "sv")[0]
    meta = messages[0]["custom"]
    assert meta["language"] == "sv" and meta["faq_id"] == "withdrawal_time" and meta["outcome"] == "answer"
    assert 0 < meta["faq_score"] <= 1


def test_answer_plus_offer_adds_a_talk_to_a_person_button(run_action):
    messages, slots, _ = run_action(ActionAnswerFaq(), tracker("talletukseni ei näy saldossa", "fi"))
    assert slots["faq_id"] == "deposit_not_credited"
    payloads = [b["payload"] for b in messages[0]["buttons"]]
    assert payloads[-1] == '/request_human{"reason": "topic_requires_human"}'
    assert '/faq{"faq_id": "deposit_methods"}' in payloads  # the topic players confuse it with


def test_confusable_topics_link_each_other(run_action, kb):
    messages, slots, _ = run_action(ActionAnswerFaq(), tracker("miten teen kotiutuksen", "fi"))
    assert slots["faq_id"] == "withdrawal_how"
    titles = {b["title"] for b in messages[0]["buttons"]}
    assert kb.title("withdrawal_time", "fi") in titles


def test_gambling_problem_hands_off_with_priority(run_action, kb):
    messages, slots, events = run_action(
        ActionAnswerFaq(), tracker("I can't stop gambling, I've lost all my savings", "en")
    )
    assert slots["faq_id"] == "gambling_problem_help"
    assert slots["handoff_reason"] == "safer_gambling"
    assert kb.rules_for("en")["helpline_phone"] in messages[0]["text"]
    assert messages[-1]["custom"]["handoff"]["priority"] == "high"
    assert any(e["event"] == "pause" for e in events)


def test_did_you_mean_button_answers_that_topic(run_action):
    chosen = [{"entity": "faq_id", "value": "currencies"}]
    messages, slots, _ = run_action(ActionAnswerFaq(), tracker('/faq{"faq_id": "currencies"}', "tr", chosen))
    assert slots["faq_id"] == "currencies" and slots["faq_score"] == 1.0


def test_nonsense_falls_back_then_hands_off_on_the_second_time(run_action):
    messages, slots, _ = run_action(ActionAnswerFaq(), tracker("qwpoeiru zxmcnv", "en"))
    assert slots["faq_id"] is None and slots["fallback_streak"] == 1.0
    assert messages[0]["custom"]["outcome"] == "fallback"
    assert messages[0]["buttons"][0]["payload"] == '/request_human{"reason": "low_confidence"}'
    messages, slots, events = run_action(ActionAnswerFaq(), tracker("qwpoeiru zxmcnv", "en", fallback_streak=1.0))
    assert slots["handoff_reason"] == "repeated_fallback"
    assert any(e["event"] == "pause" for e in events)


def test_handoff_reason_comes_from_the_button_payload(run_action):
    reason = [{"entity": "reason", "value": "low_confidence"}]
    _, slots, _ = run_action(ActionHandoff(), tracker("/request_human", "ru", reason, intent="request_human"))
    assert slots["handoff_reason"] == "low_confidence"


def test_unknown_reason_is_a_player_request(run_action):
    forged = [{"entity": "reason", "value": "<script>"}]
    messages, slots, _ = run_action(ActionHandoff(), tracker("human", "en", forged, intent="request_human"))
    assert slots["handoff_reason"] == "player_request"
    assert messages[0]["custom"]["handoff"]["reason"] == "player_request"


def test_huge_message_is_answered_without_error(run_action):
    messages, _, _ = run_action(ActionAnswerFaq(), tracker("withdrawal " * 2000, "en"))
    assert messages and messages[0]["text"]


def test_out_of_scope_is_refused_without_counting_as_a_fallback(run_action, settings):
    from bot.kb.texts import load_texts

    messages, slots, _ = run_action(
        ActionAnswerFaq(), tracker("who won the football match yesterday", "en", intent="out_of_scope")
    )
    assert messages[0]["text"] == load_texts(settings.data_dir / "texts").text("utter_out_of_scope", "en").replace(
        "{casino_name}", "Northlight Casino"
    )
    assert messages[0]["custom"]["outcome"] == "out_of_scope"
    assert slots["fallback_streak"] == 0.0 and slots["miss_streak"] == 1.0 and slots["faq_id"] is None


def test_out_of_scope_label_does_not_hide_a_player_in_trouble(run_action):
    _, slots, _ = run_action(
        ActionAnswerFaq(),
        tracker("jag är beroende av spel och kan inte sluta, jag har förlorat allt", "sv", intent="out_of_scope"),
    )
    assert slots.get("handoff_reason") == "safer_gambling"


def test_two_non_answers_in_a_row_offer_a_person(run_action):
    oos = "who won the football match yesterday"
    messages, slots, _ = run_action(ActionAnswerFaq(), tracker(oos, "en", intent="out_of_scope", miss_streak=1.0))
    meta = messages[0]["custom"]
    assert meta["outcome"] == "out_of_scope" and meta["offer_human"] is True
    assert messages[0]["buttons"][0]["payload"] == '/request_human{"reason": "low_confidence"}'
    assert slots["miss_streak"] == 2.0 and "handoff_reason" not in slots  # offered, not forced


def test_an_ordinary_question_about_losses_is_answered_not_escalated(run_action):
    for language, text in [("en", "how do I set a loss limit?"), ("fi", "miten laitan tappiorajan viikolle")]:
        messages, slots, _ = run_action(ActionAnswerFaq(), tracker(text, language))
        assert slots.get("handoff_reason") is None, text
        assert messages[0]["custom"]["safer_gambling"] < 0.41


def test_a_frustrated_request_for_a_person_is_handed_off_whatever_the_intent(run_action):
    text = "this bot understands NOTHING, give me a live operator now"
    _, slots, _ = run_action(ActionAnswerFaq(), tracker(text, "en", intent="faq"))
    assert slots["handoff_reason"] == "player_request"


def test_a_greeting_that_carries_a_question_gets_the_answer(run_action):
    messages, slots, _ = run_action(
        ActionSmallTalk(), tracker("hei! kauanko kotiutus kestää trustlyyn?", "fi", intent="greet")
    )
    assert slots["faq_id"] == "withdrawal_time" and messages[0]["custom"]["outcome"] == "answer"


def test_small_talk_and_language_switches_carry_their_meta(run_action):
    messages, _, _ = run_action(ActionSmallTalk(), tracker("tjenare!", "sv", intent="greet"))
    assert messages[0]["custom"] == {
        **messages[0]["custom"],
        "language": "sv",
        "intent": "greet",
        "outcome": "small_talk",
    }
    messages, _, _ = run_action(ActionChangeLanguage(), tracker("can we speak english", "en", intent="change_language"))
    assert messages[0]["custom"]["language"] == "en" and messages[0]["custom"]["outcome"] == "language_switch"


def test_a_question_about_support_languages_is_answered_not_taken_for_a_switch(run_action):
    t = tracker("do you have support in russian? my dad wants to ask something", "ru", intent="change_language")
    t.latest_message["language"] = "en"  # what the detector said about the text itself
    t.events.append({"event": "slot", "name": "language", "value": "ru"})  # the switch extractor named Russian
    messages, slots, events = run_action(ActionChangeLanguage(), t)
    assert slots["language"] == "en" and slots["faq_id"] == "support_languages"
    assert messages[0]["custom"]["language"] == "en"


def test_out_of_scope_intent_makes_a_direct_answer_need_near_certainty(run_action):
    """ "which phone is better for gaming" reads like the mobile-app topic to the index (p ~0.9); the
    intent classifier says out of scope. The player gets no answer about our app, at most "did you mean"."""
    text = "which phone is better for gaming in general"
    messages, _, _ = run_action(ActionAnswerFaq(), tracker(text, "en", intent="out_of_scope"))
    assert messages[-1]["custom"]["outcome"] != "answer"
    sure = "how long does a withdrawal to my bank account take"
    messages, _, _ = run_action(ActionAnswerFaq(), tracker(sure, "en", intent="out_of_scope"))
    assert (messages[-1]["custom"]["outcome"], messages[-1]["custom"]["faq_id"]) == ("answer", "withdrawal_time")

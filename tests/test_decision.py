"""The FAQ decision on calibrated probabilities, and how the index's two views are combined."""

from dataclasses import replace

import pytest

from bot.decision import ANSWER, CLARIFY, FALLBACK, Thresholds, decide
from bot.index.faq_index import TextScores
from bot.understanding.understand import RankedTopic, Understanding, combine, sentences

T = Thresholds(
    answer_probability=0.8,
    answer_margin=0.2,
    clarify_probability=0.15,
    suggestion_probability=0.05,
    none_probability=0.5,
    max_suggestions=3,
)


def understood(*ranked: tuple[str, float], none: float = 0.01, similarity: float = 0.9) -> Understanding:
    return Understanding("text", [RankedTopic(t, p, similarity) for t, p in ranked], none, 0.0, 0.0)


def test_a_probable_topic_clearly_ahead_is_answered():
    d = decide(understood(("withdrawal_time", 0.9), ("withdrawal_how", 0.05)), T)
    assert (d.outcome, d.topic_id) == (ANSWER, "withdrawal_time")
    assert [s.topic_id for s in d.suggestions] == ["withdrawal_time"]


def test_a_probable_topic_without_margin_asks_did_you_mean():
    d = decide(understood(("withdrawal_time", 0.8), ("withdrawal_how", 0.65), ("payment_fees", 0.02)), T)
    assert d.outcome == CLARIFY
    assert [s.topic_id for s in d.suggestions] == ["withdrawal_time", "withdrawal_how"]


def test_a_middling_topic_is_offered_with_the_likely_neighbours():
    d = decide(understood(("currencies", 0.4), ("payment_fees", 0.3), ("deposit_methods", 0.2), ("x", 0.1)), T)
    assert d.outcome == CLARIFY
    assert [s.topic_id for s in d.suggestions] == ["currencies", "payment_fees", "deposit_methods"]


def test_nothing_likely_falls_back():
    assert decide(understood(("currencies", 0.1), ("payment_fees", 0.09)), T).outcome == FALLBACK
    assert decide(understood(), T).outcome == FALLBACK


def test_not_a_knowledge_question_falls_back_whatever_the_topics_say():
    d = decide(understood(("support_hours", 0.95), ("support_channels", 0.01), none=0.7), T)
    assert d.outcome == FALLBACK


def test_a_bare_keyword_close_to_its_variants_gets_did_you_mean_not_an_answer():
    keyword = replace(T, keyword_similarity=0.9)
    d = decide(understood(("withdrawal_how", 0.95), ("withdrawal_time", 0.04), none=0.8, similarity=0.91), keyword)
    assert (d.outcome, [s.topic_id for s in d.suggestions]) == (CLARIFY, ["withdrawal_how"])
    small_talk = understood(("feedback_complaints", 0.95), none=0.99, similarity=0.877)  # "thanks"
    assert decide(small_talk, keyword).outcome == FALLBACK


def test_combine_multiplies_the_head_with_the_neighbours():
    scores = TextScores(
        "q",
        topics={"a": 0.90, "b": 0.88},
        probabilities={"a": 0.5, "b": 0.5, "c": 0.0},
        none_probability=0.0,
        human_request=0.0,
    )
    ranked = combine(scores, temperature=0.01)
    assert [r.topic_id for r in ranked][:2] == ["a", "b"]
    # equal head probabilities: the neighbour score decides, exp(0.02 / 0.01) = e^2 times likelier
    assert ranked[0].probability / ranked[1].probability == pytest.approx(7.389, rel=1e-3)
    assert sum(r.probability for r in ranked) == pytest.approx(1.0)
    assert ranked[-1].topic_id == "c" and ranked[-1].score == pytest.approx(0.88)  # unseen topic: the floor


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("hi, quick question. how long does a withdrawal take? thanks in advance!", 3),
        ("Hei!!! Missä mun rahat on?\nOdotin kolme päivää", 3),
        ("just one sentence without a stop", 1),
        ("ok. ?", 1),
    ],
)
def test_sentences(text, expected):
    assert len(sentences(text)) == expected

from bot.decision import ANSWER, CLARIFY, FALLBACK, Thresholds, decide
from bot.index.faq_index import TopicMatch

T = Thresholds(answer_score=0.86, answer_margin=0.015, clarify_score=0.82, priority_score=0.84)


def m(topic: str, score: float) -> TopicMatch:
    return TopicMatch(topic, score, score, 0.0, "v", "en")


def test_clear_winner_is_answered():
    d = decide([m("withdrawal_time", 0.91), m("withdrawal_how", 0.87)], T)
    assert (d.outcome, d.topic_id) == (ANSWER, "withdrawal_time")


def test_close_second_asks_did_you_mean():
    d = decide([m("withdrawal_time", 0.90), m("withdrawal_how", 0.895), m("payment_fees", 0.70)], T)
    assert d.outcome == CLARIFY
    assert [s.topic_id for s in d.suggestions] == ["withdrawal_time", "withdrawal_how"]


def test_low_score_falls_back():
    assert decide([m("currencies", 0.78), m("payment_fees", 0.77)], T).outcome == FALLBACK
    assert decide([], T).outcome == FALLBACK


def test_middle_score_clarifies_even_with_one_candidate():
    d = decide([m("currencies", 0.84), m("payment_fees", 0.70)], T)
    assert d.outcome == CLARIFY and [s.topic_id for s in d.suggestions] == ["currencies"]


def test_safer_gambling_is_never_left_to_a_did_you_mean():
    d = decide([m("self_exclusion", 0.875), m("gambling_problem_help", 0.87)], T)
    assert (d.outcome, d.topic_id) == (ANSWER, "gambling_problem_help")


def test_safer_gambling_far_behind_does_not_override():
    d = decide([m("deposit_limits", 0.95), m("gambling_problem_help", 0.85)], T)
    assert (d.outcome, d.topic_id) == (ANSWER, "deposit_limits")

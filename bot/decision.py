"""The FAQ decision: answer, ask "did you mean", or admit not knowing.

e5's similarity scale is compressed (translations score 0.82-0.91, related but different questions
up to 0.85), so one cut-off on the top score is not enough: an answer also needs a margin over the
second-best topic. The thresholds are settings, calibrated on data/eval/dev.tsv.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from bot.index.faq_index import TopicMatch

ANSWER, CLARIFY, FALLBACK = "answer", "clarify", "fallback"
PRIORITY_TOPIC = "gambling_problem_help"


@dataclass(frozen=True)
class Thresholds:
    answer_score: float
    answer_margin: float
    clarify_score: float
    priority_score: float
    max_suggestions: int = 3


@dataclass
class Decision:
    outcome: str
    topic_id: str | None = None
    score: float = 0.0
    suggestions: list[TopicMatch] = field(default_factory=list)


def decide(matches: list[TopicMatch], thresholds: Thresholds) -> Decision:
    if not matches:
        return Decision(FALLBACK)
    top = matches[0]
    second = matches[1].score if len(matches) > 1 else 0.0
    # Safety first: a player who may be in trouble is never left with a "did you mean".
    for match in matches[: thresholds.max_suggestions]:
        if (
            match.topic_id == PRIORITY_TOPIC
            and match.score >= thresholds.priority_score
            and (match is top or top.score - match.score < thresholds.answer_margin)
        ):
            return Decision(ANSWER, match.topic_id, match.score, matches[:1])
    if top.score >= thresholds.answer_score and top.score - second >= thresholds.answer_margin:
        return Decision(ANSWER, top.topic_id, top.score, [top])
    if top.score >= thresholds.clarify_score:
        suggestions = [m for m in matches[: thresholds.max_suggestions] if m.score >= thresholds.clarify_score]
        return Decision(CLARIFY, top.topic_id, top.score, suggestions)
    return Decision(FALLBACK, top.topic_id, top.score, matches[: thresholds.max_suggestions])

"""The FAQ decision: answer, ask "did you mean", or admit not knowing.

Made on calibrated topic probabilities (``bot.understanding``), not on raw cosine values: answer
when the best topic is probable enough AND clearly ahead of the runner-up; offer the likely topics
as buttons when it is less sure; fall back when nothing is likely or the message is not a
knowledge question at all. The thresholds are settings, chosen by ``bot calibrate`` on the tune
halves of ``data/eval/dev.tsv`` and ``data/eval/dev-wild.tsv``.

Safer gambling is NOT decided here: a detector of its own (``Understanding.safer_gambling``) hands
such messages to a person with priority, whatever topic ranks first.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from bot.understanding.understand import RankedTopic, Understanding

ANSWER, CLARIFY, FALLBACK = "answer", "clarify", "fallback"


@dataclass(frozen=True)
class Thresholds:
    answer_probability: float
    answer_margin: float
    clarify_probability: float  # below this the best topic is not worth a button: fall back
    suggestion_probability: float  # further "did you mean" buttons need at least this
    none_probability: float  # "not a knowledge question" at least this sure: fall back
    max_suggestions: int = 3
    # Out-of-domain guard: probabilities are relative among our topics, so gibberish still has a
    # "most likely" topic; when even its nearest variants are this far away, nothing is likely.
    min_similarity: float = 0.0
    # A bare keyword ("вывод", "uttag") looks like small talk to the head (short, no question), yet
    # its nearest variants are very close: at least this similar, "not a question" is overruled and
    # the player gets at most a "did you mean" (never a direct answer). Greetings and thanks stay
    # below 0.89 on both dev sets.
    keyword_similarity: float = 1.01


@dataclass
class Decision:
    outcome: str
    topic_id: str | None = None
    probability: float = 0.0
    suggestions: list[RankedTopic] = field(default_factory=list)


def decide(understanding: Understanding, thresholds: Thresholds) -> Decision:
    ranked = understanding.ranked
    if not ranked:
        return Decision(FALLBACK)
    top = ranked[0]
    second = ranked[1].probability if len(ranked) > 1 else 0.0
    candidates = ranked[: thresholds.max_suggestions]
    if top.score < thresholds.min_similarity:
        return Decision(FALLBACK, top.topic_id, top.probability, candidates)
    if understanding.none_probability >= thresholds.none_probability:
        if top.score < thresholds.keyword_similarity or top.probability < thresholds.clarify_probability:
            return Decision(FALLBACK, top.topic_id, top.probability, candidates)
        return Decision(CLARIFY, top.topic_id, top.probability, _suggestions(top, candidates, thresholds))
    if top.probability >= thresholds.answer_probability and top.probability - second >= thresholds.answer_margin:
        return Decision(ANSWER, top.topic_id, top.probability, [top])
    if top.probability >= thresholds.clarify_probability:
        return Decision(CLARIFY, top.topic_id, top.probability, _suggestions(top, candidates, thresholds))
    return Decision(FALLBACK, top.topic_id, top.probability, candidates)


def _suggestions(top: RankedTopic, candidates: list[RankedTopic], thresholds: Thresholds) -> list[RankedTopic]:
    return [top] + [r for r in candidates[1:] if r.probability >= thresholds.suggestion_probability]

"""One player message, understood: the topic probabilities, the two detectors, and the sentence
that carries the question.

Long messages: the message is split into sentences; sentences the topic head calls "not a
knowledge question" with high probability ("hi, quick question", "thanks in advance", "this is
ridiculous") are filler, and the rest, the sentences carrying the question, decide the topic.

Two detectors, each with its own threshold and consulted before the FAQ decision:
- safer gambling: the probability of the ``gambling_problem_help`` class, discounted by the
  probability that the message is no knowledge question at all, on the whole message and on the
  sentences carrying the question (scored one by one, emotional fragments such as "feel like I'm
  losing money on it" raised false alarms on the tune set: 0.9% against 0.27%). Its threshold is set
  for recall (``bot calibrate``), independently of the answer threshold: it is never the old
  "a safer-gambling topic close to the top" rule;
- a request for a person: the head's ``_human`` class (plain and frustrated requests were
  trained against knowledge questions that mention someone getting back to the player).

Topic probabilities combine the two views of the index as a product of experts: the topic head's
probability and the nearest-neighbour evidence, ``p(topic) ∝ head(topic) · exp(knn(topic) / T)``.
The temperature ``T`` is calibrated on the tune halves of the dev sets (``bot calibrate``); the
answer / did-you-mean / fallback decision (``bot.decision``) is then made on that probability and
its margin over the runner-up, not on raw cosine values.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, field

from bot.index.faq_index import FaqIndex, TextScores
from bot.understanding.training import SAFER_GAMBLING_TOPIC

SENTENCE_END = re.compile(r"(?<=[.!?…])\s+|\s*\n+\s*")
MIN_SENTENCE_CHARS = 3
MAX_SENTENCES = 6  # a longer message is scored as a whole plus its first sentences
FILLER_NONE_PROBABILITY = 0.5  # a sentence at least this surely "not a question" is filler


@dataclass
class RankedTopic:
    topic_id: str
    probability: float
    score: float  # the nearest-neighbour score, for the meta and the review inbox


@dataclass
class Understanding:
    text: str  # the part of the message that decided the topic (the whole message, or its question)
    ranked: list[RankedTopic]
    none_probability: float
    safer_gambling: float
    human_request: float
    sentences: list[str] = field(default_factory=list)

    @property
    def top(self) -> RankedTopic | None:
        return self.ranked[0] if self.ranked else None


def sentences(text: str) -> list[str]:
    parts = [part.strip() for part in SENTENCE_END.split(text.strip())]
    return [part for part in parts if len(part) >= MIN_SENTENCE_CHARS][:MAX_SENTENCES]


def combine(scores: TextScores, temperature: float) -> list[RankedTopic]:
    """Topic probabilities from the head and the nearest neighbours, best first."""
    floor = min(scores.topics.values(), default=0.0)  # topics beyond the searched neighbours
    logits = {
        topic: math.log(max(p, 1e-9)) + scores.topics.get(topic, floor) / temperature
        for topic, p in scores.probabilities.items()
    }
    peak = max(logits.values())
    weights = {topic: math.exp(value - peak) for topic, value in logits.items()}
    total = sum(weights.values())
    ranked = [RankedTopic(topic, weight / total, scores.topics.get(topic, floor)) for topic, weight in weights.items()]
    ranked.sort(key=lambda r: r.probability, reverse=True)
    return ranked


@dataclass
class Analysis:
    """What the index says about a message, before the temperature turns it into probabilities."""

    chosen: TextScores  # the whole message, or the sentences carrying the question
    scored: list[TextScores]  # the whole message, then each sentence of a longer one
    sentences: list[str]

    @property
    def human_request(self) -> float:
        return self.scored[0].human_request


def safer_gambling(scores: TextScores, temperature: float) -> float:
    """P(safer-gambling topic) among topics, times P(it is a knowledge question at all)."""
    ranked = combine(scores, temperature)
    topic = next((r.probability for r in ranked if r.topic_id == SAFER_GAMBLING_TOPIC), 0.0)
    return topic * max(0.0, 1.0 - scores.none_probability - scores.human_request)


def analyze(index: FaqIndex, text: str, language: str) -> Analysis:
    parts = sentences(text)
    texts = [text] + (parts if len(parts) > 1 else [])
    scored = index.analyze(texts, language)
    whole, per_sentence = scored[0], scored[1:]
    chosen = whole
    if per_sentence:
        questions = [s for s in per_sentence if s.none_probability + s.human_request < FILLER_NONE_PROBABILITY]
        if questions and len(questions) < len(per_sentence):
            question_text = " ".join(s.text for s in questions)
            chosen = questions[0] if len(questions) == 1 else index.analyze([question_text], language)[0]
    return Analysis(chosen=chosen, scored=scored, sentences=parts)


def understanding_of(analysis: Analysis, temperature: float) -> Understanding:
    return Understanding(
        text=analysis.chosen.text,
        ranked=combine(analysis.chosen, temperature),
        none_probability=analysis.chosen.none_probability,
        safer_gambling=max(
            safer_gambling(analysis.scored[0], temperature), safer_gambling(analysis.chosen, temperature)
        ),
        human_request=analysis.human_request,
        sentences=analysis.sentences,
    )


def understand(index: FaqIndex, text: str, language: str, temperature: float) -> Understanding:
    return understanding_of(analyze(index, text, language), temperature)

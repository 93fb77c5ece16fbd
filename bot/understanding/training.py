"""What the heads learn from: the knowledge base, the NLU examples, and players' noise on both.

- every variant labelled with its topic; the safer-gambling topic's variants stand against all
  the ordinary questions about limits, breaks, closing and odds that must NOT look like it;
- every ``request_human`` NLU example (plain and frustrated) as ``_human``, against all the
  knowledge questions that mention someone getting back to the player;
- every other non-FAQ NLU example (small talk, out of scope) as ``_none``, "not a knowledge question".

Each text also appears with players' noise (``bot.embedding.augment``), seeded by the text itself,
so a build is reproducible and an unchanged text always gets the same noisy copies.
"""

from __future__ import annotations

import hashlib
import random
from dataclasses import dataclass, field
from pathlib import Path

from bot.embedding.augment import noisy
from bot.kb.model import KnowledgeBase
from bot.kb.schema import check_nlu_file

NONE = "_none"
HUMAN = "_human"
SAFER_GAMBLING_TOPIC = "gambling_problem_help"
HUMAN_INTENT = "request_human"
NOISY_COPIES = 2
TRAINING_FORMAT = 2  # bump when what the heads learn from changes


@dataclass(frozen=True)
class Example:
    text: str
    language: str
    label: str  # a topic id, or the NLU intent for non-FAQ examples


@dataclass
class TrainingSet:
    examples: list[Example] = field(default_factory=list)

    @property
    def texts(self) -> list[str]:
        return [e.text for e in self.examples]

    def labels(self, topics: set[str]) -> list[str]:
        """A topic id, ``_human`` or ``_none`` per example."""
        return [e.label if e.label in topics else HUMAN if e.label == HUMAN_INTENT else NONE for e in self.examples]


def nlu_examples(nlu_dir: Path) -> list[tuple[str, str, str]]:
    """(language, intent, text) of every NLU example except the ``faq`` intent's (those come from the KB)."""
    out = []
    for path in sorted(nlu_dir.glob("*.yml")):
        _, examples = check_nlu_file(path)
        out += [(path.stem, intent, text) for intent, text in examples if intent != "faq"]
    return out


def with_noise(text: str, language: str, copies: int = NOISY_COPIES) -> list[str]:
    """Noisy copies of a text, the same ones every build (seeded by the text)."""
    rng = random.Random(int.from_bytes(hashlib.sha256(f"{language}|{text}".encode()).digest()[:8], "big"))
    return [noisy(text, language, rng) for _ in range(copies)]


def training_set(kb: KnowledgeBase, nlu: list[tuple[str, str, str]]) -> TrainingSet:
    examples = []
    for topic_id, language, question in kb.variants():
        examples.append(Example(question, language, topic_id))
        examples += [Example(text, language, topic_id) for text in with_noise(question, language)]
    for language, intent, text in nlu:
        examples.append(Example(text, language, intent))
        examples += [Example(noisy_text, language, intent) for noisy_text in with_noise(text, language, 1)]
    return TrainingSet(examples)


def fingerprint(kb: KnowledgeBase, nlu: list[tuple[str, str, str]]) -> str:
    digest = hashlib.sha256(f"{TRAINING_FORMAT}|{kb.fingerprint}".encode())
    for item in nlu:
        digest.update("\x1f".join(item).encode())
    return digest.hexdigest()[:16]

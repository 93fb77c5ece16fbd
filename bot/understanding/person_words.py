"""A typed request for a person, recognised by words alone: for when the bot itself is down.

The hub uses this when Rasa does not answer: "I want to talk to a human" must still reach a
person. It errs on the side of a handoff (with the assistant down, a person is the only help),
and it needs no model: folded words (lower case, no diacritics) of the five languages.
"""

from __future__ import annotations

import re

from bot.language.names import fold

PERSON_WORDS = {
    "en": r"human|person|agent|operator|representative|rep|staff|someone real|real (person|people)|live (chat|support)",
    "fi": r"ihmi\w*|asiakaspalvelij\w*|henkilo\w*|operaattor\w*|tyontekija\w*|virkailij\w*|asiakaspalvelu\w*",
    "sv": r"manniska\w*|person\w*|handlaggare\w*|kundtjanst\w*|operator\w*|agent\w*|riktig (person|manniska)",
    "ru": r"человек\w*|оператор\w*|сотрудник\w*|живо\w*|менеджер\w*|консультант\w*|специалист\w*",
    "tr": r"insan\w*|temsilci\w*|operator\w*|yetkili\w*|canli destek|musteri hizmetleri|gercek biri\w*|calisan\w*",
}
_PATTERN = re.compile(r"\b(" + "|".join(f"(?:{p})" for p in PERSON_WORDS.values()) + r")\b")


def asks_for_person(text: str) -> bool:
    """Whether a message (in any of our languages) mentions wanting a person."""
    return bool(_PATTERN.search(fold(text)))

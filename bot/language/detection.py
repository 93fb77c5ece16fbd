"""Which of our five languages a player message is in, and whether we are sure enough to switch.

Order of evidence, strongest first:
1. an explicit choice in the message metadata (``{"locale": "fi"}`` from the chat widget);
2. Cyrillic script: Russian is the only Cyrillic language we serve, no statistics needed;
3. langdetect restricted to our five profiles and seeded (same text, same answer), trusted only
   when the message has enough letters and langdetect is sure enough;
4. where langdetect's pick has none of its language's function words and exactly one other
   language has some ("vilka valutor stöds"), that language;
5. when none of that is sure, a hint in the metadata (``{"locale_hint": "fi-FI"}``: the browser's
   language, which the hub sends on a conversation's first turn). A hint never overrides what
   the text itself clearly says: a Finnish player on an English browser still gets Finnish.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from pathlib import Path

from bot.language.names import DEFAULT_LANGUAGE, SUPPORTED, fold, is_cyrillic

METADATA_LOCALE_KEY = "locale"
METADATA_HINT_KEY = "locale_hint"

# Short, frequent words that belong to one of our Latin-script languages only, greetings and thanks
# included. langdetect's character statistics are weak on a few words ("vilka valutor stöds" looks
# Finnish to it, "moro moro" anything); these settle such cases. Folded forms (no diacritics), as
# players often type.
FUNCTION_WORDS: dict[str, frozenset[str]] = {
    "sv": frozenset(
        "och jag inte har hur vad vilka vilken varfor nar kan mitt mina ar pa med till for ett nu tack hej"
        " tja nej finns ska vill mig dig hejsan tjena tjenare halla hejda tjabba morsning".split()
    ),
    "fi": frozenset(
        "ja ei mita miten kuinka miksi milloin voi voiko onko minun mun mulla sinun tama etta kiitos moi kylla"
        " moro moikka terve hei heippa kiitti huomenta iltaa paivaa".split()
    ),
    "en": frozenset(
        "the is are my how what why when could you your and to of it this that do does not with please"
        " thanks hello hi hey hiya bye cheers".split()
    ),
    "tr": frozenset(
        "ve bir nasil neden icin yok ben benim bu ile ama cok tesekkurler merhaba evet hayir nerede kac"
        " selam slm mrb gunaydin aksamlar sagol eyvallah".split()
    ),
}


class RestrictedLangDetector:
    """langdetect limited to a few language profiles, seeded for deterministic output."""

    def __init__(self, languages: tuple[str, ...] = SUPPORTED, seed: int = 0) -> None:
        import langdetect
        from langdetect.detector_factory import DetectorFactory
        from langdetect.utils.lang_profile import LangProfile

        profile_dir = Path(langdetect.__file__).parent / "profiles"
        self._factory = DetectorFactory()
        for index, lang in enumerate(languages):
            data = json.loads((profile_dir / lang).read_text(encoding="utf-8"))
            self._factory.add_profile(LangProfile(**data), index, len(languages))
        self._factory.set_seed(seed)

    def probabilities(self, text: str) -> dict[str, float]:
        from langdetect.lang_detect_exception import LangDetectException

        detector = self._factory.create()
        detector.append(text)
        try:
            return {p.lang: p.prob for p in detector.get_probabilities()}
        except LangDetectException:  # no letters at all
            return {}


@dataclass(frozen=True)
class Detection:
    language: str
    confident: bool  # strong enough to change the conversation's language
    source: str  # metadata | script | langdetect | none


class LanguageDetection:
    def __init__(self, min_letters: int = 8, min_probability: float = 0.85, seed: int = 0) -> None:
        self.min_letters = min_letters
        self.min_probability = min_probability
        self._detector = RestrictedLangDetector(seed=seed)

    def detect(self, text: str, metadata: dict | None = None) -> Detection:
        chosen = supported_locale((metadata or {}).get(METADATA_LOCALE_KEY))
        if chosen:
            return Detection(chosen, True, "metadata")
        detection = self._from_text(text)
        hint = supported_locale((metadata or {}).get(METADATA_HINT_KEY))
        if hint and not detection.confident:
            return Detection(hint, True, "hint")
        return detection

    def _from_text(self, text: str) -> Detection:
        letters = [ch for ch in text if ch.isalpha()]
        if not letters:
            return Detection(DEFAULT_LANGUAGE, False, "none")
        if sum(is_cyrillic(ch) for ch in letters) / len(letters) >= 0.5:
            return Detection("ru", len(letters) >= 3, "script")
        probabilities = self._detector.probabilities(text)
        if not probabilities:
            return Detection(DEFAULT_LANGUAGE, False, "none")
        best = max(probabilities, key=probabilities.get)
        confident = len(letters) >= self.min_letters and probabilities[best] >= self.min_probability
        votes = function_word_votes(text)
        if votes and votes.get(best, 0) == 0:
            voted = max(votes, key=votes.get)
            if list(votes.values()).count(votes[voted]) == 1:  # one clear winner
                return Detection(voted, len(letters) >= self.min_letters and votes[voted] >= 2, "words")
        return Detection(best, confident, "langdetect")


def supported_locale(value: object) -> str | None:
    """ "sv-SE" -> "sv"; None for anything we do not serve."""
    if isinstance(value, str) and value[:2].lower() in SUPPORTED:
        return value[:2].lower()
    return None


def function_word_votes(text: str) -> dict[str, int]:
    words = re.findall(r"\w+", fold(text))
    votes = {lang: sum(w in vocabulary for w in words) for lang, vocabulary in FUNCTION_WORDS.items()}
    return {lang: n for lang, n in votes.items() if n}

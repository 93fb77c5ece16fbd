"""Lexical matching with language-aware tokens, so exact terms (Trustly, Papara, KYC, RTP) count.

spaCy's rule-based tokenizer for each language splits the text; tokens are folded (lower case,
no diacritics: players often type "kotiutus kestaa" or "sifremi"), stop words dropped, and cut to
a short prefix, a cheap stemmer that works across Finnish and Turkish suffixes and Russian endings.
"""

from __future__ import annotations

import math
from collections import Counter
from functools import cache

from bot.language.names import SUPPORTED, fold

STEM_LENGTH = 5


@cache
def _nlp(language: str):
    import spacy

    return spacy.blank(language if language in SUPPORTED else "en")


def terms(text: str, language: str) -> list[str]:
    nlp = _nlp(language)
    stop_words = nlp.Defaults.stop_words
    out = []
    for token in nlp.tokenizer(text):
        if token.is_punct or token.is_space or token.lower_ in stop_words:
            continue
        folded = fold(token.text)
        if len(folded) < 2 and not folded.isdigit():
            continue
        out.append(folded[:STEM_LENGTH])
    return out


class LexicalScorer:
    """Per topic, the share of the query's term weight (idf) found in the topic's texts."""

    def __init__(self, topic_terms: dict[str, set[str]]) -> None:
        self.topic_terms = topic_terms
        n = len(topic_terms)
        df = Counter(term for bag in topic_terms.values() for term in bag)
        self.idf = {term: math.log(1 + n / count) for term, count in df.items()}
        self._default_idf = math.log(1 + n)  # a word no topic has: it counts fully, matches none

    def scores(self, query_terms: list[str]) -> dict[str, float]:
        unique = set(query_terms)
        if not unique:
            return {}
        weights = {t: self.idf.get(t, self._default_idf) for t in unique}
        total = sum(weights.values())
        return {
            topic: sum(w for t, w in weights.items() if t in bag) / total for topic, bag in self.topic_terms.items()
        }

    def to_json(self) -> dict:
        return {topic: sorted(bag) for topic, bag in self.topic_terms.items()}

    @classmethod
    def from_json(cls, data: dict) -> LexicalScorer:
        return cls({topic: set(bag) for topic, bag in data.items()})

"""Tokenizes each message with spaCy's rule-based tokenizer for the message's own language.

``spacy.blank(lang)`` gives language-specific punctuation, prefix and suffix rules without any
trained pipeline (nothing to download). The language comes from ``LanguageDetector``, which must
run first. Tokens are lower-cased with diacritics kept; featurizers handle case.
"""

from __future__ import annotations

from typing import Any

from rasa.engine.graph import ExecutionContext
from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.engine.storage.resource import Resource
from rasa.engine.storage.storage import ModelStorage
from rasa.nlu.tokenizers.tokenizer import Token, Tokenizer
from rasa.shared.nlu.training_data.message import Message

from bot.language.names import DEFAULT_LANGUAGE, SUPPORTED


@DefaultV1Recipe.register(DefaultV1Recipe.ComponentType.MESSAGE_TOKENIZER, is_trainable=False)
class MultilingualSpacyTokenizer(Tokenizer):
    """A tokenizer that switches spaCy language rules per message."""

    @staticmethod
    def get_default_config() -> dict[str, Any]:
        return {
            "intent_tokenization_flag": False,
            "intent_split_symbol": "_",
            "token_pattern": None,
            "prefix_separator_symbol": None,
        }

    @staticmethod
    def required_packages() -> list[str]:
        return ["spacy"]

    def __init__(self, config: dict[str, Any]) -> None:
        super().__init__(config)
        import spacy

        self._nlp = {lang: spacy.blank(lang) for lang in SUPPORTED}

    @classmethod
    def create(
        cls,
        config: dict[str, Any],
        model_storage: ModelStorage,
        resource: Resource,
        execution_context: ExecutionContext,
    ) -> MultilingualSpacyTokenizer:
        return cls(config)

    def tokenize(self, message: Message, attribute: str) -> list[Token]:
        text: str | None = message.get(attribute)
        if not text:
            return []
        language = message.get("language") or DEFAULT_LANGUAGE
        nlp = self._nlp.get(language, self._nlp[DEFAULT_LANGUAGE])
        tokens = [
            Token(t.text, t.idx)
            for t in nlp.tokenizer(text)
            if not t.is_space and not (t.is_punct and len(t.text) == 1)
        ]
        if not tokens:  # punctuation or emoji only: keep one token so featurizers have input
            tokens = [Token(text, 0)]
        return self._apply_token_pattern(tokens)

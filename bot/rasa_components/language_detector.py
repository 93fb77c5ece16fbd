"""Sets the language of each player message before any other NLU component runs.

The decision itself is ``bot.language.detection`` (explicit metadata locale, Cyrillic script,
then langdetect on our five profiles). The result is stored on the message (``language``, used by
the tokenizer and reported in the parse result) and, when it is trustworthy, emitted as the entity
``language``, which fills the ``language`` slot. Short or uncertain messages ("ok", "kiitos",
"123") emit no entity, so the conversation keeps its language.
"""

from __future__ import annotations

import logging
from typing import Any

from rasa.engine.graph import ExecutionContext, GraphComponent
from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.engine.storage.resource import Resource
from rasa.engine.storage.storage import ModelStorage
from rasa.shared.nlu.constants import ENTITIES, TEXT
from rasa.shared.nlu.training_data.message import Message
from rasa.shared.nlu.training_data.training_data import TrainingData

from bot.language.detection import LanguageDetection

logger = logging.getLogger(__name__)

LANGUAGE_ENTITY = "language"
LANGUAGE_ATTRIBUTE = "language"


@DefaultV1Recipe.register([DefaultV1Recipe.ComponentType.ENTITY_EXTRACTOR], is_trainable=False)
class LanguageDetector(GraphComponent):
    """Sets ``language`` on every message; emits a ``language`` entity when confident."""

    @staticmethod
    def get_default_config() -> dict[str, Any]:
        return {
            # Messages with fewer letters than this never change the conversation's language.
            "min_letters": 8,
            # ... nor do messages where langdetect's best guess is less likely than this.
            "min_probability": 0.85,
            "seed": 0,
        }

    def __init__(self, config: dict[str, Any]) -> None:
        self._config = {**self.get_default_config(), **config}
        self._detection = LanguageDetection(
            self._config["min_letters"], self._config["min_probability"], self._config["seed"]
        )

    @classmethod
    def create(
        cls,
        config: dict[str, Any],
        model_storage: ModelStorage,
        resource: Resource,
        execution_context: ExecutionContext,
    ) -> LanguageDetector:
        return cls(config)

    @staticmethod
    def required_packages() -> list[str]:
        return ["langdetect"]

    def _process_message(self, message: Message, emit_entity: bool) -> None:
        text = message.get(TEXT) or ""
        detection = self._detection.detect(text, message.get("metadata"))
        language = detection.language
        message.set(LANGUAGE_ATTRIBUTE, language, add_to_output=True)
        if emit_entity and detection.confident:
            entity = {
                "entity": LANGUAGE_ENTITY,
                "value": language,
                "start": 0,
                "end": len(text),
                "confidence": 1.0,
                "extractor": self.__class__.__name__,
            }
            message.set(ENTITIES, message.get(ENTITIES, []) + [entity], add_to_output=True)

    def process_training_data(self, training_data: TrainingData) -> TrainingData:
        # Training examples only need the attribute (for the tokenizer), not the entity.
        for example in training_data.training_examples:
            if example.get(TEXT):
                self._process_message(example, emit_entity=False)
        return training_data

    def process(self, messages: list[Message]) -> list[Message]:
        for message in messages:
            self._process_message(message, emit_entity=True)
        return messages

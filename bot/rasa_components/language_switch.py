"""Turns an explicit request to change language into the ``language`` entity.

Runs after the intent classifier: when the intent is ``change_language`` and the message names
one of our languages ("in English please", "puhutaan suomea", "можно по-турецки?"), that language
replaces whatever the detector guessed from the message's own words.
"""

from __future__ import annotations

from typing import Any

from rasa.engine.graph import ExecutionContext, GraphComponent
from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.engine.storage.resource import Resource
from rasa.engine.storage.storage import ModelStorage
from rasa.shared.nlu.constants import ENTITIES, INTENT, TEXT
from rasa.shared.nlu.training_data.message import Message

from bot.language.names import named_languages
from bot.rasa_components.language_detector import LANGUAGE_ENTITY


@DefaultV1Recipe.register([DefaultV1Recipe.ComponentType.ENTITY_EXTRACTOR], is_trainable=False)
class LanguageSwitchExtractor(GraphComponent):
    @staticmethod
    def get_default_config() -> dict[str, Any]:
        return {"intent": "change_language", "min_confidence": 0.4}

    def __init__(self, config: dict[str, Any]) -> None:
        self._config = {**self.get_default_config(), **config}

    @classmethod
    def create(
        cls,
        config: dict[str, Any],
        model_storage: ModelStorage,
        resource: Resource,
        execution_context: ExecutionContext,
    ) -> LanguageSwitchExtractor:
        return cls(config)

    def process(self, messages: list[Message]) -> list[Message]:
        for message in messages:
            intent = message.get(INTENT) or {}
            if intent.get("name") != self._config["intent"]:
                continue
            if (intent.get("confidence") or 0.0) < self._config["min_confidence"]:
                continue
            named = named_languages(message.get(TEXT) or "")
            if not named:
                continue
            target = named[-1]
            text = message.get(TEXT) or ""
            entities = [e for e in message.get(ENTITIES, []) if e.get("entity") != LANGUAGE_ENTITY]
            entities.append(
                {
                    "entity": LANGUAGE_ENTITY,
                    "value": target,
                    "start": 0,
                    "end": len(text),
                    "confidence": 1.0,
                    "extractor": self.__class__.__name__,
                }
            )
            message.set(ENTITIES, entities, add_to_output=True)
        return messages

"""What the actions share in one action-server process: settings, knowledge base, texts, index.

Loaded once, at import (the action server imports every module of ``actions`` when it starts), so
the first player does not wait for the model.
"""

from __future__ import annotations

import logging
import threading
from dataclasses import dataclass

from bot.decision import Thresholds
from bot.embedding.model import load_embedder
from bot.index.faq_index import FaqIndex, index_model_name
from bot.kb.model import KnowledgeBase, load_knowledge_base
from bot.kb.texts import BotTexts, load_texts
from bot.settings import Settings, get_settings
from bot.understanding.understand import Understanding, understand

logger = logging.getLogger(__name__)


@dataclass
class Runtime:
    settings: Settings
    kb: KnowledgeBase
    texts: BotTexts
    index: FaqIndex
    thresholds: Thresholds

    def text(self, key: str, language: str) -> str:
        """A fixed bot text in ``language`` with the house rules filled in."""
        return self.kb.render(self.texts.text(key, language), language)

    def button(self, key: str, language: str, payload: str) -> dict[str, str]:
        return {"title": self.texts.button(key, language), "payload": payload}

    def understand(self, text: str, language: str) -> Understanding:
        return understand(self.index, text, language, self.settings.faq_temperature)


def thresholds_from(settings: Settings) -> Thresholds:
    return Thresholds(
        answer_probability=settings.faq_answer_probability,
        answer_margin=settings.faq_answer_margin,
        clarify_probability=settings.faq_clarify_probability,
        suggestion_probability=settings.faq_suggestion_probability,
        none_probability=settings.faq_none_probability,
        max_suggestions=settings.faq_max_suggestions,
        min_similarity=settings.faq_min_similarity,
        keyword_similarity=settings.faq_keyword_similarity,
    )


_lock = threading.Lock()
_runtime: Runtime | None = None


def load_runtime(settings: Settings | None = None, index_version: str | None = None) -> Runtime:
    """Load the knowledge base, texts and an index version (the newest when ``index_version`` is None)."""
    settings = settings or get_settings()
    embedder = load_embedder(index_model_name(settings, index_version), settings.embedding_prefix)
    index = FaqIndex.load_current(
        settings.index_dir, embedder, settings.lexical_weight, settings.faq_topic_pool, version=index_version
    )
    kb = load_knowledge_base(settings.faq_dir)
    if index.manifest.kb_fingerprint != kb.fingerprint:
        logger.warning("FAQ index %s does not match data/faq: run `python -m bot train`", index.manifest.version)
    thresholds = thresholds_from(settings)
    logger.info("FAQ index %s loaded (%d vectors)", index.manifest.version, index.manifest.vectors)
    return Runtime(settings, kb, load_texts(settings.data_dir / "texts"), index, thresholds)


def runtime() -> Runtime:
    global _runtime
    with _lock:
        if _runtime is None:
            _runtime = load_runtime()
        return _runtime


def swap_runtime(new: Runtime) -> Runtime | None:
    """Replace the loaded knowledge base and index in place (used by publishing); return the old one.

    Actions take ``runtime()`` once per call, so a call that began before the swap finishes on the
    old runtime and the next one uses the new: no request ever sees half of each.
    """
    global _runtime
    with _lock:
        old, _runtime = _runtime, new
    return old

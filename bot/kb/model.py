"""Loading ``data/faq`` into typed objects, with answers filled from the house rules.

Files: ``topics.yml`` (ids, handling, see_also, facts), ``house_rules.yml`` (placeholders) and one
``<lang>.yml`` per language (title, answer, questions per topic). See docs/content-guide.md.
"""

from __future__ import annotations

import hashlib
import string
from dataclasses import dataclass, field
from pathlib import Path

import yaml

LANGUAGES = ("fi", "sv", "ru", "tr", "en")
FALLBACK_LANGUAGE = "en"
HANDLINGS = ("answer", "answer+offer", "human-priority")


class KnowledgeBaseError(ValueError):
    """The knowledge base files are malformed; the message names file, entry and field."""


@dataclass
class LocalizedTopic:
    title: str
    answer: str
    questions: list[str]


@dataclass
class Topic:
    id: str
    handling: str
    see_also: list[str]
    facts: str
    texts: dict[str, LocalizedTopic] = field(default_factory=dict)

    def localized(self, language: str) -> tuple[LocalizedTopic, str]:
        """The topic's text in ``language``, or in English when that language is missing."""
        if language in self.texts:
            return self.texts[language], language
        return self.texts[FALLBACK_LANGUAGE], FALLBACK_LANGUAGE


@dataclass
class KnowledgeBase:
    topics: dict[str, Topic]
    house_rules: dict[str, dict[str, str]]  # language -> placeholder values
    fingerprint: str

    def rules_for(self, language: str) -> dict[str, str]:
        return self.house_rules.get(language, self.house_rules[FALLBACK_LANGUAGE])

    def render(self, text: str, language: str) -> str:
        """Fill ``{placeholders}`` from the house rules of ``language``."""
        return text.format_map(self.rules_for(language))

    def answer(self, topic_id: str, language: str) -> tuple[str, str]:
        """(answer text, language it is in), with the house rules filled in."""
        localized, used = self.topics[topic_id].localized(language)
        return self.render(localized.answer, used), used

    def title(self, topic_id: str, language: str) -> str:
        return self.topics[topic_id].localized(language)[0].title

    def variants(self) -> list[tuple[str, str, str]]:
        """Every (topic id, language, question) in a stable order."""
        return [
            (topic.id, lang, question)
            for topic in self.topics.values()
            for lang in LANGUAGES
            if lang in topic.texts
            for question in topic.texts[lang].questions
        ]


def _read_yaml(path: Path) -> dict:
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except yaml.YAMLError as exc:
        raise KnowledgeBaseError(f"{path}: not valid YAML: {exc}") from exc
    if not isinstance(data, dict):
        raise KnowledgeBaseError(f"{path}: expected a mapping at the top level")
    return data


def faq_files(faq_dir: Path) -> list[Path]:
    return sorted(p for p in faq_dir.glob("*.yml"))


def fingerprint_files(paths: list[Path]) -> str:
    digest = hashlib.sha256()
    for path in sorted(paths):
        digest.update(path.name.encode())
        digest.update(path.read_bytes())
    return digest.hexdigest()[:16]


def _placeholders(text: str) -> set[str]:
    return {name for _, name, _, _ in string.Formatter().parse(text) if name}


def load_knowledge_base(faq_dir: Path) -> KnowledgeBase:
    """Load and check the knowledge base; raises ``KnowledgeBaseError`` with a precise location."""
    topics_file = faq_dir / "topics.yml"
    rules_file = faq_dir / "house_rules.yml"
    spec = _read_yaml(topics_file).get("topics") or {}
    rules = _read_yaml(rules_file)
    common = {k: str(v) for k, v in (rules.get("common") or {}).items()}
    house_rules = {
        lang: {**common, **{k: str(v) for k, v in ((rules.get("by_language") or {}).get(lang) or {}).items()}}
        for lang in LANGUAGES
    }
    topics: dict[str, Topic] = {}
    for topic_id, entry in spec.items():
        entry = entry or {}
        handling = entry.get("handling")
        if handling not in HANDLINGS:
            raise KnowledgeBaseError(
                f"{topics_file}: topic {topic_id}: handling {handling!r} is not one of {HANDLINGS}"
            )
        topics[topic_id] = Topic(
            id=topic_id,
            handling=handling,
            see_also=list(entry.get("see_also") or []),
            facts=str(entry.get("facts") or ""),
        )
    for topic in topics.values():
        for other in topic.see_also:
            if other not in topics:
                raise KnowledgeBaseError(f"{topics_file}: topic {topic.id}: see_also names unknown topic {other!r}")

    for lang in LANGUAGES:
        path = faq_dir / f"{lang}.yml"
        if not path.exists():
            continue
        data = _read_yaml(path)
        if data.get("language") != lang:
            raise KnowledgeBaseError(f"{path}: field language must be {lang!r}")
        for topic_id, entry in (data.get("topics") or {}).items():
            where = f"{path}: topic {topic_id}"
            if topic_id not in topics:
                raise KnowledgeBaseError(f"{where}: not declared in {topics_file.name}")
            if not isinstance(entry, dict):
                raise KnowledgeBaseError(f"{where}: expected title, answer and questions")
            for field_name in ("title", "answer"):
                if not isinstance(entry.get(field_name), str) or not entry[field_name].strip():
                    raise KnowledgeBaseError(f"{where}: field {field_name} is missing or empty")
            questions = entry.get("questions")
            if not isinstance(questions, list) or not questions:
                raise KnowledgeBaseError(f"{where}: field questions must be a non-empty list")
            unknown = _placeholders(entry["answer"]) - house_rules[lang].keys()
            if unknown:
                raise KnowledgeBaseError(f"{where}: field answer uses unknown placeholders {sorted(unknown)}")
            topics[topic_id].texts[lang] = LocalizedTopic(
                title=entry["title"].strip(),
                answer=entry["answer"].strip(),
                questions=[str(q).strip() for q in questions if str(q).strip()],
            )
    missing_en = [t.id for t in topics.values() if FALLBACK_LANGUAGE not in t.texts]
    if missing_en:
        raise KnowledgeBaseError(f"{faq_dir / 'en.yml'}: topics {missing_en} have no English text (the fallback)")
    return KnowledgeBase(topics=topics, house_rules=house_rules, fingerprint=fingerprint_files(faq_files(faq_dir)))

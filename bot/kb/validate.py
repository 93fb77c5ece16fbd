"""``bot validate``: checks of the content that a YAML schema cannot express.

Errors (exit code 1): a file that does not load, a topic missing a language, a variant under two
topics, an NLU example under two intents or equal to an FAQ variant, bot texts whose keys differ
between languages. Reports (exit code 0): variants that sit nearer, in embedding space, to another
topic's variants than to their own by more than ``margin`` — candidates for rewording.
"""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import yaml

from bot.kb.model import LANGUAGES, KnowledgeBase, KnowledgeBaseError, load_knowledge_base
from bot.kb.texts import load_texts

NLU_INTENTS = {
    "greet",
    "goodbye",
    "thank",
    "affirm",
    "deny",
    "request_human",
    "out_of_scope",
    "bot_challenge",
    "change_language",
}


@dataclass
class Report:
    errors: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)


def normalise(text: str) -> str:
    text = unicodedata.normalize("NFC", text).casefold().strip()
    return text.rstrip(" ?!.")


def check_kb(kb: KnowledgeBase, faq_dir: Path, report: Report) -> None:
    for topic in kb.topics.values():
        for lang in LANGUAGES:
            if lang not in topic.texts:
                report.errors.append(f"{faq_dir / (lang + '.yml')}: topic {topic.id}: missing")
    seen: dict[tuple[str, str], str] = {}
    for topic_id, lang, question in kb.variants():
        key = (lang, normalise(question))
        first = seen.setdefault(key, topic_id)
        if first != topic_id:
            report.errors.append(
                f"{faq_dir / (lang + '.yml')}: topic {topic_id}: question {question!r} is also under {first}"
            )


def nlu_examples(nlu_dir: Path, report: Report) -> dict[tuple[str, str], str]:
    """(language, normalised example) -> intent, reporting malformed files and clashes."""
    found: dict[tuple[str, str], str] = {}
    for lang in LANGUAGES:
        path = nlu_dir / f"{lang}.yml"
        if not path.exists():
            report.errors.append(f"{path}: missing")
            continue
        try:
            data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
        except yaml.YAMLError as exc:
            report.errors.append(f"{path}: not valid YAML: {exc}")
            continue
        intents = set()
        for block in data.get("nlu") or []:
            intent = block.get("intent")
            intents.add(intent)
            for line in (block.get("examples") or "").splitlines():
                if not line.strip().startswith("- "):
                    continue
                example = line.strip()[2:].strip()
                first = found.setdefault((lang, normalise(example)), intent)
                if first != intent:
                    report.errors.append(f"{path}: intent {intent}: example {example!r} is also under {first}")
        missing = NLU_INTENTS - intents
        if missing:
            report.errors.append(f"{path}: intents missing: {sorted(missing)}")
    return found


def check_nlu_against_faq(kb: KnowledgeBase, examples: dict[tuple[str, str], str], report: Report) -> None:
    for topic_id, lang, question in kb.variants():
        intent = examples.get((lang, normalise(question)))
        if intent:
            report.errors.append(f"data/faq/{lang}.yml: topic {topic_id}: {question!r} is also an NLU {intent} example")


def check_texts(texts_dir: Path, report: Report) -> None:
    try:
        texts = load_texts(texts_dir)
    except KnowledgeBaseError as exc:
        report.errors.append(str(exc))
        return
    for lang in LANGUAGES:
        for kind, table in (("texts", texts.texts), ("buttons", texts.buttons)):
            diff = set(table.get(lang, {})) ^ set(table["en"])
            if diff:
                report.errors.append(f"{texts_dir / (lang + '.yml')}: {kind} keys differ from en.yml: {sorted(diff)}")


def near_duplicates(kb: KnowledgeBase, vectors: np.ndarray, margin: float) -> list[str]:
    """Variants whose nearest other-topic variant beats their nearest own-topic variant by ``margin``."""
    entries = kb.variants()
    topics = np.array([t for t, _, _ in entries])
    sims = vectors @ vectors.T
    np.fill_diagonal(sims, -1.0)
    found = []
    for i, (topic, lang, question) in enumerate(entries):
        same = topics == topic
        own = sims[i][same].max()
        j = int(np.argmax(np.where(same, -1.0, sims[i])))
        if sims[i, j] > own + margin:
            other_topic, other_lang, other = entries[j]
            found.append(
                f"{lang}.yml {topic}: {question!r} is nearer ({sims[i, j]:.3f} vs {own:.3f}) to "
                f"{other_topic} ({other_lang}): {other!r}"
            )
    return found


def validate(data_dir: Path, embed=None, margin: float = 0.05) -> Report:
    """Run every check; ``embed`` (texts -> normalised vectors) enables the near-duplicate report."""
    report = Report()
    faq_dir = data_dir / "faq"
    try:
        kb = load_knowledge_base(faq_dir)
    except KnowledgeBaseError as exc:
        report.errors.append(str(exc))
        return report
    check_kb(kb, faq_dir, report)
    examples = nlu_examples(data_dir / "nlu", report)
    check_nlu_against_faq(kb, examples, report)
    check_texts(data_dir / "texts", report)
    if embed is not None:
        vectors = embed([q for _, _, q in kb.variants()])
        report.warnings += near_duplicates(kb, vectors, margin)
    return report

"""``bot validate``: every check of the content, each message naming file, entry and field.

Errors (exit code 1): malformed YAML or fields (``bot.kb.schema``), a topic missing a language, a
variant under two topics, two variants of different topics at least ``similarity`` alike in
embedding space (near-duplicates), an NLU example under two intents or equal to an FAQ variant, bot
texts whose keys differ between languages, and errors of Rasa's own ``rasa data validate`` on the
generated training inputs. Notes (exit code 0): variants that sit nearer to another topic's variants
than to their own by more than ``margin`` (candidates for rewording), and Rasa's warnings.
"""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from bot.kb.model import LANGUAGES, KnowledgeBase, KnowledgeBaseError, load_knowledge_base
from bot.kb.schema import check_faq_files, check_nlu_file
from bot.kb.texts import load_texts
from bot.settings import Settings

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
                f"{faq_dir / (lang + '.yml')}: topic {topic_id}: field questions: {question!r} is also under {first}"
            )


def nlu_examples(nlu_dir: Path, report: Report) -> dict[tuple[str, str], str]:
    """(language, normalised example) -> intent, reporting malformed files and clashes."""
    found: dict[tuple[str, str], str] = {}
    for lang in LANGUAGES:
        path = nlu_dir / f"{lang}.yml"
        errors, examples = check_nlu_file(path)
        report.errors += errors
        if errors and not examples:
            continue
        intents = set()
        for intent, example in examples:
            intents.add(intent)
            first = found.setdefault((lang, normalise(example)), intent)
            if first != intent:
                report.errors.append(f"{path}: intent {intent}: example {example!r} is also under {first}")
        missing = NLU_INTENTS - intents
        if missing:
            report.errors.append(f"{path}: intents missing: {sorted(missing)}")
    return found


def check_nlu_against_faq(
    kb: KnowledgeBase, examples: dict[tuple[str, str], str], faq_dir: Path, report: Report
) -> None:
    for topic_id, lang, question in kb.variants():
        intent = examples.get((lang, normalise(question)))
        if intent:
            report.errors.append(
                f"{faq_dir / (lang + '.yml')}: topic {topic_id}: field questions: {question!r} is also an NLU "
                f"{intent} example"
            )


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


def near_duplicate_pairs(kb: KnowledgeBase, vectors: np.ndarray, similarity: float, faq_dir: Path) -> list[str]:
    """Pairs of variants of DIFFERENT topics (any languages) whose cosine reaches ``similarity``."""
    entries = kb.variants()
    topics = np.array([t for t, _, _ in entries])
    sims = vectors @ vectors.T
    close = np.argwhere(np.triu((sims >= similarity) & (topics[:, None] != topics[None, :]), k=1))
    found = []
    for i, j in close:
        (topic_a, lang_a, text_a), (topic_b, lang_b, text_b) = entries[i], entries[j]
        found.append(
            f"{faq_dir / (lang_a + '.yml')}: topic {topic_a}: field questions: {text_a!r} is a near-duplicate "
            f"(cosine {sims[i, j]:.3f}) of {faq_dir / (lang_b + '.yml')}: topic {topic_b}: {text_b!r}"
        )
    return found


def validate(
    data_dir: Path,
    embed=None,
    margin: float = 0.05,
    similarity: float = 0.98,
    rasa: Settings | None = None,
) -> Report:
    """Run every check and never raise on bad content.

    ``embed`` (texts -> normalised vectors) enables the near-duplicate checks; ``rasa`` (settings
    of the Rasa environment) runs ``rasa data validate`` on the generated training inputs.
    """
    report = Report()
    faq_dir = data_dir / "faq"
    schema_errors = check_faq_files(faq_dir)
    report.errors += schema_errors
    kb = None
    if not schema_errors:
        try:
            kb = load_knowledge_base(faq_dir)
        except KnowledgeBaseError as exc:
            report.errors.append(str(exc))
    if kb is not None:
        check_kb(kb, faq_dir, report)
    examples = nlu_examples(data_dir / "nlu", report)
    if kb is not None:
        check_nlu_against_faq(kb, examples, faq_dir, report)
    check_texts(data_dir / "texts", report)
    if embed is not None and kb is not None:
        vectors = embed([q for _, _, q in kb.variants()])
        report.errors += near_duplicate_pairs(kb, vectors, similarity, faq_dir)
        report.warnings += near_duplicates(kb, vectors, margin)
    if rasa is not None:
        if report.errors:
            report.warnings.append("rasa data validate: skipped until the errors above are fixed")
        else:
            from bot.kb.rasa_validate import rasa_data_validate

            errors, notes = rasa_data_validate(rasa.model_copy(update={"data_dir": data_dir}))
            report.errors += errors
            report.warnings += notes
    return report

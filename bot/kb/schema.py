"""Structural checks of ``data/faq/<lang>.yml`` and ``data/nlu/<lang>.yml`` that collect EVERY problem.

The loaders stop at the first problem (they guard the running bot); an editor wants the whole
list at once, each message naming the file, the entry and the field: ``data/faq/sv.yml: topic
mobile_app: field questions: must be a non-empty list of texts``.
"""

from __future__ import annotations

from pathlib import Path

import yaml

from bot.kb.model import LANGUAGES


def read_yaml(path: Path, errors: list[str]) -> object | None:
    """The file's data, or None after reporting a missing file or a YAML error with its position."""
    if not path.exists():
        errors.append(f"{path}: missing")
        return None
    try:
        return yaml.safe_load(path.read_text(encoding="utf-8"))
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" (line {mark.line + 1}, column {mark.column + 1})" if mark else ""
        problem = getattr(exc, "problem", None) or str(exc).splitlines()[0]
        errors.append(f"{path}: not valid YAML{where}: {problem}")
        return None


def _texts(value: object) -> bool:
    return isinstance(value, list) and bool(value) and all(isinstance(q, str | int | float) for q in value)


def check_faq_files(faq_dir: Path) -> list[str]:
    """Every problem of topics.yml and the per-language files that would stop the loader."""
    errors: list[str] = []
    topics_file = faq_dir / "topics.yml"
    spec = read_yaml(topics_file, errors)
    declared: set[str] = set()
    if spec is not None:
        if not isinstance(spec, dict) or not isinstance(spec.get("topics"), dict):
            errors.append(f"{topics_file}: field topics: must be a mapping of topic ids")
        else:
            declared = set(spec["topics"])
    rules = read_yaml(faq_dir / "house_rules.yml", errors)
    if rules is not None and not isinstance(rules, dict):
        errors.append(f"{faq_dir / 'house_rules.yml'}: expected a mapping at the top level")
    for lang in LANGUAGES:
        path = faq_dir / f"{lang}.yml"
        data = read_yaml(path, errors)
        if data is None:
            continue
        if not isinstance(data, dict):
            errors.append(f"{path}: expected a mapping at the top level")
            continue
        if data.get("language") != lang:
            errors.append(f"{path}: field language: must be {lang!r}, found {data.get('language')!r}")
        topics = data.get("topics")
        if not isinstance(topics, dict):
            errors.append(f"{path}: field topics: must be a mapping of topic ids")
            continue
        for topic_id, entry in topics.items():
            where = f"{path}: topic {topic_id}"
            if declared and topic_id not in declared:
                errors.append(f"{where}: not declared in topics.yml")
            if not isinstance(entry, dict):
                errors.append(f"{where}: must have the fields title, answer and questions")
                continue
            for name in ("title", "answer"):
                if not isinstance(entry.get(name), str) or not entry[name].strip():
                    errors.append(f"{where}: field {name}: missing or empty")
            if not _texts(entry.get("questions")):
                errors.append(f"{where}: field questions: must be a non-empty list of texts")
            unknown = set(entry) - {"title", "answer", "questions"}
            if unknown:
                errors.append(f"{where}: unknown fields {sorted(unknown)}")
    return errors


def check_nlu_file(path: Path) -> tuple[list[str], list[tuple[str, str]]]:
    """(errors, [(intent, example)]) of one Rasa NLU file."""
    errors: list[str] = []
    examples: list[tuple[str, str]] = []
    data = read_yaml(path, errors)
    if data is None:
        return errors, examples
    if not isinstance(data, dict) or not isinstance(data.get("nlu"), list):
        return [f"{path}: field nlu: must be a list of intents with examples"], examples
    for number, block in enumerate(data["nlu"], start=1):
        if not isinstance(block, dict) or not isinstance(block.get("intent"), str):
            errors.append(f"{path}: entry {number}: field intent: missing")
            continue
        where = f"{path}: intent {block['intent']}"
        text = block.get("examples")
        if not isinstance(text, str) or not text.strip():
            errors.append(f"{where}: field examples: must be a block of '- example' lines")
            continue
        for line in text.splitlines():
            stripped = line.strip()
            if not stripped:
                continue
            if not stripped.startswith("- "):
                errors.append(f"{where}: field examples: line {stripped[:60]!r} does not start with '- '")
                continue
            examples.append((block["intent"], stripped[2:].strip()))
    return errors, examples

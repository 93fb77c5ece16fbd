"""Small, readable edits to ``data/faq/<lang>.yml`` (the repository stays the source of truth).

ruamel's round trip keeps comments, quoting and layout, so a save changes only the edited lines
(an unchanged file is written back byte for byte). Writes are atomic (temp file + rename).
"""

from __future__ import annotations

import io
import os
import tempfile
from pathlib import Path

from ruamel.yaml import YAML
from ruamel.yaml.comments import CommentedMap, CommentedSeq
from ruamel.yaml.scalarstring import LiteralScalarString

from bot.kb.model import KnowledgeBaseError


def _yaml() -> YAML:
    yaml = YAML()
    yaml.preserve_quotes = True
    yaml.indent(mapping=2, sequence=4, offset=2)
    yaml.width = 100_000  # never re-wrap long answers
    return yaml


def language_file(faq_dir: Path, language: str) -> Path:
    return faq_dir / f"{language}.yml"


def _load(path: Path) -> CommentedMap:
    if not path.exists():
        return CommentedMap({"language": path.stem, "topics": CommentedMap()})
    data = _yaml().load(path.read_text(encoding="utf-8"))
    if not isinstance(data, CommentedMap) or not isinstance(data.get("topics"), CommentedMap):
        raise KnowledgeBaseError(f"{path}: expected a mapping with 'topics'")
    return data


def render(data: CommentedMap) -> str:
    out = io.StringIO()
    _yaml().dump(data, out)
    return out.getvalue()


def write_atomically(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    handle, temp = tempfile.mkstemp(dir=path.parent, suffix=".tmp")
    with os.fdopen(handle, "w", encoding="utf-8") as out:
        out.write(text)
    os.replace(temp, path)


def with_topic_text(path: Path, topic_id: str, title: str, answer: str, questions: list[str]) -> str:
    """The file's new text with one topic's title, answer and variants replaced (or added)."""
    data = _load(path)
    topics = data["topics"]
    entry = topics.get(topic_id)
    if entry is None:
        entry = topics[topic_id] = CommentedMap()
    entry["title"] = title.strip()
    entry["answer"] = LiteralScalarString(answer.strip())
    entry["questions"] = CommentedSeq([q.strip() for q in questions if q.strip()])
    return render(data)


def with_variant(path: Path, topic_id: str, question: str) -> str:
    """The file's new text with one more variant appended to a topic (Rasa's examples unchanged)."""
    data = _load(path)
    entry = data["topics"].get(topic_id)
    if entry is None:
        raise KnowledgeBaseError(f"{path}: topic {topic_id!r} has no text in this language yet")
    entry["questions"].append(question.strip())
    return render(data)

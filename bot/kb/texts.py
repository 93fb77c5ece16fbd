"""The bot's own fixed texts (``data/texts/<lang>.yml``): greeting, fallback, handoff, buttons."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import yaml

from bot.kb.model import FALLBACK_LANGUAGE, LANGUAGES, KnowledgeBaseError


@dataclass
class BotTexts:
    texts: dict[str, dict[str, str]]  # language -> key -> text
    buttons: dict[str, dict[str, str]]  # language -> key -> title

    def text(self, key: str, language: str) -> str:
        return self.texts.get(language, {}).get(key) or self.texts[FALLBACK_LANGUAGE][key]

    def button(self, key: str, language: str) -> str:
        return self.buttons.get(language, {}).get(key) or self.buttons[FALLBACK_LANGUAGE][key]

    def keys(self) -> list[str]:
        return sorted(self.texts[FALLBACK_LANGUAGE])


def load_texts(texts_dir: Path) -> BotTexts:
    texts: dict[str, dict[str, str]] = {}
    buttons: dict[str, dict[str, str]] = {}
    for lang in LANGUAGES:
        path = texts_dir / f"{lang}.yml"
        if not path.exists():
            continue
        try:
            data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
        except yaml.YAMLError as exc:
            raise KnowledgeBaseError(f"{path}: not valid YAML: {exc}") from exc
        if data.get("language") != lang:
            raise KnowledgeBaseError(f"{path}: field language must be {lang!r}")
        texts[lang] = {k: str(v).strip() for k, v in (data.get("texts") or {}).items()}
        buttons[lang] = {k: str(v).strip() for k, v in (data.get("buttons") or {}).items()}
    if FALLBACK_LANGUAGE not in texts:
        raise KnowledgeBaseError(f"{texts_dir}/en.yml is missing (English is the fallback)")
    return BotTexts(texts, buttons)

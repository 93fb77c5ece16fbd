"""The five languages, and how players name them in each of the five (for explicit switches)."""

from __future__ import annotations

import re
import unicodedata

SUPPORTED = ("fi", "sv", "ru", "tr", "en")
DEFAULT_LANGUAGE = "en"

# Stems of each language's name as written in fi, sv, ru, tr and en (folded: lower case, no
# diacritics, dotless i -> i). Matched at word starts.
LANGUAGE_NAME_STEMS: dict[str, tuple[str, ...]] = {
    "en": ("english", "englan", "engelsk", "англи", "ingiliz", "inglizce"),
    "fi": (
        "finnish",
        "finska",
        "finsk",
        "suomi",
        "suomea",
        "suomeks",
        "suomen kiel",
        "финск",
        "по-фински",
        "fince",
        "fin dili",
    ),
    "sv": ("swedish", "svensk", "ruotsi", "ruotsia", "ruotsiks", "швед", "isvec"),
    "ru": ("russian", "rysk", "venaja", "venajaks", "русск", "по-русски", "rusca", "rus dili"),
    "tr": ("turkish", "turkiska", "turkisk", "turkki", "turkkia", "turkiks", "турец", "turkce", "turk dili"),
}


def fold(text: str) -> str:
    """Lower-case and strip diacritics, keeping Cyrillic letters intact (й stays й)."""
    text = text.replace("ı", "i").replace("İ", "i").lower()
    out: list[str] = []
    for ch in unicodedata.normalize("NFD", text):
        if unicodedata.category(ch) == "Mn" and not (out and is_cyrillic(out[-1])):
            continue
        out.append(ch)
    return unicodedata.normalize("NFC", "".join(out))


def is_cyrillic(ch: str) -> bool:
    return "\u0400" <= ch <= "\u04ff"


_NAME_PATTERNS = {
    lang: re.compile(r"(?<![\w])(?:" + "|".join(re.escape(s) for s in stems) + r")", re.UNICODE)
    for lang, stems in LANGUAGE_NAME_STEMS.items()
}


def named_languages(text: str) -> list[str]:
    """Languages named in ``text``, in the order they appear."""
    folded = fold(text)
    found: list[tuple[int, str]] = []
    for lang, pattern in _NAME_PATTERNS.items():
        match = pattern.search(folded)
        if match:
            found.append((match.start(), lang))
    return [lang for _, lang in sorted(found)]

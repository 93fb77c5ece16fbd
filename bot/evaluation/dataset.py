"""The evaluation file: ``lang<TAB>expect<TAB>text`` per line, ``#`` comments.

``expect`` is a topic id, or one of ``@human`` (asks for a person), ``@oos`` (must not get an FAQ
answer), ``@greet``, ``@thanks``, ``@bye``.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from pathlib import Path

from bot.kb.model import LANGUAGES

SPECIAL_EXPECTATIONS = {"@human", "@oos", "@greet", "@thanks", "@bye"}


class DatasetError(ValueError):
    pass


@dataclass(frozen=True)
class Case:
    line: int
    language: str
    expect: str
    text: str

    @property
    def is_topic(self) -> bool:
        return not self.expect.startswith("@")

    @property
    def split(self) -> str:
        """A stable half of the set for tuning thresholds, the other half held out."""
        digest = hashlib.sha256(f"{self.language}|{self.text}".encode()).digest()
        return "tune" if digest[0] % 2 == 0 else "holdout"


def load_cases(path: Path, known_topics: set[str] | None = None) -> list[Case]:
    cases = []
    for number, raw in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        if not raw.strip() or raw.lstrip().startswith("#"):
            continue
        parts = raw.split("\t")
        if len(parts) != 3:
            raise DatasetError(f"{path}:{number}: expected 3 tab-separated fields, found {len(parts)}")
        language, expect, text = (p.strip() for p in parts)
        if language not in LANGUAGES:
            raise DatasetError(f"{path}:{number}: unknown language {language!r}")
        if expect.startswith("@") and expect not in SPECIAL_EXPECTATIONS:
            raise DatasetError(f"{path}:{number}: unknown expectation {expect!r}")
        if known_topics is not None and not expect.startswith("@") and expect not in known_topics:
            raise DatasetError(f"{path}:{number}: unknown topic {expect!r}")
        if not text:
            raise DatasetError(f"{path}:{number}: empty text")
        cases.append(Case(number, language, expect, text))
    return cases

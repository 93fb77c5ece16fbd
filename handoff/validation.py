"""Input types that reject what the database or the pages must never see, with a clear 422.

Text from players and agents may contain anything printable in any script, line breaks and tabs;
not NUL (PostgreSQL refuses it), other control characters, or lone UTF-16 surrogates (valid JSON
escapes that no encoder can store: "\\ud800").
"""

from __future__ import annotations

import re
from typing import Annotated

from pydantic import AfterValidator, Field

MAX_ID = 2**31 - 1  # ids in paths and queries: beyond PostgreSQL's INTEGER they exist nowhere (and overflow it)
_FORBIDDEN = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f\ud800-\udfff]")


def clean(value: str) -> str:
    if _FORBIDDEN.search(value):
        raise ValueError("contains control characters or unpaired surrogates")
    return value


CleanText = Annotated[str, AfterValidator(clean)]
ClientId = Annotated[str, Field(pattern=r"^[A-Za-z0-9_.:-]{1,64}$")]
Locale = Annotated[str, Field(max_length=35, pattern=r"^[A-Za-z]{2,8}([-_][A-Za-z0-9]{1,8})*$")]

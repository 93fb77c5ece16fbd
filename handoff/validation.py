"""Input types that reject what the database or the pages must never see, with a clear 422.

Text from players and agents may contain anything printable in any script, line breaks and tabs;
not NUL (PostgreSQL refuses it), other control characters, or lone UTF-16 surrogates (valid JSON
escapes that no encoder can store: "\\ud800").
"""

from __future__ import annotations

import re
from typing import Annotated
from urllib.parse import parse_qsl

from pydantic import AfterValidator, BaseModel, Field, field_validator

MAX_ID = 2**31 - 1  # ids in paths and queries: beyond PostgreSQL's INTEGER they exist nowhere (and overflow it)
_FORBIDDEN = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f\ud800-\udfff]")


def clean(value: str) -> str:
    if _FORBIDDEN.search(value):
        raise ValueError("contains control characters or unpaired surrogates")
    return value


CleanText = Annotated[str, AfterValidator(clean)]
ClientId = Annotated[str, Field(pattern=r"^[A-Za-z0-9_.:-]{1,64}$")]
Locale = Annotated[str, Field(max_length=35, pattern=r"^[A-Za-z]{2,8}([-_][A-Za-z0-9]{1,8})*$")]


def _check_nested(value: object) -> None:
    if isinstance(value, str):
        clean(value)
    elif isinstance(value, dict):
        for key, item in value.items():
            _check_nested(key)
            _check_nested(item)
    elif isinstance(value, list | tuple):
        for item in value:
            _check_nested(item)


class RequestBody(BaseModel):
    """Base of every request body: no string anywhere in it (ids, languages, names, nested lists and
    dicts) holds a NUL, another control character or a lone surrogate. PostgreSQL refuses NUL in any
    text column, so one missed field was a 500; a test checks that every body model inherits this."""

    @field_validator("*", mode="after")
    @classmethod
    def _no_control_characters(cls, value: object) -> object:
        _check_nested(value)
        return value


class CleanUrl:
    """ASGI middleware: 422 for a path or query string that decodes to control characters (``%00``),
    before any route reads them: path and query parameters are plain ``str`` in many routes."""

    def __init__(self, app) -> None:
        self.app = app

    async def __call__(self, scope, receive, send) -> None:
        if scope["type"] in ("http", "websocket") and not _url_is_clean(scope):
            if scope["type"] == "websocket":
                await send({"type": "websocket.close", "code": 1008})
                return
            body = b'{"error": "invalid request", "detail": "control characters in the URL"}'
            headers = [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())]
            await send({"type": "http.response.start", "status": 422, "headers": headers})
            await send({"type": "http.response.body", "body": body})
            return
        await self.app(scope, receive, send)


def _url_is_clean(scope) -> bool:
    query = scope.get("query_string", b"").decode("latin-1")
    parts = [scope.get("path", "")]
    parts += [piece for pair in parse_qsl(query, keep_blank_values=True, errors="surrogateescape") for piece in pair]
    return not any(_FORBIDDEN.search(part) for part in parts)

"""Log lines never carry secrets: bearer tokens and ``token=`` query values are masked.

Installed on the root handlers and on uvicorn's loggers by ``python -m handoff serve``; the widget and
the console no longer put tokens in URLs at all, this catches whatever else might (an old client,
a curl session, a proxy's log format).
"""

from __future__ import annotations

import logging
import re

_PATTERNS = (
    (re.compile(r"(?i)(token=)[^&\s\"']+"), r"\1***"),
    (re.compile(r"(?i)(bearer\s+)[A-Za-z0-9._~+/=-]+"), r"\1***"),
    (re.compile(r"(?i)(authorization['\"]?\s*[:=]\s*['\"]?)[^'\"\s,}]+"), r"\1***"),
)


def scrub(text: str) -> str:
    for pattern, replacement in _PATTERNS:
        text = pattern.sub(replacement, text)
    return text


class ScrubSecrets(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        cleaned = scrub(message)
        if cleaned != message:
            record.msg, record.args = cleaned, None
        return True


def install() -> None:
    """Scrub every handler of the root logger and uvicorn's, now and for handlers added later."""
    scrubber = ScrubSecrets()
    for name in ("", "uvicorn", "uvicorn.access", "uvicorn.error"):
        logger = logging.getLogger(name)
        logger.addFilter(scrubber)
        for handler in logger.handlers:
            handler.addFilter(scrubber)

"""Progress of the slow steps, as plain events: the CLI draws tqdm bars, the hub can stream them."""

from __future__ import annotations

import sys
from collections.abc import Callable
from dataclasses import dataclass


@dataclass(frozen=True)
class Progress:
    stage: str  # e.g. "index", "rasa", "publish:actions", "publish:rasa"
    done: int
    total: int | None  # None: no known end (a wait)
    message: str = ""

    @property
    def finished(self) -> bool:
        return self.total is not None and self.done >= self.total


ProgressCallback = Callable[[Progress], None]


def ignore(_: Progress) -> None:
    """The default callback."""


class TqdmProgress:
    """One tqdm bar per stage, on standard error; a stage's bar closes when it finishes."""

    UNITS = {"index": "texts", "rasa": "%"}

    def __init__(self, enabled: bool | None = None) -> None:
        self.enabled = sys.stderr.isatty() if enabled is None else enabled
        self._bars: dict = {}

    def __call__(self, event: Progress) -> None:
        if not self.enabled:
            return
        from tqdm import tqdm

        bar = self._bars.get(event.stage)
        if bar is None:
            unit = self.UNITS.get(event.stage, "step")
            bar = tqdm(total=event.total, desc=event.stage, unit=unit, file=sys.stderr, leave=True)
            self._bars[event.stage] = bar
        if event.message:
            bar.set_postfix_str(event.message, refresh=False)
        bar.update(event.done - bar.n)
        if event.finished:
            bar.close()
            del self._bars[event.stage]

    def close(self) -> None:
        for bar in self._bars.values():
            bar.close()
        self._bars.clear()

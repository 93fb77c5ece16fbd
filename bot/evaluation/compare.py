"""Comparing evaluation figures with those stored for the previous release."""

from __future__ import annotations

from dataclasses import dataclass

METRICS = {
    "language_id": "lang-ID",
    "faq_top1": "FAQ top-1",
    "faq_answered_right": "answered",
    "human_recall": "human",
    "oos_rejection": "OOS rej.",
    "small_talk": "small talk",
    "safer_gambling_priority": "safer-g.",
}


@dataclass
class Drop:
    language: str
    metric: str
    before: float
    after: float

    @property
    def points(self) -> float:
        return round((self.before - self.after) * 100, 1)

    def __str__(self) -> str:
        return (
            f"{self.language}: {METRICS.get(self.metric, self.metric)} dropped {self.points:.1f} points "
            f"({self.before * 100:.1f}% -> {self.after * 100:.1f}%)"
        )


def comparable(previous: dict | None, current: dict) -> bool:
    """Figures compare only on the same evaluation file and split."""
    return bool(previous) and all(previous.get(k) == current.get(k) for k in ("file", "split", "lines"))


def drops(previous: dict, current: dict, threshold_points: float) -> list[Drop]:
    """Every (language, metric) that fell by more than ``threshold_points`` percentage points."""
    found = []
    for language, figures in current["per_language"].items():
        before_figures = previous.get("per_language", {}).get(language, {})
        for metric in METRICS:
            before, after = before_figures.get(metric), figures.get(metric)
            if before is None or after is None:
                continue
            if (before - after) * 100 > threshold_points + 1e-9:
                found.append(Drop(language, metric, before, after))
    return found

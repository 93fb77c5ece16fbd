"""The evaluation report: figures stored per release, compared with the previous one, HTML + PNG."""

from __future__ import annotations

import base64
import re

from bot import releases
from bot.evaluation.cli import store_and_report
from bot.evaluation.dataset import Case
from bot.evaluation.report import summarize
from bot.evaluation.runner import Outcome


def outcome(line: int, lang: str, expect: str, got: str | None) -> Outcome:
    return Outcome(Case(line, lang, expect, f"text {line}"), lang, lang, "faq", got, None, "answer", [], ["a"])


def summary(fi_right: int) -> dict:
    """10 Finnish and 10 Swedish topic lines; ``fi_right`` Finnish ones answered right."""
    outcomes = [
        outcome(i, "fi", "withdrawal_time", "withdrawal_time" if i < fi_right else "payment_fees") for i in range(10)
    ]
    outcomes += [outcome(100 + i, "sv", "password_reset", "password_reset") for i in range(10)]
    result = summarize(outcomes)
    result.update(file="dev.tsv", split="all", seconds=1.0)
    return result


def release(models_dir, rid: str, previous: str | None) -> None:
    r = releases.Release(rid, releases.now(), "idx", "faq_index/idx", "rasa/m.tar.gz", {}, {}, previous)
    releases.save(models_dir, r)


def test_a_drop_of_more_than_two_points_warns_and_everything_is_stored(tmp_path, settings):
    s = settings.model_copy(update={"models_dir": tmp_path})
    release(tmp_path, "r1", None)
    release(tmp_path, "r2", "r1")
    notes = store_and_report(s, "r1", summary(fi_right=10))
    assert not any(n.startswith("WARNING") for n in notes)
    notes = store_and_report(s, "r2", summary(fi_right=7))
    warnings = [n for n in notes if n.startswith("WARNING")]
    assert warnings and "fi: FAQ top-1 dropped 30.0 points (100.0% -> 70.0%) since release r1" in warnings[0]
    assert not any("sv:" in w for w in warnings)
    assert releases.load(tmp_path, "r2").eval["per_language"]["fi"]["faq_top1"] == 0.7

    folder = tmp_path / "reports" / "r2"
    png = (folder / "chart.png").read_bytes()
    assert png.startswith(b"\x89PNG")
    page = (folder / "report.html").read_text(encoding="utf-8")
    embedded = re.search(r'src="data:image/png;base64,([^"]+)"', page)
    assert embedded and base64.b64decode(embedded.group(1)) == png
    assert not re.search(r'(src|href)="(?!data:)', page)  # self-contained: no external assets
    assert "withdrawal_time" in page and "payment_fees" in page  # the confused pair


def test_a_drop_within_two_points_does_not_warn(tmp_path, settings):
    s = settings.model_copy(update={"models_dir": tmp_path})
    release(tmp_path, "r1", None)
    release(tmp_path, "r2", "r1")
    big = summary(10)
    store_and_report(s, "r1", big)
    same = summary(10)
    same["per_language"]["fi"]["faq_top1"] = 0.985  # 1.5 points
    assert not any(n.startswith("WARNING") for n in store_and_report(s, "r2", same))

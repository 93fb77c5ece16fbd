"""``bot calibrate``: choose the FAQ answer/clarify thresholds on half of the dev set, report both halves.

The index is queried directly (no Rasa), once per line; then a grid of thresholds is scored:
a right answer +1, a "did you mean" that contains the right topic +0.5, a wrong answer -2 (worse than
admitting doubt), an answer to an out-of-scope question -2, a "did you mean" to one 0 and a refusal of one +1. The best
thresholds on the ``tune`` half are reported with their figures on the ``holdout`` half, which took
no part in choosing them.
"""

from __future__ import annotations

import argparse
import itertools
import json
from dataclasses import asdict
from pathlib import Path

from bot.decision import ANSWER, CLARIFY, Thresholds, decide
from bot.evaluation.dataset import Case, load_cases
from bot.index.faq_index import TopicMatch

ANSWER_SCORES = [round(0.80 + 0.005 * i, 3) for i in range(25)]
MARGINS = [0.0, 0.005, 0.01, 0.015, 0.02, 0.03]
CLARIFY_GAPS = [0.01, 0.02, 0.03, 0.04, 0.06]


def score(cases: list[Case], matches: list[list[TopicMatch]], thresholds: Thresholds) -> dict:
    points = 0.0
    right = wrong = clarified = oos_answered = oos_total = topic_total = 0
    for case, found in zip(cases, matches, strict=True):
        decision = decide(found, thresholds)
        if case.is_topic:
            topic_total += 1
            if decision.outcome == ANSWER:
                if decision.topic_id == case.expect:
                    right, points = right + 1, points + 1
                else:
                    wrong, points = wrong + 1, points - 2
            elif decision.outcome == CLARIFY and case.expect in [s.topic_id for s in decision.suggestions]:
                clarified, points = clarified + 1, points + 0.5
        else:
            oos_total += 1
            if decision.outcome == ANSWER:
                oos_answered, points = oos_answered + 1, points - 2
            elif decision.outcome != CLARIFY:  # a "did you mean" to an unrelated question is no win
                points += 1
    return {
        "points": points,
        "answered_right": round(right / max(topic_total, 1), 4),
        "answered_wrong": round(wrong / max(topic_total, 1), 4),
        "clarified_right": round(clarified / max(topic_total, 1), 4),
        "oos_rejected": round(1 - oos_answered / max(oos_total, 1), 4),
    }


def calibrate(cases: list[Case], matches: list[list[TopicMatch]], priority_score: float) -> dict:
    tune = [i for i, c in enumerate(cases) if c.split == "tune"]
    hold = [i for i, c in enumerate(cases) if c.split == "holdout"]
    best = None
    for answer, margin, gap in itertools.product(ANSWER_SCORES, MARGINS, CLARIFY_GAPS):
        thresholds = Thresholds(answer, margin, round(answer - gap, 3), priority_score)
        result = score([cases[i] for i in tune], [matches[i] for i in tune], thresholds)
        if best is None or result["points"] > best[1]["points"]:
            best = (thresholds, result)
    thresholds, tune_result = best
    hold_result = score([cases[i] for i in hold], [matches[i] for i in hold], thresholds)
    return {"thresholds": asdict(thresholds), "tune": tune_result, "holdout": hold_result}


def main(argv: list[str] | None = None) -> int:
    from bot.embedding.model import load_embedder
    from bot.index.faq_index import FaqIndex
    from bot.settings import get_settings

    parser = argparse.ArgumentParser(prog="bot calibrate", description=__doc__)
    parser.add_argument("file", nargs="?", default="data/eval/dev.tsv")
    args = parser.parse_args(argv)
    settings = get_settings()
    embedder = load_embedder(settings.embedding_model, settings.embedding_prefix)
    index = FaqIndex.load_current(settings.index_dir, embedder, settings.lexical_weight, settings.faq_topic_pool)
    cases = [c for c in load_cases(Path(args.file)) if c.is_topic or c.expect == "@oos"]
    matches = [index.query(c.text, c.language, top_k=5) for c in cases]
    print(json.dumps(calibrate(cases, matches, settings.faq_priority_score), indent=2))
    return 0

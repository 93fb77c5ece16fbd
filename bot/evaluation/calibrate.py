"""``bot calibrate``: choose the decision thresholds and the detectors' cut-offs on the tune halves
of the dev sets, and report them on the held-out halves.

The index is asked once per line (no Rasa); then a grid is scored on the ``tune`` lines only:
- the topic decision (temperature, answer probability and margin, clarify and "not a question"
  probabilities): as many right answers as possible while wrong answers stay under a cap per set
  (``dev.tsv`` 1%, ``dev-wild.tsv`` 2.5%: the targets are 1% and 3%) and out-of-scope lines are
  not answered; a "did you mean" that holds the right topic counts a little;
- the safer-gambling detector: a cut-off below every tune line of ``gambling_problem_help`` (the
  lowest one's probability times a safety factor), then checked against false alarms;
- the request-for-a-person detector: the same, on ``@human`` lines.
The ``holdout`` halves take no part in any choice; their figures are what the README reports.
"""

from __future__ import annotations

import argparse
import itertools
import json
from dataclasses import asdict
from pathlib import Path

from bot.decision import ANSWER, CLARIFY, Thresholds, decide
from bot.evaluation.dataset import Case, load_cases
from bot.understanding.training import SAFER_GAMBLING_TOPIC
from bot.understanding.understand import Analysis, Understanding, understanding_of

DEFAULT_FILES = ("data/eval/dev.tsv", "data/eval/dev-wild.tsv")
WRONG_CAPS = {"dev.tsv": 0.01, "dev-wild.tsv": 0.025}
TEMPERATURES = [0.005, 0.01, 0.015, 0.02, 0.03]
ANSWER_PROBABILITIES = [0.4, 0.5, 0.6, 0.7, 0.75, 0.8, 0.85, 0.9, 0.95]
MARGINS = [0.0, 0.1, 0.2, 0.3, 0.4, 0.5]
CLARIFY_PROBABILITIES = [0.1, 0.2, 0.3]
NONE_PROBABILITIES = [0.4, 0.5, 0.6, 0.7, 0.8, 0.9]
MIN_SIMILARITIES = [0.84, 0.82, 0.8, 0.0]  # on a tie the guard against gibberish wins
DETECTOR_SAFETY = 0.8  # cut-off = the lowest probability a tune positive got, times this
SKIP = ("@g", "@t", "@b", "@h")  # small talk and requests for a person: not FAQ decisions


def score(rows: list[tuple[str, Case, Understanding]], thresholds: Thresholds) -> dict:
    """Decision figures per file for rows of (file name, case, understanding)."""
    out: dict[str, dict] = {}
    for name, case, understanding in rows:
        figures = out.setdefault(name, dict(topic=0, right=0, wrong=0, suggested=0, oos=0, oos_answered=0))
        decision = decide(understanding, thresholds)
        if case.is_topic:
            figures["topic"] += 1
            if decision.outcome == ANSWER:
                figures["right" if decision.topic_id == case.expect else "wrong"] += 1
            if decision.outcome in (ANSWER, CLARIFY) and case.expect in [s.topic_id for s in decision.suggestions]:
                figures["suggested"] += 1
        elif case.expect == "@oos":
            figures["oos"] += 1
            figures["oos_answered"] += decision.outcome == ANSWER
    return out


def rates(figures: dict) -> dict:
    topic, oos = max(figures["topic"], 1), max(figures["oos"], 1)
    return {
        "answered_right": round(figures["right"] / topic, 4),
        "answered_wrong": round(figures["wrong"] / topic, 4),
        "right_or_suggested": round(figures["suggested"] / topic, 4),
        "oos_not_answered": round(1 - figures["oos_answered"] / oos, 4),
        "lines": figures["topic"] + figures["oos"],
    }


def points(per_file: dict) -> float | None:
    total = 0.0
    for name, f in per_file.items():
        if f["wrong"] > WRONG_CAPS.get(name, 0.02) * max(f["topic"], 1):
            return None  # over the cap: not a candidate
        total += f["right"] - 3 * f["wrong"] + 0.3 * (f["suggested"] - f["right"])
        total += -3 * f["oos_answered"]
    return total


def detector_cutoff(values_pos: list[float]) -> float:
    return round(min(values_pos) * DETECTOR_SAFETY, 4) if values_pos else 0.5


def calibrate(
    rows: list[tuple[str, Case, Analysis]], max_suggestions: int = 3, keyword_similarity: float = 1.01
) -> dict:
    tune = [r for r in rows if r[1].split == "tune"]
    hold = [r for r in rows if r[1].split == "holdout"]

    def understood(subset, temperature):
        return [
            (name, case, understanding_of(a, temperature)) for name, case, a in subset if case.expect[:2] not in SKIP
        ]

    best = None
    for t in TEMPERATURES:
        tune_t = understood(tune, t)
        grid = itertools.product(
            ANSWER_PROBABILITIES, MARGINS, CLARIFY_PROBABILITIES, NONE_PROBABILITIES, MIN_SIMILARITIES
        )
        for a, m, c, n, floor in grid:
            thresholds = Thresholds(a, m, c, 0.05, n, max_suggestions, floor, keyword_similarity)
            value = points(score(tune_t, thresholds))
            if value is not None and (best is None or value > best[0]):
                best = (value, t, thresholds)
    if best is None:
        raise SystemExit("no thresholds keep wrong answers under the caps on the tune halves")
    _, temperature, thresholds = best
    detected = {id(a): understanding_of(a, temperature) for _, _, a in rows}
    safer = detector_cutoff([detected[id(a)].safer_gambling for _, c, a in tune if c.expect == SAFER_GAMBLING_TOPIC])
    human = detector_cutoff([a.human_request for _, c, a in tune if c.expect == "@human"])

    def detectors(subset: list[tuple[str, Case, Analysis]]) -> dict:
        out = {}
        for name in sorted({r[0] for r in subset}):
            lines = [(c, detected[id(a)]) for f, c, a in subset if f == name]
            crisis = [a.safer_gambling >= safer for c, a in lines if c.expect == SAFER_GAMBLING_TOPIC]
            others = [a.safer_gambling >= safer for c, a in lines if c.expect != SAFER_GAMBLING_TOPIC]
            asks = [a.human_request >= human for c, a in lines if c.expect == "@human"]
            topical = [a.human_request >= human for c, a in lines if c.is_topic]
            out[name] = {
                "safer_gambling_caught": round(sum(crisis) / max(len(crisis), 1), 4),
                "false_priority": round(sum(others) / max(len(others), 1), 4),
                "human_caught": round(sum(asks) / max(len(asks), 1), 4),
                "knowledge_questions_taken_for_human": round(sum(topical) / max(len(topical), 1), 4),
            }
        return out

    return {
        "settings": {
            "FAQ_TEMPERATURE": temperature,
            "FAQ_ANSWER_PROBABILITY": thresholds.answer_probability,
            "FAQ_ANSWER_MARGIN": thresholds.answer_margin,
            "FAQ_CLARIFY_PROBABILITY": thresholds.clarify_probability,
            "FAQ_NONE_PROBABILITY": thresholds.none_probability,
            "FAQ_MIN_SIMILARITY": thresholds.min_similarity,
            "SAFER_GAMBLING_THRESHOLD": safer,
            "HUMAN_REQUEST_THRESHOLD": human,
        },
        "thresholds": asdict(thresholds),
        "tune": {name: rates(f) for name, f in score(understood(tune, temperature), thresholds).items()},
        "holdout": {name: rates(f) for name, f in score(understood(hold, temperature), thresholds).items()},
        "detectors_tune": detectors(tune),
        "detectors_holdout": detectors(hold),
    }


def analyzed_rows(files: list[str], settings) -> list[tuple[str, Case, Analysis]]:
    from bot.embedding.model import load_embedder
    from bot.index.faq_index import FaqIndex, index_model_name
    from bot.kb.model import load_knowledge_base
    from bot.understanding.understand import analyze

    embedder = load_embedder(index_model_name(settings), settings.embedding_prefix)
    index = FaqIndex.load_current(settings.index_dir, embedder, settings.lexical_weight, settings.faq_topic_pool)
    topics = set(load_knowledge_base(settings.faq_dir).topics)
    rows = []
    for file in files:
        for case in load_cases(Path(file), topics):
            rows.append((Path(file).name, case, analyze(index, case.text, case.language)))
    return rows


def main(argv: list[str] | None = None) -> int:
    from bot.settings import get_settings

    parser = argparse.ArgumentParser(prog="bot calibrate", description=__doc__)
    parser.add_argument("files", nargs="*", default=list(DEFAULT_FILES))
    args = parser.parse_args(argv)
    settings = get_settings()
    print(
        json.dumps(
            calibrate(
                analyzed_rows(args.files, settings), settings.faq_max_suggestions, settings.faq_keyword_similarity
            ),
            indent=2,
        )
    )
    return 0

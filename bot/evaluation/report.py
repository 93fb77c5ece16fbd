"""Figures per language from evaluation outcomes."""

from __future__ import annotations

from collections import Counter, defaultdict
from dataclasses import dataclass, field

from bot.evaluation.runner import Outcome
from bot.kb.model import LANGUAGES

SMALL_TALK_INTENT = {"@greet": "greet", "@thanks": "thank", "@bye": "goodbye"}
PRIORITY_TOPIC = "gambling_problem_help"


@dataclass
class Ratio:
    hits: int = 0
    total: int = 0

    def add(self, hit: bool) -> None:
        self.hits += int(hit)
        self.total += 1

    @property
    def value(self) -> float | None:
        return round(self.hits / self.total, 4) if self.total else None


@dataclass
class LanguageFigures:
    cases: int = 0
    language_id: Ratio = field(default_factory=Ratio)
    faq_top1: Ratio = field(default_factory=Ratio)  # first-ranked topic is the expected one
    faq_answered_right: Ratio = field(default_factory=Ratio)  # answered directly with it
    faq_answered_wrong: Ratio = field(default_factory=Ratio)  # answered directly with another topic
    faq_right_or_suggested: Ratio = field(default_factory=Ratio)  # answered, or among "did you mean"
    human_recall: Ratio = field(default_factory=Ratio)
    oos_rejection: Ratio = field(default_factory=Ratio)
    small_talk: Ratio = field(default_factory=Ratio)
    safer_gambling_priority: Ratio = field(default_factory=Ratio)
    false_priority: Ratio = field(default_factory=Ratio)  # other lines handed off as safer gambling
    reply_language: Ratio = field(default_factory=Ratio)  # every reply's meta in the line's language
    outcomes: Counter = field(default_factory=Counter)


def first_topic(outcome: Outcome) -> str | None:
    return outcome.faq_id or (outcome.suggestions[0] if outcome.suggestions else None)


def passed(o: Outcome) -> bool:
    """Whether a line got what it expects (for listing failures)."""
    expect = o.case.expect
    if o.case.is_topic:
        return o.faq_id == expect and (expect != PRIORITY_TOPIC or o.handoff_reason == "safer_gambling")
    if expect == "@human":
        return o.handoff_reason is not None
    if expect == "@oos":
        return o.faq_outcome != "answer"
    return o.intent == SMALL_TALK_INTENT[expect]


def summarize(outcomes: list[Outcome]) -> dict:
    per_language: dict[str, LanguageFigures] = defaultdict(LanguageFigures)
    confusions: Counter = Counter()
    errors = []
    failures = []
    for o in outcomes:
        case = o.case
        figures = per_language[case.language]
        figures.cases += 1
        if o.error:
            errors.append({"line": case.line, "error": o.error})
        figures.language_id.add(o.detected_language == case.language)
        figures.outcomes[o.faq_outcome or o.intent or "none"] += 1
        if not passed(o):
            failures.append(
                {
                    "line": case.line,
                    "language": case.language,
                    "expect": case.expect,
                    "text": case.text,
                    "intent": o.intent,
                    "outcome": o.faq_outcome,
                    "got": first_topic(o),
                    "handoff": o.handoff_reason,
                }
            )
        figures.reply_language.add(bool(o.reply_languages) and all(lang == case.language for lang in o.reply_languages))
        if case.expect != PRIORITY_TOPIC:
            figures.false_priority.add(o.handoff_reason == "safer_gambling")
        if case.is_topic:
            top = first_topic(o)
            figures.faq_top1.add(top == case.expect)
            figures.faq_answered_right.add(o.faq_id == case.expect)
            figures.faq_answered_wrong.add(o.faq_id is not None and o.faq_id != case.expect)
            figures.faq_right_or_suggested.add(o.faq_id == case.expect or case.expect in o.suggestions)
            if top != case.expect:
                confusions[(case.expect, top or f"<{o.intent}>")] += 1
            if case.expect == PRIORITY_TOPIC:
                figures.safer_gambling_priority.add(o.handoff_reason == "safer_gambling")
        elif case.expect == "@human":
            figures.human_recall.add(o.handoff_reason is not None)
        elif case.expect == "@oos":
            figures.oos_rejection.add(o.faq_outcome != "answer")
        else:
            figures.small_talk.add(o.intent == SMALL_TALK_INTENT[case.expect])
    metrics = [
        "language_id",
        "faq_top1",
        "faq_answered_right",
        "faq_answered_wrong",
        "faq_right_or_suggested",
        "human_recall",
        "oos_rejection",
        "small_talk",
        "safer_gambling_priority",
        "false_priority",
        "reply_language",
    ]
    languages = [lang for lang in LANGUAGES if lang in per_language]
    table = {
        lang: {"cases": per_language[lang].cases, **{m: getattr(per_language[lang], m).value for m in metrics}}
        for lang in languages
    }
    overall = {"cases": len(outcomes)}
    for metric in metrics:
        total = Ratio()
        for lang in languages:
            ratio = getattr(per_language[lang], metric)
            total.hits += ratio.hits
            total.total += ratio.total
        overall[metric] = total.value
    return {
        "per_language": table,
        "overall": overall,
        "confusions": [{"expected": e, "got": g, "count": n} for (e, g), n in confusions.most_common(15)],
        "errors": errors,
        "failures": failures,
    }


def format_table(summary: dict, show_failures: bool = False) -> str:
    columns = [
        ("cases", "cases"),
        ("language_id", "lang-ID"),
        ("faq_top1", "FAQ top-1"),
        ("faq_answered_right", "answered"),
        ("faq_answered_wrong", "wrong"),
        ("faq_right_or_suggested", "ans|dym"),
        ("human_recall", "human"),
        ("oos_rejection", "OOS rej."),
        ("small_talk", "small talk"),
        ("safer_gambling_priority", "safer-g."),
        ("false_priority", "false prio"),
        ("reply_language", "reply lang"),
    ]
    rows = [["lang", *[title for _, title in columns]]]
    for lang, figures in [*summary["per_language"].items(), ("all", summary["overall"])]:
        row = [lang]
        for key, _ in columns:
            value = figures.get(key)
            row.append("-" if value is None else (str(value) if key == "cases" else f"{value * 100:.1f}%"))
        rows.append(row)
    widths = [max(len(r[i]) for r in rows) for i in range(len(rows[0]))]
    lines = ["  ".join(cell.rjust(w) for cell, w in zip(row, widths, strict=True)) for row in rows]
    if summary["confusions"]:
        lines.append("")
        lines.append("worst confusions (expected -> got):")
        lines += [f"  {c['count']:3d}  {c['expected']} -> {c['got']}" for c in summary["confusions"]]
    if show_failures and summary["failures"]:
        lines.append("")
        lines.append("failed lines (line, language, expected, intent/outcome -> got):")
        lines += [
            f"  {f['line']:4d} {f['language']} {f['expect']:<24} {f['intent']}/{f['outcome']} -> {f['got']}"
            f"  | {f['text']}"
            for f in summary["failures"]
        ]
    if summary["errors"]:
        lines.append(
            f"\n{len(summary['errors'])} lines failed to run, e.g. line {summary['errors'][0]['line']}: "
            f"{summary['errors'][0]['error']}"
        )
    return "\n".join(lines)

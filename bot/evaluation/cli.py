"""``bot eval FILE``: starts the real stack on free ports (or uses ``--rasa-url``) and reports.

The figures are stored in the manifest of the release evaluated (the latest trained one, or the
published one with ``--rasa-url``), compared with the previous release's (a warning for every
language and metric that dropped more than ``EVAL_DROP_WARN_POINTS``), and written as a report
under ``models/reports/<release>/`` (``report.html`` with the chart embedded, ``chart.png``,
``summary.json``).
"""

from __future__ import annotations

import argparse
import json
import socket
import sys
import time
from pathlib import Path

from bot import releases
from bot.evaluation.dataset import DatasetError, load_cases
from bot.evaluation.report import format_table, summarize
from bot.evaluation.runner import run_cases
from bot.kb.model import load_knowledge_base
from bot.settings import get_settings


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def run_eval(args: argparse.Namespace) -> int:
    settings = get_settings()
    kb = load_knowledge_base(settings.faq_dir)
    try:
        cases = load_cases(Path(args.file), set(kb.topics))
    except (DatasetError, OSError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    if args.split != "all":
        cases = [c for c in cases if c.split == args.split]
    services = []
    rasa_url = args.rasa_url
    release_id = releases.published_id(settings.models_dir) if rasa_url else None
    if not rasa_url:
        from bot.build import build_all
        from bot.services import start_stack

        settings = settings.model_copy(update={"rasa_port": free_port(), "action_port": free_port()})
        model = build_all(settings)
        print(
            f"starting Rasa and the action server on ports {settings.rasa_port}/{settings.action_port} ...",
            file=sys.stderr,
        )
        services = start_stack(settings, model)
        rasa_url = settings.rasa_url
        release_id = releases.latest_id(settings.models_dir)
    try:
        started = time.perf_counter()
        outcomes = run_cases(rasa_url, cases, token=settings.rasa_token)
        elapsed = time.perf_counter() - started
    finally:
        if services:
            from bot.services import stop_stack

            stop_stack(services)
    summary = summarize(outcomes)
    summary["file"] = args.file
    summary["split"] = args.split
    summary["seconds"] = round(elapsed, 1)
    notes = store_and_report(settings, release_id, summary) if release_id else ["no release recorded: not stored"]
    if args.json:
        print(json.dumps(summary, ensure_ascii=False, indent=2))
    else:
        print(f"{args.file} ({args.split}, {len(cases)} lines, {elapsed:.1f} s)")
        print(format_table(summary, show_failures=args.failures))
    for note in notes:
        print(note, file=sys.stderr)
    return 0


def store_and_report(settings, release_id: str, summary: dict) -> list[str]:
    """Store the figures in the release's manifest, compare with the previous release, write the report."""
    from bot.evaluation.compare import comparable, drops
    from bot.evaluation.html_report import write_report

    figures = {key: summary[key] for key in ("file", "split", "per_language", "overall", "confusions", "seconds")}
    figures["lines"] = summary["overall"]["cases"]
    figures["evaluated_at"] = releases.now()
    release = releases.record_eval(settings.models_dir, release_id, figures)
    previous = releases.previous_evaluated(settings.models_dir, release)
    notes = []
    found = []
    if previous and comparable(previous.eval, figures):
        found = drops(previous.eval, figures, settings.eval_drop_warn_points)
        notes += [f"WARNING: {drop} since release {previous.id}" for drop in found]
        if not found:
            notes.append(f"no language dropped more than {settings.eval_drop_warn_points} points since {previous.id}")
    elif previous:
        notes.append(f"release {previous.id} was evaluated on another file or split: not compared")
    page = write_report(
        settings.models_dir / "reports" / release_id,
        summary,
        release_id,
        previous.eval if previous and comparable(previous.eval, figures) else None,
        previous.id if previous else None,
        found,
    )
    notes.append(f"figures stored in release {release_id}; report: {page}")
    return notes

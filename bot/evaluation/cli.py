"""``bot eval FILE``: starts the real stack on free ports (or uses ``--rasa-url``) and reports."""

from __future__ import annotations

import argparse
import json
import socket
import sys
import time
from pathlib import Path

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
    try:
        started = time.perf_counter()
        outcomes = run_cases(rasa_url, cases)
        elapsed = time.perf_counter() - started
    finally:
        if services:
            from bot.services import stop_stack

            stop_stack(services)
    summary = summarize(outcomes)
    summary["file"] = args.file
    summary["split"] = args.split
    summary["seconds"] = round(elapsed, 1)
    if args.json:
        print(json.dumps(summary, ensure_ascii=False, indent=2))
    else:
        print(f"{args.file} ({args.split}, {len(cases)} lines, {elapsed:.1f} s)")
        print(format_table(summary, show_failures=args.failures))
    return 0

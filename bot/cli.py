"""``python -m bot`` / ``bot``: build, run and evaluate the assistant."""

from __future__ import annotations

import argparse
import logging
import signal
import sys
import time

from bot.settings import get_settings


def cmd_model(args: argparse.Namespace) -> int:
    from bot.build import ensure_embedding_model

    ensure_embedding_model(get_settings())
    return 0


def cmd_build(args: argparse.Namespace) -> int:
    from bot.build import build_all

    model = build_all(get_settings(), force=args.force)
    print(f"Rasa model: {model}")
    return 0


def cmd_run(args: argparse.Namespace) -> int:
    from bot.build import build_all
    from bot.services import start_stack, stop_stack, with_hub
    from handoff.demo import ensure_demo_agent

    settings = with_hub(get_settings())
    model = build_all(settings)
    demo = ensure_demo_agent(settings)
    services = start_stack(settings, model, hub=True)
    print(f"Rasa:          {settings.rasa_url}  (REST webhook: {settings.rasa_url}/webhooks/rest/webhook)")
    print(f"Action server: {settings.action_url}")
    print(f"Handoff hub:   {settings.hub_url}  (API docs: {settings.hub_url}/docs)")
    if demo:
        print(f"Demo agent created (shown once): user {demo[0]!r}, password {demo[1]!r}")
    print(f"Logs:          {settings.log_dir}")
    print("Press Ctrl-C to stop.", flush=True)
    stopping = False

    def stop(*_: object) -> None:
        nonlocal stopping
        stopping = True

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    try:
        while not stopping:
            for service in services:
                if service.process is not None and service.process.poll() is not None:
                    print(f"{service.name} stopped unexpectedly; see {service.log_file}", file=sys.stderr)
                    stopping = True
            time.sleep(1)
    finally:
        stop_stack(services)
    return 0


def cmd_eval(args: argparse.Namespace) -> int:
    from bot.evaluation.cli import run_eval

    return run_eval(args)


def cmd_validate(args: argparse.Namespace) -> int:
    from bot.kb.validate import validate

    settings = get_settings()
    embed = None
    if not args.no_embeddings:
        from bot.build import ensure_embedding_model
        from bot.embedding.model import load_embedder

        ensure_embedding_model(settings)
        embedder = load_embedder(settings.embedding_model, settings.embedding_prefix)
        embed = lambda texts: embedder.encode(texts, progress=sys.stderr.isatty())  # noqa: E731
    report = validate(settings.data_dir, embed, args.margin)
    for warning in report.warnings:
        print(f"note: {warning}")
    for error in report.errors:
        print(f"error: {error}")
    print(f"{len(report.errors)} errors, {len(report.warnings)} near-duplicate notes")
    return 1 if report.errors else 0


def cmd_calibrate(args: argparse.Namespace) -> int:
    from bot.evaluation.calibrate import main as calibrate_main

    return calibrate_main([args.file])


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="bot", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)
    sub.add_parser("model", help="convert the packaged embedding model into models/").set_defaults(func=cmd_model)
    build = sub.add_parser("build", help="build what changed: embedding model, FAQ index, Rasa model")
    build.add_argument("--force", action="store_true", help="rebuild even when nothing changed")
    build.set_defaults(func=cmd_build)
    sub.add_parser("run", help="build what changed, start Rasa and the action server").set_defaults(func=cmd_run)
    ev = sub.add_parser("eval", help="evaluate a TSV file (lang, expect, text) against the real bot")
    ev.add_argument("file")
    ev.add_argument("--json", action="store_true", help="print one JSON object")
    ev.add_argument(
        "--split",
        choices=["all", "tune", "holdout"],
        default="all",
        help="evaluate all lines, or only the tuning or held-out half (stable hash split)",
    )
    ev.add_argument("--failures", action="store_true", help="list every line that did not get what it expects")
    ev.add_argument("--rasa-url", help="use an already running Rasa instead of starting one")
    ev.set_defaults(func=cmd_eval)
    val = sub.add_parser("validate", help="check data/: languages, duplicates, near-duplicates, texts")
    val.add_argument("--margin", type=float, default=0.05, help="near-duplicate report margin (cosine)")
    val.add_argument("--no-embeddings", action="store_true", help="skip the near-duplicate report")
    val.set_defaults(func=cmd_validate)
    cal = sub.add_parser("calibrate", help="choose FAQ thresholds on half the dev set, report the other half")
    cal.add_argument("file", nargs="?", default="data/eval/dev.tsv")
    cal.set_defaults(func=cmd_calibrate)
    return parser


def main(argv: list[str] | None = None) -> int:
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    args = build_parser().parse_args(argv)
    return args.func(args)

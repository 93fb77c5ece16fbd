"""``python -m bot`` / ``bot``: build, run and evaluate the assistant."""

from __future__ import annotations

import argparse
import json
import logging
import signal
import sys
import time

from bot.settings import Settings, get_settings


def cmd_model(args: argparse.Namespace) -> int:
    from bot.build import ensure_embedding_model

    ensure_embedding_model(get_settings())
    return 0


def cmd_train(args: argparse.Namespace) -> int:
    from bot.pipeline import PipelineError, train
    from bot.progress import TqdmProgress

    bars = TqdmProgress()
    try:
        result = train(get_settings(), progress=bars, force=args.force)
    except PipelineError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    finally:
        bars.close()
    index = f"rebuilt ({result.index_embedded} variants embedded)" if result.index_rebuilt else "up to date"
    print(
        f"release {result.release.id}: FAQ index {result.release.index_version} {index}; "
        f"Rasa model {result.rasa_model.name} {'retrained' if result.rasa_retrained else 'up to date'}; "
        f"{result.seconds:.1f} s"
    )
    return 0


def cmd_publish(args: argparse.Namespace) -> int:
    from bot.pipeline import PipelineError, publish
    from bot.progress import TqdmProgress

    bars = TqdmProgress()
    try:
        result = publish(get_settings(), release_id=args.release, progress=bars)
    except PipelineError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    finally:
        bars.close()

    def said(swapped: bool, seconds: float) -> str:
        return f"swapped in {seconds:.1f} s" if swapped else "already live"

    print(
        f"release {result.release} published: action server index {result.index_version} "
        f"{said(result.index_swapped, result.index_seconds)}; Rasa model {result.rasa_model} "
        f"{said(result.rasa_swapped, result.rasa_seconds)}"
    )
    return 0


def cmd_run(args: argparse.Namespace) -> int:
    from bot.secrets import SecretsError
    from bot.settings import UnsafeSettings

    try:
        settings = get_settings()
        # Before the build (minutes on a fresh machine): refuse a non-loopback HOST with a weak secret.
        settings.check_exposure()
    except (SecretsError, UnsafeSettings) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1

    from bot.build import build_all
    from bot.services import ServiceError, start_stack, stop_stack, with_hub
    from handoff.demo import ensure_demo_agent

    settings = with_hub(settings)
    model = build_all(settings)
    demo = ensure_demo_agent(settings)
    try:
        services = start_stack(settings, model, hub=True)
    except (ServiceError, KeyboardInterrupt) as exc:  # start_stack has stopped what it started
        if demo:  # created now and never shown again: print it even though the stack did not start
            print(_demo_login_line(*demo), flush=True)
        if isinstance(exc, KeyboardInterrupt):
            print("stopped before the servers were up", file=sys.stderr)
            return 130
        print(f"error: {exc}", file=sys.stderr)
        return 1
    print(f"Rasa:          {settings.rasa_url}  (REST webhook: {settings.rasa_url}/webhooks/rest/webhook)")
    print(f"Action server: {settings.action_url}")
    print(f"Handoff hub:   {settings.hub_url}  (API docs: {settings.hub_url}/docs)")
    if demo:
        print(_demo_login_line(*demo))
    print(f"Tokens:        {_tokens_origin(settings)}")
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


def _demo_login_line(user: str, password: str) -> str:
    """The demo agent's login, once. User and password are Python string literals (``repr``), so a
    script reads them back with ``ast.literal_eval`` whatever characters they contain."""
    return f"Demo agent created (shown once): user {user!r}, password {password!r}"


def _tokens_origin(settings: Settings) -> str:
    """Where RASA_TOKEN, ADMIN_TOKEN and HANDOFF_SERVICE_TOKEN of this run come from."""
    from bot.secrets import SECRET_NAMES, secrets_path

    path = secrets_path(settings.hub_data_dir)
    try:
        stored = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        stored = {}
    values = {
        "RASA_TOKEN": settings.rasa_token,
        "ADMIN_TOKEN": settings.admin_token,
        "HANDOFF_SERVICE_TOKEN": settings.handoff_service_token,
    }
    in_file = [name for name in SECRET_NAMES if isinstance(stored, dict) and stored.get(name) == values[name]]
    from_env = [name for name in SECRET_NAMES if name not in in_file]
    parts = []
    if in_file:
        parts.append(f"{', '.join(in_file)} in {path} (generated; delete the file to rotate them)")
    if from_env:
        parts.append(f"{', '.join(from_env)} from the environment")
    return "; ".join(parts)


def cmd_eval(args: argparse.Namespace) -> int:
    from bot.evaluation.cli import run_eval

    return run_eval(args)


def cmd_validate(args: argparse.Namespace) -> int:
    from bot.pipeline import validate
    from bot.progress import TqdmProgress

    bars = TqdmProgress()
    try:
        report = validate(
            get_settings(), embeddings=not args.no_embeddings, rasa=not args.no_rasa, margin=args.margin, progress=bars
        )
    finally:
        bars.close()
    for warning in report.warnings:
        print(f"note: {warning}")
    for error in report.errors:
        print(f"error: {error}")
    print(f"{len(report.errors)} errors, {len(report.warnings)} notes")
    return 1 if report.errors else 0


def cmd_calibrate(args: argparse.Namespace) -> int:
    from bot.evaluation.calibrate import main as calibrate_main

    return calibrate_main(args.files)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="bot", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)
    sub.add_parser("model", help="convert the packaged embedding model into models/").set_defaults(func=cmd_model)
    for name in ("train", "build"):
        train = sub.add_parser(
            name,
            help="rebuild what changed (FAQ index in seconds; Rasa only after NLU/rules/domain/config/texts edits)"
            + ("; an alias of train" if name == "build" else ""),
        )
        train.add_argument("--force", action="store_true", help="rebuild everything even when nothing changed")
        train.set_defaults(func=cmd_train)
    pub = sub.add_parser("publish", help="swap the running stack to the newest release without downtime")
    pub.add_argument("--release", help="a release id under models/releases (default: the latest trained)")
    pub.set_defaults(func=cmd_publish)
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
    val = sub.add_parser(
        "validate", help="check data/: schema, languages, duplicates, near-duplicates, texts, rasa data validate"
    )
    val.add_argument("--margin", type=float, default=0.05, help="'nearer to another topic' note margin (cosine)")
    val.add_argument("--no-embeddings", action="store_true", help="skip the near-duplicate checks")
    val.add_argument("--no-rasa", action="store_true", help="skip `rasa data validate` (~20 s)")
    val.set_defaults(func=cmd_validate)
    cal = sub.add_parser(
        "calibrate",
        help="choose the decision thresholds on the tune halves of the dev sets, report the held-out halves",
    )
    cal.add_argument("files", nargs="*", default=["data/eval/dev.tsv", "data/eval/dev-wild.tsv"])
    cal.set_defaults(func=cmd_calibrate)
    return parser


def main(argv: list[str] | None = None) -> int:
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    args = build_parser().parse_args(argv)
    return args.func(args)

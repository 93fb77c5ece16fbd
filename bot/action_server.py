"""The action server: rasa-sdk's Sanic app, run in ONE process.

``python -m rasa_sdk`` starts Sanic's worker manager, which re-imports the actions (and so loads
the embedding model a second time) in a spawned worker, and refuses to start once torch has
fixed the multiprocessing start method. One process, one model in memory.

Besides Rasa's ``/webhook`` and ``/health`` it serves the admin endpoints of ``bot.action_admin``
(``bot publish`` swaps the FAQ index through them without a restart).
"""

from __future__ import annotations

import argparse
import logging
import sys

from rasa_sdk.endpoint import create_app_for_serve
from rasa_sdk.executor import ActionExecutor

from bot.action_admin import install_admin
from bot.secrets import SecretsError
from bot.settings import UnsafeSettings, get_settings


def main(argv: list[str] | None = None) -> None:
    try:
        settings = get_settings()
        parser = argparse.ArgumentParser(description=__doc__)
        parser.add_argument("--host", default=settings.host)
        parser.add_argument("--port", type=int, default=settings.action_port)
        args = parser.parse_args(argv)
        settings = settings.model_copy(update={"host": args.host})
        settings.check_exposure()  # refuse a non-loopback --host with an empty or published secret
    except (UnsafeSettings, SecretsError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        sys.exit(2)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    executor = ActionExecutor()
    executor.register_package("actions")
    app = create_app_for_serve(executor, cors_origins=[])
    install_admin(app, settings)
    app.run(host=args.host, port=args.port, single_process=True, access_log=False, motd=False)


if __name__ == "__main__":
    main()

"""A Rasa input channel that swaps the model WITHOUT pausing the server: ``POST /webhooks/model_swap/load``.

Rasa's own ``PUT /model`` loads the new model inside its event loop: while TensorFlow loads (10-35 s
here) no player message is answered, longer than the hub's Rasa timeout. This endpoint loads the new
agent in a worker thread (its own event loop) while the old agent keeps answering, then swaps
``app.ctx.agent`` in one assignment; the lock store is carried over and the trackers are shared
(``SharedInMemoryTrackerStore``), so conversations continue. Same token as Rasa's HTTP API
(``?token=``, from ``RASA_TOKEN``); 401 without it, 403 with a wrong one. Listed in credentials.yml.
"""

from __future__ import annotations

import asyncio
import hmac
import logging
import os
import time
from pathlib import Path
from typing import Any

from rasa.core.channels.channel import InputChannel
from sanic import Blueprint, response
from sanic.request import Request

logger = logging.getLogger(__name__)
ENDPOINTS = Path(__file__).resolve().parents[2] / "endpoints.yml"


def _load_agent(model_file: str):
    from rasa.core.agent import load_agent
    from rasa.core.utils import AvailableEndpoints

    endpoints = AvailableEndpoints.read_endpoints(str(ENDPOINTS))
    agent = asyncio.run(load_agent(model_path=model_file, endpoints=endpoints))
    if not agent.is_ready():
        raise ValueError(f"no usable model in {model_file}")
    return agent


class ModelSwapInput(InputChannel):
    @classmethod
    def name(cls) -> str:
        return "model_swap"

    @classmethod
    def from_credentials(cls, credentials: dict[str, Any] | None) -> ModelSwapInput:
        return cls()

    def __init__(self) -> None:
        self.token = os.environ.get("RASA_TOKEN", "")
        self.lock = asyncio.Lock()

    def blueprint(self, on_new_message: Any) -> Blueprint:
        hook = Blueprint("model_swap_webhook", __name__)

        @hook.route("/", methods=["GET"])
        async def health(request: Request) -> response.HTTPResponse:
            return response.json({"status": "ok"})

        @hook.route("/load", methods=["POST"])
        async def load(request: Request) -> response.HTTPResponse:
            given = request.args.get("token")
            if not self.token:
                return response.json({"error": "disabled", "detail": "RASA_TOKEN is empty"}, status=404)
            if not given:
                return response.json({"error": "missing token", "detail": "send ?token=<RASA_TOKEN>"}, status=401)
            if not hmac.compare_digest(given.encode(), self.token.encode()):
                return response.json({"error": "forbidden", "detail": "wrong token"}, status=403)
            model_file = (request.json or {}).get("model_file")
            if not model_file or not Path(model_file).is_file():
                return response.json({"error": "not found", "detail": f"no model file {model_file!r}"}, status=404)
            async with self.lock:
                started = time.perf_counter()
                try:
                    agent = await asyncio.get_running_loop().run_in_executor(None, _load_agent, model_file)
                except Exception as exc:  # noqa: BLE001 - the old agent keeps serving; say why
                    logger.exception("model swap failed; the old model stays")
                    return response.json({"error": "load failed", "detail": str(exc)}, status=500)
                app = request.app
                agent.lock_store = app.ctx.agent.lock_store
                app.ctx.agent = agent
            seconds = round(time.perf_counter() - started, 2)
            logger.info("model swapped to %s in %.2f s", model_file, seconds)
            return response.json({"model_file": agent.processor.model_filename, "seconds": seconds})

        return hook

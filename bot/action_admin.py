"""The action server's admin endpoints: see which index is live, and swap in a new one.

``POST /admin/reload`` ``{"index_version"?}`` (Bearer ``ADMIN_TOKEN``; 401 without a token, 403
with a wrong one) loads the knowledge base, texts and index in a worker thread while the server
keeps answering, then swaps the runtime atomically (``actions.runtime.swap_runtime``): an action
that started before the swap finishes on the old runtime. One reload at a time; a failed load
leaves the old runtime in place. ``index_version`` must be a plain version name (12 hex digits,
as ``bot.index.faq_index.index_version`` makes them) naming a folder inside ``settings.index_dir``;
anything else gets 422. ``GET /admin/status`` names the live index version.
"""

from __future__ import annotations

import asyncio
import hmac
import logging
import re
import time

from sanic import Request, Sanic
from sanic.response import HTTPResponse
from sanic.response import json as json_response

from bot.settings import Settings

logger = logging.getLogger(__name__)

VERSION_NAME = re.compile(r"[0-9a-f]{12}")  # bot.index.faq_index.index_version: sha256 hex, 12 digits


def _bad_version(version: object, settings: Settings) -> str | None:
    """Why ``version`` (from the request body) cannot name an index version; None when it can."""
    if version is None:
        return None  # the newest version (CURRENT)
    if not isinstance(version, str) or not VERSION_NAME.fullmatch(version):
        return "index_version must be a version name of 12 lowercase hex digits (e.g. 0123456789ab)"
    root = settings.index_dir.resolve()
    if not (root / version).resolve().is_relative_to(root):
        return f"index_version {version} does not resolve to a folder inside the index folder"
    return None


def _denied(request: Request, settings: Settings) -> HTTPResponse | None:
    if not settings.admin_token:
        return json_response({"error": "disabled", "detail": "ADMIN_TOKEN is empty"}, status=404)
    scheme, _, token = (request.headers.get("authorization") or "").partition(" ")
    if scheme.lower() != "bearer" or not token:
        return json_response({"error": "missing token", "detail": "send Authorization: Bearer <ADMIN_TOKEN>"}, 401)
    if not hmac.compare_digest(token.encode(), settings.admin_token.encode()):
        return json_response({"error": "forbidden", "detail": "wrong admin token"}, status=403)
    return None


def _status() -> dict:
    from actions.runtime import runtime

    rt = runtime()
    return {
        "index_version": rt.index.manifest.version,
        "kb_fingerprint": rt.kb.fingerprint,
        "vectors": rt.index.manifest.vectors,
    }


def install_admin(app: Sanic, settings: Settings) -> None:
    reloading = asyncio.Lock()

    @app.get("/admin/status")
    async def admin_status(request: Request) -> HTTPResponse:
        denied = _denied(request, settings)
        if denied:
            return denied
        try:
            return json_response(_status())
        except Exception as exc:  # noqa: BLE001 - report why nothing is loaded
            return json_response({"error": "not loaded", "detail": str(exc)}, status=503)

    @app.post("/admin/reload")
    async def admin_reload(request: Request) -> HTTPResponse:
        from actions.runtime import load_runtime, swap_runtime

        denied = _denied(request, settings)
        if denied:
            return denied
        try:
            body = request.json or {}
        except Exception:  # noqa: BLE001 - Sanic raises its own error for a malformed body
            return json_response({"error": "bad request", "detail": "body must be JSON"}, status=400)
        version = body.get("index_version") if isinstance(body, dict) else None
        problem = _bad_version(version, settings)
        if problem:
            return json_response({"error": "invalid index_version", "detail": problem}, status=422)
        async with reloading:
            started = time.perf_counter()
            loop = asyncio.get_running_loop()
            try:
                new = await loop.run_in_executor(None, load_runtime, settings, version)
            except FileNotFoundError as exc:
                return json_response({"error": "not found", "detail": str(exc)}, status=404)
            except Exception as exc:  # noqa: BLE001 - keep serving the old runtime, say why
                logger.exception("reload failed; the old runtime stays")
                return json_response({"error": "reload failed", "detail": str(exc)}, status=500)
            old = swap_runtime(new)
            seconds = round(time.perf_counter() - started, 3)
        logger.info(
            "runtime swapped: index %s -> %s in %.2f s",
            old.index.manifest.version if old else None,
            new.index.manifest.version,
            seconds,
        )
        return json_response(
            {**_status(), "previous_index_version": old and old.index.manifest.version, "seconds": seconds}
        )

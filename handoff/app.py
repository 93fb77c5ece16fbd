"""The FastAPI application: ``create_app(settings)``; run with ``python -m handoff serve``."""

from __future__ import annotations

from contextlib import asynccontextmanager

from fastapi import FastAPI
from fastapi.middleware.cors import CORSMiddleware
from fastapi.staticfiles import StaticFiles

from bot.kb.model import load_knowledge_base
from bot.kb.texts import load_texts
from bot.settings import Settings, get_settings
from handoff import errors, migrate, routers
from handoff.db import Database
from handoff.deps import Hub
from handoff.limits import BodyLimit, SlidingWindow
from handoff.rasa_client import RasaClient
from handoff.realtime import Broadcaster
from handoff.routers import ui
from handoff.validation import CleanUrl

# Only what a page embedding the widget calls crosses origins; the agent, editor and admin APIs
# are same-origin only (the console is served by the hub itself).
WIDGET_PATHS = ("/api/conversations", "/api/ui/")


class WidgetCors:
    """CORS for the widget's paths only (ASGI middleware around Starlette's CORSMiddleware)."""

    def __init__(self, app, origins: list[str]) -> None:
        self.app = app
        self.cors = CORSMiddleware(
            app,
            allow_origins=origins,
            allow_methods=["GET", "POST", "PATCH"],
            allow_headers=["Authorization", "Content-Type"],
            max_age=600,
        )

    async def __call__(self, scope, receive, send) -> None:
        if scope["type"] == "http" and scope["path"].startswith(WIDGET_PATHS):
            await self.cors(scope, receive, send)
        else:
            await self.app(scope, receive, send)


def create_app(settings: Settings | None = None) -> FastAPI:
    settings = settings or get_settings()
    db = Database.from_settings(settings)
    migrate.upgrade(db.engine)

    @asynccontextmanager
    async def lifespan(app: FastAPI):
        from handoff import logs
        from handoff.outbox import OutboxWorker
        from handoff.retention import RetentionJob

        logs.install()  # after uvicorn configured its loggers: no token reaches a log line
        hub: Hub = app.state.hub
        hub.outbox_worker = OutboxWorker(hub)
        hub.outbox_worker.start()
        retention = RetentionJob(hub)
        retention.start()
        yield
        await retention.stop()
        await hub.outbox_worker.stop()
        await hub.rasa.close()
        db.dispose()

    app = FastAPI(title="Handoff hub", version="0.2.0", lifespan=lifespan)
    app.state.hub = Hub(
        settings=settings,
        db=db,
        broadcaster=Broadcaster(),
        rasa=RasaClient(
            settings.rasa_url,
            settings.rasa_timeout_s,
            settings.rasa_token,
            settings.rasa_breaker_failures,
            settings.rasa_probe_interval_s,
        ),
        kb=load_knowledge_base(settings.faq_dir),
        texts=load_texts(settings.data_dir / "texts" / "hub"),
        bot_texts=load_texts(settings.data_dir / "texts"),
        conversation_starts=SlidingWindow(settings.conversations_per_minute_per_address),
    )
    errors.install(app)
    origins = [o.strip() for o in settings.hub_cors_origins.split(",") if o.strip()]
    app.add_middleware(WidgetCors, origins=origins)
    app.add_middleware(BodyLimit, max_bytes=settings.max_body_bytes)
    app.add_middleware(CleanUrl)
    for module in routers.ALL:
        app.include_router(module.router, responses=errors.RESPONSES)
    app.mount("/static", StaticFiles(directory=ui.WEB_DIR), name="static")
    return app

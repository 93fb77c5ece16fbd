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
from handoff.rasa_client import RasaClient
from handoff.realtime import Broadcaster
from handoff.routers import ui


def create_app(settings: Settings | None = None) -> FastAPI:
    settings = settings or get_settings()
    db = Database.from_settings(settings)
    migrate.upgrade(db.engine)

    @asynccontextmanager
    async def lifespan(app: FastAPI):
        yield
        await app.state.hub.rasa.close()
        db.dispose()

    app = FastAPI(title="Handoff hub", version="0.1.0", lifespan=lifespan)
    app.state.hub = Hub(
        settings=settings,
        db=db,
        broadcaster=Broadcaster(),
        rasa=RasaClient(settings.rasa_url, settings.rasa_timeout_s, settings.rasa_token),
        kb=load_knowledge_base(settings.faq_dir),
        texts=load_texts(settings.data_dir / "texts" / "hub"),
        bot_texts=load_texts(settings.data_dir / "texts"),
    )
    errors.install(app)
    app.add_middleware(
        CORSMiddleware,
        allow_origins=[o.strip() for o in settings.hub_cors_origins.split(",") if o.strip()],
        allow_methods=["GET", "POST", "PATCH"],
        allow_headers=["Authorization", "Content-Type"],
    )
    for module in routers.ALL:
        app.include_router(module.router)
    app.mount("/static", StaticFiles(directory=ui.WEB_DIR), name="static")
    return app

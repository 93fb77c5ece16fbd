"""Shared fixtures. Integration fixtures start the REAL Rasa server and action server."""

from __future__ import annotations

import socket
import uuid
from pathlib import Path

import pytest
import requests

from bot.settings import PROJECT_ROOT, Settings, get_settings


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="session")
def settings() -> Settings:
    return get_settings()


@pytest.fixture(scope="session")
def kb(settings):
    from bot.kb.model import load_knowledge_base

    return load_knowledge_base(settings.faq_dir)


@pytest.fixture(scope="session")
def embedder(settings):
    from bot.build import ensure_embedding_model
    from bot.embedding.model import load_embedder

    ensure_embedding_model(settings)
    return load_embedder(settings.embedding_model, settings.embedding_prefix)


@pytest.fixture(scope="session")
def faq_index(settings, embedder):
    from bot.build import build_faq_index
    from bot.index.faq_index import FaqIndex

    build_faq_index(settings, progress=False)
    return FaqIndex.load_current(settings.index_dir, embedder, settings.lexical_weight, settings.faq_topic_pool)


class Bot:
    """A client of the running Rasa server's REST channel."""

    def __init__(self, rasa_url: str, token: str = "") -> None:
        self.url = rasa_url
        self.params = {"token": token} if token else {}  # Rasa's API token (trackers, status)

    def new_sender(self) -> str:
        return f"test-{uuid.uuid4().hex}"

    def say(self, sender: str, text: str, metadata: dict | None = None) -> list[dict]:
        body = {"sender": sender, "message": text}
        if metadata:
            body["metadata"] = metadata
        response = requests.post(f"{self.url}/webhooks/rest/webhook", json=body, timeout=60)
        response.raise_for_status()
        return response.json()

    def tracker(self, sender: str) -> dict:
        response = requests.get(f"{self.url}/conversations/{sender}/tracker", params=self.params, timeout=30)
        response.raise_for_status()
        return response.json()

    def slots(self, sender: str) -> dict:
        return self.tracker(sender)["slots"]


@pytest.fixture(scope="session")
def stack(settings, tmp_path_factory):
    """Rasa and the action server on free ports, with their logs in a temp folder."""
    from bot.build import build_all
    from bot.services import start_stack, stop_stack

    test_settings = settings.model_copy(
        update={
            "rasa_port": free_port(),
            "action_port": free_port(),
            "log_dir": tmp_path_factory.mktemp("logs"),
        }
    )
    model = build_all(test_settings)
    services = start_stack(test_settings, model)
    yield test_settings
    stop_stack(services)


def run_full_stack(settings: Settings, tmp_path_factory, agent_password: str):
    """Rasa, the action server and the hub on free ports, a fresh SQLite hub database and the demo
    agent (an admin speaking all five languages) with a known password. A generator for fixtures."""
    from bot.build import build_all
    from bot.services import start_stack, stop_stack, with_hub
    from handoff.demo import ensure_demo_agent

    s = with_hub(
        settings.model_copy(
            update={
                "rasa_port": free_port(),
                "action_port": free_port(),
                "hub_port": free_port(),
                "log_dir": tmp_path_factory.mktemp("logs"),
                "hub_data_dir": tmp_path_factory.mktemp("hub"),
                "database_url": "",
                "demo_agent_password": agent_password,
            }
        )
    )
    model = build_all(s)
    assert ensure_demo_agent(s) == (s.demo_agent_user, agent_password)
    services = start_stack(s, model, hub=True)
    s.__dict__["services"] = services  # for tests that stop one service
    yield s
    stop_stack(services)


@pytest.fixture(scope="session")
def bot(stack) -> Bot:
    return Bot(stack.rasa_url, stack.rasa_token)


def texts_of(replies: list[dict]) -> list[str]:
    return [r["text"] for r in replies if r.get("text")]


def custom_of(replies: list[dict]) -> dict:
    for reply in replies:
        if isinstance(reply.get("custom"), dict):
            return reply["custom"]
    return {}


def buttons_of(replies: list[dict]) -> list[dict]:
    return [b for r in replies for b in r.get("buttons") or []]


SPEC_TOPICS = PROJECT_ROOT.parent / "shared" / "spec" / "faq_topics.yml"
ROOT: Path = PROJECT_ROOT

"""End to end through the real Rasa, action server and hub (all three started on free ports)."""

from __future__ import annotations

import json
import time

import pytest
import requests
from websockets.sync.client import connect

from tests.conftest import run_full_stack

pytestmark = pytest.mark.integration


@pytest.fixture(scope="module")
def full_stack(settings, tmp_path_factory):
    yield from run_full_stack(settings, tmp_path_factory, "e2e-secret-pass")


def events_until(ws, predicate, timeout: float = 20.0) -> list[dict]:
    seen, deadline = [], time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            event = json.loads(ws.recv(timeout=max(0.1, deadline - time.monotonic())))
        except TimeoutError:
            break
        seen.append(event)
        if predicate(event):
            return seen
    raise AssertionError(f"no matching event; saw {seen}")


def test_swedish_player_agent_and_back_to_the_bot(full_stack, kb):
    hub = full_stack.hub_url
    created = requests.post(f"{hub}/api/conversations", json={"locale": "sv"}, timeout=10).json()
    cid, player = created["conversation_id"], {"Authorization": f"Bearer {created['token']}"}
    agent_token = requests.post(
        f"{hub}/api/agent/login",
        json={"username": full_stack.demo_agent_user, "password": "e2e-secret-pass"},
        timeout=10,
    ).json()["token"]
    agent = {"Authorization": f"Bearer {agent_token}"}
    requests.post(f"{hub}/api/agent/presence", json={"presence": "online"}, headers=agent, timeout=10)

    ws_url = hub.replace("http", "ws") + f"/api/conversations/{cid}/ws"
    with connect(ws_url) as ws:
        ws.send(json.dumps({"type": "auth", "token": created["token"]}))
        events_until(ws, lambda e: e.get("type") == "ready")
        turn = requests.post(
            f"{hub}/api/conversations/{cid}/messages",
            json={"text": "jag vill prata med en riktig människa"},
            headers=player,
            timeout=60,
        ).json()
        bot_reply = next(m for m in turn["messages"] if m["from"] == "bot")
        assert bot_reply["meta"]["language"] == "sv"
        assert bot_reply["meta"]["handoff"]["reason"] == "player_request"
        assert bot_reply["meta"]["handoff"]["position"] == 1 and bot_reply["meta"]["handoff"]["estimated_wait_s"] > 0
        assert turn["status"]["state"] == "queued" and turn["status"]["position"] == 1

        queue = requests.get(f"{hub}/api/agent/queue?language=sv", headers=agent, timeout=10).json()["items"]
        assert [q["conversation_id"] for q in queue] == [cid]
        assert queue[0]["first_message"] == "jag vill prata med en riktig människa"
        assert requests.post(f"{hub}/api/agent/conversations/{cid}/claim", headers=agent, timeout=10).status_code == 200
        requests.post(
            f"{hub}/api/agent/conversations/{cid}/messages",
            json={"text": "Hej! Jag heter Demo, vad gäller det?"},
            headers=agent,
            timeout=10,
        )
        events_until(
            ws,
            lambda e: (
                e.get("type") == "message"
                and e["message"]["from"] == "agent"
                and e["message"]["text"] == "Hej! Jag heter Demo, vad gäller det?"
            ),
        )

        # the bot stays silent while the agent owns the conversation
        silent = requests.post(
            f"{hub}/api/conversations/{cid}/messages",
            json={"text": "hur lång tid tar ett uttag?"},
            headers=player,
            timeout=60,
        ).json()
        assert silent["messages"] == [] and silent["status"]["state"] == "agent"
        detail = requests.get(f"{hub}/api/agent/conversations/{cid}", headers=agent, timeout=10).json()
        assert detail["messages"][-1]["text"] == "hur lång tid tar ett uttag?"
        assert any(m["from"] == "bot" and m["meta"].get("intent") == "request_human" for m in detail["messages"])

        assert (
            requests.post(f"{hub}/api/agent/conversations/{cid}/resolve", headers=agent, timeout=30).status_code == 200
        )
        events_until(ws, lambda e: e.get("type") == "status" and e["state"] == "bot")

    answer = requests.post(
        f"{hub}/api/conversations/{cid}/messages",
        json={"text": "hur lång tid tar ett uttag till Trustly?"},
        headers=player,
        timeout=60,
    ).json()
    texts = [m["text"] for m in answer["messages"] if m["from"] == "bot"]
    assert kb.answer("withdrawal_time", "sv")[0] in texts
    assert (
        requests.post(
            f"{hub}/api/conversations/{cid}/rating", json={"score": 5}, headers=player, timeout=10
        ).status_code
        == 201
    )
    health = requests.get(f"{hub}/healthz", timeout=10)
    assert health.status_code == 200 and health.json()["checks"] == {
        "database": "ok",
        "rasa": "ok",
        "action_server": "ok",
    }


def test_action_server_down_the_player_can_still_reach_a_person(full_stack):
    from bot.services import wait_healthy

    hub = full_stack.hub_url
    actions = next(service for service in full_stack.__dict__["services"] if service.name == "actions")
    actions.stop()
    try:
        created = requests.post(f"{hub}/api/conversations", json={"locale": "fi"}, timeout=10).json()
        player = {"Authorization": f"Bearer {created['token']}"}
        url = f"{hub}/api/conversations/{created['conversation_id']}/messages"
        turn = requests.post(url, json={"text": "kauanko kotiutus kestää"}, headers=player, timeout=60)
        assert turn.status_code == 200
        reply = turn.json()["messages"][-1]
        assert reply["meta"]["error"] == "bot_unavailable" and reply["buttons"][0]["payload"] == "/request_human"
        health = requests.get(f"{hub}/healthz", timeout=10)
        assert health.status_code == 503 and health.json()["checks"]["action_server"] == "down"
        queued = requests.post(url, json={"text": "/request_human"}, headers=player, timeout=60).json()
        assert queued["status"]["state"] == "queued"
        history = requests.get(url, headers=player, timeout=10).json()["messages"]
        assert history[0]["text"] == "kauanko kotiutus kestää"
    finally:
        actions.start()
        wait_healthy([actions], 120)


def test_a_language_switch_changes_the_hubs_status_in_the_same_turn(full_stack):
    hub = full_stack.hub_url
    created = requests.post(f"{hub}/api/conversations", json={"locale": "fi"}, timeout=10).json()
    cid, player = created["conversation_id"], {"Authorization": f"Bearer {created['token']}"}
    url = f"{hub}/api/conversations/{cid}/messages"
    first = requests.post(url, json={"text": "moro moro"}, headers=player, timeout=60).json()
    assert first["status"]["language"] == "fi" and first["messages"][0]["meta"]["language"] == "fi"
    assert first["messages"][0]["meta"]["outcome"] == "small_talk"
    switched = requests.post(url, json={"text": "can we speak English please?"}, headers=player, timeout=60).json()
    assert switched["status"]["language"] == "en"  # this turn, not the next one
    assert switched["messages"][0]["meta"]["language"] == "en"
    assert switched["messages"][0]["meta"]["outcome"] == "language_switch"

"""The hub never freezes: parallel requests finish at once and /livez keeps answering (SQLite and PostgreSQL).

Regression for the lock-up where ten parallel requests held SQLite's write lock while the event
loop waited for it (every request then waited the 30 s busy timeout, one after another).
"""

from __future__ import annotations

import asyncio
import time

import httpx
import pytest

from tests.hub.conftest import SERVICE, create_user

pytestmark = pytest.mark.parametrize("database_url", ["sqlite", "postgresql"], indirect=True)


async def timed(coro) -> tuple[float, httpx.Response]:
    started = time.perf_counter()
    response = await coro
    return time.perf_counter() - started, response


async def livez_while(url: str, work) -> tuple[list[float], list]:
    """Run ``work`` and probe /livez every 50 ms meanwhile; return the probe times and the results."""
    probes: list[float] = []
    done = asyncio.Event()

    async def probe(client: httpx.AsyncClient) -> None:
        while not done.is_set():
            started = time.perf_counter()
            assert (await client.get(f"{url}/livez")).status_code == 200
            probes.append(time.perf_counter() - started)
            await asyncio.sleep(0.05)

    async with httpx.AsyncClient(timeout=60) as client:
        prober = asyncio.create_task(probe(client))
        try:
            results = await work(client)
        finally:
            done.set()
            await prober
    return probes, results


async def new_conversation(client: httpx.AsyncClient, url: str) -> tuple[str, dict]:
    body = (await client.post(f"{url}/api/conversations", json={"locale": "fi"})).json()
    return body["conversation_id"], {"Authorization": f"Bearer {body['token']}"}


def test_ten_parallel_messages_of_one_player_finish_in_under_two_seconds(hub_server):
    url = hub_server.hub_url

    async def work(client):
        cid, player = await new_conversation(client, url)
        sends = [
            timed(client.post(f"{url}/api/conversations/{cid}/messages", json={"text": f"viesti {i}"}, headers=player))
            for i in range(10)
        ]
        started = time.perf_counter()
        results = await asyncio.gather(*sends)
        history = (await client.get(f"{url}/api/conversations/{cid}/messages", headers=player)).json()
        return time.perf_counter() - started, results, history

    probes, (total, results, history) = asyncio.run(livez_while(url, work))
    assert all(r.status_code == 200 for _, r in results), [r.text for _, r in results]
    assert total < 2.0, f"10 parallel messages took {total:.1f} s"
    assert max(probes) < 0.5, f"/livez took {max(probes):.2f} s"
    stored = [m["text"] for m in history["messages"] if m["from"] == "player"]
    assert sorted(stored) == sorted(f"viesti {i}" for i in range(10))


def test_ten_parallel_agent_requests_for_a_missing_conversation_do_not_freeze_the_hub(hub_server):
    create_user(hub_server, "mira")
    url = hub_server.hub_url

    async def work(client):
        login = await client.post(f"{url}/api/agent/login", json={"username": "mira", "password": "correct horse"})
        agent = {"Authorization": f"Bearer {login.json()['token']}"}
        missing = f"{url}/api/agent/conversations/does-not-exist"
        calls = [timed(client.post(f"{missing}/claim", headers=agent)) for _ in range(5)]
        calls += [timed(client.get(missing, headers=agent)) for _ in range(5)]
        calls += [timed(client.post(f"{missing}/close", headers=agent)) for _ in range(5)]
        started = time.perf_counter()
        results = await asyncio.gather(*calls)
        return time.perf_counter() - started, results

    probes, (total, results) = asyncio.run(livez_while(url, work))
    assert {r.status_code for _, r in results} == {404}
    assert total < 2.0, f"15 parallel agent requests took {total:.1f} s"
    assert max(probes) < 0.5


def test_twenty_players_asking_for_a_person_at_the_same_moment_are_all_queued(hub_server):
    url = hub_server.hub_url

    async def work(client):
        conversations = [await new_conversation(client, url) for _ in range(20)]
        asks = [
            timed(client.post(f"{url}/api/conversations/{cid}/messages", json={"text": "/request_human"}, headers=p))
            for cid, p in conversations
        ]
        intake = [  # the bot's handoff intake for the same conversations, at the same time
            timed(
                client.post(
                    f"{url}/api/handoffs",
                    json={"conversation_id": cid, "language": "fi", "reason": "player_request"},
                    headers=SERVICE,
                )
            )
            for cid, _ in conversations
        ]
        started = time.perf_counter()
        results = await asyncio.gather(*asks, *intake)
        return time.perf_counter() - started, results

    probes, (total, results) = asyncio.run(livez_while(url, work))
    assert all(r.status_code == 200 for _, r in results), [r.text for _, r in results if r.status_code != 200]
    assert {r.json()["status"]["state"] for _, r in results[:20]} == {"queued"}
    assert total < 3.0, f"40 parallel requests took {total:.1f} s"
    assert max(probes) < 0.5

import threading

from fastapi.testclient import TestClient

from tests.hub.conftest import SERVICE, create_user, login, new_conversation, queue_it


def test_create_user_and_log_in(client, hub_settings):
    create_user(hub_settings, "aino", languages="fi,sv", max_chats=2)
    assert client.post("/api/agent/login", json={"username": "aino", "password": "wrong pass"}).status_code == 401
    auth = login(client, "aino")
    assert client.get("/api/agent/queue", headers=auth).status_code == 200
    assert client.post("/api/agent/logout", headers=auth).status_code == 200
    assert client.get("/api/agent/queue", headers=auth).status_code == 401
    assert client.get("/api/agent/queue").status_code == 401


def test_intake_needs_the_service_token_and_is_idempotent(client):
    cid, _ = new_conversation(client)
    body = {"conversation_id": cid, "language": "ru", "reason": "player_request"}
    assert client.post("/api/handoffs", json=body).status_code == 401
    assert client.post("/api/handoffs", json=body, headers={"Authorization": "Bearer nope"}).status_code == 403
    assert client.post("/api/handoffs", json={**body, "conversation_id": "x"}, headers=SERVICE).status_code == 404
    first = queue_it(client, cid, "ru")
    second = queue_it(client, cid, "ru")
    assert first["position"] == second["position"] == 1
    assert first["estimated_wait_s"] > 0


def test_queue_order_priority_first_then_longest_wait(client, hub_settings):
    create_user(hub_settings, "sam")
    auth = login(client, "sam")
    first, _ = new_conversation(client)
    second, _ = new_conversation(client)
    urgent, _ = new_conversation(client)
    queue_it(client, first, "en")
    queue_it(client, second, "en")
    assert queue_it(client, urgent, "en", reason="safer_gambling")["position"] == 1
    items = client.get("/api/agent/queue", headers=auth).json()["items"]
    assert [i["conversation_id"] for i in items] == [urgent, first, second]
    assert items[0]["priority"] == "high" and items[0]["reason"] == "safer_gambling"


def test_claim_reply_internal_note_and_one_owner(client, hub_settings):
    create_user(hub_settings, "aino", languages="fi")
    create_user(hub_settings, "bert", languages="fi")
    aino, bert = login(client, "aino"), login(client, "bert")
    cid, player = new_conversation(client, "fi")
    client.post(f"/api/conversations/{cid}/messages", json={"text": "rahat ei tullut"}, headers=player)
    queue_it(client, cid, "fi")
    assert client.post(f"/api/agent/conversations/{cid}/claim", headers=aino).status_code == 200
    taken = client.post(f"/api/agent/conversations/{cid}/claim", headers=bert)
    assert taken.status_code == 409 and taken.json()["error"] == "already taken"
    assert client.post(f"/api/agent/conversations/{cid}/messages", json={"text": "hi"}, headers=bert).status_code == 403
    client.post(f"/api/agent/conversations/{cid}/messages", json={"text": "Katson asiaa!"}, headers=aino)
    client.post(f"/api/agent/conversations/{cid}/messages", json={"text": "VIP?", "internal": True}, headers=aino)
    seen = [m["text"] for m in client.get(f"/api/conversations/{cid}/messages", headers=player).json()["messages"]]
    assert "Katson asiaa!" in seen and "VIP?" not in seen
    detail = client.get(f"/api/agent/conversations/{cid}", headers=aino).json()
    assert [m["internal"] for m in detail["messages"] if m["from"] == "agent"] == [False, True]
    assert detail["messages"][0]["text"] == "rahat ei tullut"


def test_max_concurrent_chats(client, hub_settings):
    create_user(hub_settings, "solo", max_chats=1)
    auth = login(client, "solo")
    first, _ = new_conversation(client)
    second, _ = new_conversation(client)
    queue_it(client, first)
    queue_it(client, second)
    assert client.post(f"/api/agent/conversations/{first}/claim", headers=auth).status_code == 200
    busy = client.post(f"/api/agent/conversations/{second}/claim", headers=auth)
    assert busy.status_code == 409 and busy.json()["error"] == "too many chats"


def test_suggestions_come_with_answers_in_the_players_language(client, hub_settings, kb):
    create_user(hub_settings, "sam")
    auth = login(client, "sam")
    cid, _ = new_conversation(client)
    client.post(
        "/api/handoffs",
        json={
            "conversation_id": cid,
            "language": "sv",
            "reason": "topic_requires_human",
            "suggestions": [{"faq_id": "deposit_not_credited", "score": 0.91}],
        },
        headers=SERVICE,
    )
    client.post(f"/api/agent/conversations/{cid}/claim", headers=auth)
    suggestion = client.get(f"/api/agent/conversations/{cid}", headers=auth).json()["suggestions"][0]
    assert suggestion["answer"] == kb.answer("deposit_not_credited", "sv")[0]


def test_twenty_agents_claim_two_hundred_conversations_each_exactly_once(client, hub_settings):
    agents = []
    for i in range(20):
        create_user(hub_settings, f"agent{i}", max_chats=200) if i == 0 else None
    # one create-user run per agent is slow; add the rest directly through the model
    from handoff.models import User

    def add_agents(session) -> None:
        template = session.query(User).filter_by(username="agent0").one()
        for i in range(1, 20):
            session.add(
                User(
                    username=f"agent{i}",
                    display_name=f"Agent {i}",
                    password_hash=template.password_hash,
                    role="agent",
                    languages=template.languages,
                    max_chats=200,
                )
            )

    client.app.state.hub.db.run(add_agents)
    agents = [login(client, f"agent{i}") for i in range(20)]
    conversations = []
    for _ in range(200):
        cid, _ = new_conversation(client)
        queue_it(client, cid)
        conversations.append(cid)
    wins: dict[str, list[int]] = {cid: [] for cid in conversations}
    lock = threading.Lock()

    def work(index: int) -> None:
        with TestClient(client.app) as own:
            for cid in conversations[index % 7 :] + conversations[: index % 7]:
                if own.post(f"/api/agent/conversations/{cid}/claim", headers=agents[index]).status_code == 200:
                    with lock:
                        wins[cid].append(index)

    threads = [threading.Thread(target=work, args=(i,)) for i in range(20)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert all(len(winners) == 1 for winners in wins.values()), {c: w for c, w in wins.items() if len(w) != 1}


def test_every_acknowledged_message_survives_a_restart(hub_settings):
    from handoff.app import create_app

    with TestClient(create_app(hub_settings)) as first:
        cid, auth = new_conversation(first)
        queue_it(first, cid)
        acknowledged = [
            first.post(f"/api/conversations/{cid}/messages", json={"text": f"viesti {i}"}, headers=auth).json()[
                "message_id"
            ]
            for i in range(5)
        ]
    with TestClient(create_app(hub_settings)) as second:
        history = second.get(f"/api/conversations/{cid}/messages", headers=auth).json()["messages"]
        assert [m["id"] for m in history if m["from"] == "player"] == acknowledged


def test_rating_after_an_agent_helped(client, hub_settings):
    create_user(hub_settings, "sam")
    auth = login(client, "sam")
    cid, player = new_conversation(client)
    assert client.post(f"/api/conversations/{cid}/rating", json={"score": 5}, headers=player).status_code == 409
    queue_it(client, cid)
    client.post(f"/api/agent/conversations/{cid}/claim", headers=auth)
    client.post(f"/api/agent/conversations/{cid}/close", headers=auth)
    assert client.post(f"/api/conversations/{cid}/rating", json={"score": 6}, headers=player).status_code == 422
    assert (
        client.post(f"/api/conversations/{cid}/rating", json={"score": 4, "comment": "ok"}, headers=player).status_code
        == 201
    )
    assert "hub_csat_count 1" in client.get("/metrics").text


def test_transfer_to_another_agent_or_back_to_a_language_queue(client, hub_settings):
    create_user(hub_settings, "aino", languages="fi")
    create_user(hub_settings, "olga", languages="ru")
    aino, olga = login(client, "aino"), login(client, "olga")
    cid, _ = new_conversation(client)
    queue_it(client, cid, "fi")
    client.post(f"/api/agent/conversations/{cid}/claim", headers=aino)
    assert (
        client.post(f"/api/agent/conversations/{cid}/transfer", json={"agent": "olga"}, headers=aino).status_code == 200
    )
    assert client.post(f"/api/agent/conversations/{cid}/messages", json={"text": "x"}, headers=aino).status_code == 403
    assert (
        client.post(
            f"/api/agent/conversations/{cid}/messages", json={"text": "Здравствуйте!"}, headers=olga
        ).status_code
        == 201
    )
    back = client.post(f"/api/agent/conversations/{cid}/transfer", json={"language": "ru"}, headers=olga)
    assert back.json()["state"] == "queued"
    items = client.get("/api/agent/queue?language=ru", headers=olga).json()["items"]
    assert [i["conversation_id"] for i in items] == [cid]


def test_first_response_time_is_measured(client, hub_settings):
    create_user(hub_settings, "sam")
    auth = login(client, "sam")
    cid, _ = new_conversation(client)
    queue_it(client, cid)
    client.post(f"/api/agent/conversations/{cid}/claim", headers=auth)
    client.post(f"/api/agent/conversations/{cid}/messages", json={"text": "note", "internal": True}, headers=auth)
    assert "hub_first_response_seconds_count 0" in client.get("/metrics").text
    client.post(f"/api/agent/conversations/{cid}/messages", json={"text": "Hello!"}, headers=auth)
    assert "hub_first_response_seconds_count 1" in client.get("/metrics").text

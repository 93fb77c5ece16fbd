from tests.hub.conftest import new_conversation, queue_it


def test_start_a_conversation_returns_an_id_and_a_secret_token(client):
    response = client.post("/api/conversations", json={"locale": "fi-FI"})
    assert response.status_code == 201
    body = response.json()
    assert body["language"] == "fi" and len(body["token"]) >= 40


def test_tokens_protect_conversations(client):
    first, first_auth = new_conversation(client)
    second, second_auth = new_conversation(client)
    assert client.get(f"/api/conversations/{first}/messages").status_code == 401
    assert client.get(f"/api/conversations/{first}/messages", headers=second_auth).status_code == 403
    wrong = {"Authorization": "Bearer not-a-token"}
    assert client.post(f"/api/conversations/{first}/messages", json={"text": "hi"}, headers=wrong).status_code == 403
    assert client.get(f"/api/conversations/{first}/messages", headers=first_auth).status_code == 200


def test_bad_input_gets_clear_json_errors(client):
    cid, auth = new_conversation(client)
    for body, status in [({"text": ""}, 422), ({"text": "   "}, 422), ({"text": "x" * 2001}, 422), ({}, 422)]:
        response = client.post(f"/api/conversations/{cid}/messages", json=body, headers=auth)
        assert response.status_code == status
        assert set(response.json()) == {"error", "detail"}
    response = client.post(
        f"/api/conversations/{cid}/messages", content=b"{oops", headers={**auth, "Content-Type": "application/json"}
    )
    assert response.status_code == 422 and "Traceback" not in response.text
    assert (
        "2000"
        in client.post(f"/api/conversations/{cid}/messages", json={"text": "x" * 2001}, headers=auth).json()["detail"]
    )


def test_bot_down_the_player_is_told_politely_and_nothing_is_lost(client):
    cid, auth = new_conversation(client, "sv")
    response = client.post(f"/api/conversations/{cid}/messages", json={"text": "hur tar jag ut pengar"}, headers=auth)
    assert response.status_code == 200
    reply = response.json()["messages"][0]
    assert reply["from"] == "system" and reply["meta"]["error"] == "bot_unavailable"
    assert reply["buttons"][0]["payload"].startswith("/request_human")
    history = client.get(f"/api/conversations/{cid}/messages", headers=auth).json()["messages"]
    assert [m["from"] for m in history] == ["player", "system"]
    assert history[0]["text"] == "hur tar jag ut pengar"


def test_talk_to_a_person_works_while_the_bot_is_down(client):
    cid, auth = new_conversation(client, "tr")
    body = client.post(f"/api/conversations/{cid}/messages", json={"text": "/request_human"}, headers=auth).json()
    assert body["status"]["state"] == "queued"
    assert body["messages"][-1]["meta"].get("ticket_offer") is True  # no agent online


def test_hostile_text_is_stored_as_text(client):
    cid, auth = new_conversation(client)
    hostile = "<img src=x onerror=alert(1)><script>alert(1)</script>"
    client.post(f"/api/conversations/{cid}/messages", json={"text": hostile}, headers=auth)
    history = client.get(f"/api/conversations/{cid}/messages", headers=auth).json()["messages"]
    assert history[0]["text"] == hostile


def test_rate_limit_per_conversation(client):
    cid, auth = new_conversation(client)
    queue_it(client, cid)  # queued: messages are stored without calling the bot
    codes = [
        client.post(f"/api/conversations/{cid}/messages", json={"text": f"m{i}"}, headers=auth).status_code
        for i in range(12)
    ]
    assert codes[:10] == [200] * 10 and codes[10:] == [429, 429]
    other, other_auth = new_conversation(client)
    assert (
        client.post(f"/api/conversations/{other}/messages", json={"text": "hi"}, headers=other_auth).status_code == 200
    )


def test_history_after_an_id(client):
    cid, auth = new_conversation(client)
    queue_it(client, cid)
    ids = [
        client.post(f"/api/conversations/{cid}/messages", json={"text": t}, headers=auth).json()["message_id"]
        for t in ("one", "two", "three")
    ]
    later = client.get(f"/api/conversations/{cid}/messages?after={ids[0]}", headers=auth).json()["messages"]
    assert [m["text"] for m in later if m["from"] == "player"] == ["two", "three"]


def test_ticket_when_nobody_is_online(client):
    cid, auth = new_conversation(client, "fi")
    bad = client.post(f"/api/conversations/{cid}/ticket", json={"email": "not-an-email", "text": "apua"}, headers=auth)
    assert bad.status_code == 422
    response = client.post(
        f"/api/conversations/{cid}/ticket",
        json={"email": "pelaaja@example.com", "text": "Kotiutus jumissa"},
        headers=auth,
    )
    assert response.status_code == 201
    assert "pelaaja@example.com" in response.json()["messages"][0]["text"]


def test_health_says_what_is_down_and_metrics_are_prometheus_text(client):
    response = client.get("/healthz")
    assert response.status_code == 503
    assert response.json()["checks"] == {"database": "ok", "rasa": "down", "action_server": "down"}
    text = client.get("/metrics").text
    assert 'hub_conversations{state="bot"}' in text and "hub_claim_wait_seconds_count" in text

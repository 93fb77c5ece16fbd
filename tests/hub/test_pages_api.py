"""What the browser pages need from the hub: pages, widget strings, language choice, button titles,
the agent's own chats, canned replies (editable by admins and editors only)."""

from __future__ import annotations

import yaml

from tests.hub.conftest import create_user, login, new_conversation, queue_it


def test_pages_and_static_files_are_served(client):
    demo = client.get("/")
    assert demo.status_code == 200 and '<script src="/widget.js" defer></script>' in demo.text
    assert "text/javascript" in client.get("/widget.js").headers["content-type"]
    assert client.get("/agent").status_code == 200 and "/static/agent.js" in client.get("/agent").text
    assert client.get("/static/widget.css").status_code == 200
    assert client.get("/static/nope.js").status_code == 404


def test_widget_strings_exist_in_every_language_with_the_same_placeholders(client):
    import re

    languages = client.get("/api/ui/widget-texts").json()["languages"]
    english = languages["en"]
    for language in ("fi", "sv", "ru", "tr"):
        table = languages[language]
        assert set(table) == set(english), language
        for key, text in table.items():
            assert set(re.findall(r"\{\w+\}", text)) == set(re.findall(r"\{\w+\}", english[key])), (language, key)


def test_player_chooses_a_language(client):
    cid, player = new_conversation(client, "en-US")
    chosen = client.patch(f"/api/conversations/{cid}", json={"language": "sv"}, headers=player)
    assert chosen.status_code == 200 and chosen.json()["language"] == "sv"
    assert client.get(f"/api/conversations/{cid}/messages", headers=player).json()["status"]["language"] == "sv"
    assert client.patch(f"/api/conversations/{cid}", json={"language": "de"}, headers=player).status_code == 422
    wrong = {"Authorization": "Bearer not-the-token"}
    assert client.patch(f"/api/conversations/{cid}", json={"language": "fi"}, headers=wrong).status_code == 403


def test_a_clicked_button_keeps_its_title_and_plain_text_cannot_pretend(client):
    cid, player = new_conversation(client, "ru")
    url = f"/api/conversations/{cid}/messages"
    client.post(url, json={"text": '/faq{"faq_id":"withdrawal_how"}', "title": "Как вывести деньги"}, headers=player)
    client.post(url, json={"text": "hello", "title": "spoofed"}, headers=player)
    stored = [m for m in client.get(url, headers=player).json()["messages"] if m["from"] == "player"]
    assert stored[0]["meta"] == {"button_title": "Как вывести деньги"}
    assert stored[1]["meta"] == {}  # a title only travels with a button payload


def test_me_and_my_chats(client, hub_settings):
    create_user(hub_settings, "aino", languages="fi,sv", display_name="Aino")
    auth = login(client, "aino")
    assert client.get("/api/agent/me", headers=auth).json()["display_name"] == "Aino"
    cid, player = new_conversation(client, "fi")
    client.post(f"/api/conversations/{cid}/messages", json={"text": "rahat ei tullut"}, headers=player)
    queue_it(client, cid, "fi")
    assert client.get("/api/agent/conversations", headers=auth).json()["items"] == []
    client.post(f"/api/agent/conversations/{cid}/claim", headers=auth)
    mine = client.get("/api/agent/conversations", headers=auth).json()["items"]
    assert [(c["conversation_id"], c["first_message"]) for c in mine] == [(cid, "rahat ei tullut")]


def test_canned_replies_read_by_agents_edited_by_admins_and_editors(data_copy_client):
    client, settings = data_copy_client
    create_user(settings, "agent1", role="agent")
    create_user(settings, "editor1", role="editor")
    agent, editor = login(client, "agent1"), login(client, "editor1")
    replies = client.get("/api/canned/fi", headers=agent).json()["replies"]
    assert replies and all(r["title"] and r["text"] for r in replies)
    assert client.get("/api/canned/fi").status_code == 401
    assert client.get("/api/canned/de", headers=agent).status_code == 404

    new = {"replies": [{"title": "Hei", "text": "Hei! Miten voin auttaa? <b>tämä on tekstiä</b>"}]}
    assert client.put("/api/canned/fi", json=new, headers=agent).status_code == 403
    saved = client.put("/api/canned/fi", json=new, headers=editor)
    assert saved.status_code == 200 and saved.json()["replies"] == new["replies"]
    on_disk = yaml.safe_load((settings.canned_dir / "fi.yml").read_text(encoding="utf-8"))
    assert on_disk == {"language": "fi", **new}
    assert (
        client.put("/api/canned/fi", json={"replies": [{"title": "", "text": "x"}]}, headers=editor).status_code == 422
    )

"""The editor API on a copy of data/: roles, side-by-side topics, validated saves with small diffs,
the review inbox (add as variant, dismiss) and the missing-translation report."""

from __future__ import annotations

import difflib

import pytest
import yaml

from handoff.models import Message
from tests.hub.conftest import create_user, login, new_conversation


@pytest.fixture
def editor_client(data_copy_client):
    client, settings = data_copy_client
    create_user(settings, "edith", role="editor")
    create_user(settings, "arto", role="agent")
    return client, settings, login(client, "edith"), login(client, "arto")


def test_agents_are_refused_editors_see_every_topic_in_five_languages(editor_client):
    client, _, editor, agent = editor_client
    assert client.get("/api/editor/topics", headers=agent).status_code == 403
    assert client.get("/api/editor/review", headers=agent).status_code == 403
    topics = client.get("/api/editor/topics", headers=editor).json()["items"]
    assert len(topics) == 31 and all(t["missing"] == [] for t in topics)
    one = client.get("/api/editor/topics/withdrawal_time", headers=editor).json()
    assert set(one["languages"]) == {"fi", "sv", "ru", "tr", "en"} and "{" in one["languages"]["sv"]["answer"]
    assert client.get("/api/editor/topics/nope", headers=editor).status_code == 404


def test_a_save_is_validated_first_and_changes_only_its_lines(editor_client):
    client, settings, editor, _ = editor_client
    path = settings.faq_dir / "sv.yml"
    before = path.read_text(encoding="utf-8")
    current = client.get("/api/editor/topics/withdrawal_time", headers=editor).json()["languages"]["sv"]

    broken = {**current, "answer": "Uttag tar {okand_regel} dagar."}
    refused = client.put("/api/editor/topics/withdrawal_time/sv", json=broken, headers=editor)
    assert refused.status_code == 422 and "okand_regel" in refused.json()["detail"]
    taken = {**current, "questions": [*current["questions"], "hur snabbt kommer pengarna"]}
    duplicate = {**current, "questions": [*current["questions"], "hur gör jag ett uttag"]}
    assert path.read_text(encoding="utf-8") == before  # nothing written on a refusal

    saved = client.put("/api/editor/topics/withdrawal_time/sv", json=taken, headers=editor)
    assert saved.status_code == 200
    after = path.read_text(encoding="utf-8")
    changed = [
        line
        for line in difflib.unified_diff(before.splitlines(), after.splitlines(), lineterm="", n=0)
        if line.startswith(("+", "-")) and not line.startswith(("+++", "---"))
    ]
    assert changed == ["+      - hur snabbt kommer pengarna"]
    assert yaml.safe_load(after)["topics"]["withdrawal_time"]["questions"][-1] == "hur snabbt kommer pengarna"
    other_topic = client.get("/api/editor/topics/withdrawal_how", headers=editor).json()["languages"]["sv"]
    if "hur gör jag ett uttag" in [q.casefold() for q in other_topic["questions"]]:
        clash = client.put("/api/editor/topics/withdrawal_time/sv", json=duplicate, headers=editor)
        assert clash.status_code == 422


def test_review_inbox_add_a_variant_or_dismiss(editor_client):
    client, settings, editor, _ = editor_client
    hub = client.app.state.hub
    asked = []
    for text, meta in [
        ("pengarna har inte kommit än", {"language": "sv", "outcome": "fallback", "faq_score": 0.8}),
        ("vad är vädret i stockholm", {"language": "sv", "outcome": "clarify", "suggestions": []}),
        ("how long does a withdrawal take", {"language": "en", "outcome": "answer", "faq_score": 0.99}),
    ]:
        cid, player = new_conversation(client, meta["language"])
        hub.db.run(
            lambda s, cid=cid, text=text, meta=meta: s.add_all(
                [
                    Message(conversation_id=cid, sender="player", text=text),
                    Message(conversation_id=cid, sender="bot", text="…", meta=meta),
                ]
            )
        )
        asked.append(text)
    inbox = client.get("/api/editor/review", headers=editor).json()
    texts = [i["text"] for g in inbox["groups"] for c in g["clusters"] for i in c["items"]]
    assert sorted(texts) == sorted(asked[:2])  # a confident answer needs no review
    item = next(i for g in inbox["groups"] for c in g["clusters"] for i in c["items"] if i["text"] == asked[0])
    assert item["reason"] == "fell back" and item["language"] == "sv"

    added = client.post(
        f"/api/editor/review/{item['message_id']}", json={"action": "add", "faq_id": "withdrawal_time"}, headers=editor
    )
    assert added.status_code == 200
    questions = yaml.safe_load((settings.faq_dir / "sv.yml").read_text(encoding="utf-8"))["topics"]["withdrawal_time"]
    assert questions["questions"][-1] == "pengarna har inte kommit än"
    other = next(
        i
        for g in client.get("/api/editor/review", headers=editor).json()["groups"]
        for c in g["clusters"]
        for i in c["items"]
    )
    assert (
        client.post(f"/api/editor/review/{other['message_id']}", json={"action": "dismiss"}, headers=editor).status_code
        == 200
    )
    assert client.get("/api/editor/review", headers=editor).json()["total"] == 0
    bad = client.post(
        f"/api/editor/review/{other['message_id']}", json={"action": "add", "faq_id": "nope"}, headers=editor
    )
    assert bad.status_code == 422


def test_missing_translations_are_ordered_by_how_often_players_ask(editor_client):
    client, settings, editor, _ = editor_client
    for lang in ("tr", "ru"):
        path = settings.faq_dir / f"{lang}.yml"
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
        del data["topics"]["support_languages"]
        path.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    hub = client.app.state.hub
    cid, _ = new_conversation(client, "tr")
    meta = {"language": "tr", "faq_id": "support_languages"}
    hub.db.run(lambda s: s.add_all([Message(conversation_id=cid, sender="bot", text="…", meta=meta) for _ in range(3)]))
    rows = client.get("/api/editor/missing-translations", headers=editor).json()["items"]
    assert [(r["faq_id"], r["language"], r["asks"]) for r in rows] == [
        ("support_languages", "tr", 3),
        ("support_languages", "ru", 0),
    ]

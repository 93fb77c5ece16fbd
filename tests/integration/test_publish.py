"""Edit -> validate -> train -> publish against the REAL Rasa and action server, on a copy of data/.

A thread keeps posting player messages to Rasa's REST webhook during every publish: all of them
must be answered.
"""

from __future__ import annotations

import shutil

import pytest
import requests
import yaml

from bot import releases
from bot.evaluation.stream import MessageStream
from tests.conftest import Bot, custom_of, free_port

pytestmark = pytest.mark.integration

NEW_TOPIC = "payment_fees"
NEW_VARIANT = "does the house nibble a slice off my transfers"  # not answered before the edit
STREAM = ["how long does a withdrawal take", "kauanko kotiutus kestää", "hej", "şifremi unuttum", "спасибо"]


@pytest.fixture(scope="module")
def live(settings, tmp_path_factory):
    from bot.build import build_all
    from bot.services import start_stack, stop_stack
    from bot.workspace import make_workspace

    workspace = make_workspace(settings, tmp_path_factory.mktemp("workspace"))
    s = workspace.model_copy(
        update={"rasa_port": free_port(), "action_port": free_port(), "log_dir": tmp_path_factory.mktemp("logs")}
    )
    services = start_stack(s, build_all(s))
    yield s
    stop_stack(services)


def test_admin_endpoints_refuse_missing_and_wrong_tokens(live):
    url = f"{live.action_url}/admin/reload"
    assert requests.post(url, timeout=10).status_code == 401
    assert requests.post(url, headers={"Authorization": "Bearer wrong"}, timeout=10).status_code == 403
    assert (
        requests.get(f"{live.action_url}/admin/status", headers={"Authorization": "Bearer x"}, timeout=10).status_code
        == 403
    )
    right = {"Authorization": f"Bearer {live.admin_token}"}
    assert requests.get(f"{live.action_url}/admin/status", headers=right, timeout=10).status_code == 200
    model = {"model_file": "/nonexistent.tar.gz"}
    assert requests.put(f"{live.rasa_url}/model", json=model, timeout=10).status_code in (401, 403)
    assert requests.put(f"{live.rasa_url}/model", params={"token": "x"}, json=model, timeout=10).status_code == 401
    swap = f"{live.rasa_url}/webhooks/model_swap/load"
    assert requests.post(swap, json=model, timeout=10).status_code == 401
    assert requests.post(swap, params={"token": "x"}, json=model, timeout=10).status_code == 403


@pytest.mark.parametrize("version", ["../../etc", "x/../..", "/etc", "..", "0123456789AB", "0123456789ab/", 42])
def test_admin_reload_refuses_an_index_version_that_is_not_a_version_name(live, version):
    right = {"Authorization": f"Bearer {live.admin_token}"}
    before = requests.get(f"{live.action_url}/admin/status", headers=right, timeout=10).json()
    response = requests.post(
        f"{live.action_url}/admin/reload", headers=right, json={"index_version": version}, timeout=30
    )
    assert response.status_code == 422, response.text
    assert response.json()["error"] == "invalid index_version"
    assert "12 lowercase hex digits" in response.json()["detail"]
    assert requests.get(f"{live.action_url}/admin/status", headers=right, timeout=10).json() == before


def test_admin_reload_refuses_a_version_folder_that_resolves_outside_the_index_folder(live, tmp_path):
    outside = tmp_path / "elsewhere"
    shutil.copytree(live.index_dir / (live.index_dir / "CURRENT").read_text().strip(), outside)
    link = live.index_dir / "abcdefabcdef"
    link.symlink_to(outside, target_is_directory=True)
    try:
        right = {"Authorization": f"Bearer {live.admin_token}"}
        response = requests.post(
            f"{live.action_url}/admin/reload", headers=right, json={"index_version": link.name}, timeout=30
        )
    finally:
        link.unlink()
    assert response.status_code == 422, response.text
    assert "inside the index folder" in response.json()["detail"]


def test_admin_reload_of_a_well_formed_but_unknown_version_is_not_found(live):
    right = {"Authorization": f"Bearer {live.admin_token}"}
    response = requests.post(
        f"{live.action_url}/admin/reload", headers=right, json={"index_version": "0123456789ab"}, timeout=60
    )
    assert response.status_code == 404, response.text


def test_rasa_sends_no_cors_headers(live):
    """Browsers never call Rasa (the widget talks to the hub): no page may read its API."""
    evil = {"Origin": "https://evil.example"}
    get = requests.get(f"{live.rasa_url}/version", headers=evil, timeout=10)
    preflight = requests.options(
        f"{live.rasa_url}/conversations/p1/tracker",
        headers={**evil, "Access-Control-Request-Method": "GET"},
        timeout=10,
    )
    for response in (get, preflight):
        assert not [h for h in response.headers if h.lower().startswith("access-control-")], response.headers


def test_publish_with_a_wrong_admin_token_fails_and_changes_nothing(live):
    from bot.pipeline import PipelineError, publish

    with pytest.raises(PipelineError, match="refused"):
        publish(live.model_copy(update={"admin_token": "wrong"}))


def test_faq_edit_validate_train_publish_answers_the_new_variant_without_a_failed_message(live):
    from bot.pipeline import publish, train, validate

    bot = Bot(live.rasa_url, live.rasa_token)
    before = custom_of(bot.say(bot.new_sender(), NEW_VARIANT, {"locale": "en"}))
    assert not (before.get("outcome") == "answer" and before.get("faq_id") == NEW_TOPIC)

    path = live.faq_dir / "en.yml"
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    data["topics"][NEW_TOPIC]["questions"].append(NEW_VARIANT)
    path.write_text(yaml.safe_dump(data, allow_unicode=True, sort_keys=False, width=1000), encoding="utf-8")

    report = validate(live, rasa=False)  # Rasa's own validator: tests/test_validate.py
    assert report.errors == []
    with MessageStream(live.rasa_url, STREAM) as stream:
        trained = train(live)
        assert trained.index_rebuilt and not trained.rasa_retrained
        # the new variant and its two noisy copies for the topic head; everything else was reused
        assert trained.index_embedded <= 3
        published = publish(live)
        assert published.index_swapped and not published.rasa_swapped
        after = custom_of(bot.say(bot.new_sender(), NEW_VARIANT, {"locale": "en"}))
    assert after.get("outcome") == "answer" and after.get("faq_id") == NEW_TOPIC, after
    # Messages flowed during training and the swap (a few on a loaded machine: ~1 s each), none failed.
    assert stream.figures.sent >= 3 and stream.figures.failed == 0, stream.figures.failures
    assert releases.published_id(live.models_dir) == trained.release.id


def test_a_rasa_model_swap_keeps_answering_and_keeps_conversations(live):
    """A swap to another model file (a copy: training one takes minutes; bench/publish.py does)."""
    from bot.pipeline import publish

    bot = Bot(live.rasa_url, live.rasa_token)
    sender = bot.new_sender()
    bot.say(sender, "kauanko kotiutus kestää?")
    latest = releases.latest(live.models_dir)
    source = latest.rasa_model_path(live.models_dir)
    copy = source.with_name("swapped-copy.tar.gz")
    shutil.copyfile(source, copy)
    swapped = releases.Release(**{**latest.__dict__, "id": "swap-test", "rasa_model": f"rasa/{copy.name}"})
    releases.save(live.models_dir, swapped)

    with MessageStream(live.rasa_url, STREAM) as stream:
        result = publish(live, release_id="swap-test")
    assert result.rasa_swapped and not result.index_swapped
    status = requests.get(f"{live.rasa_url}/status", params=bot.params, timeout=10).json()
    assert status["model_file"].endswith("swapped-copy.tar.gz")
    assert stream.figures.sent > 5 and stream.figures.failed == 0, stream.figures.failures
    assert stream.figures.max_ms < 10_000  # nobody waited for the model to load
    # The conversation continues on the new model: Rasa's trackers survived the swap.
    assert bot.slots(sender)["language"] == "fi"
    assert bot.say(sender, "kiitos")

"""The editor in the console: edit a Swedish answer, publish, and the running bot answers with it."""

from __future__ import annotations

import re
import subprocess
import sys

import pytest
import requests
from playwright.sync_api import expect

from bot.settings import PROJECT_ROOT
from tests.browser.conftest import AGENT_PASSWORD, screenshot
from tests.browser.test_agent_console import log_in
from tests.browser.test_widget import messages, open_widget, send
from tests.conftest import run_full_stack

pytestmark = pytest.mark.browser


@pytest.fixture(scope="module")
def editor_stack(settings, tmp_path_factory):
    """The whole stack on a scratch copy of data/ and the artifacts: saves and publishes stay there."""
    from bot.workspace import make_workspace

    workspace = make_workspace(settings, tmp_path_factory.mktemp("workspace"))
    yield from run_full_stack(workspace, tmp_path_factory, AGENT_PASSWORD)


def test_only_editors_reach_the_editor_api(editor_stack):
    hub = editor_stack.hub_url
    subprocess_env = {"DATABASE_URL": "", "HUB_DATA_DIR": str(editor_stack.hub_data_dir), "PATH": ""}
    subprocess.run(
        [sys.executable, "-m", "handoff", "create-user", "plainagent", "--role", "agent"],
        input="agent-password-1\n",
        text=True,
        cwd=PROJECT_ROOT,
        env=subprocess_env,
        check=True,
        capture_output=True,
    )
    token = requests.post(
        f"{hub}/api/agent/login", json={"username": "plainagent", "password": "agent-password-1"}, timeout=10
    ).json()["token"]
    agent = {"Authorization": f"Bearer {token}"}
    assert requests.get(f"{hub}/api/editor/topics", headers=agent, timeout=10).status_code == 403
    assert requests.post(f"{hub}/api/editor/publish", headers=agent, timeout=10).status_code == 403
    assert requests.get(f"{hub}/api/editor/topics", timeout=10).status_code == 401


def test_edit_a_swedish_answer_publish_and_the_bot_answers_with_it(chromium, editor_stack, kb):
    hub = editor_stack.hub_url
    context = chromium.new_context(viewport={"width": 1600, "height": 950})
    try:
        page = context.new_page()
        log_in(page, hub, editor_stack.demo_agent_user)
        page.locator(".tab[data-view=editor]").click()
        page.locator("#topic-list button", has_text=kb.title("withdrawal_time", "en")).click()
        column = page.locator(".lang-column[data-language=sv]")
        answer = column.locator("textarea.answer")
        expect(answer).to_have_value(re.compile("Trustly"))

        # a broken placeholder is refused with a clear message and nothing is written
        answer.fill("Uttag tar {okand_regel} dagar.")
        column.locator("button[type=submit]").click()
        expect(column.locator(".save-status")).to_have_class(re.compile("error"))
        expect(column.locator(".save-status")).to_contain_text("okand_regel")

        new_answer = "Nytt svar från redaktören: uttag via Trustly kommer fram inom {trustly_withdrawal_minutes} min."
        answer.fill(new_answer)
        column.locator("button[type=submit]").click()
        expect(column.locator(".save-status")).to_have_text("Saved. Publish to make it live.")
        saved = (editor_stack.faq_dir / "sv.yml").read_text(encoding="utf-8")
        assert "Nytt svar från redaktören" in saved

        page.locator("#publish").click()
        expect(page.locator("#publish-status")).to_have_text(re.compile("^Live: release"), timeout=240_000)
        # then the held-out dev set ran through the live bot and was compared with the last release
        expect(page.locator("#publish-status")).to_contain_text(re.compile(r"Held-out FAQ top-1: fi \d+\.\d%"))
        screenshot(page, "editor-published")

        player = context.new_page()
        open_widget(player, hub)
        send(player, "hur lång tid tar ett uttag till trustly?")
        expect(messages(player, "bot").first.locator(".text")).to_have_text(
            re.compile("^Nytt svar från redaktören: uttag via Trustly kommer fram inom 60 min"), timeout=30_000
        )
    finally:
        context.close()

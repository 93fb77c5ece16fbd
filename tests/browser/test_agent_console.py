"""A player and an agent in two browser contexts: handoff, live chat, resolve, rating; XSS as text."""

from __future__ import annotations

import re

import pytest
import requests
from playwright.sync_api import Page, expect

from tests.browser.conftest import AGENT_PASSWORD, screenshot
from tests.browser.test_widget import XSS, messages, open_widget, send

pytestmark = pytest.mark.browser


def log_in(page: Page, hub_url: str, user: str) -> None:
    page.goto(f"{hub_url}/agent")
    page.locator("#login-user").fill(user)
    page.locator("#login-password").fill(AGENT_PASSWORD)
    page.locator("#login-form button[type=submit]").click()
    expect(page.locator("#console-view")).to_be_visible()


def go_online(page: Page) -> None:
    presence = page.locator("#presence")
    if presence.get_attribute("aria-pressed") != "true":
        presence.click()
    expect(presence).to_have_attribute("aria-pressed", "true")


def test_wrong_password_is_refused(context, web_stack):
    page = context.new_page()
    page.goto(f"{web_stack.hub_url}/agent")
    page.locator("#login-user").fill(web_stack.demo_agent_user)
    page.locator("#login-password").fill("not-the-password")
    page.locator("#login-form button[type=submit]").click()
    expect(page.locator("#login-error")).to_have_text("Wrong username or password.")
    expect(page.locator("#console-view")).to_be_hidden()


def test_turkish_player_agent_live_chat_resolve_and_rating(chromium, web_stack, kb):
    hub = web_stack.hub_url
    agent_context = chromium.new_context(viewport={"width": 1400, "height": 900})
    player_context = chromium.new_context(viewport={"width": 1100, "height": 860}, locale="tr-TR")
    dialogs: list[str] = []
    try:
        agent = agent_context.new_page()
        player = player_context.new_page()
        for page in (agent, player):
            page.on("dialog", lambda d: (dialogs.append(d.message), d.dismiss()))
        log_in(agent, hub, web_stack.demo_agent_user)
        go_online(agent)

        open_widget(player, hub)
        send(player, "çekim ne kadar sürüyor?")
        expect(messages(player, "bot").first.locator(".text")).to_have_text(
            kb.answer("withdrawal_time", "tr")[0], timeout=30_000
        )
        player.locator("#northlight-chat .human").click()
        expect(player.locator("#northlight-chat .status")).to_have_text(
            re.compile(r"^Sıranız: 1 · yaklaşık \d+ dk bekleme$"), timeout=30_000
        )
        expect(player.locator("#northlight-chat .human")).to_be_disabled()
        screenshot(player, "widget-queued")

        # the queue updates live in the console (no reload), with language, reason and first message
        item = agent.locator(".queue-item", has_text="çekim ne kadar sürüyor?")
        expect(item).to_be_visible(timeout=15_000)
        expect(item.locator(".badge.lang")).to_have_text("TR")
        expect(item.locator(".reason")).to_have_text("player request")
        item.locator(".claim").click()
        expect(agent.locator("#chat-body")).to_be_visible()
        expect(player.locator("#northlight-chat .status")).to_have_text("Demo Agent ile görüşüyorsunuz", timeout=15_000)

        # the transcript shows the bot's turns with their language, intent, confidence and topic
        bot_turn = agent.locator(".turn.from-bot", has_text=kb.answer("withdrawal_time", "tr")[0][:40])
        expect(bot_turn.locator(".chip", has_text="topic: withdrawal_time")).to_be_visible()
        expect(bot_turn.locator(".chip", has_text="lang: tr")).to_be_visible()
        expect(bot_turn.locator(".chip", has_text="intent: faq")).to_be_visible()
        expect(bot_turn.locator(".chip", has_text=re.compile(r"conf: \d\.\d\d"))).to_be_visible()

        # the topic the bot answered comes first among the suggestions, insertable in one click
        suggestion = agent.locator(".suggestion", has_text=kb.title("withdrawal_time", "tr"))
        suggestion.locator(".insert").click()
        expect(agent.locator("#reply-text")).to_have_value(kb.answer("withdrawal_time", "tr")[0])
        agent.locator("#reply-text").fill("")

        # canned replies in the player's language, one click into the reply box
        agent.locator(".canned-reply", has_text="Karşılama").click()
        expect(agent.locator("#reply-text")).to_have_value(re.compile("^Merhaba, beklediğiniz için teşekkürler!"))
        agent.locator("#reply-send").click()
        expect(messages(player, "agent").last.locator(".text")).to_have_text(
            re.compile("^Merhaba, beklediğiniz için teşekkürler!"), timeout=15_000
        )
        expect(messages(player, "agent").last.locator(".sender")).to_have_text("Demo Agent")

        # typing indicators both ways
        agent.locator("#reply-text").type("Hemen bakıyorum")
        expect(player.locator("#northlight-chat .typing")).to_have_text("Demo Agent yazıyor…", timeout=10_000)
        player.locator("#composer-input").type("tamam")
        expect(agent.locator("#player-typing")).to_have_text("The player is typing…", timeout=10_000)
        player.locator("#composer-input").fill("")
        agent.locator("#reply-text").fill("")

        # hostile text is shown as text on both sides
        send(player, XSS)
        expect(agent.locator(".turn.from-player .turn-text", has_text=XSS)).to_have_text(XSS, timeout=15_000)
        agent.locator("#reply-text").fill(XSS)
        agent.locator("#reply-send").click()
        expect(messages(player, "agent").last.locator(".text")).to_have_text(XSS, timeout=15_000)
        assert player.locator("#northlight-chat img").count() == 0 and agent.locator(".transcript img").count() == 0

        # an internal note stays in the console
        agent.locator("#reply-text").fill("Checked the account: the withdrawal is approved.")
        agent.locator("#reply-internal").check()
        agent.locator("#reply-send").click()
        expect(agent.locator(".turn.internal")).to_have_text(re.compile("internal note.*withdrawal is approved"))
        screenshot(agent, "agent-console-chat")

        agent.locator("#resolve").click()
        expect(agent.locator("#chat-empty")).to_be_visible()
        back = messages(player, "system").last.locator(".text")
        expect(back).to_have_text(re.compile("sanal asistan", re.IGNORECASE), timeout=15_000)
        expect(player.locator("#northlight-chat .status")).to_have_text("Sanal asistan · hemen yanıt verir")
        assert not player.locator("#northlight-chat .log", has_text="withdrawal is approved").count()

        rating = player.locator("#northlight-chat form.rating")
        expect(rating).to_be_visible()
        rating.locator(".star").nth(3).click()
        rating.locator("textarea").fill("Çok hızlıydı, teşekkürler")
        rating.locator("button[type=submit]").click()
        expect(player.locator("#northlight-chat .thanks")).to_have_text("Geri bildiriminiz için teşekkürler!")
        assert dialogs == []
        # the rating is stored once: a second one is refused by the API
        stored = player.evaluate("JSON.parse(localStorage.getItem('northlight-chat:v1'))")
        again = requests.post(
            f"{hub}/api/conversations/{stored['conversationId']}/rating",
            json={"score": 1},
            headers={"Authorization": f"Bearer {stored['token']}"},
            timeout=10,
        )
        assert again.status_code == 409
    finally:
        agent_context.close()
        player_context.close()


def test_new_queue_item_badges_the_title_and_tickets_are_listed(context, web_stack, agent_api):
    hub = web_stack.hub_url
    agent_api.presence("online")
    console = context.new_page()
    log_in(console, hub, web_stack.demo_agent_user)
    expect(console.locator("#queue-count")).to_be_visible()
    console.evaluate("window.dispatchEvent(new Event('blur'))")  # the agent works in another window

    created = requests.post(f"{hub}/api/conversations", json={"locale": "en-GB"}, timeout=10).json()
    headers = {"Authorization": f"Bearer {created['token']}"}
    url = f"{hub}/api/conversations/{created['conversation_id']}"
    requests.post(
        f"{url}/messages", json={"text": "/request_human", "title": "Talk to a person"}, headers=headers, timeout=60
    ).raise_for_status()
    expect(console).to_have_title(re.compile(r"^\(\d+\) Agent console$"), timeout=15_000)
    # the queue shows what the player saw (the button's title), not the payload
    expect(console.locator(".queue-item .first-message").last).to_have_text("Talk to a person")
    console.evaluate("window.dispatchEvent(new Event('focus'))")
    expect(console).to_have_title("Agent console")

    requests.post(
        f"{url}/ticket",
        json={"email": "ticket@example.com", "text": "Please call me back"},
        headers=headers,
        timeout=10,
    ).raise_for_status()
    console.locator(".tab[data-view=tickets]").click()
    expect(console.locator("#tickets tr", has_text="ticket@example.com")).to_contain_text("Please call me back")
    screenshot(console, "agent-console-tickets")

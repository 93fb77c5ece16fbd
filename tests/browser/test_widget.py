"""The player's chat widget on the demo casino page, in real headless Chromium."""

from __future__ import annotations

import re

import pytest
import requests
from playwright.sync_api import Page, expect

from tests.browser.conftest import screenshot

pytestmark = pytest.mark.browser

XSS = "<img src=x onerror=alert(1)>"


def open_widget(page: Page, hub_url: str) -> None:
    page.goto(f"{hub_url}/")
    expect(page.locator("#northlight-chat[data-ready=true]")).to_be_attached()
    page.locator("#northlight-chat .launcher").click()
    expect(page.locator("#northlight-chat .panel")).to_be_visible()


def send(page: Page, text: str) -> None:
    page.locator("#composer-input").fill(text)
    page.locator("#composer-input").press("Enter")


def messages(page: Page, sender: str):
    return page.locator(f"#northlight-chat .log .message.from-{sender}:not(.welcome)")


def test_finnish_question_gets_the_finnish_answer_and_survives_a_reload(context, web_stack, kb):
    page = context.new_page()
    dialogs: list[str] = []
    page.on("dialog", lambda d: (dialogs.append(d.message), d.dismiss()))
    open_widget(page, web_stack.hub_url)
    send(page, "kuinka kauan kotiutus kestää trustlyllä?")
    answer = kb.answer("withdrawal_time", "fi")[0]
    expect(messages(page, "bot").first.locator(".text")).to_have_text(answer, timeout=30_000)
    # the whole widget follows the detected language: Finnish placeholder and status line
    expect(page.locator("#composer-input")).to_have_attribute("placeholder", "Kirjoita viestisi…")
    expect(page.locator("#northlight-chat .status")).to_have_text("Virtuaaliavustaja · vastaa heti")
    screenshot(page, "widget-finnish-answer")

    before = messages(page, "bot").count() + messages(page, "player").count()
    page.reload()
    expect(page.locator("#northlight-chat[data-ready=true]")).to_be_attached()
    expect(page.locator("#northlight-chat .panel")).to_be_visible()  # it was open: it stays open
    expect(messages(page, "player").first.locator(".text")).to_have_text("kuinka kauan kotiutus kestää trustlyllä?")
    expect(messages(page, "bot").first.locator(".text")).to_have_text(answer)
    assert messages(page, "bot").count() + messages(page, "player").count() == before  # nothing doubled
    assert dialogs == []


def test_russian_did_you_mean_buttons_and_a_click(context, web_stack, kb):
    page = context.new_page()
    open_widget(page, web_stack.hub_url)
    send(page, "вывод")
    buttons = page.locator("#northlight-chat .quick-reply")
    expect(buttons.first).to_be_visible(timeout=30_000)
    titles = buttons.all_inner_texts()
    assert kb.title("withdrawal_how", "ru") in titles and "Поговорить с сотрудником" in titles
    buttons.filter(has_text=kb.title("withdrawal_how", "ru")).click()
    # the player's bubble shows the title they clicked, not the payload; the bot answers that topic
    expect(messages(page, "player").nth(1).locator(".text")).to_have_text(kb.title("withdrawal_how", "ru"))
    expect(messages(page, "bot").nth(1).locator(".text")).to_have_text(kb.answer("withdrawal_how", "ru")[0])
    expect(buttons.first).to_be_disabled()  # old quick replies retire after the choice
    expect(page.locator("#composer-input")).to_have_attribute("placeholder", "Напишите сообщение…")


def test_language_selector_switches_the_interface_and_the_bot(context, web_stack, kb):
    page = context.new_page()
    open_widget(page, web_stack.hub_url)
    page.locator("#northlight-chat .language-select").select_option("sv")
    expect(page.locator("#northlight-chat .send")).to_have_text("Skicka")
    expect(page.locator("#northlight-chat .human")).to_have_text("Prata med en person")
    send(page, "withdrawal time trustly")  # English words, but the player chose Swedish
    expect(messages(page, "bot").first.locator(".text")).to_have_text(
        kb.answer("withdrawal_time", "sv")[0], timeout=30_000
    )


def test_every_widget_string_exists_in_all_five_languages(web_stack):
    languages = requests.get(f"{web_stack.hub_url}/api/ui/widget-texts", timeout=10).json()["languages"]
    assert set(languages) == {"fi", "sv", "ru", "tr", "en"}
    keys = set(languages["en"])
    for language, table in languages.items():
        assert set(table) == keys, f"{language}: missing {keys - set(table)}, extra {set(table) - keys}"
        assert all(text.strip() for text in table.values())


def test_keyboard_only_open_and_send(context, web_stack, kb):
    page = context.new_page()
    page.goto(f"{web_stack.hub_url}/")
    expect(page.locator("#northlight-chat[data-ready=true]")).to_be_attached()
    for _ in range(12):  # tab through the page's links until the launcher has focus
        page.keyboard.press("Tab")
        if page.evaluate("document.activeElement.id === 'northlight-chat'"):
            break
    assert page.evaluate("document.activeElement.shadowRoot.activeElement.className") == "launcher"
    page.keyboard.press("Enter")
    expect(page.locator("#composer-input")).to_be_focused()
    page.keyboard.type("what is the minimum deposit?")
    page.keyboard.press("Enter")
    expect(messages(page, "bot").first).to_be_visible(timeout=30_000)
    expect(page.locator("#northlight-chat .log")).to_have_attribute("aria-live", "polite")
    page.keyboard.press("Escape")
    expect(page.locator("#northlight-chat .panel")).to_be_hidden()


def test_phone_screen_360_px(chromium, web_stack):
    context = chromium.new_context(viewport={"width": 360, "height": 740}, is_mobile=True, has_touch=True)
    try:
        page = context.new_page()
        open_widget(page, web_stack.hub_url)
        box = page.locator("#northlight-chat .panel").bounding_box()
        assert box["x"] >= 0 and box["x"] + box["width"] <= 360
        assert page.evaluate("document.scrollingElement.scrollWidth") <= 360  # no sideways scrolling
        for selector in ("#composer-input", "#northlight-chat .send", "#northlight-chat .human"):
            element = page.locator(selector).bounding_box()
            assert element["x"] >= 0 and element["x"] + element["width"] <= 360, selector
        send(page, "hello, how do I deposit?")
        expect(messages(page, "bot").first).to_be_visible(timeout=30_000)
        screenshot(page, "widget-phone-360")
    finally:
        context.close()


def test_no_agent_online_offers_the_ticket_form(context, web_stack, agent_api):
    agent_api.presence("away")
    page = context.new_page()
    open_widget(page, web_stack.hub_url)
    page.locator("#northlight-chat .human").click()
    form = page.locator("#northlight-chat form.ticket")
    expect(form).to_be_visible(timeout=30_000)
    form.locator("input.email").fill("not-an-email")
    form.locator("textarea").fill("My withdrawal is stuck.")
    form.locator("button[type=submit]").click()
    expect(page.locator("#northlight-chat form.ticket")).to_be_visible()  # the browser refuses a bad address
    form.locator("input.email").fill("player@example.com")
    form.locator("button[type=submit]").click()
    expect(page.locator("#northlight-chat form.ticket")).to_have_count(0)
    expect(messages(page, "system").last.locator(".text")).to_contain_text("player@example.com")
    expect(page.locator("#northlight-chat .status")).to_have_text(re.compile("email"))

import pytest

from bot.language.detection import LanguageDetection
from bot.language.names import fold, named_languages


@pytest.fixture(scope="module")
def detection():
    return LanguageDetection()


@pytest.mark.parametrize(
    ("text", "language"),
    [
        ("Kuinka kauan kotiutus kestää?", "fi"),
        ("talletus ei näy tilillä vieläkään", "fi"),
        ("Hur lång tid tar ett uttag till Trustly?", "sv"),
        ("jag har glömt mitt lösenord", "sv"),
        ("Сколько идёт вывод на карту?", "ru"),
        ("Şifremi unuttum, nasıl sıfırlarım?", "tr"),
        ("para çekme işlemi ne kadar sürer", "tr"),
        ("How long does a withdrawal take?", "en"),
    ],
)
def test_detects_each_language(detection, text, language):
    result = detection.detect(text)
    assert result.language == language
    assert result.confident


@pytest.mark.parametrize("text", ["ok", "kiitos", "123", "👍👍", "", "?!"])
def test_short_or_letterless_messages_do_not_switch(detection, text):
    assert not detection.detect(text).confident


@pytest.mark.parametrize(
    ("text", "language"),
    [("vilka valutor stöds", "sv"), ("har ni free spins just nu", "sv"), ("slots won't load on chrome", "en")],
)
def test_function_words_settle_short_messages(detection, text, language):
    assert detection.detect(text).language == language


def test_cyrillic_is_russian_without_statistics(detection):
    result = detection.detect("где мои деньги")
    assert (result.language, result.source) == ("ru", "script")


def test_metadata_locale_wins_over_the_text(detection):
    result = detection.detect("How long does a withdrawal take?", {"locale": "sv-SE"})
    assert (result.language, result.confident, result.source) == ("sv", True, "metadata")


def test_unsupported_locale_is_ignored(detection):
    assert detection.detect("How long does a withdrawal take?", {"locale": "de"}).language == "en"


def test_same_text_same_answer(detection):
    text = "hei voinko nostaa rahat"
    assert len({detection.detect(text) for _ in range(20)}) == 1


@pytest.mark.parametrize(
    ("text", "named"),
    [
        ("in English please", ["en"]),
        ("puhutaan suomea", ["fi"]),
        ("kan vi ta det på svenska?", ["sv"]),
        ("давайте по-русски", ["ru"]),
        ("Türkçe konuşabilir miyiz", ["tr"]),
        ("turkce lutfen", ["tr"]),
        ("можно на английском?", ["en"]),
        ("where is my money", []),
        ("финансовые вопросы", []),  # "фин..." is not Finnish
    ],
)
def test_named_languages(text, named):
    assert named_languages(text) == named


def test_fold_strips_latin_diacritics_but_keeps_cyrillic_letters():
    assert fold("Kotiutus kestää İŞ") == "kotiutus kestaa is"
    assert fold("Йогурт") == "йогурт"


def test_a_locale_hint_decides_only_when_the_text_is_unsure(detection):
    hint = {"locale_hint": "en-US"}
    assert detection.detect("kuinka kauan kotiutus kestää trustlyllä?", hint).language == "fi"
    short = detection.detect("hei", {"locale_hint": "fi-FI"})
    assert (short.language, short.confident, short.source) == ("fi", True, "hint")
    assert detection.detect("hei", {"locale_hint": "de-DE"}).source != "hint"

"""Masking of payment cards, IBANs, e-mail addresses and phone numbers in player messages.

Every expectation is the exact output string, so a mask that is too wide, too narrow or missing fails.
"""

from __future__ import annotations

import time

import pytest

from bot.privacy.redaction import CARD, EMAIL, IBAN, PHONE, Redaction, redact

LANGUAGES = ("fi", "sv", "ru", "tr", "en")

CARD_SENTENCES = {
    "fi": "korttini numero on {}, miksi talletus ei mene läpi?",
    "sv": "mitt kortnummer är {} men insättningen går inte igenom",
    "ru": "номер моей карты {}, почему депозит не проходит?",
    "tr": "kart numaram {} ama para yatırma işlemi başarısız oldu",
    "en": "my card number is {} and the deposit keeps failing",
}
IBAN_SENTENCES = {
    "fi": "tilinumeroni on {} – nosto ei ole vieläkään tullut perille",
    "sv": "mitt kontonummer är {}, uttaget har inte kommit",
    "ru": "мой IBAN: {}. Вывод так и не пришёл",
    "tr": "IBAN numaram {} ve çekim hâlâ hesabıma geçmedi",
    "en": "please send the withdrawal to {} today",
}
EMAIL_SENTENCES = {
    "fi": "sähköpostini on {}, en saa vahvistusviestiä",
    "sv": "min e-post är {} och jag får inget mejl",
    "ru": "моя почта {} — письмо не приходит",
    "tr": "e-posta adresim {} ama doğrulama e-postası gelmiyor",
    "en": "my email is {}, I never got the confirmation",
}
PHONE_SENTENCES = {
    "fi": "soittakaa minulle numeroon {} kiitos",
    "sv": "ring mig på {} efter klockan fem",
    "ru": "перезвоните мне по номеру {}, пожалуйста",
    "tr": "beni {} numarasından arayın lütfen",
    "en": "call me back on {} please",
}

CARDS = [  # (as written, last four digits)
    ("4111 1111 1111 1111", "1111"),
    ("4111-1111-1111-1111", "1111"),
    ("4111111111111111", "1111"),
    ("5555 5555 5555 4444", "4444"),
    ("2223 0031 2200 3222", "3222"),
    ("3782 822463 10005", "0005"),  # Amex 4-6-5
    ("3056 930902 5904", "5904"),  # Diners 4-6-4
    ("4222222222222", "2222"),  # 13 digits
    ("6304 0000 0000 0000 018", "0018"),  # 19 digits, 4-4-4-4-3
]
IBANS = [
    "FI21 1234 5600 0007 85",
    "FI2112345600000785",
    "fi21 1234 5600 0007 85",
    "SE4550000000058398257466",
    "SE45 5000 0000 0583 9825 7466",
    "TR33 0006 1005 1978 6457 8413 26",
    "GB82 WEST 1234 5698 7654 32",
    "gb82west12345698765432",
    "DE89 3704 0044 0532 0130 00",
    "NO93 8601 1117 947",
    "DK50 0040 0440 1162 43",
    "EE38 2200 2210 2014 5685",
    "LV80 BANK 0000 4351 9500 1",
    "LT12 1000 0111 0100 1000",
    "FR14 2004 1010 0505 0001 3M02 606",  # a country without a listed length: 15..34 characters
]
EMAILS = [
    "matti.meikalainen@example.fi",
    "anna+casino@mail.example.se",
    "ivan_petrov-1990@yandex.ru",
    "AYSE.YILMAZ@GMAIL.COM",
    "иван@почта.рф",
]
PHONES = [
    # international
    "+358 40 123 4567",
    "+358401234567",
    "+46 70-123 45 67",
    "+7 (912) 345-67-89",
    "+7 912 345 67 89",
    "+90 532 123 45 67",
    "+44 7700 900123",
    "+44 (0)20 7946 0958",
    "+1 212 555 0198",
    "00358401234567",
    "00 46 70 123 45 67",
    # Finland
    "040 123 4567",
    "0401234567",
    "050-1234567",
    "09 1234 567",
    # Sweden
    "070-123 45 67",
    "08-123 456 78",
    # Russia
    "8 (912) 345-67-89",
    "89123456789",
    "8-912-345-67-89",
    # Turkey
    "0532 123 45 67",
    "0 532 123 4567",
    "05321234567",
    "(0532) 123 45 67",
    # United Kingdom
    "07700 900123",
    "020 7946 0958",
    # United States
    "(212) 555-0198",
    "212-555-0198",
    "1-800-555-0199",
]


@pytest.mark.parametrize("language", LANGUAGES)
@pytest.mark.parametrize(("card", "last4"), CARDS)
def test_card_is_masked_keeping_the_last_four_digits(language: str, card: str, last4: str) -> None:
    sentence = CARD_SENTENCES[language]
    assert redact(sentence.format(card)) == Redaction(sentence.format(f"[card ****{last4}]"), (CARD,))


@pytest.mark.parametrize("language", LANGUAGES)
@pytest.mark.parametrize("iban", IBANS)
def test_iban_is_masked(language: str, iban: str) -> None:
    sentence = IBAN_SENTENCES[language]
    assert redact(sentence.format(iban)) == Redaction(sentence.format("[iban]"), (IBAN,))


@pytest.mark.parametrize("language", LANGUAGES)
@pytest.mark.parametrize("email", EMAILS)
def test_email_is_masked(language: str, email: str) -> None:
    sentence = EMAIL_SENTENCES[language]
    assert redact(sentence.format(email)) == Redaction(sentence.format("[email]"), (EMAIL,))


@pytest.mark.parametrize("language", LANGUAGES)
@pytest.mark.parametrize("phone", PHONES)
def test_phone_is_masked(language: str, phone: str) -> None:
    sentence = PHONE_SENTENCES[language]
    assert redact(sentence.format(phone)) == Redaction(sentence.format("[phone]"), (PHONE,))


def test_the_example_from_the_brief() -> None:
    assert redact("korttini numero on 4111 1111 1111 1111, miksi talletus ei mene läpi?") == Redaction(
        "korttini numero on [card ****1111], miksi talletus ei mene läpi?", (CARD,)
    )


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("4111111111111111", "[card ****1111]"),
        ("(4111 1111 1111 1111)", "([card ****1111])"),
        ("kortti:4111111111111111.", "kortti:[card ****1111]."),
        ("4111 1111 1111 1111:llä", "[card ****1111]:llä"),  # Finnish case ending after a colon
        ("4111\u00a01111\u00a01111\u00a01111", "[card ****1111]"),  # no-break spaces pasted from a bank app
        ("4111 1111 1111 1111 12/27", "[card ****1111] 12/27"),  # expiry date stays
        ("4111 1111 1111 1111 123", "[card ****1111] 123"),  # a fifth group that breaks Luhn is not the card
        ("4111 1111 1111 1111 5555 5555 5555 4444", "[card ****1111] [card ****4444]"),
        ("IBAN:FI2112345600000785.", "IBAN:[iban]."),
        ("SE45 5000 0000 0583 9825 7466 tack", "[iban] tack"),  # a following 4-letter word is not a group
        ("<matti@example.fi>", "<[email]>"),
        ("mailto:anna@example.se.", "mailto:[email]."),
        ("tel:+358401234567", "tel:[phone]"),
        ("(040 123 4567)", "([phone])"),
        ("040 123 4567, 050 765 4321", "[phone], [phone]"),
        ("+7(912)345-67-89", "[phone]"),
        ("8(912)345-67-89", "[phone]"),
        ("+358 (0)40 123 4567", "[phone]"),
        ("0 (532) 123 45 67", "[phone]"),
    ],
)
def test_mask_covers_exactly_the_value(text: str, expected: str) -> None:
    assert redact(text).text == expected


NOT_MASKED = [
    # money
    "talletin 500 TL ama bakiyem görünmüyor",
    "jag satte in 1000 kr igår",
    "I won €2,000 last night",
    "ставка 1 500 ₽ не прошла",
    "voitin 2000 euroa",
    "saldo 100.50",
    "vinst 1 000 000 kr",
    "выигрыш 10 000 000 ₽",
    "withdrew $1,250.00",
    "+500 TL bonus",
    # dates and times
    "talletus 12.03.2025 ei näy",
    "deposit on 2025-03-12 is missing",
    "at 14:30 the game froze",
    "pelasin 3.5.2024 klo 21",
    "12/03/2025",
    "2025-03-12 14:30:00",
    "pelasin 03-05-2025 10 kierrosta",
    # years
    "vuonna 2024",
    "member since 1999",
    # bonus codes
    "bonuskoodi WELCOME100 ei toimi",
    "kod BONUS2025X",
    # ids shorter than 13 digits
    "round 84736291",
    "ID 1234567",
    "kierros #84736291 jäi kesken",
    "transaction 123456789012",
    "işlem no: 987654321",
    # licence numbers
    "licensed by MGA/B2C/999/2025",
    "Curaçao 8048/JAZ2020-013",
    # 16 digits that fail Luhn: neither a card nor (16 digits are not a phone format) a phone
    "4111 1111 1111 1112",
    "4111-1111-1111-1112",
    "4111111111111112",
    "0123 4567 8901 2345",
    # IBAN look-alikes: wrong checksum, and a valid checksum with the wrong length for Finland (20, not 18)
    "FI21 1234 5600 0007 86",
    "FI18 1234 5600 0007 8512",
    # percentages, wagering, versions, opening hours
    "50% bonus",
    "0,5 % cashback",
    "kierrätys 35x",
    "wagering 40 x",
    "versio 2.14.3",
    "app v1.2.3 on iOS 17.4.1",
    "asiakaspalvelu 24/7",
    # plain text in every script
    "Привет! Почему вывод средств задерживается? Ёлки-палки.",
    "Hyvää päivää! Äiti sanoi, että öisin ei pelata.",
    "Çekim işlemim neden gecikiyor? Şikâyetçiyim, ığdır.",
    "Hej! Varför är mitt konto låst? Åh nej.",
    "no digits here @ all, just an at sign",
]


@pytest.mark.parametrize("text", NOT_MASKED)
def test_not_masked(text: str) -> None:
    assert redact(text) == Redaction(text, ())


MIXED = [
    (
        "card 4111 1111 1111 1111, mail matti@example.fi, call +358 40 123 4567, IBAN FI21 1234 5600 0007 85",
        "card [card ****1111], mail [email], call [phone], IBAN [iban]",
        (CARD, EMAIL, PHONE, IBAN),
    ),
    (
        "Здравствуйте! Карта 5555-5555-5555-4444, телефон 8 (912) 345-67-89, почта ivan@yandex.ru. Вывод 1 500 ₽.",
        "Здравствуйте! Карта [card ****4444], телефон [phone], почта [email]. Вывод 1 500 ₽.",
        (CARD, PHONE, EMAIL),
    ),
    (
        "Merhaba, IBAN TR33 0006 1005 1978 6457 8413 26, tel 0532 123 45 67, 500 TL yatırdım (12.03.2025 14:30).",
        "Merhaba, IBAN [iban], tel [phone], 500 TL yatırdım (12.03.2025 14:30).",
        (IBAN, PHONE),
    ),
    (
        "Hej! Ring 070-123 45 67 eller mejla anna@example.se om kortet 4111111111111111 (1000 kr).",
        "Hej! Ring [phone] eller mejla [email] om kortet [card ****1111] (1000 kr).",
        (PHONE, EMAIL, CARD),
    ),
    (
        "4111 1111 1111 1111 040 123 4567",  # only a space between them
        "[card ****1111] [phone]",
        (CARD, PHONE),
    ),
    (
        "040 123 4567 4111 1111 1111 1111",
        "[phone] [card ****1111]",
        (PHONE, CARD),
    ),
    (
        "4111111111111111:+358 40 123 4567",  # glued by punctuation: found in a second round
        "[card ****1111]:[phone]",
        (CARD, PHONE),
    ),
    (
        "SE45 5000 0000 0583 9825 7466 1234 040 123 4567",
        "[iban] 1234 [phone]",
        (IBAN, PHONE),
    ),
    (
        "2025-03-12 040 123 4567 ja 4111 1111 1111 1111 12/27",
        "2025-03-12 [phone] ja [card ****1111] 12/27",
        (PHONE, CARD),
    ),
]


@pytest.mark.parametrize(("text", "expected", "kinds"), MIXED)
def test_mixed_text_keeps_kinds_in_order_of_appearance(text: str, expected: str, kinds: tuple[str, ...]) -> None:
    assert redact(text) == Redaction(expected, kinds)


def test_card_wins_over_phone() -> None:
    # A Luhn-valid 16-digit number is a card, whatever phone rule it might resemble.
    assert redact("5555 5555 5555 4444") == Redaction("[card ****4444]", (CARD,))
    # Card numbers never start with 0, so an international call prefix stays a phone number.
    assert redact("00358401234567") == Redaction("[phone]", (PHONE,))


def test_digits_inside_an_iban_belong_to_it() -> None:
    # A valid Estonian IBAN whose account part is a Luhn-valid card number: one IBAN, not a card.
    assert redact("EE79 4111 1111 1111 1111") == Redaction("[iban]", (IBAN,))
    assert redact("EE794111111111111111") == Redaction("[iban]", (IBAN,))


def test_digits_inside_an_email_belong_to_it() -> None:
    assert redact("0401234567@sms.example.fi") == Redaction("[email]", (EMAIL,))
    assert redact("x.4111111111111111@example.com") == Redaction("[email]", (EMAIL,))


def test_everything_outside_the_masks_is_kept_exactly() -> None:
    text = "  Kortti:\t4111111111111111\n\n  Ёж и ÅÄÖ çğış 😊 — 3 kertaa, 50 €  "
    expected = "  Kortti:\t[card ****1111]\n\n  Ёж и ÅÄÖ çğış 😊 — 3 kertaa, 50 €  "
    assert redact(text) == Redaction(expected, (CARD,))


def test_text_without_digits_or_at_is_returned_as_is() -> None:
    text = "Почему мой аккаунт заблокирован? Äiti, çığlık, åtta."
    result = redact(text)
    assert result == Redaction(text, ())
    assert result.text is text


def test_redaction_is_frozen() -> None:
    result = redact("040 123 4567")
    with pytest.raises(AttributeError):
        result.text = "changed"  # type: ignore[misc]


ALL_TEXTS = (
    [CARD_SENTENCES[lang].format(card) for lang in LANGUAGES for card, _ in CARDS]
    + [IBAN_SENTENCES[lang].format(iban) for lang in LANGUAGES for iban in IBANS]
    + [EMAIL_SENTENCES[lang].format(email) for lang in LANGUAGES for email in EMAILS]
    + [PHONE_SENTENCES[lang].format(phone) for lang in LANGUAGES for phone in PHONES]
    + NOT_MASKED
    + [text for text, _, _ in MIXED]
    + [
        "a@b.fi.c@d.fi",
        "040 123 4567.+358 40 123 4567.--",
        "FI21 1234 5600 0007 85.89123456789, ",
        "4567x:4111 1111 1111 1111/(212) 555-0198//:",
    ]
)


@pytest.mark.parametrize("text", ALL_TEXTS)
def test_redaction_is_idempotent(text: str) -> None:
    once = redact(text)
    assert redact(once.text) == Redaction(once.text, ())


def test_already_redacted_text_is_left_alone() -> None:
    text = "[card ****1111] [iban] [email] [phone] 1 500 ₽"
    assert redact(text) == Redaction(text, ())


TYPICAL_MESSAGES = [
    (
        "Hei, yritin tallettaa 50 euroa kortilla 4111 1111 1111 1111 eilen klo 14:30, mutta talletus ei mennyt "
        "läpi. Voitteko soittaa numeroon 040 123 4567 tai kirjoittaa osoitteeseen matti@example.fi? Kiitos!"
    ),
    (
        "Здравствуйте! Я внёс 1 500 ₽ в 14:30, бонус WELCOME100 не начислился, раунд 84736291 завис. "
        "Проверьте, пожалуйста, мой счёт и напишите, когда всё исправите. Спасибо за помощь и хорошего дня!"
    ),
]


@pytest.mark.parametrize("message", TYPICAL_MESSAGES)
def test_typical_message_is_fast(message: str) -> None:
    assert 190 <= len(message) <= 210
    calls = 200
    best = min(_seconds(lambda: [redact(message) for _ in range(calls)]) for _ in range(5)) / calls
    assert best < 0.0002, f"{best * 1000:.3f} ms per message"


HOSTILE = {
    "10,000 digits": "1" * 10_000,
    "10,000 @": "@" * 10_000,
    "5,000 x '1 '": "1 " * 5_000,
    "5,000 x 'a@'": "a@" * 5_000,
    "a long local part": "a." * 5_000 + "@",
    "2,500 x 'a@b.'": "a@b." * 2_500,
    "3,333 x '+1 '": "+1 " * 3_333,
    "3,333 x '(1)'": "(1)" * 3_333,
    "5,000 x '0 '": "0 " * 5_000,
    "5,000 x '1-'": "1-" * 5_000,
    "2,000 x '4111 '": "4111 " * 2_000,
    "500 cards": "4111 1111 1111 1111 " * 500,
    "800 phones": "040 123 4567 " * 800,
    "10,000 letters": "a" * 10_000,
}


@pytest.mark.parametrize("text", HOSTILE.values(), ids=HOSTILE.keys())
def test_hostile_input_is_linear(text: str) -> None:
    best = min(_seconds(lambda: redact(text)) for _ in range(3))
    assert best < 0.05, f"{best * 1000:.1f} ms"


@pytest.mark.parametrize(
    "unit",
    ["1 ", "ab12 ", "4111 1111 1111 1112 ", "+358 40 123 4567:", "a@b.fi.", "0 (1)-"],
    ids=["digits and spaces", "iban-like words", "luhn failures", "glued phones", "glued e-mails", "mixed"],
)
def test_hostile_input_scales_linearly(unit: str) -> None:
    # Ten times the text may take about ten times as long; a quadratic scan would take a hundred times.
    small, large = unit * (10_000 // len(unit)), unit * (100_000 // len(unit))
    ratio = min(_seconds(lambda: redact(large)) for _ in range(2)) / min(
        _seconds(lambda: redact(small)) for _ in range(3)
    )
    assert ratio < 30, f"x{ratio:.0f}"


def test_hostile_input_results() -> None:
    assert redact("1" * 10_000).kinds == ()
    assert redact("@" * 10_000).kinds == ()
    assert redact("1 " * 5_000).kinds == ()
    assert redact("4111 1111 1111 1111 " * 500).text == "[card ****1111] " * 500
    assert redact("040 123 4567 " * 800).text == "[phone] " * 800


def _seconds(run) -> float:
    start = time.perf_counter()
    run()
    return time.perf_counter() - start

"""Players' noise added to tidy training questions: filler sentences, typos, missing diacritics.

Used to train the encoder and the topic classifier (``bot.embedding.finetune``,
``bot.understanding.topics``) on what players really send: the question wrapped in a greeting, a
complaint or thanks, typed fast on an English keyboard. Deterministic for a given random generator.
"""

from __future__ import annotations

import random
import re
import unicodedata

# Sentences players put around the question. They carry no topic: the model must learn to look past them.
OPENERS: dict[str, list[str]] = {
    "fi": [
        "moi!",
        "hei, nopea kysymys.",
        "moro,",
        "terve, yks juttu.",
        "hei hei",
        "moikka, tarttisin apua.",
        "anteeks et häiritsen mut",
        "ok eli",
        "hei taas,",
    ],
    "sv": [
        "hej!",
        "hej, snabb fråga.",
        "tjena,",
        "hallå där.",
        "hej hej",
        "hejsan, behöver hjälp.",
        "ursäkta men",
        "okej så",
        "hej igen,",
    ],
    "ru": [
        "привет!",
        "здравствуйте, быстрый вопрос.",
        "добрый день,",
        "слушайте,",
        "привет привет",
        "здрасте, нужна помощь.",
        "извините, но",
        "короче",
        "снова я,",
    ],
    "tr": [
        "selam!",
        "merhaba, kısa bir sorum var.",
        "slm,",
        "abi merhaba,",
        "iyi günler",
        "merhabalar, yardım lazım.",
        "kusura bakmayın ama",
        "şimdi şöyle",
        "yine ben,",
    ],
    "en": [
        "hi!",
        "hey, quick question.",
        "hello,",
        "hiya",
        "hi there",
        "hello, need some help.",
        "sorry to bother you but",
        "ok so",
        "hi again,",
    ],
}
CLOSERS: dict[str, list[str]] = {
    "fi": [
        "kiitos etukäteen!",
        "tää on ihan naurettavaa.",
        "vastatkaa pliis",
        "oon tosi ärsyyntyny.",
        "kiitti",
        "auttakaa nyt!!",
        "ei voi olla totta",
    ],
    "sv": [
        "tack på förhand!",
        "det här är helt löjligt.",
        "svara snälla",
        "jag är så irriterad nu.",
        "tack",
        "hjälp mig nu!!",
        "fattar ingenting",
    ],
    "ru": [
        "заранее спасибо!",
        "это просто смешно.",
        "ответьте пожалуйста",
        "я уже реально злюсь.",
        "спс",
        "помогите уже!!",
        "ну сколько можно",
    ],
    "tr": [
        "şimdiden teşekkürler!",
        "bu gerçekten saçmalık.",
        "cevap verin lütfen",
        "çok sinirlendim artık.",
        "tşk",
        "yardım edin artık!!",
        "olacak iş değil",
    ],
    "en": [
        "thanks in advance!",
        "this is ridiculous.",
        "pls answer",
        "i'm so annoyed right now.",
        "ty",
        "help me out here!!",
        "unbelievable",
    ],
}
FOLD_EXTRA = str.maketrans({"ı": "i", "ё": "е", "ß": "ss"})


def strip_diacritics(text: str) -> str:
    """What an English keyboard makes of Latin letters: "päivää" -> "paivaa", "şifre" -> "sifre".

    Cyrillic stays as it is (apart from ё -> е, which Russian players often skip).
    """

    def plain(ch: str) -> str:
        if ord(ch) >= 0x0250:  # beyond Latin: Cyrillic keeps its й
            return ch
        return "".join(c for c in unicodedata.normalize("NFD", ch) if not unicodedata.combining(c))

    return "".join(plain(ch) for ch in text.translate(FOLD_EXTRA))


def typo(word: str, rng: random.Random) -> str:
    """One fast-typing slip in a word: a dropped, doubled or swapped letter."""
    if len(word) < 4:
        return word
    i = rng.randrange(1, len(word) - 1)
    kind = rng.randrange(3)
    if kind == 0:
        return word[:i] + word[i + 1 :]
    if kind == 1:
        return word[:i] + word[i] + word[i:]
    return word[: i - 1] + word[i] + word[i - 1] + word[i + 1 :]


def with_typos(text: str, rng: random.Random, rate: float = 0.15) -> str:
    return re.sub(r"\w{4,}", lambda m: typo(m.group(0), rng) if rng.random() < rate else m.group(0), text)


def noisy(text: str, language: str, rng: random.Random) -> str:
    """The same question as a player might send it: some of filler, typos, lower case, no diacritics."""
    out = text
    if rng.random() < 0.5:
        out = strip_diacritics(out)
    if rng.random() < 0.5:
        out = with_typos(out, rng)
    if rng.random() < 0.5:
        out = out.lower().rstrip("?.!")
    if rng.random() < 0.5:
        out = f"{rng.choice(OPENERS[language])} {out}"
    if rng.random() < 0.4:
        out = f"{out} {rng.choice(CLOSERS[language])}"
    return out

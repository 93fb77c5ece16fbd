import json

import pytest

from bot.index.faq_index import FaqIndex, build_index, current_version
from bot.index.lexical import LexicalScorer, terms


@pytest.mark.parametrize(
    ("language", "question", "topic"),
    [
        ("fi", "kauanko kotiutus kestaa", "withdrawal_time"),
        ("sv", "jag har glömt mitt losenord", "password_reset"),
        ("ru", "не пришел депозит на баланс", "deposit_not_credited"),
        ("tr", "sifremi unuttum", "password_reset"),
        ("en", "can I pay with Papara", "deposit_methods"),
        ("en", "what is the RTP of a slot", "game_rules_rtp"),
    ],
)
def test_understanding_ranks_the_right_topic_first(faq_index, settings, language, question, topic):
    from bot.understanding.understand import understand

    ranked = understand(faq_index, question, language, settings.faq_temperature).ranked
    assert ranked[0].topic_id == topic
    assert ranked[0].probability >= ranked[1].probability
    assert faq_index.query(question, language)[0].score >= faq_index.query(question, language)[1].score


def test_scores_fuse_dense_and_lexical(faq_index, settings):
    match = faq_index.query("Papara", "tr")[0]
    w = settings.lexical_weight
    assert match.score == pytest.approx((match.dense + w * match.lexical) / (1 + w), abs=1e-3)
    assert 0 <= match.score <= 1


def test_lexical_terms_fold_and_stem():
    assert terms("Kotiutukseni kestää!", "fi") == ["kotiu", "kesta"]
    assert "papar" in terms("Papara ile yatırım", "tr")


def test_lexical_score_is_the_share_of_matched_term_weight():
    scorer = LexicalScorer({"a": {"trust", "depos"}, "b": {"passw"}})
    scores = scorer.scores(["trust", "passw"])
    assert scores["a"] == pytest.approx(scores["b"])
    assert scorer.scores([]) == {}


def test_build_writes_a_versioned_index_with_manifest(tmp_path, kb, embedder):
    manifest = build_index(kb, embedder, tmp_path, progress=False)
    assert current_version(tmp_path) == manifest.version
    saved = json.loads((tmp_path / manifest.version / "manifest.json").read_text())
    assert saved["kb_fingerprint"] == kb.fingerprint
    assert saved["dimensions"] == 384 and saved["vectors"] == len(kb.variants())
    loaded = FaqIndex.load_current(tmp_path, embedder, 0.1)
    assert loaded.query("kotiutus kesto", "fi")[0].topic_id == "withdrawal_time"

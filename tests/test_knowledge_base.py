import string
from pathlib import Path

import pytest
import yaml

from bot.kb.model import LANGUAGES, KnowledgeBaseError, load_knowledge_base
from bot.kb.texts import load_texts
from tests.conftest import ROOT, SPEC_TOPICS


def test_every_topic_has_every_language(kb):
    assert len(kb.topics) >= 31
    for topic in kb.topics.values():
        assert set(topic.texts) == set(LANGUAGES), topic.id
        for lang, text in topic.texts.items():
            assert len(text.questions) >= 8, (topic.id, lang)
            assert 0 < len(text.title) <= 40, (topic.id, lang)


@pytest.mark.skipif(not SPEC_TOPICS.exists(), reason="shared/spec is not beside this checkout")
def test_fixed_topic_ids_of_the_spec_are_all_present(kb):
    spec = yaml.safe_load(SPEC_TOPICS.read_text(encoding="utf-8"))["topics"]
    for topic in spec:
        assert topic["id"] in kb.topics
        assert kb.topics[topic["id"]].handling == topic["handling"]


def test_answers_render_without_leftover_placeholders(kb):
    for topic in kb.topics.values():
        for lang in LANGUAGES:
            answer, used = kb.answer(topic.id, lang)
            assert used == lang
            assert "{" not in answer and "}" not in answer, (topic.id, lang)


def test_each_answer_uses_the_same_house_rule_facts_in_every_language(kb):
    def fields(text: str) -> set[str]:
        return {name for _, name, _, _ in string.Formatter().parse(text) if name}

    for topic in kb.topics.values():
        english = fields(topic.texts["en"].answer)
        for lang in LANGUAGES:
            assert fields(topic.texts[lang].answer) == english, (topic.id, lang)


def test_no_question_variant_under_two_topics(kb):
    seen: dict[tuple[str, str], str] = {}
    for topic_id, lang, question in kb.variants():
        key = (lang, question.casefold().strip(" ?!."))
        assert seen.setdefault(key, topic_id) == topic_id, f"{question!r} in {seen[key]} and {topic_id}"


def test_help_line_is_per_market(kb):
    phones = {kb.rules_for(lang)["helpline_phone"] for lang in LANGUAGES}
    assert len(phones) == len(LANGUAGES)
    for lang in LANGUAGES:
        answer, _ = kb.answer("gambling_problem_help", lang)
        assert kb.rules_for(lang)["helpline_phone"] in answer


def test_bot_texts_have_the_same_keys_in_every_language(settings):
    texts = load_texts(settings.data_dir / "texts")
    for lang in LANGUAGES:
        assert set(texts.texts[lang]) == set(texts.texts["en"]), lang
        assert set(texts.buttons[lang]) == set(texts.buttons["en"]), lang


def copy_kb(tmp_path: Path) -> Path:
    faq = tmp_path / "faq"
    faq.mkdir()
    for path in (ROOT / "data" / "faq").glob("*.yml"):
        (faq / path.name).write_text(path.read_text(encoding="utf-8"), encoding="utf-8")
    return faq


def test_unknown_placeholder_is_reported_with_file_topic_and_field(tmp_path):
    faq = copy_kb(tmp_path)
    data = yaml.safe_load((faq / "sv.yml").read_text(encoding="utf-8"))
    data["topics"]["payment_fees"]["answer"] += " {no_such_rule}"
    (faq / "sv.yml").write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    with pytest.raises(KnowledgeBaseError, match=r"sv\.yml: topic payment_fees: field answer .*no_such_rule"):
        load_knowledge_base(faq)


def test_malformed_yaml_is_a_clear_error(tmp_path):
    faq = copy_kb(tmp_path)
    (faq / "fi.yml").write_text("language: fi\ntopics: [unclosed\n", encoding="utf-8")
    with pytest.raises(KnowledgeBaseError, match=r"fi\.yml: not valid YAML"):
        load_knowledge_base(faq)


def test_missing_language_falls_back_to_english(tmp_path):
    faq = copy_kb(tmp_path)
    data = yaml.safe_load((faq / "tr.yml").read_text(encoding="utf-8"))
    del data["topics"]["currencies"]
    (faq / "tr.yml").write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    kb = load_knowledge_base(faq)
    answer, used = kb.answer("currencies", "tr")
    assert used == "en" and answer == kb.answer("currencies", "en")[0]

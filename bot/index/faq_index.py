"""Build, persist, load and query the FAQ index.

One index holds every question variant of every language (e5 is cross-lingual), so a Swedish
question can find a topic even where the Swedish variants are thin. A query is ranked per topic by
the mean cosine of its best few variants (``pool``), fused with the lexical score of ``bot.index.lexical``.

Beside the vectors, a version holds a linear head trained on them (``bot.understanding``): the
topic classifier, with two more classes, "a request for a person" and "not a knowledge question".

On disk (``models/faq_index/<version>/``): ``vectors.faiss``, ``entries.json`` (topic, language,
text per vector), ``lexical.json``, ``heads/topics.npz``, ``training.json`` + ``training.npy`` (the
heads' inputs and their vectors, reused by the next build) and ``manifest.json``. ``models/faq_index/CURRENT`` names the
newest version; a new build is written beside it and the pointer is swapped atomically.

A build reuses the vectors of every text the previous version already embedded with the same
model and prefix, and warm-starts the heads from the previous ones, so adding one variant embeds a
handful of texts and goes live in seconds.
"""

from __future__ import annotations

import json
import os
import shutil
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import numpy as np

from bot.embedding.model import Embedder
from bot.index.lexical import LexicalScorer, terms
from bot.kb.model import LANGUAGES, KnowledgeBase

INDEX_FORMAT = 2
HEADS = ("topics",)


@dataclass
class TopicMatch:
    topic_id: str
    score: float  # fused: (dense + w * lexical) / (1 + w), in [0, 1]
    dense: float
    lexical: float
    variant: str
    variant_language: str


@dataclass
class Manifest:
    version: str
    model: str
    kb_fingerprint: str
    dimensions: int
    vectors: int
    topics: int
    built_at: str
    build_seconds: float
    format: int = INDEX_FORMAT
    prefix: str | None = None  # the embedding prefix; None in indexes built before it was recorded
    embedded: int | None = None  # vectors computed by this build (the rest were reused)
    training_fingerprint: str | None = None  # knowledge base + NLU examples the heads learnt from
    training_examples: int | None = None
    heads_seconds: float | None = None


def index_version(training_fingerprint: str, model: str) -> str:
    import hashlib

    return hashlib.sha256(f"{INDEX_FORMAT}|{model}|{training_fingerprint}".encode()).hexdigest()[:12]


def current_version(index_root: Path) -> str | None:
    pointer = index_root / "CURRENT"
    return pointer.read_text().strip() if pointer.exists() else None


def _topic_terms(kb: KnowledgeBase) -> dict[str, set[str]]:
    bags: dict[str, set[str]] = {}
    for topic in kb.topics.values():
        bag: set[str] = set()
        for lang in LANGUAGES:
            if lang not in topic.texts:
                continue
            text = topic.texts[lang]
            for piece in [text.title, kb.render(text.answer, lang), *text.questions]:
                bag.update(terms(piece, lang))
        bags[topic.id] = bag
    return bags


def index_model_name(settings, version: str | None = None) -> str:
    """The model an index version was built with (the base model, or one fine-tuned on the KB)."""
    version = version or current_version(settings.index_dir)
    manifest = settings.index_dir / (version or "") / "manifest.json"
    if version and manifest.exists():
        return json.loads(manifest.read_text(encoding="utf-8"))["model"]
    return settings.embedding_model


def reusable_vectors(directory: Path | None, embedder: Embedder) -> dict[str, np.ndarray]:
    """text -> vector of an existing index version built with the same model and prefix."""
    import faiss

    if directory is None or not (directory / "manifest.json").exists():
        return {}
    manifest = json.loads((directory / "manifest.json").read_text(encoding="utf-8"))
    if manifest.get("model") != embedder.name or manifest.get("prefix") != embedder.prefix:
        return {}
    index = faiss.read_index(str(directory / "vectors.faiss"))
    entries = json.loads((directory / "entries.json").read_text(encoding="utf-8"))
    vectors = index.reconstruct_n(0, index.ntotal)
    known = {entry["text"]: vectors[i] for i, entry in enumerate(entries)}
    if (directory / "training.npy").exists():
        texts = json.loads((directory / "training.json").read_text(encoding="utf-8"))
        known.update(zip(texts, np.load(directory / "training.npy"), strict=True))
    return known


def embed_missing(
    texts: list[str],
    embedder: Embedder,
    known: dict[str, np.ndarray],
    progress: bool = False,
    on_progress: Callable[[int, int], None] | None = None,
    batch: int = 64,
) -> tuple[np.ndarray, int]:
    """Vectors for ``texts``, embedding only those not in ``known``; returns (vectors, embedded)."""
    missing = sorted({t for t in texts if t not in known})
    found = dict(known)
    for start in range(0, len(missing), batch):
        chunk = missing[start : start + batch]
        vectors = embedder.encode(chunk, progress=progress and on_progress is None)
        found.update(zip(chunk, vectors, strict=True))
        if on_progress:
            on_progress(min(start + batch, len(missing)), len(missing))
    dims = embedder.dimensions
    matrix = np.vstack([found[t] for t in texts]).astype(np.float32) if texts else np.zeros((0, dims), np.float32)
    return matrix, len(missing)


def build_index(
    kb: KnowledgeBase,
    embedder: Embedder,
    index_root: Path,
    progress: bool = True,
    previous: Path | None = None,
    on_progress: Callable[[int, int], None] | None = None,
    nlu: list[tuple[str, str, str]] | None = None,
) -> Manifest:
    """Embed the variants and the heads' training texts (reusing ``previous``'s vectors), train the
    heads, and write a new index version; point CURRENT at it."""
    import faiss

    from bot.understanding.training import fingerprint, training_set

    started = time.perf_counter()
    nlu = nlu or []
    entries = kb.variants()
    training = training_set(kb, nlu)
    known = reusable_vectors(previous, embedder)
    texts = [text for _, _, text in entries]
    all_vectors, embedded = embed_missing(texts + training.texts, embedder, known, progress, on_progress)
    vectors, training_vectors = all_vectors[: len(texts)], all_vectors[len(texts) :]
    index = faiss.IndexFlatIP(vectors.shape[1])
    index.add(vectors)
    training_fp = fingerprint(kb, nlu)
    version = index_version(training_fp, embedder.name)
    target = index_root / version
    tmp = index_root / f".{version}.tmp"
    shutil.rmtree(tmp, ignore_errors=True)
    tmp.mkdir(parents=True)
    faiss.write_index(index, str(tmp / "vectors.faiss"))
    (tmp / "entries.json").write_text(
        json.dumps([{"topic": t, "language": lang, "text": q} for t, lang, q in entries], ensure_ascii=False),
        encoding="utf-8",
    )
    (tmp / "lexical.json").write_text(
        json.dumps(LexicalScorer(_topic_terms(kb)).to_json(), ensure_ascii=False), encoding="utf-8"
    )
    (tmp / "training.json").write_text(json.dumps(training.texts, ensure_ascii=False), encoding="utf-8")
    np.save(tmp / "training.npy", training_vectors)
    heads_started = time.perf_counter()
    write_heads(tmp / "heads", kb, training, training_vectors, previous)
    manifest = Manifest(
        version=version,
        model=embedder.name,
        kb_fingerprint=kb.fingerprint,
        dimensions=int(vectors.shape[1]),
        vectors=len(entries),
        topics=len(kb.topics),
        built_at=datetime.now(UTC).isoformat(timespec="seconds"),
        build_seconds=round(time.perf_counter() - started, 2),
        prefix=embedder.prefix,
        embedded=embedded,
        training_fingerprint=training_fp,
        training_examples=len(training.examples),
        heads_seconds=round(time.perf_counter() - heads_started, 2),
    )
    (tmp / "manifest.json").write_text(json.dumps(manifest.__dict__, indent=2), encoding="utf-8")
    shutil.rmtree(target, ignore_errors=True)
    tmp.rename(target)
    pointer_tmp = index_root / "CURRENT.tmp"
    pointer_tmp.write_text(version)
    os.replace(pointer_tmp, index_root / "CURRENT")
    return manifest


def write_heads(directory: Path, kb: KnowledgeBase, training, vectors: np.ndarray, previous: Path | None) -> None:
    """Train the topic head (warm-started from ``previous``'s)."""
    from bot.understanding.heads import LinearHead, train_head

    directory.mkdir(parents=True)
    for name in HEADS:
        path = previous / "heads" / f"{name}.npz" if previous else None
        earlier = LinearHead.load(path) if path and path.exists() else None
        train_head(vectors, training.labels(set(kb.topics)), previous=earlier).save(directory / f"{name}.npz")


@dataclass
class TextScores:
    """Everything the index says about one text."""

    text: str
    topics: dict[str, float]  # kNN score fused with the lexical score, per topic
    probabilities: dict[str, float]  # the head's probability per topic
    none_probability: float  # the head's "not a knowledge question"
    human_request: float  # the head's "a request for a person"


class FaqIndex:
    """A loaded index version, queried with already-embedded or raw texts."""

    def __init__(self, directory: Path, embedder: Embedder, lexical_weight: float, pool: int = 3) -> None:
        import faiss

        from bot.understanding.heads import LinearHead

        self.directory = directory
        self.manifest = Manifest(**json.loads((directory / "manifest.json").read_text(encoding="utf-8")))
        if self.manifest.model != embedder.name:
            raise ValueError(f"index {directory} was built with {self.manifest.model}, not {embedder.name}: rebuild it")
        self._index = faiss.read_index(str(directory / "vectors.faiss"))
        self._entries = json.loads((directory / "entries.json").read_text(encoding="utf-8"))
        self._lexical = LexicalScorer.from_json(json.loads((directory / "lexical.json").read_text(encoding="utf-8")))
        self._embedder = embedder
        self.lexical_weight = lexical_weight
        self.pool = max(1, pool)
        self.heads = {name: LinearHead.load(directory / "heads" / f"{name}.npz") for name in HEADS}
        self.topic_ids = sorted({entry["topic"] for entry in self._entries})

    @classmethod
    def load_current(
        cls, index_root: Path, embedder: Embedder, lexical_weight: float, pool: int = 3, version: str | None = None
    ) -> FaqIndex:
        """Load ``version``, or the newest one (``CURRENT``) when it is None."""
        version = version or current_version(index_root)
        if version is None:
            raise FileNotFoundError(f"no FAQ index under {index_root}: run `python -m bot train`")
        if not (index_root / version / "manifest.json").exists():
            raise FileNotFoundError(f"no FAQ index version {version} under {index_root}")
        return cls(index_root / version, embedder, lexical_weight, pool)

    def analyze(self, texts: list[str], language: str) -> list[TextScores]:
        """Score several texts (a message and its sentences) with one forward pass of the encoder."""
        from bot.understanding.training import HUMAN, NONE

        vectors = self._embedder.encode(texts)
        probabilities = self.heads["topics"].probabilities(vectors)
        classes = self.heads["topics"].classes
        out = []
        for row, text in enumerate(texts):
            matches = self._rank(vectors[row : row + 1], text, language)
            by_class = dict(zip(classes, (float(p) for p in probabilities[row]), strict=True))
            out.append(
                TextScores(
                    text=text,
                    topics={m.topic_id: m.score for m in matches},
                    probabilities={c: p for c, p in by_class.items() if c not in (HUMAN, NONE)},
                    none_probability=by_class[NONE],
                    human_request=by_class[HUMAN],
                )
            )
        return out

    def query(self, text: str, language: str, top_k: int = 5) -> list[TopicMatch]:
        return self._rank(self._embedder.encode([text]), text, language)[:top_k]

    def _rank(self, vector: np.ndarray, text: str, language: str) -> list[TopicMatch]:
        k = min(len(self._entries), 400)
        scores, ids = self._index.search(vector, k)
        hits: dict[str, list[tuple[float, int]]] = {}
        for score, idx in zip(scores[0], ids[0], strict=True):  # sorted best first
            hits.setdefault(self._entries[idx]["topic"], []).append((float(score), int(idx)))
        lexical = self._lexical.scores(terms(text, language))
        w = self.lexical_weight
        matches = []
        for topic, topic_hits in hits.items():
            # The mean of the topic's best few variants: steadier than the single best one, which
            # one odd variant can win for a neighbouring topic.
            dense = sum(score for score, _ in topic_hits[: self.pool]) / len(topic_hits[: self.pool])
            lex = lexical.get(topic, 0.0)
            entry = self._entries[topic_hits[0][1]]
            matches.append(
                TopicMatch(
                    topic_id=topic,
                    score=round((dense + w * lex) / (1 + w), 4),
                    dense=round(dense, 4),
                    lexical=round(lex, 4),
                    variant=entry["text"],
                    variant_language=entry["language"],
                )
            )
        matches.sort(key=lambda m: m.score, reverse=True)
        return matches

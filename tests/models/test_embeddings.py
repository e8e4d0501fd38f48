"""The embedded MiniLM embedder: both engines, against each other and the reference model.

``fixtures/minilm_reference.json`` holds vectors computed once with HF transformers + torch
(``AutoModel`` on the packaged weights, truncation at 256, mean pooling, L2 normalisation);
torch is never imported here.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from rag.errors import ConfigError
from rag.models.embeddings import MAX_TOKENS, MiniLMEmbeddings, onnx_available

REFERENCE = Path(__file__).parents[1] / "fixtures" / "minilm_reference.json"
LONG_TEXT = " ".join(
    f"Clause {i}. The supplier shall deliver the goods within {i} business days of the order."
    for i in range(40)
)
TEXTS = [
    "refund",
    "What is the parental leave policy?",
    "Parental leave is 16 weeks at full pay for either parent.",
    "The API rate limit is 600 requests per minute per token.",
    "Straße, café, naïve — non-ASCII text 東京 🙂",
    "ERROR 0x80070005: access denied while writing C:\\Program Files\\app\\config.ini",
    "def add(a, b):\n    return a + b\n",
    "   lots   of    whitespace   \n\n\t and tabs  ",
    "A. B. C. D. E. F. G. H. I. J. K. L. M. N. O. P.",
    LONG_TEXT,
]

needs_onnx = pytest.mark.skipif(not onnx_available(), reason="onnx/onnxruntime not installed")


@pytest.fixture(scope="module")
def numpy_embedder() -> MiniLMEmbeddings:
    return MiniLMEmbeddings(engine="numpy")


@pytest.fixture(scope="module")
def onnx_embedder() -> MiniLMEmbeddings:
    if not onnx_available():
        pytest.skip("onnx/onnxruntime not installed")
    return MiniLMEmbeddings(engine="onnx", batch_size=4)


@pytest.fixture(scope="module", params=["numpy", "onnx"])
def embedder(request) -> MiniLMEmbeddings:
    return request.getfixturevalue(f"{request.param}_embedder")


def test_default_engine_is_onnx_when_installed():
    assert MiniLMEmbeddings().engine == ("onnx" if onnx_available() else "numpy")


def test_unknown_engine_is_refused():
    with pytest.raises(ConfigError, match="numpy"):
        MiniLMEmbeddings(engine="torch")


def test_encode_shape_dtype_and_unit_norm(embedder):
    vectors = embedder.encode(TEXTS)
    assert vectors.shape == (len(TEXTS), 384)
    assert vectors.dtype == np.float32
    np.testing.assert_allclose(np.linalg.norm(vectors, axis=1), 1.0, atol=1e-5)
    assert embedder.encode([]).shape == (0, 384)


def test_long_text_is_truncated_not_rejected(embedder):
    assert embedder.count_tokens(LONG_TEXT) > MAX_TOKENS
    assert len(embedder.tokenizer.encode(LONG_TEXT).ids) == MAX_TOKENS


@needs_onnx
def test_onnx_and_numpy_engines_agree(numpy_embedder, onnx_embedder):
    # Different batch sizes too: padding must not leak into any vector.
    ref = numpy_embedder.encode(TEXTS)
    got = onnx_embedder.encode(TEXTS)
    cosines = (ref * got).sum(axis=1)
    assert cosines.min() >= 0.9999, dict(zip(TEXTS, cosines.round(6), strict=True))


def test_vectors_do_not_depend_on_batch_company(embedder):
    alone = np.stack([embedder.encode([text])[0] for text in TEXTS[:4]])
    together = embedder.encode(TEXTS[:4] + [LONG_TEXT])[:4]
    assert ((alone * together).sum(axis=1)).min() >= 0.99999


def test_matches_reference_sentence_transformers_vectors(embedder):
    reference = json.loads(REFERENCE.read_text())
    expected = np.array(reference["vectors"], dtype=np.float32)
    got = embedder.encode(reference["sentences"])
    cosines = (got * expected).sum(axis=1) / np.linalg.norm(expected, axis=1)
    assert cosines.min() >= 0.9999, dict(zip(reference["sentences"], cosines, strict=True))


def test_paraphrase_is_closer_than_unrelated_text(embedder):
    query, paraphrase, unrelated = embedder.encode(
        [
            "How many days of vacation do I get per year?",
            "Employees are entitled to 25 days of paid annual leave.",
            "The server room is cooled to 18 degrees Celsius.",
        ]
    )
    assert query @ paraphrase > query @ unrelated + 0.2


def test_embed_query_and_documents_agree_with_encode(embedder):
    docs = embedder.embed_documents(TEXTS[:3])
    assert len(docs) == 3 and all(len(v) == 384 for v in docs)
    np.testing.assert_allclose(embedder.embed_query(TEXTS[1]), docs[1], atol=1e-5)


@pytest.mark.parametrize("text", ["", "refund", TEXTS[4], LONG_TEXT])
def test_count_tokens_matches_the_tokenizer_with_special_tokens(numpy_embedder, text):
    from tokenizers import Tokenizer

    tok = Tokenizer.from_file(str(numpy_embedder.model_dir / "tokenizer.json"))
    tok.no_truncation()
    tok.no_padding()  # the packaged tokenizer.json pads to 128
    encoding = tok.encode(text, add_special_tokens=True)
    assert numpy_embedder.count_tokens(text) == len(encoding.ids)
    assert encoding.tokens[0] == "[CLS]" and encoding.tokens[-1] == "[SEP]"

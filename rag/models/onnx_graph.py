"""The BERT encoder as an ONNX graph, built in memory from the packaged safetensors weights.

This module owns the graph: token + position embeddings, LayerNorm, the self-attention and
feed-forward blocks, exact (Erf) GELU, and mean pooling over the attention mask. Nothing is
downloaded or converted ahead of time: :func:`build_model` turns the weight dict into an
``onnx.ModelProto`` (~0.5 s) and :func:`make_session` hands its bytes to onnxruntime. L2
normalisation stays with the caller, in NumPy.

Graph inputs are ``input_ids`` and ``attention_mask`` (int64, batch x length, any length up to
the position table); the output ``pooled`` is (batch, hidden) float32, not normalised.
The ops mirror the NumPy reference in :mod:`rag.models.embeddings` one for one, and use the shapes
onnxruntime's graph optimiser recognises (LayerNormalization, Div/Erf/Add/Mul GELU).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

OPSET = 17  # first opset with LayerNormalization
IR_VERSION = 8  # the IR that goes with opset 17; onnxruntime reads it everywhere
INPUT_IDS, ATTENTION_MASK, POOLED = "input_ids", "attention_mask", "pooled"


class _Graph:
    """Collect nodes and initializers under generated names."""

    def __init__(self):
        from onnx import helper, numpy_helper

        self.helper = helper
        self.numpy_helper = numpy_helper
        self.nodes = []
        self.initializers = []
        self._count = 0

    def const(self, name: str, value) -> str:
        array = np.asarray(value)
        self.initializers.append(self.numpy_helper.from_array(array, name))
        return name

    def op(self, op_type: str, *inputs: str, **attrs) -> str:
        self._count += 1
        out = f"{op_type.lower()}_{self._count}"
        self.nodes.append(self.helper.make_node(op_type, list(inputs), [out], **attrs))
        return out

    def linear(self, x: str, weight: np.ndarray, bias: np.ndarray, name: str) -> str:
        # torch stores Linear weights as (out, in); MatMul wants (in, out).
        w = self.const(name + ".weight_t", np.ascontiguousarray(weight.T))
        b = self.const(name + ".bias", bias)
        return self.op("Add", self.op("MatMul", x, w), b)

    def layer_norm(self, x: str, weights: dict[str, np.ndarray], name: str, eps: float) -> str:
        scale = self.const(name + ".weight", weights[name + ".weight"])
        bias = self.const(name + ".bias", weights[name + ".bias"])
        return self.op("LayerNormalization", x, scale, bias, axis=-1, epsilon=eps)


def build_model(weights: dict[str, np.ndarray], heads: int, eps: float = 1e-12):
    """Build the encoder + mean pooling as an ``onnx.ModelProto``.

    Args:
        weights: float32 arrays under HF BertModel names (``embeddings.word_embeddings.weight``,
            ``encoder.layer.0.attention.self.query.weight``, ...).
        heads: number of attention heads.
        eps: LayerNorm epsilon.
    """
    g = _Graph()
    hidden = weights["embeddings.word_embeddings.weight"].shape[1]
    x = _embeddings(g, weights, eps)
    mask_f, mask_bias = _attention_mask(g)
    shared = _LayerConstants.add_to(g, heads, hidden, mask_bias)
    layer = 0
    while f"encoder.layer.{layer}.attention.self.query.weight" in weights:
        x = _encoder_layer(g, weights, f"encoder.layer.{layer}.", x, shared, eps)
        layer += 1
    pooled = _mean_pooling(g, x, mask_f)
    return _model(g, pooled, hidden)


def _embeddings(g: _Graph, weights: dict[str, np.ndarray], eps: float) -> str:
    # Word + position + token type 0 (the model is only ever fed one segment), then LayerNorm.
    length = g.op("Gather", g.op("Shape", INPUT_IDS), g.const("one", np.array(1, np.int64)), axis=0)
    positions = g.op("Range", g.const("zero", np.array(0, np.int64)), length, "one")
    x = g.op(
        "Add",
        g.op(
            "Gather",
            g.const("word_embeddings", weights["embeddings.word_embeddings.weight"]),
            INPUT_IDS,
        ),
        g.op(
            "Gather",
            g.const("position_embeddings", weights["embeddings.position_embeddings.weight"]),
            positions,
        ),
    )
    x = g.op(
        "Add", x, g.const("token_type_0", weights["embeddings.token_type_embeddings.weight"][0])
    )
    return g.layer_norm(x, weights, "embeddings.LayerNorm", eps)


def _attention_mask(g: _Graph) -> tuple[str, str]:
    """Return the float mask and the additive attention bias (batch, 1, 1, length): 0 for
    tokens, -1e9 for padding."""
    from onnx import TensorProto

    mask_f = g.op("Cast", ATTENTION_MASK, to=TensorProto.FLOAT)
    not_mask = g.op("Sub", g.const("one_f", np.array(1.0, np.float32)), mask_f)
    mask_bias = g.op("Mul", not_mask, g.const("neg_big", np.array(-1e9, np.float32)))
    mask_bias = g.op("Unsqueeze", mask_bias, g.const("axes_1_2", np.array([1, 2], np.int64)))
    return mask_f, mask_bias


@dataclass(frozen=True)
class _LayerConstants:
    """Names of the tensors every encoder layer shares."""

    split_shape: str
    merge_shape: str
    scale: str
    sqrt2: str
    one_f: str
    half: str
    mask_bias: str

    @classmethod
    def add_to(cls, g: _Graph, heads: int, hidden: int, mask_bias: str) -> _LayerConstants:
        head_dim = hidden // heads
        return cls(
            split_shape=g.const("split_heads", np.array([0, 0, heads, head_dim], np.int64)),
            merge_shape=g.const("merge_heads", np.array([0, 0, hidden], np.int64)),
            scale=g.const("attn_scale", np.array(1.0 / math.sqrt(head_dim), np.float32)),
            sqrt2=g.const("sqrt2", np.array(math.sqrt(2.0), np.float32)),
            one_f="one_f",  # made with the attention mask
            half=g.const("half", np.array(0.5, np.float32)),
            mask_bias=mask_bias,
        )


def _encoder_layer(
    g: _Graph, weights: dict[str, np.ndarray], p: str, x: str, c: _LayerConstants, eps: float
) -> str:
    """Add one encoder layer (prefix ``p``): self-attention, then the feed-forward block."""

    def proj(t: str, name: str) -> str:
        return g.linear(t, weights[p + name + ".weight"], weights[p + name + ".bias"], p + name)

    def split(t: str, perm: list[int]) -> str:
        return g.op("Transpose", g.op("Reshape", t, c.split_shape), perm=perm)

    q = split(proj(x, "attention.self.query"), [0, 2, 1, 3])  # (b, h, l, d)
    k = split(proj(x, "attention.self.key"), [0, 2, 3, 1])  # (b, h, d, l)
    v = split(proj(x, "attention.self.value"), [0, 2, 1, 3])  # (b, h, l, d)
    scores = g.op("Add", g.op("Mul", g.op("MatMul", q, k), c.scale), c.mask_bias)
    probs = g.op("Softmax", scores, axis=-1)
    ctx = g.op("Transpose", g.op("MatMul", probs, v), perm=[0, 2, 1, 3])
    ctx = g.op("Reshape", ctx, c.merge_shape)
    x = g.layer_norm(
        g.op("Add", proj(ctx, "attention.output.dense"), x),
        weights,
        p + "attention.output.LayerNorm",
        eps,
    )
    inner = proj(x, "intermediate.dense")
    # Exact GELU: 0.5 * x * (1 + erf(x / sqrt 2)).
    gelu = g.op(
        "Mul",
        g.op("Mul", inner, g.op("Add", g.op("Erf", g.op("Div", inner, c.sqrt2)), c.one_f)),
        c.half,
    )
    return g.layer_norm(
        g.op("Add", proj(gelu, "output.dense"), x), weights, p + "output.LayerNorm", eps
    )


def _mean_pooling(g: _Graph, x: str, mask_f: str) -> str:
    """Average the hidden states over real tokens (padding weighs nothing)."""
    mask_3d = g.op("Unsqueeze", mask_f, g.const("axis_2", np.array([2], np.int64)))
    axis_1 = g.const("axis_1", np.array([1], np.int64))
    summed = g.op("ReduceSum", g.op("Mul", x, mask_3d), axis_1, keepdims=0)
    counts = g.op("ReduceSum", mask_3d, axis_1, keepdims=0)
    counts = g.op("Max", counts, g.const("min_count", np.array(1e-9, np.float32)))
    return g.op("Div", summed, counts)


def _model(g: _Graph, pooled: str, hidden: int):
    """Wrap the nodes into a model with typed inputs and the ``pooled`` output."""
    from onnx import TensorProto

    h = g.helper
    g.nodes.append(h.make_node("Identity", [pooled], [POOLED]))
    graph = h.make_graph(
        g.nodes,
        "minilm_encoder",
        inputs=[
            h.make_tensor_value_info(INPUT_IDS, TensorProto.INT64, ["batch", "length"]),
            h.make_tensor_value_info(ATTENTION_MASK, TensorProto.INT64, ["batch", "length"]),
        ],
        outputs=[h.make_tensor_value_info(POOLED, TensorProto.FLOAT, ["batch", hidden])],
        initializer=g.initializers,
    )
    return h.make_model(
        graph,
        opset_imports=[h.make_opsetid("", OPSET)],
        producer_name="groundwork",
        ir_version=IR_VERSION,
    )


def make_session(model_bytes: bytes, threads: int):
    """Open an onnxruntime CPU session on serialized model bytes."""
    import onnxruntime as ort

    options = ort.SessionOptions()
    options.intra_op_num_threads = threads
    options.inter_op_num_threads = 1
    options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
    options.log_severity_level = 3  # errors only: no optimiser chatter on stderr
    return ort.InferenceSession(model_bytes, options, providers=["CPUExecutionProvider"])

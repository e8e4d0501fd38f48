"""The prompt-injection detector: the fitted model, how it scores questions and passages, and
the shipped model file.

A logistic regression over :func:`rag.guardrails.injection_features.feature_matrix` rows
(MiniLM embedding, multilingual cue counts, hashed character n-grams), fitted on user-input
style rows by :mod:`rag.guardrails.injection_fit`. Questions are scored whole against
:attr:`InjectionModel.threshold`. Document passages are a different job: a passage is scored
only when it carries an instruction-to-an-AI cue, by its one most suspicious cued sentence
window, against its own :attr:`InjectionModel.passage_threshold` (chosen so that false alarms
on real documents stay rare, since each one holds real content back). The shipped model
(:data:`MODEL_PATH`) is what ``refit`` produces; it records its training files' sha256, both
thresholds and the figures they were chosen on.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from rag.guardrails.injection_features import (
    CUE_NAMES,
    NGRAM_DIM,
    Encoder,
    cue_matrix,
    feature_matrix,
    gate_cued,
    passage_windows,
    window_cued,
)

MODEL_PATH = Path(__file__).with_name("injection_model.json")
FORMAT = "groundwork-injection/2"
# Passage windows scored with the encoder per cued passage, chosen by their cue score: bounds
# ingestion cost. Only windows carrying an instruction-to-an-AI cue (``window_cued``) are scored; a
# passage with none scores 0. Documents are full of benign imperatives and of text unlike any
# training question (code, tables, other languages) where the embedding alone is unreliable.
ENCODED_WINDOWS = 1


@dataclass
class InjectionModel:
    """A fitted injection detector: standardised features -> logistic score in 0..1."""

    threshold: float  # for questions (chosen by cross-validation)
    weights: np.ndarray  # one per feature: embedding dims, cues, n-gram buckets
    bias: float
    mean: np.ndarray  # feature standardisation, fitted with the weights
    scale: np.ndarray
    meta: dict[str, Any] = field(default_factory=dict)  # training file sha256, CV figures
    passage_threshold: float | None = None  # for document passages (None: ``threshold``)
    encode: Encoder | None = field(default=None, repr=False, compare=False)

    def _logits(self, features: np.ndarray) -> np.ndarray:
        return ((features - self.mean) / self.scale) @ self.weights + self.bias

    def score(self, texts: Sequence[str]) -> list[float]:
        """Score each text (a question) whole: probability-like, 0..1."""
        if not texts:
            return []
        return _sigmoid(self._logits(feature_matrix(list(texts), self.encode))).tolist()

    def score_passages(self, texts: Sequence[str]) -> list[tuple[float, str]]:
        """Score each document passage by its most suspicious sentence window.

        Returns ``(score, window)`` per passage, ``(0.0, "")`` when it carries no
        instruction-to-an-AI cue (one regex pass: most passages stop there). A cued passage's
        windows are cue-counted and its :data:`ENCODED_WINDOWS` most suspicious cued windows
        scored in full, all passages in one encoder batch. Compare with
        :attr:`passage_threshold`.
        """
        chosen = [self._shortlist(passage_windows(t)) if gate_cued(t) else [] for t in texts]
        flat = [w for windows in chosen for w in windows]
        scores = self.score(flat) if flat else []
        out: list[tuple[float, str]] = []
        start = 0
        for windows in chosen:
            part = scores[start : start + len(windows)]
            start += len(windows)
            if not part:
                out.append((0.0, ""))
                continue
            best = int(np.argmax(part))
            out.append((float(part[best]), windows[best]))
        return out

    def _shortlist(self, windows: list[str]) -> list[str]:
        """The cued windows whose cues alone look most like an injection (kept in order)."""
        if not windows:
            return []
        cues = slice(-NGRAM_DIM - len(CUE_NAMES) - 1, -NGRAM_DIM)
        counts = cue_matrix(windows)
        cue_logit = ((counts - self.mean[cues]) / self.scale[cues]) @ self.weights[cues]
        cued = [i for i in range(len(windows)) if window_cued(counts[i])]
        order = sorted(cued, key=lambda i: (-cue_logit[i], i))
        return [windows[i] for i in sorted(order[:ENCODED_WINDOWS])]

    def save(self, path: Path) -> None:
        """Write the model as JSON (rounded, so a refit on the same data rewrites it byte-equal)."""
        doc = {
            "format": FORMAT,
            "threshold": _rounded([self.threshold])[0],
            "passage_threshold": None
            if self.passage_threshold is None
            else _rounded([self.passage_threshold])[0],
            "ngram_dim": NGRAM_DIM,
            "bias": _rounded([self.bias])[0],
            "weights": _rounded(self.weights),
            "mean": _rounded(self.mean),
            "scale": _rounded(self.scale),
            "cues": list(CUE_NAMES),
            "meta": self.meta,
        }
        Path(path).write_text(json.dumps(doc, indent=1, sort_keys=True) + "\n")

    @classmethod
    def load(cls, path: Path) -> InjectionModel:
        """Read a model written by :meth:`save`."""
        doc = json.loads(Path(path).read_text())
        if (
            doc.get("format") != FORMAT
            or doc.get("cues") != list(CUE_NAMES)
            or doc.get("ngram_dim") != NGRAM_DIM
        ):
            raise ValueError(f"{path} is not a {FORMAT} model with this version's cue features.")
        return cls(
            threshold=float(doc["threshold"]),
            weights=np.array(doc["weights"], dtype=np.float64),
            bias=float(doc["bias"]),
            mean=np.array(doc["mean"], dtype=np.float64),
            scale=np.array(doc["scale"], dtype=np.float64),
            meta=doc.get("meta", {}),
            passage_threshold=doc.get("passage_threshold"),
        )


def _sigmoid(z: np.ndarray) -> np.ndarray:
    return 1.0 / (1.0 + np.exp(-np.clip(z, -40, 40)))


def _rounded(values: np.ndarray) -> list[float]:
    # 7 significant digits: far below what moves a score, stable against float noise between
    # runs, and never rounds a small scale to zero.
    return [float(f"{float(v):.7g}") for v in values]


_LOCK = threading.Lock()
_SHIPPED: list[InjectionModel] = []


def injection_model() -> InjectionModel:
    """The shipped model, loaded once per process (thread-safe)."""
    with _LOCK:
        if not _SHIPPED:
            _SHIPPED.append(InjectionModel.load(MODEL_PATH))
        return _SHIPPED[0]

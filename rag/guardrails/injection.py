"""The prompt-injection detector: the fitted model, how it scores questions and passages, and
the shipped model file.

A logistic regression over :func:`rag.guardrails.injection_features.feature_matrix` rows
(MiniLM embedding + multilingual cue counts), fitted by :mod:`rag.guardrails.injection_fit`.
Questions are scored whole; document passages by their most suspicious sentence window. The
shipped model (:data:`MODEL_PATH`) is what ``refit`` produces from the training file, whose
sha256 and the cross-validated threshold it records.
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
    Encoder,
    cue_matrix,
    feature_matrix,
    passage_windows,
)

MODEL_PATH = Path(__file__).with_name("injection_model.json")
FORMAT = "groundwork-injection/1"
# Passage windows re-scored with the encoder, chosen by their cue score: bounds ingestion cost.
ENCODED_WINDOWS = 2
# Only passage windows carrying an instruction cue are scored; a passage with none scores 0.
# Documents are full of benign imperatives and of text unlike any training question (code,
# tables, other languages) where the embedding alone is unreliable, a false alarm quarantines
# real content, and skipping uncued windows keeps ingestion fast.


@dataclass
class InjectionModel:
    """A fitted injection detector: standardised features -> logistic score in 0..1."""

    threshold: float  # default decision threshold (chosen by cross-validation)
    weights: np.ndarray  # one per feature: embedding dims, then cues
    bias: float
    mean: np.ndarray  # feature standardisation, fitted with the weights
    scale: np.ndarray
    meta: dict[str, Any] = field(default_factory=dict)  # training file sha256, CV figures
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

        Returns ``(score, window)`` per passage, ``(0.0, "")`` when no window carries an
        instruction cue. Every window's cues are counted; the :data:`ENCODED_WINDOWS` most
        suspicious cued windows of each passage are then scored in full, in one encoder batch.
        """
        per_passage = [passage_windows(t) for t in texts]
        chosen = [self._shortlist(windows) for windows in per_passage]
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
        n_cues = len(CUE_NAMES) + 1
        counts = cue_matrix(windows)
        cue_logit = ((counts - self.mean[-n_cues:]) / self.scale[-n_cues:]) @ self.weights[-n_cues:]
        cued = [i for i in range(len(windows)) if counts[i, -1] > 0]  # last column: families
        order = sorted(cued, key=lambda i: (-cue_logit[i], i))
        return [windows[i] for i in sorted(order[:ENCODED_WINDOWS])]

    def save(self, path: Path) -> None:
        """Write the model as JSON (rounded, so a refit on the same data rewrites it byte-equal)."""
        doc = {
            "format": FORMAT,
            "threshold": _rounded([self.threshold])[0],
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
        if doc.get("format") != FORMAT or doc.get("cues") != list(CUE_NAMES):
            raise ValueError(f"{path} is not a {FORMAT} model with this version's cue features.")
        return cls(
            threshold=float(doc["threshold"]),
            weights=np.array(doc["weights"], dtype=np.float64),
            bias=float(doc["bias"]),
            mean=np.array(doc["mean"], dtype=np.float64),
            scale=np.array(doc["scale"], dtype=np.float64),
            meta=doc.get("meta", {}),
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

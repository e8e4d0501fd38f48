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
ENCODED_WINDOWS = 6
# A passage window with no instruction cue at all has its score scaled by this: documents are
# full of benign imperatives and of text unlike any training question (code, tables, German
# prose), where the embedding alone is unreliable, and a false alarm quarantines real content.
UNCUED_FACTOR = 0.5


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

        Returns ``(score, window)`` per passage. Every window's cue score is computed; the
        :data:`ENCODED_WINDOWS` most suspicious of each passage are then scored in full, in
        one encoder batch for all passages.
        """
        per_passage = [passage_windows(t) for t in texts]
        chosen = [self._shortlist(windows) for windows in per_passage]
        flat = [w for windows in chosen for w in windows]
        scores = self._window_scores(flat) if flat else []
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

    def _window_scores(self, windows: list[str]) -> list[float]:
        features = feature_matrix(windows, self.encode)
        scores = _sigmoid(self._logits(features))
        cued = features[:, -1] > 0  # the last cue column counts the cue families present
        return np.where(cued, scores, scores * UNCUED_FACTOR).tolist()

    def _shortlist(self, windows: list[str]) -> list[str]:
        """The windows whose cues alone look most like an injection (stable by position)."""
        if len(windows) <= ENCODED_WINDOWS:
            return windows
        n_cues = len(CUE_NAMES) + 1
        cues = (cue_matrix(windows) - self.mean[-n_cues:]) / self.scale[-n_cues:]
        cue_logit = cues @ self.weights[-n_cues:]
        order = sorted(range(len(windows)), key=lambda i: (-cue_logit[i], i))
        return [windows[i] for i in sorted(order[:ENCODED_WINDOWS])]

    def save(self, path: Path) -> None:
        """Write the model as JSON (rounded, so a refit on the same data rewrites it byte-equal)."""
        doc = {
            "format": FORMAT,
            "threshold": round(float(self.threshold), 6),
            "bias": round(float(self.bias), 6),
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
    # 6 decimals: far below what moves a score, and stable against float noise between runs.
    return [round(float(v), 6) for v in values]


_LOCK = threading.Lock()
_SHIPPED: list[InjectionModel] = []


def injection_model() -> InjectionModel:
    """The shipped model, loaded once per process (thread-safe)."""
    with _LOCK:
        if not _SHIPPED:
            _SHIPPED.append(InjectionModel.load(MODEL_PATH))
        return _SHIPPED[0]

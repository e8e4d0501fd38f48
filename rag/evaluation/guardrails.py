"""Scoring the guardrails on labelled files: injection detection, and the formats it reads.

An injection file is JSON Lines, one ``{"text": ..., "label": 0|1}`` per line (1 = injection);
a PII file is Presidio's evaluation format (scored by :mod:`rag.guardrails.pii_eval`). Scores
come either from the shipped detector (a file it never saw) or cross-validated (the detector
refitted on the other folds of the same file, for a file used to develop it).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from rag.guardrails.injection_features import gate_cued
from rag.guardrails.injection_fit import detection_metrics, sweep

SWEEP = (0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9, 0.95)


def injection_report(
    scores: Sequence[float],
    labels: Sequence[int],
    threshold: float,
    thresholds: Sequence[float] = SWEEP,
) -> dict[str, Any]:
    """The figures at ``threshold``, a sweep of other thresholds, and the ROC AUC."""
    return {
        "cases": len(labels),
        "injections": sum(labels),
        "threshold": threshold,
        "at_threshold": detection_metrics(scores, labels, threshold),
        "sweep": [
            {"threshold": t, **m}
            for t, m in sweep(scores, labels, sorted({*thresholds, threshold}))
        ],
        "auc": roc_auc(scores, labels),
    }


def roc_auc(scores: Sequence[float], labels: Sequence[int]) -> float | None:
    """Probability that an injection scores above a benign text (ties count half)."""
    values, truth = np.asarray(scores, dtype=float), np.asarray(labels) == 1
    positives, negatives = int(truth.sum()), int((~truth).sum())
    if not positives or not negatives:
        return None
    order = np.argsort(values, kind="mergesort")
    ranks = np.empty(len(values))
    ranks[order] = np.arange(1, len(values) + 1)
    for value in np.unique(values):  # ties share their average rank
        same = values == value
        ranks[same] = ranks[same].mean()
    wins = ranks[truth].sum() - positives * (positives + 1) / 2
    return float(wins / (positives * negatives))


def keyword_baseline(texts: Sequence[str], labels: Sequence[int]) -> dict[str, Any]:
    """The naive detector, scored in the same run: flag a text when its words alone say so.

    A hand-written rule: one strong cue (overriding earlier instructions, addressing the AI,
    fake system markup, in English, German, French or Spanish) or two weaker ones. No
    embedding, no fitted weight.
    """
    flagged = [float(gate_cued(text)) for text in texts]
    return detection_metrics(flagged, labels, 1.0)

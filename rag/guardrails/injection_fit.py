"""Fitting the injection detector: logistic regression in NumPy, cross-validation, the
threshold choice, detection metrics, and the refit that rewrites the shipped model.

Training questions alone teach a model that anything phrased as a statement or a command is
an injection, which would quarantine most real documents. So every fit adds document text as
negatives: the sentence windows of benign passages (by default :data:`BENIGN_PATH`, public
domain staff-handbook passages full of legitimate imperatives), and, as positives, short
training injections planted next to one of their sentences. Cross-validation keeps each
training row, the plants made from it, and each benign passage's windows in one fold.

The regression is L2-penalised and class-balanced, solved by Newton's method (a few hundred
features, so the Hessian is small); it is deterministic, so a refit on the same training file
rewrites the same model file. The default threshold comes from out-of-fold scores only.
"""

from __future__ import annotations

import hashlib
import json
import random
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from rag.guardrails.injection import MODEL_PATH, InjectionModel
from rag.guardrails.injection_features import (
    CUE_NAMES,
    Encoder,
    feature_matrix,
    passage_windows,
)
from rag.text.sentences import split_sentences

L2 = 30.0  # penalty on standardised embedding weights; chosen by cross-validation on train
CUE_L2 = 1.0  # cue weights are few and meant to carry weight: penalised lightly
TARGET_FPR = 0.05  # the default threshold keeps out-of-fold false alarms at or below this
NEWTON_STEPS = 50
BENIGN_PATH = Path(__file__).with_name("injection_benign.jsonl")
PLANT_MAX_CHARS = 400  # training injections short enough to plant into a benign passage


def read_benign(path: Path = BENIGN_PATH) -> list[str]:
    """Read benign document passages (``{"source", "text"}`` JSONL)."""
    lines = Path(path).read_text(encoding="utf-8").splitlines()
    return [json.loads(line)["text"] for line in lines if line.strip()]


def _augment(
    texts: list[str], labels: list[int], benign: Sequence[str]
) -> tuple[list[str], np.ndarray, np.ndarray]:
    """Add benign windows (label 0) and planted injections (label 1); return rows and groups.

    A row's group is the index of the training text it came from, or ``len(texts) + j`` for
    the windows of benign passage ``j``.
    """
    rows, y, groups = list(texts), list(labels), list(range(len(texts)))
    for j, passage in enumerate(benign):
        windows = passage_windows(passage)
        rows += windows
        y += [0] * len(windows)
        groups += [len(texts) + j] * len(windows)
    sentences = [s for p in benign for s in split_sentences(p) if 30 < len(s) < 300]
    rng = random.Random(0)
    for i, (text, label) in enumerate(zip(texts, labels, strict=True)):
        if label == 1 and len(text) < PLANT_MAX_CHARS and sentences:
            host = rng.choice(sentences)
            rows.append(f"{host} {text}" if rng.random() < 0.5 else f"{text} {host}")
            y.append(1)
            groups.append(i)
    return rows, np.asarray(y, dtype=np.float64), np.asarray(groups)


def fit_injection(
    texts: Sequence[str],
    labels: Sequence[int],
    encode: Encoder | None = None,
    benign: Sequence[str] | None = None,
) -> InjectionModel:
    """Fit a detector on ``texts`` (label 1 = injection); threshold from cross-validation.

    ``benign``: document passages added as negatives (default: the shipped handbook passages).
    """
    model, _ = _fit_with_oof(list(texts), [int(v) for v in labels], encode, benign)
    return model


def _fit_with_oof(
    texts: list[str], labels: list[int], encode: Encoder | None, benign: Sequence[str] | None
) -> tuple[InjectionModel, np.ndarray]:
    rows, y, groups = _augment(texts, labels, read_benign() if benign is None else benign)
    features = feature_matrix(rows, encode)
    oof = _oof_scores(features, y, groups, len(texts), folds=5, seed=0)
    model = _fit_rows(features, y)
    model.threshold = choose_threshold(oof[: len(texts)], labels)
    model.encode = encode
    return model, oof


def cross_validate(
    texts: Sequence[str],
    labels: Sequence[int],
    folds: int = 5,
    seed: int = 0,
    encode: Encoder | None = None,
    benign: Sequence[str] | None = None,
) -> list[float]:
    """Return out-of-fold scores of ``texts``: each scored by a model fitted without its fold."""
    texts, labels = list(texts), [int(v) for v in labels]
    rows, y, groups = _augment(texts, labels, read_benign() if benign is None else benign)
    features = feature_matrix(rows, encode)
    return _oof_scores(features, y, groups, len(texts), folds, seed)[: len(texts)].tolist()


def _oof_scores(
    features: np.ndarray, y: np.ndarray, groups: np.ndarray, n_texts: int, folds: int, seed: int
) -> np.ndarray:
    """Score every row by a model fitted on the other folds (folds drawn over groups)."""
    text_fold = _stratified_folds(y[:n_texts], folds, seed)
    # Training texts keep their stratified fold; benign passages go round-robin.
    fold_of = np.where(groups < n_texts, text_fold[np.minimum(groups, n_texts - 1)], 0)
    fold_of = np.where(groups >= n_texts, (groups - n_texts) % folds, fold_of)
    scores = np.zeros(len(y))
    for k in range(folds):
        test = fold_of == k
        model = _fit_rows(features[~test], y[~test])
        scores[test] = 1.0 / (1.0 + np.exp(-model._logits(features[test])))
    return scores


def _stratified_folds(y: np.ndarray, folds: int, seed: int) -> np.ndarray:
    """Assign each row a fold, each class spread evenly over the folds."""
    rng = np.random.default_rng(seed)
    fold_of = np.zeros(len(y), dtype=int)
    for label in np.unique(y):
        idx = np.flatnonzero(y == label)
        rng.shuffle(idx)
        fold_of[idx] = np.arange(len(idx)) % folds
    return fold_of


def _fit_rows(
    features: np.ndarray, y: np.ndarray, l2: float = L2, cue_l2: float = CUE_L2
) -> InjectionModel:
    """Fit standardisation and a class-balanced L2 logistic regression on feature rows."""
    mean = features.mean(0)
    # A near-constant column (one MiniLM dimension barely varies) must not blow up its z-score.
    scale = np.maximum(features.std(0), 1e-3)
    x = np.hstack([(features - mean) / scale, np.ones((len(y), 1))])
    pos = max(1.0, y.sum())
    neg = max(1.0, len(y) - y.sum())
    sample_w = np.where(y == 1, len(y) / (2 * pos), len(y) / (2 * neg))
    penalty = np.full(x.shape[1], l2)
    penalty[-1 - len(CUE_NAMES) - 1 : -1] = cue_l2
    penalty[-1] = 0.0  # the bias is not shrunk
    w = np.zeros(x.shape[1])
    for _ in range(NEWTON_STEPS):
        p = 1.0 / (1.0 + np.exp(-np.clip(x @ w, -40, 40)))
        grad = x.T @ (sample_w * (p - y)) + penalty * w
        hess = (x * (sample_w * p * (1 - p))[:, None]).T @ x + np.diag(penalty + 1e-9)
        step = np.linalg.solve(hess, grad)
        w -= step
        if np.abs(step).max() < 1e-8:
            break
    return InjectionModel(threshold=0.5, weights=w[:-1], bias=float(w[-1]), mean=mean, scale=scale)


def choose_threshold(
    scores: Sequence[float], labels: Sequence[int], fpr: float = TARGET_FPR
) -> float:
    """Return the lowest threshold whose false-alarm rate on ``scores`` is at most ``fpr``."""
    s = np.asarray(scores, dtype=np.float64)
    y = np.asarray(labels)
    negatives = np.sort(s[y == 0])[::-1]
    allowed = int(np.floor(fpr * len(negatives)))  # negatives that may score at or above
    if len(negatives) == 0:
        return 0.5
    if allowed >= len(negatives):
        return float(negatives[-1])
    # Halfway to the next higher score: survives rounding when the model file is written.
    floor = negatives[allowed]
    above = s[s > floor]
    return float((floor + above.min()) / 2) if len(above) else float(np.nextafter(floor, 2.0))


def detection_metrics(
    scores: Sequence[float], labels: Sequence[int], threshold: float
) -> dict[str, float]:
    """TPR, FPR, precision and F1 (plus counts) of ``score >= threshold``."""
    s = np.asarray(scores, dtype=np.float64)
    y = np.asarray(labels)
    flagged = s >= threshold
    tp = int((flagged & (y == 1)).sum())
    fp = int((flagged & (y == 0)).sum())
    fn = int((~flagged & (y == 1)).sum())
    tn = int((~flagged & (y == 0)).sum())
    tpr = tp / (tp + fn) if tp + fn else 0.0
    precision = tp / (tp + fp) if tp + fp else 0.0
    return {
        "tpr": tpr,
        "fpr": fp / (fp + tn) if fp + tn else 0.0,
        "precision": precision,
        "f1": 2 * precision * tpr / (precision + tpr) if precision + tpr else 0.0,
        "tp": tp,
        "fp": fp,
        "fn": fn,
        "tn": tn,
    }


def sweep(
    scores: Sequence[float], labels: Sequence[int], thresholds: Sequence[float] | None = None
) -> list[tuple[float, dict[str, float]]]:
    """Detection metrics at each threshold (default 0.1 .. 0.9)."""
    grid = thresholds if thresholds is not None else [round(0.1 * i, 1) for i in range(1, 10)]
    return [(t, detection_metrics(scores, labels, t)) for t in grid]


def read_labelled(path: Path) -> tuple[list[str], list[int]]:
    """Read a ``{"text", "label"}`` JSONL file (label 1 = injection)."""
    texts: list[str] = []
    labels: list[int] = []
    for line in Path(path).read_text(encoding="utf-8").splitlines():
        if line.strip():
            row = json.loads(line)
            texts.append(str(row["text"]))
            labels.append(int(row["label"]))
    return texts, labels


def refit(
    train_path: Path,
    out: Path = MODEL_PATH,
    encode: Encoder | None = None,
    benign_path: Path = BENIGN_PATH,
) -> InjectionModel:
    """Refit the detector on ``train_path`` (+ benign passages) and write it to ``out``."""
    texts, labels = read_labelled(train_path)
    model, oof = _fit_with_oof(texts, labels, encode, read_benign(benign_path))
    at = detection_metrics(oof[: len(texts)], labels, model.threshold)
    model.meta = {
        "train_file": Path(train_path).name,
        "train_sha256": _sha256(train_path),
        "train_rows": len(labels),
        "benign_file": Path(benign_path).name,
        "benign_sha256": _sha256(benign_path),
        "l2": L2,
        "cue_l2": CUE_L2,
        "target_fpr": TARGET_FPR,
        "cv": {k: round(v, 4) for k, v in at.items()},
    }
    model.save(out)
    return InjectionModel.load(out)


def _sha256(path: Path) -> str:
    return hashlib.sha256(Path(path).read_bytes()).hexdigest()

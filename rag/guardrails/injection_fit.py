"""Fitting the injection detector: logistic regression in NumPy, cross-validation, the
two threshold choices, detection metrics, and the refit that rewrites the shipped model.

The weights are fitted on the training file's rows (user inputs: questions and injections)
plus a few sentences of each benign document passage (by default :data:`BENIGN_PATH`, public
domain staff-handbook passages) as extra negatives: questions alone teach that any statement
or command is an injection, which flags real staff questions. The question threshold comes
from out-of-fold scores of the training rows (benign sentences are in every fold's fit, never
scored); the passage threshold from the benign passages, at most :data:`PASSAGE_FPR` of them
flagged, and never below the question threshold.

The regression is L2-penalised per block (embedding, cues, n-grams) and class-balanced,
solved by Newton's method with Woodbury steps (rows are far fewer than the ~2,400 columns); it
is deterministic, so a refit on the same files rewrites the same model file.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from rag.guardrails.injection import MODEL_PATH, InjectionModel
from rag.guardrails.injection_features import (
    CUE_NAMES,
    NGRAM_DIM,
    Encoder,
    feature_matrix,
)
from rag.guardrails.labelled import load_injection_cases
from rag.text.sentences import split_sentences

L2 = 30.0  # penalty on standardised embedding weights; chosen by cross-validation on train
CUE_L2 = 1.0  # cue weights are few and meant to carry weight: penalised lightly
NGRAM_L2 = 0.1  # n-gram rows are unit vectors: small values, so a small penalty
BIAS_L2 = 1e-3  # next to nothing (a zero would break the Woodbury step)
TARGET_FPR = 0.05  # the default threshold keeps out-of-fold false alarms at or below this
NEWTON_STEPS = 50
BENIGN_PATH = Path(__file__).with_name("injection_benign.jsonl")
# Passage false alarms allowed on the benign passages: each one holds real content back.
PASSAGE_FPR = 0.005
SENTENCES_PER = 8  # benign sentences taken per passage (bounds the fit's size)
MIN_SENTENCE, MAX_SENTENCE = 20, 400  # characters


def read_benign(path: Path = BENIGN_PATH) -> list[str]:
    """Read benign document passages (``{"source", "text"}`` JSONL)."""
    lines = Path(path).read_text(encoding="utf-8").splitlines()
    return [json.loads(line)["text"] for line in lines if line.strip()]


def fit_injection(
    texts: Sequence[str],
    labels: Sequence[int],
    encode: Encoder | None = None,
    benign: Sequence[str] | None = None,
) -> InjectionModel:
    """Fit a detector on ``texts`` (label 1 = injection); thresholds chosen out of sample.

    The question threshold comes from out-of-fold scores of ``texts``; the passage threshold
    from ``benign`` document passages (default: the shipped handbook passages), none of which
    the weights saw.
    """
    model, _ = _fit_with_oof(list(texts), [int(v) for v in labels], encode, benign)
    return model


def _fit_with_oof(
    texts: list[str], labels: list[int], encode: Encoder | None, benign: Sequence[str] | None
) -> tuple[InjectionModel, np.ndarray]:
    passages = read_benign() if benign is None else list(benign)
    features = feature_matrix(texts, encode)
    extra = feature_matrix(benign_sentences(passages), encode)
    y = np.asarray(labels, dtype=np.float64)
    model = _fit_rows(np.vstack([features, extra]), np.concatenate([y, np.zeros(len(extra))]))
    model.encode = encode
    oof = _oof_scores(features, labels, folds=5, seed=0, extra=extra)
    model.threshold = choose_threshold(oof, labels)
    model.passage_threshold = choose_passage_threshold(model, passages)
    return model, oof


def benign_sentences(passages: Sequence[str]) -> list[str]:
    """The sentences of benign passages used as extra negatives (a few per passage).

    Questions alone teach that any statement or command is an injection; document sentences,
    full of legitimate imperatives, teach otherwise, and keep real staff questions unflagged.
    """
    out: list[str] = []
    for passage in passages:
        sentences = [s.strip() for s in split_sentences(passage)]
        out += [s for s in sentences if MIN_SENTENCE <= len(s) <= MAX_SENTENCE][:SENTENCES_PER]
    return out


def choose_passage_threshold(model: InjectionModel, passages: Sequence[str]) -> float:
    """Return the passage threshold: false alarms on ``passages`` at most :data:`PASSAGE_FPR`.

    Never below the question threshold: a passage must look at least as much like an
    injection as a flagged question does.
    """
    scores = [score for score, _ in model.score_passages(list(passages))]
    if not scores:
        return model.threshold
    chosen = choose_threshold(scores, [0] * len(scores), fpr=PASSAGE_FPR)
    return max(model.threshold, chosen)


def cross_validate(
    texts: Sequence[str],
    labels: Sequence[int],
    folds: int = 5,
    seed: int = 0,
    encode: Encoder | None = None,
    benign: Sequence[str] | None = None,
) -> list[float]:
    """Return out-of-fold scores of ``texts``: each scored by a model fitted without its fold.

    ``benign``: document passages whose sentences are extra negatives (default: the shipped).
    """
    features, extra = _features(texts, encode, benign)
    return _oof_scores(features, [int(v) for v in labels], folds, seed, extra).tolist()


def _features(
    texts: Sequence[str], encode: Encoder | None, benign: Sequence[str] | None
) -> tuple[np.ndarray, np.ndarray]:
    """Feature rows of ``texts`` and of the benign sentences (default: the shipped passages)."""
    passages = read_benign() if benign is None else list(benign)
    return feature_matrix(list(texts), encode), feature_matrix(benign_sentences(passages), encode)


def nested_cross_validate(
    texts: Sequence[str],
    labels: Sequence[int],
    folds: int = 5,
    seed: int = 0,
    encode: Encoder | None = None,
    benign: Sequence[str] | None = None,
) -> tuple[list[float], list[float]]:
    """Out-of-fold scores, each with a threshold chosen without its fold (nested).

    For each fold the threshold is chosen, as the shipped one is, on out-of-fold scores of the
    other folds alone; the fold's rows are then judged at it. Figures at these thresholds are
    cross-validated for the threshold as well as the weights. ``benign``: the document passages
    whose sentences are extra negatives (default: the shipped ones).
    """
    features, extra = _features(texts, encode, benign)
    y = np.asarray([int(v) for v in labels])
    fold_of = _stratified_folds(y.astype(np.float64), folds, seed)
    scores, thresholds = np.zeros(len(y)), np.zeros(len(y))
    for k in range(folds):
        test = fold_of == k
        inner = _oof_scores(features[~test], y[~test].tolist(), folds, seed, extra)
        thresholds[test] = choose_threshold(inner, y[~test])
        model = _fit_rows(
            np.vstack([features[~test], extra]),
            np.concatenate([y[~test].astype(np.float64), np.zeros(len(extra))]),
        )
        scores[test] = 1.0 / (1.0 + np.exp(-model._logits(features[test])))
    return scores.tolist(), thresholds.tolist()


def _oof_scores(
    features: np.ndarray, labels: Sequence[int], folds: int, seed: int, extra: np.ndarray
) -> np.ndarray:
    """Score every row by a model fitted on the other (stratified) folds plus ``extra``.

    ``extra``: feature rows of benign document sentences, negatives in every fold's fit.
    """
    y = np.asarray(labels, dtype=np.float64)
    fold_of = _stratified_folds(y, folds, seed)
    scores = np.zeros(len(y))
    for k in range(folds):
        test = fold_of == k
        rows = np.vstack([features[~test], extra])
        model = _fit_rows(rows, np.concatenate([y[~test], np.zeros(len(extra))]))
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


def _blocks(n_features: int) -> tuple[slice, slice, slice]:
    """Column blocks of a feature row: embedding, cue counts, hashed n-grams."""
    n_cues = len(CUE_NAMES) + 1
    first_ngram = n_features - NGRAM_DIM
    return (
        slice(0, first_ngram - n_cues),
        slice(first_ngram - n_cues, first_ngram),
        slice(first_ngram, n_features),
    )


def _fit_rows(
    features: np.ndarray,
    y: np.ndarray,
    l2: float = L2,
    cue_l2: float = CUE_L2,
    ngram_l2: float = NGRAM_L2,
) -> InjectionModel:
    """Fit standardisation and a class-balanced L2 logistic regression on feature rows.

    Embedding and cue columns are standardised; the n-gram rows are unit vectors already, and
    z-scoring thousands of mostly-empty buckets would blow up rare ones.
    """
    emb, cues, grams = _blocks(features.shape[1])
    mean = features.mean(0)
    # A near-constant column (one MiniLM dimension barely varies) must not blow up its z-score.
    scale = np.maximum(features.std(0), 1e-3)
    mean[grams], scale[grams] = 0.0, 1.0
    x = np.hstack([(features - mean) / scale, np.ones((len(y), 1))])
    pos = max(1.0, y.sum())
    neg = max(1.0, len(y) - y.sum())
    sample_w = np.where(y == 1, len(y) / (2 * pos), len(y) / (2 * neg))
    penalty = np.empty(x.shape[1])
    penalty[emb], penalty[cues], penalty[grams] = l2, cue_l2, ngram_l2
    penalty[-1] = BIAS_L2
    w = _newton(x, y, sample_w, penalty)
    return InjectionModel(threshold=0.5, weights=w[:-1], bias=float(w[-1]), mean=mean, scale=scale)


def _newton(x: np.ndarray, y: np.ndarray, sample_w: np.ndarray, penalty: np.ndarray) -> np.ndarray:
    """Minimise the weighted, penalised logistic loss by Newton's method.

    Rows are far fewer than columns, so each step solves an (n x n) system (Woodbury) instead
    of the (d x d) Hessian: H^-1 g = A^-1 g - A^-1 X'D^.5 (I + D^.5 X A^-1 X'D^.5)^-1 D^.5 X A^-1 g
    with A the diagonal penalty and D the per-row curvature.
    """
    inv_a = 1.0 / penalty
    w = np.zeros(x.shape[1])
    for _ in range(NEWTON_STEPS):
        p = 1.0 / (1.0 + np.exp(-np.clip(x @ w, -40, 40)))
        grad = x.T @ (sample_w * (p - y)) + penalty * w
        root_d = np.sqrt(sample_w * p * (1 - p))
        xd = x * root_d[:, None]  # D^.5 X
        inner = np.eye(len(y)) + (xd * inv_a) @ xd.T
        a_grad = inv_a * grad
        step = a_grad - inv_a * (xd.T @ np.linalg.solve(inner, xd @ a_grad))
        w -= step
        if np.abs(step).max() < 1e-7:
            break
    return w


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


def refit(
    train_path: Path,
    out: Path = MODEL_PATH,
    encode: Encoder | None = None,
    benign_path: Path = BENIGN_PATH,
) -> InjectionModel:
    """Refit the detector on ``train_path`` (+ benign passages) and write it to ``out``."""
    texts, labels = load_injection_cases(train_path)
    benign = read_benign(benign_path)
    model, oof = _fit_with_oof(texts, labels, encode, benign)
    at = detection_metrics(oof, labels, model.threshold)
    passage_scores = [score for score, _ in model.score_passages(benign)]
    flagged = sum(score >= model.passage_threshold for score in passage_scores)
    model.meta = {
        "train_file": Path(train_path).name,
        "train_sha256": _sha256(train_path),
        "train_rows": len(labels),
        "benign_file": Path(benign_path).name,
        "benign_sha256": _sha256(benign_path),
        "benign_passages": len(benign),
        "l2": L2,
        "cue_l2": CUE_L2,
        "ngram_l2": NGRAM_L2,
        "target_fpr": TARGET_FPR,
        "passage_fpr": PASSAGE_FPR,
        "cv": {k: round(v, 4) for k, v in at.items()},
        "benign_passages_flagged": int(flagged),
    }
    model.save(out)
    return InjectionModel.load(out)


def _sha256(path: Path) -> str:
    return hashlib.sha256(Path(path).read_bytes()).hexdigest()

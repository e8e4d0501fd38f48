"""``python -m rag guard-eval`` and ``guard-fit``: the guardrails scored on labelled files.

``--injection FILE.jsonl`` scores every text both ways the product does: whole, as a question
is, and by its most suspicious sentence window, as a document passage is. ``--pii FILE.json``
scores the personal-data detector per entity type.
"""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from rag.config import Settings
from rag.errors import DatasetError


def run_guard_eval(args: argparse.Namespace, settings: Settings) -> int:
    """Score the injection detector and/or the PII detector on the files given."""
    if not args.injection and not args.pii:
        raise DatasetError("Give --injection FILE.jsonl and/or --pii FILE.json.")
    results: dict[str, Any] = {}
    if args.injection:
        results["injection"] = _injection(args, settings)
    if args.pii:
        results["pii"], baseline = _pii(args, settings)
        if baseline is not None:
            results["pii_patterns_only"] = baseline
    if args.out:
        from rag.cli.evaluate import write_json

        write_json(args.out, results)
    return 0


def _injection(args: argparse.Namespace, settings: Settings) -> dict[str, Any]:
    from rag.evaluation.guardrails import injection_report, keyword_baseline
    from rag.guardrails.guard import Guardrails
    from rag.guardrails.injection_fit import detection_metrics, nested_cross_validate
    from rag.guardrails.labelled import load_injection_cases

    texts, labels = load_injection_cases(args.injection)
    guard = Guardrails(settings)
    thresholds = {
        "question": guard.threshold if args.threshold is None else args.threshold,
        "passage": guard.passage_threshold if args.threshold is None else args.threshold,
    }
    if args.cv:  # a file the shipped detector was fitted on: refit on the other folds
        how = (
            f"{args.folds}-fold cross-validated: refitted without each fold, which is judged at "
            "a threshold chosen without it (nested)"
        )
        scores, fold_thresholds = nested_cross_validate(texts, labels, folds=args.folds)
        report = injection_report(scores, labels, thresholds["question"])
        if args.threshold is None:  # the figures at the thresholds each fold chose for itself
            flagged = [float(s >= t) for s, t in zip(scores, fold_thresholds, strict=True)]
            report["at_threshold"] = detection_metrics(flagged, labels, 1.0)
            report["threshold"] = sum(fold_thresholds) / len(fold_thresholds)
            report["nested"] = True
        reports = {"question": report}
    else:
        how = "the shipped detector"
        by_mode = {
            "question": guard.injection.score(texts),
            "passage": [score for score, _ in guard.injection.score_passages(texts)],
        }
        reports = {
            mode: injection_report(scores, labels, thresholds[mode])
            for mode, scores in by_mode.items()
        }
    reports["keyword_baseline"] = keyword_baseline(texts, labels)
    print(format_injection(args.injection, how, reports))
    return reports


def _pii(
    args: argparse.Namespace, settings: Settings
) -> tuple[dict[str, Any], dict[str, Any] | None]:
    """Score the configured PII detector; with spaCy, the patterns alone too (the baseline)."""
    from rag.guardrails.pii import pii_detector
    from rag.guardrails.pii_eval import format_scores, load_pii_cases, score_pii

    cases = load_pii_cases(args.pii)
    ner = settings.pii_ner and not args.patterns_only
    scores = score_pii(cases, pii_detector(ner=ner))
    kind = "patterns and spaCy NER" if ner else "patterns only"
    print(
        f"\nPII detection on {args.pii} ({len(cases)} texts; {kind}; a found span counts when "
        "it overlaps a labelled span of the same type)"
    )
    print(format_scores(scores))
    if not ner:
        return scores, None
    baseline = score_pii(cases, pii_detector(ner=False))
    print("\nbaseline, same texts: the pattern recognisers alone (no spaCy)")
    print(format_scores(baseline))
    return scores, baseline


def format_injection(path: Path, how: str, reports: dict[str, dict[str, Any]]) -> str:
    """The injection figures as a plain table: at the threshold, then the sweep."""
    first = next(iter(reports.values()))
    lines = [
        f"Prompt-injection detection on {path}: {first['cases']} texts, "
        f"{first['injections']} injections; {how}.",
    ]
    for mode, report in reports.items():
        if mode == "keyword_baseline":
            continue
        label = (
            "scored whole (as a question)"
            if mode == "question"
            else ("scored by the worst sentence window (as a document passage)")
        )
        m = report["at_threshold"]
        auc = report["auc"]
        at = "mean threshold chosen per fold" if report.get("nested") else "threshold"
        lines += [
            "",
            f"{label}: {at} {report['threshold']:.3f}, ROC AUC "
            f"{'–' if auc is None else f'{auc:.3f}'}",
            f"  TPR {m['tpr']:.3f}  FPR {m['fpr']:.3f}  precision {m['precision']:.3f}  "
            f"F1 {m['f1']:.3f}  (TP {m['tp']}, FP {m['fp']}, FN {m['fn']}, TN {m['tn']})",
            f"  {'threshold':>9} {'TPR':>6} {'FPR':>6} {'prec':>6} {'F1':>6}",
        ]
        lines += [
            f"  {row['threshold']:>9.3f} {row['tpr']:>6.3f} {row['fpr']:>6.3f} "
            f"{row['precision']:>6.3f} {row['f1']:>6.3f}"
            for row in report["sweep"]
        ]
    b = reports["keyword_baseline"]
    lines += [
        "",
        "baseline, same texts: a keyword rule (one strong cue or two weaker ones, no model)",
        f"  TPR {b['tpr']:.3f}  FPR {b['fpr']:.3f}  precision {b['precision']:.3f}  "
        f"F1 {b['f1']:.3f}  (TP {b['tp']}, FP {b['fp']}, FN {b['fn']}, TN {b['tn']})",
    ]
    return "\n".join(lines)


def run_guard_fit(args: argparse.Namespace, settings: Settings) -> int:
    """Refit the injection detector on a training file and write the model."""
    from rag.guardrails.injection import MODEL_PATH
    from rag.guardrails.injection_fit import refit

    out = args.out or MODEL_PATH
    model = refit(args.train, out)
    cv = model.meta.get("cv", {})
    print(
        f"Fitted on {args.train} ({model.meta.get('train_rows')} texts); threshold "
        f"{model.threshold:.4f} (chosen on out-of-fold scores for FPR ≤ "
        f"{model.meta.get('target_fpr')}: TPR {cv.get('tpr')}, FPR {cv.get('fpr')}). "
        f"Written to {out}."
    )
    return 0

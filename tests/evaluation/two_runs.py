"""Two real runs of the same golden set for comparison tests: the shipped samples, then the same
folder after the travel policy went missing (a real regression, case by case)."""

from __future__ import annotations

import shutil
from pathlib import Path

from rag.config import Settings
from rag.evaluation.evaluate import evaluate
from rag.evaluation.golden import load_dataset
from rag.evaluation.runs import EvalRun

REPO = Path(__file__).resolve().parents[2]
SAMPLES_SET = REPO / "evals" / "samples.jsonl"
SAMPLES_DIR = REPO / "rag" / "samples"


def good_and_worse(
    root: Path, minilm, same_folder: bool = False
) -> tuple[Settings, EvalRun, EvalRun]:
    """Retrieval-only runs on the samples and on a copy without ``travel-policy.md``.

    ``same_folder`` records the second run under the first one's folder, as when a document
    went missing from it (so both belong to one series of runs).
    """
    settings = Settings(data_dir=root / "data")
    worse = root / "docs"
    shutil.copytree(SAMPLES_DIR, worse)
    (worse / "travel-policy.md").unlink()
    cases = load_dataset(SAMPLES_SET)
    kwargs = {"retrieval_only": True, "baseline": False, "embeddings": minilm}
    good = evaluate(cases, SAMPLES_DIR, settings, **kwargs)
    bad = evaluate(cases, worse, settings, **kwargs)
    if same_folder:
        bad.docs_dir = good.docs_dir
    return settings, good, bad

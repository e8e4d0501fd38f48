"""Evaluation: golden sets, metrics, runs and their history, the naive baseline, the
multi-corpus suite and groundedness claims."""

from rag.evaluation.claims import (
    PassageFinder,
    check_claims,
    format_summary,
    load_claims,
    summarise,
)
from rag.evaluation.evaluate import (
    allowed_eval_path,
    evaluate,
    golden_sets,
    list_runs,
    load_dataset,
    record_run,
)
from rag.evaluation.suite import (
    format_suite,
    gate_leave_one_out,
    leave_one_out,
    load_suite,
    run_corpus,
)

__all__ = [
    "PassageFinder",
    "allowed_eval_path",
    "check_claims",
    "evaluate",
    "format_suite",
    "format_summary",
    "gate_leave_one_out",
    "golden_sets",
    "leave_one_out",
    "list_runs",
    "load_claims",
    "load_dataset",
    "load_suite",
    "record_run",
    "run_corpus",
    "summarise",
]

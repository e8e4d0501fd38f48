"""Evaluation: golden sets, metrics, runs and their history, the naive baseline, the
multi-corpus suite and groundedness claims."""

from rag.evaluation.claims import (
    PassageFinder,
    check_claims,
    format_summary,
    load_claims,
    summarise,
)
from rag.evaluation.compare import Comparison, compare_runs, retrieved_sources
from rag.evaluation.corrections import (
    append_golden,
    expected_sources,
    feedback_golden_set,
    golden_case,
    parse_pages,
    registered_documents,
)
from rag.evaluation.drift import (
    DriftAlert,
    drift_alerts,
    live_state,
    monitoring_sets,
    pin_baseline,
    run_if_due,
    run_monitoring,
    watch_reason,
)
from rag.evaluation.evaluate import evaluate
from rag.evaluation.gate import load_gate, run_gate, write_reference
from rag.evaluation.golden import allowed_eval_path, golden_sets, load_dataset
from rag.evaluation.langsmith_push import LangSmithPushError, PushResult, push_run
from rag.evaluation.metrics import key_fact_recall
from rag.evaluation.runs import EvalRun, list_runs, load_run, record_run, resolve_run
from rag.evaluation.schema import validate_file
from rag.evaluation.suite import (
    format_suite,
    gate_leave_one_out,
    leave_one_out,
    load_suite,
    run_corpus,
)
from rag.evaluation.watch import Watcher

__all__ = [
    "Comparison",
    "DriftAlert",
    "EvalRun",
    "LangSmithPushError",
    "PassageFinder",
    "PushResult",
    "Watcher",
    "allowed_eval_path",
    "append_golden",
    "check_claims",
    "compare_runs",
    "drift_alerts",
    "evaluate",
    "expected_sources",
    "feedback_golden_set",
    "format_suite",
    "format_summary",
    "gate_leave_one_out",
    "golden_case",
    "golden_sets",
    "key_fact_recall",
    "leave_one_out",
    "list_runs",
    "live_state",
    "load_claims",
    "load_dataset",
    "load_gate",
    "load_run",
    "load_suite",
    "monitoring_sets",
    "parse_pages",
    "pin_baseline",
    "push_run",
    "record_run",
    "registered_documents",
    "resolve_run",
    "retrieved_sources",
    "run_corpus",
    "run_gate",
    "run_if_due",
    "run_monitoring",
    "summarise",
    "validate_file",
    "watch_reason",
    "write_reference",
]

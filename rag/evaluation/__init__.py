"""Evaluation: golden sets, metrics, runs and their history, the naive baseline, the
multi-corpus suite and groundedness claims."""

from rag.evaluation.claims import (
    PassageFinder,
    check_claims,
    format_summary,
    load_claims,
    summarise,
)
from rag.evaluation.corrections import (
    append_golden,
    expected_sources,
    feedback_golden_set,
    golden_case,
    parse_pages,
    registered_documents,
)
from rag.evaluation.evaluate import evaluate
from rag.evaluation.golden import allowed_eval_path, golden_sets, load_dataset
from rag.evaluation.langsmith_push import LangSmithPushError, PushResult, push_run
from rag.evaluation.metrics import key_fact_recall
from rag.evaluation.runs import list_runs, record_run
from rag.evaluation.suite import (
    format_suite,
    gate_leave_one_out,
    leave_one_out,
    load_suite,
    run_corpus,
)

__all__ = [
    "LangSmithPushError",
    "PassageFinder",
    "PushResult",
    "allowed_eval_path",
    "append_golden",
    "check_claims",
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
    "load_claims",
    "load_dataset",
    "load_suite",
    "parse_pages",
    "push_run",
    "record_run",
    "registered_documents",
    "run_corpus",
    "summarise",
]

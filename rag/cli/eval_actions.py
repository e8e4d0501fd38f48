"""``python -m rag eval ACTION``: compare two runs, run the gate, list runs, check golden files,
pin the drift baseline, run the monitoring set when due, push a run to LangSmith."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from rag.cli.compare import format_comparison, format_gate, format_runs
from rag.cli.output import format_summary
from rag.cli.progress import EvalProgress
from rag.config import Settings
from rag.errors import DatasetError


def _db(settings: Settings):
    from rag.ops import open_db

    return open_db(settings.db_path)


def _names(args: argparse.Namespace, count: int, usage: str) -> list[str]:
    if len(args.names) != count:
        raise DatasetError(f"Usage: python -m rag eval {usage}")
    return args.names


def run_compare(args: argparse.Namespace, settings: Settings) -> int:
    """``eval compare A B``: run B against run A (ids, "latest", or ``--out`` files)."""
    from rag.evaluation import compare_runs, resolve_run

    a_name, b_name = _names(args, 2, "compare RUN_A RUN_B (ids from `eval runs`, or files)")
    db = _db(settings)
    try:
        a, b = resolve_run(db, a_name), resolve_run(db, b_name)
    finally:
        db.close()
    print(format_comparison(compare_runs(a, b)))
    return 0


def run_runs(args: argparse.Namespace, settings: Settings) -> int:
    """``eval runs``: the recorded runs, newest last."""
    from rag.evaluation import list_runs

    db = _db(settings)
    try:
        runs = list_runs(db, limit=args.limit or 50)
    finally:
        db.close()
    print(format_runs(runs) if runs else "No evaluation run is recorded yet.")
    return 0


def run_check(args: argparse.Namespace, _settings: Settings) -> int:
    """``eval check FILE...``: validate golden sets and claims files against their schema."""
    from rag.evaluation import validate_file

    if not args.names:
        raise DatasetError("Usage: python -m rag eval check FILE [FILE...]")
    for name in args.names:
        schema, lines = validate_file(Path(name))
        print(f"{name}: {lines} lines, valid {schema.name} file")
    return 0


def run_gate_command(args: argparse.Namespace, settings: Settings) -> int:
    """``eval gate``: the CI gate; exit 1 when a metric is past its threshold."""
    from rag.evaluation import load_gate, record_run, run_gate, write_reference

    spec = load_gate(args.gate, args.corpora)
    result = run_gate(spec, settings, progress=EvalProgress(), corpora_root=args.corpora)
    print(format_gate(result, spec))
    if not args.no_history:
        db = _db(settings)
        try:
            for run in result.runs.values():
                record_run(db, run)
        finally:
            db.close()
    if args.update_reference:
        if spec.reference is None:
            raise DatasetError(f"{spec.path} names no 'reference' file to write.")
        write_reference(spec.reference, result)
        print(f"Reference written to {spec.reference}.")
    if not result.passed:
        print("The evaluation gate failed.", file=sys.stderr)
    return 0 if result.passed else 1


def run_baseline(args: argparse.Namespace, settings: Settings) -> int:
    """``eval baseline RUN``: hold later runs of the same golden sets to this run."""
    from rag.evaluation import pin_baseline

    [name] = _names(args, 1, "baseline RUN (an id from `eval runs`)")
    if not name.isdigit():
        raise DatasetError("Give the id of a recorded run (see `python -m rag eval runs`).")
    db = _db(settings)
    try:
        pin_baseline(db, int(name), "cli")
    finally:
        db.close()
    print(f"Run {name} is now the baseline of its golden sets.")
    return 0


def run_watch(args: argparse.Namespace, settings: Settings) -> int:
    """``eval watch``: run the monitoring set from the live store if due (or ``--force``)."""
    from rag.answer import Assistant
    from rag.evaluation import monitoring_sets, run_if_due
    from rag.index import open_store
    from rag.models import make_chat_model, resolve_backend

    if not monitoring_sets(settings):
        print("No monitoring set: add cases from feedback review, or set GROUNDWORK_EVAL_WATCH.")
        return 0
    with open_store(settings) as store:
        choice = resolve_backend(settings)
        assistant = Assistant(settings, store, make_chat_model(settings, choice), choice)
        db = _db(settings)
        try:
            run = run_if_due(db, settings, assistant, args.force)
        finally:
            db.close()
    if run is None:
        print("The monitoring set is up to date: nothing changed since its last run.")
        return 0
    print(f"Monitoring run {run.id} ({run.config['reason']}).")
    print(format_summary(run))
    return 0


def run_push(args: argparse.Namespace, settings: Settings) -> int:
    """``eval push RUN``: send a recorded run to LangSmith as a dataset and an experiment."""
    from rag.evaluation import push_run, resolve_run

    [name] = _names(args, 1, "push RUN (an id from `eval runs`, latest, or a file)")
    db = _db(settings)
    try:
        run = resolve_run(db, name)
    finally:
        db.close()
    print(push_run(run, settings).message())
    return 0


ACTIONS = {
    "push": run_push,
    "baseline": run_baseline,
    "watch": run_watch,
    "compare": run_compare,
    "runs": run_runs,
    "check": run_check,
    "gate": run_gate_command,
}

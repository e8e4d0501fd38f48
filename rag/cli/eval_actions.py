"""``python -m rag eval ACTION``: compare two runs, run the gate, list runs, check golden files,
pin the drift baseline, run the monitoring set when due, push a run to LangSmith."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from rag.cli.compare import format_comparison, format_gate, format_runs
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


ACTIONS = {
    "compare": run_compare,
    "runs": run_runs,
    "check": run_check,
    "gate": run_gate_command,
}

"""The command line: `python -m rag eval` scores golden sets, `python -m rag ingest` adds files,
`python -m rag guard-eval` scores the guardrails.

User errors (``GroundworkError``) are printed as their message, without a traceback. Exit codes:
0 success, 1 a file failed or the input is invalid, 2 the store is locked by a running app (or
the command line itself is wrong).

The parser is in :mod:`rag.cli.parser`, the commands in :mod:`rag.cli.evaluate` and
:mod:`rag.cli.ingest`, what they print in :mod:`rag.cli.output` and progress on stderr (bars on
a terminal, plain lines in logs) in :mod:`rag.cli.progress`.
"""

from __future__ import annotations

import sys

from rag.cli.collections import run_collections
from rag.cli.evaluate import run_eval
from rag.cli.guard import run_guard_eval, run_guard_fit
from rag.cli.ingest import run_ingest, run_reindex
from rag.cli.parser import build_parser
from rag.config import Settings
from rag.errors import GroundworkError, StoreLocked

__all__ = ["build_parser", "main"]

COMMANDS = {
    "eval": run_eval,
    "ingest": run_ingest,
    "reindex": run_reindex,
    "guard-eval": run_guard_eval,
    "guard-fit": run_guard_fit,
    "collections": run_collections,
}


def main(argv: list[str] | None = None) -> int:
    """Run the command line; return the exit code."""
    args = build_parser().parse_args(argv)
    try:
        return COMMANDS[args.command](args, Settings())
    except StoreLocked as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    except GroundworkError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130

"""``python -m rag eval``: golden sets, the multi-corpus suite, and labelled claims."""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any

from rag.cli.output import format_summary
from rag.cli.progress import EvalProgress
from rag.config import Settings
from rag.errors import DatasetError


def run_eval(args: argparse.Namespace, settings: Settings) -> int:
    """Run ``python -m rag eval``: score golden sets (or hand over to the suite or claims)."""
    from rag.cli.eval_actions import ACTIONS
    from rag.evaluation import evaluate, load_dataset

    if args.action:
        return ACTIONS[args.action](args, settings)
    if args.names:
        raise DatasetError(f"Unexpected {' '.join(args.names)}; see python -m rag eval -h.")
    if args.suite:
        return run_suite(args, settings)
    if args.claims:
        return run_claims(args, settings)
    if not args.dataset or not args.docs:
        raise DatasetError(
            "Give --dataset and --docs (or --suite, or --claims). See python -m rag eval -h."
        )
    if args.limit is not None and args.limit < 1:
        raise DatasetError("--limit must be at least 1.")
    if args.backend:
        settings = settings.model_copy(update={"backend": args.backend})
    cases = [c for path in args.dataset for c in load_dataset(path, args.limit)]
    run = evaluate(
        cases,
        args.docs,
        settings,
        retrieval_only=args.retrieval_only,
        baseline=args.baseline,
        progress=EvalProgress(),
    )
    run.trigger = "cli"
    if not args.no_history:
        _record(run, settings)
    print(format_summary(run))
    if args.out:
        write_json(args.out, run.to_dict())
    return 0


def _record(run, settings: Settings) -> None:
    """Keep the run in the eval_runs history (the Evaluation page lists it)."""
    from rag.evaluation import record_run
    from rag.ops import open_db

    db = open_db(settings.db_path)
    try:
        record_run(db, run)
    finally:
        db.close()


def write_json(out: Path, payload: Any) -> None:
    """Write a command's results as JSON and say where."""
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(payload, indent=1, default=str))
    print(f"Results written to {out}.")


def run_claims(args: argparse.Namespace, settings: Settings) -> int:
    """Run ``python -m rag eval --claims``: the verifier scored on labelled claims, per corpus."""
    from rag.answer import CachingEncoder
    from rag.evaluation import PassageFinder, check_claims, load_claims, summarise
    from rag.evaluation import format_summary as format_claims
    from rag.models import MiniLMEmbeddings

    claims = [c for path in args.claims for c in load_claims(path)]
    finder = PassageFinder(args.corpora, settings)
    encode = CachingEncoder(MiniLMEmbeddings().encode, maxsize=50_000)
    progress = EvalProgress()
    results = check_claims(
        claims, finder, encode, lambda i, n: progress("claims", i, n, claims[i].id)
    )
    progress("done", 0, 0, "")
    by_corpus: dict[str, list] = {}
    for r in results:
        by_corpus.setdefault(r.claim.corpus, []).append(r)
    summaries = {name: summarise(rs) for name, rs in by_corpus.items()}
    for name, summary in summaries.items():
        print(format_claims(name, summary))
    if len(by_corpus) > 1:
        summaries["all"] = summarise(results)
        print(format_claims("all corpora", summaries["all"]))
    for r in results:
        if args.show == "all" or (args.show == "wrong" and not r.correct):
            verdict = "passed" if r.passed else "flagged"
            print(f"{r.claim.id} [{r.claim.kind}] {verdict}: {r.claim.claim}  ({r.reason})")
    if args.out:
        rows = [
            {"id": r.claim.id, "kind": r.claim.kind, "passed": r.passed, "reason": r.reason,
             "ms": round(r.seconds * 1000, 1)}
            for r in results
        ]  # fmt: skip
        write_json(args.out, {"summary": summaries, "claims": rows})
    return 0


def run_suite(args: argparse.Namespace, settings: Settings) -> int:
    """Run ``python -m rag eval --suite``: retrieval per corpus, baseline and ablations too."""
    from rag.evaluation import (
        format_suite,
        gate_leave_one_out,
        leave_one_out,
        load_suite,
        run_corpus,
    )
    from rag.models import MiniLMEmbeddings

    specs = load_suite(args.suite, args.corpora, args.corpus)
    embeddings = MiniLMEmbeddings()
    progress = EvalProgress()
    results = [run_corpus(s, settings, embeddings, args.tune, progress) for s in specs]
    progress("done", 0, 0, "")
    loco = leave_one_out(results) if args.tune else {}
    gate_loco = gate_leave_one_out(results) if args.tune else {}
    print(format_suite(results, loco, gate_loco))
    if args.out:
        payload = {"corpora": [r.__dict__ for r in results], "loco": loco, "gate_loco": gate_loco}
        write_json(args.out, payload)
    return 0

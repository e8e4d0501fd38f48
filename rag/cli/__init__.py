"""The command line: `python -m rag eval` scores golden sets, `python -m rag ingest` adds files.

User errors (``GroundworkError``) are printed as their message, without a traceback. Exit codes:
0 success, 1 a file failed or the input is invalid, 2 the store is locked by a running app (or
the command line itself is wrong).
"""

from __future__ import annotations

import argparse
import json
import sys
import textwrap
from datetime import date
from pathlib import Path
from typing import Any

from rag.config import Settings
from rag.errors import DatasetError, GroundworkError, StoreLocked

EVAL_EXAMPLES = """\
examples:
  python -m rag eval --dataset evals/samples.jsonl --docs rag/samples
  python -m rag eval --dataset evals/handbook.jsonl --dataset evals/handbook-unanswerable.jsonl \\
      --docs ../shared/corpora/18f-handbook --out /tmp/eval-handbook.json
  python -m rag eval --dataset evals/r-manuals.jsonl --docs ../shared/corpora/r-manuals \\
      --retrieval-only --limit 10 --no-baseline
  python -m rag eval --suite evals/suite.json --corpora ../shared/corpora --tune
  python -m rag eval --suite evals/suite.json --corpus financebench --corpus pdf-zoo
  python -m rag eval --claims evals/claims/handbook.jsonl --corpora ../shared/corpora --show wrong

The folder is ingested (recursively) into a store of its own under
GROUNDWORK_DATA_DIR/eval-cache/, reused while the files and chunk settings stay the same; the
live store is never touched. Each run is kept in the eval_runs history (Evaluation page).
"""

INGEST_EXAMPLES = """\
examples:
  python -m rag ingest handbook.pdf policies/leave.md
  python -m rag ingest docs/ --recursive --owner hr@example.org --collection HR
  python -m rag ingest contracts/ --review-by 2027-01-31

Ingests into the configured store (GROUNDWORK_DATA_DIR, or CHROMA_URL). Stop the app first
when it uses the embedded store, or share the store through a `chroma run` server.
"""


def _review_date(value: str) -> str:
    try:
        return date.fromisoformat(value).isoformat()
    except ValueError:
        raise argparse.ArgumentTypeError(f"{value!r} is not a date like 2027-01-31") from None


def build_parser() -> argparse.ArgumentParser:
    """The ``python -m rag`` argument parser."""
    parser = argparse.ArgumentParser(
        prog="python -m rag", description="Groundwork: answers from your documents, verified."
    )
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    raw = argparse.RawDescriptionHelpFormatter

    ev = sub.add_parser(
        "eval",
        help="score golden question sets against a folder of documents",
        description="Answer every golden question through the real pipeline and report source "
        "hit@1/@5, MRR, page hit@5, key-fact recall, unsupported sentences, refusal accuracy and "
        "latency, next to a naive tutorial baseline.",
        epilog=EVAL_EXAMPLES,
        formatter_class=raw,
    )
    ev.add_argument(
        "--dataset",
        action="append",
        type=Path,
        metavar="FILE",
        help="JSONL golden set (repeat for several)",
    )
    ev.add_argument(
        "--docs",
        type=Path,
        metavar="DIR",
        help="folder of documents the questions are about",
    )
    ev.add_argument("--out", type=Path, metavar="FILE", help="write results (rows + summary) here")
    ev.add_argument(
        "--baseline",
        action=argparse.BooleanOptionalAction,
        default=True,
        help="also score the naive baseline's retrieval (default: yes)",
    )
    ev.add_argument("--limit", type=int, metavar="N", help="first N questions of each dataset")
    ev.add_argument(
        "--backend",
        choices=("auto", "ollama", "embedded"),
        help="model backend (default: GROUNDWORK_BACKEND)",
    )
    ev.add_argument(
        "--retrieval-only",
        action="store_true",
        help="skip the model: retrieval metrics and evidence-strength refusals only",
    )
    ev.add_argument("--no-history", action="store_true", help="do not record the run in eval_runs")
    ev.add_argument(
        "--suite",
        type=Path,
        metavar="FILE",
        help="run every corpus of a suite (e.g. evals/suite.json): retrieval per corpus, with "
        "the baseline and ablations (instead of --dataset/--docs)",
    )
    ev.add_argument(
        "--corpora",
        type=Path,
        default=Path("../shared/corpora"),
        metavar="DIR",
        help="folder holding the suite's corpora (default: %(default)s)",
    )
    ev.add_argument(
        "--corpus", action="append", metavar="NAME", help="only this corpus of the suite (repeat)"
    )
    ev.add_argument(
        "--claims",
        action="append",
        type=Path,
        metavar="FILE",
        help="score the answer verifier on labelled claims (e.g. evals/claims/*.jsonl), per "
        "corpus and kind, instead of answering questions; passages are read from --corpora",
    )
    ev.add_argument(
        "--show",
        choices=("wrong", "all"),
        help="with --claims: also list the claims judged wrong (or all), with the reason",
    )
    ev.add_argument(
        "--tune",
        action="store_true",
        help="with --suite: also choose fusion weights leave-one-corpus-out and report them",
    )

    ing = sub.add_parser(
        "ingest",
        help="add files or folders to the document store",
        description="Ingest files into the configured store and print a report per file.",
        epilog=INGEST_EXAMPLES,
        formatter_class=raw,
    )
    ing.add_argument("paths", nargs="+", type=Path, metavar="PATH", help="files or folders")
    ing.add_argument("-r", "--recursive", action="store_true", help="descend into sub-folders")
    ing.add_argument("--owner", help="owner recorded on every file")
    ing.add_argument("--collection", help="collection (group) recorded on every file")
    ing.add_argument(
        "--review-by",
        type=_review_date,
        metavar="YYYY-MM-DD",
        help="date by which the documents should be reviewed",
    )
    ing.add_argument(
        "--replace",
        action="store_true",
        help="replace a stored document whose name matches but which was uploaded under "
        "another name (without it, such a file is reported as a conflict and left out)",
    )
    rx = sub.add_parser(
        "reindex",
        help="re-embed every document with another embedding model",
        description="Rebuild the vector index with another embedder. A store keeps the embedder "
        "that built it, so this is how a store moves between Ollama and the embedded model. "
        "Stop the app first (it holds the embedded store).",
        epilog="examples:\n"
        "  python -m rag reindex\n"
        "  python -m rag reindex --embedder ollama/nomic-embed-text",
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    rx.add_argument(
        "--embedder",
        default="embedded/all-MiniLM-L6-v2",
        help="embedded/NAME or ollama/NAME (default: %(default)s)",
    )
    return parser


def main(argv: list[str] | None = None) -> int:
    """Run the command line; return the exit code."""
    args = build_parser().parse_args(argv)
    try:
        settings = Settings()
        if args.command == "eval":
            return run_eval(args, settings)
        if args.command == "reindex":
            return run_reindex(args, settings)
        return run_ingest(args, settings)
    except StoreLocked as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    except GroundworkError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130


# --- eval -------------------------------------------------------------------------------------


class _Progress:
    """One rewritten status line on stderr."""

    def __init__(self):
        self.tty = sys.stderr.isatty()
        self.stage = ""

    def __call__(self, stage: str, done: int, total: int, label: str) -> None:
        if stage == "done":
            if self.tty:
                print(file=sys.stderr)
            return
        if stage != self.stage and not self.tty and self.stage:
            print(file=sys.stderr)
        self.stage = stage
        line = f"{stage}: {done + 1}/{total} {label}"[:100]
        if self.tty:
            print(f"\r{line:<100}", end="", file=sys.stderr, flush=True)
        elif done % 10 == 0 or done + 1 == total:
            print(line, file=sys.stderr, flush=True)


def _fmt(value: Any) -> str:
    if value is None:
        return "–"
    if isinstance(value, float):
        return f"{value:.3f}" if value <= 1.0 else f"{value:,.0f}"
    return str(value)


SUMMARY_ROWS = [
    ("source hit@1", "source_hit_at_1"),
    ("source hit@5", "source_hit_at_5"),
    ("MRR", "mrr"),
    ("page hit@5", "page_hit_at_5"),
    ("refusal accuracy", "refusal_accuracy"),
    ("false-refusal rate", "false_refusal_rate"),
    ("quoted instead of generated", "quoted_rate"),
    ("key-fact recall", "key_fact_recall"),
    ("unsupported-sentence rate", "unsupported_sentence_rate"),
    ("unsupported sentences", "unsupported_sentences"),
    ("  shown unflagged (must be 0)", "unflagged_unsupported"),
    ("latency p50 / p95, ms", "total_ms"),
    ("verify p50 / p95, ms", "verify_ms"),
]


def format_summary(run) -> str:
    """The summary as a two-column table: Groundwork vs the naive baseline."""
    s, b = run.summary, run.baseline or {}
    lines = [
        f"{s['questions']} questions ({s['answerable']} answerable, {s['unanswerable']} "
        f"unanswerable) from {', '.join(run.datasets)}; mode: {s['mode']}; "
        f"backend: {run.config.get('backend') or '–'} {run.config.get('model') or ''}".rstrip(),
        f"{'metric':<32}{'groundwork':>14}{'baseline':>14}",
    ]
    for label, key in SUMMARY_ROWS:
        if key in ("total_ms", "verify_ms"):
            ours = f"{_fmt(s.get(key + '_p50'))} / {_fmt(s.get(key + '_p95'))}"
            theirs = ""
        elif key not in s:
            continue
        else:
            ours, theirs = _fmt(s[key]), (_fmt(b.get(key)) if key in b else "")
        lines.append(f"{label:<32}{ours:>14}{theirs:>14}")
    if run.baseline is not None:
        lines.append("The baseline always answers, so its refusal accuracy is 0 by construction.")
    ingest = run.ingest
    reuse = "reused" if ingest["reused"] else "built"
    lines.append(
        f"Store {reuse}: {ingest['files']} files, {ingest['chunks']} chunks "
        f"({ingest['cache_dir']})."
    )
    for failure in ingest["failed"]:
        lines.append(f"  not ingested: {failure}")
    return "\n".join(lines)


def run_eval(args: argparse.Namespace, settings: Settings) -> int:
    """``python -m rag eval``."""
    from rag.evaluation.evaluate import evaluate, load_dataset, record_run

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
        progress=_Progress(),
    )
    if not args.no_history:
        from rag.ops.database import open_db

        db = open_db(settings.db_path)
        try:
            record_run(db, run)
        finally:
            db.close()
    print(format_summary(run))
    if args.out:
        args.out.parent.mkdir(parents=True, exist_ok=True)
        args.out.write_text(json.dumps(run.to_dict(), indent=1, default=str))
        print(f"Results written to {args.out}.")
    return 0


def run_claims(args: argparse.Namespace, settings: Settings) -> int:
    """``python -m rag eval --claims``: the verifier scored on labelled claims, per corpus."""
    from rag.answer.verify import CachingEncoder
    from rag.evaluation.claims import (
        PassageFinder,
        check_claims,
        format_summary,
        load_claims,
        summarise,
    )
    from rag.models.embeddings import MiniLMEmbeddings

    claims = [c for path in args.claims for c in load_claims(path)]
    finder = PassageFinder(args.corpora, settings)
    encode = CachingEncoder(MiniLMEmbeddings().encode, maxsize=50_000)
    progress = _Progress()
    results = check_claims(
        claims, finder, encode, lambda i, n: progress("claims", i, n, claims[i].id)
    )
    progress("done", 0, 0, "")
    by_corpus: dict[str, list] = {}
    for r in results:
        by_corpus.setdefault(r.claim.corpus, []).append(r)
    summaries = {name: summarise(rs) for name, rs in by_corpus.items()}
    for name, summary in summaries.items():
        print(format_summary(name, summary))
    if len(by_corpus) > 1:
        summaries["all"] = summarise(results)
        print(format_summary("all corpora", summaries["all"]))
    for r in results:
        if args.show == "all" or (args.show == "wrong" and not r.correct):
            verdict = "passed" if r.passed else "flagged"
            print(f"{r.claim.id} [{r.claim.kind}] {verdict}: {r.claim.claim}  ({r.reason})")
    if args.out:
        args.out.parent.mkdir(parents=True, exist_ok=True)
        rows = [
            {"id": r.claim.id, "kind": r.claim.kind, "passed": r.passed, "reason": r.reason,
             "ms": round(r.seconds * 1000, 1)}
            for r in results
        ]  # fmt: skip
        args.out.write_text(json.dumps({"summary": summaries, "claims": rows}, indent=1))
        print(f"Results written to {args.out}.")
    return 0


def run_suite(args: argparse.Namespace, settings: Settings) -> int:
    """``python -m rag eval --suite``: retrieval per corpus, baseline and ablations beside it."""
    from rag.evaluation.suite import (
        format_suite,
        gate_leave_one_out,
        leave_one_out,
        load_suite,
        run_corpus,
    )
    from rag.models.embeddings import MiniLMEmbeddings

    specs = load_suite(args.suite, args.corpora, args.corpus)
    embeddings = MiniLMEmbeddings()
    progress = _Progress()
    results = [run_corpus(s, settings, embeddings, args.tune, progress) for s in specs]
    progress("done", 0, 0, "")
    loco = leave_one_out(results) if args.tune else {}
    gate_loco = gate_leave_one_out(results) if args.tune else {}
    print(format_suite(results, loco, gate_loco))
    if args.out:
        args.out.parent.mkdir(parents=True, exist_ok=True)
        payload = {"corpora": [r.__dict__ for r in results], "loco": loco, "gate_loco": gate_loco}
        args.out.write_text(json.dumps(payload, indent=1, default=str))
        print(f"Results written to {args.out}.")
    return 0


# --- reindex ----------------------------------------------------------------------------------


def run_reindex(args: argparse.Namespace, settings: Settings) -> int:
    """``python -m rag reindex``."""
    from tqdm import tqdm

    from rag.index.reindex import reindex
    from rag.models.backends import make_embeddings

    with tqdm(unit="chunk", file=sys.stderr) as bar:

        def progress(done: int, total: int) -> None:
            bar.total = total
            bar.update(done - bar.n)

        count = reindex(settings, args.embedder, lambda n: make_embeddings(settings, n), progress)
    print(f"Re-indexed {count} chunks with {args.embedder}.")
    return 0


# --- ingest -----------------------------------------------------------------------------------


def _expand(paths: list[Path], recursive: bool) -> tuple[list[Path], list[Path]]:
    """Files to ingest, and files found in folders whose type is not supported."""
    from rag.ingest import SUPPORTED_EXTENSIONS

    files: list[Path] = []
    unsupported: list[Path] = []
    for path in paths:
        if path.is_dir():
            found = path.rglob("*") if recursive else path.iterdir()
            for p in sorted(found):
                if not p.is_file() or any(
                    part.startswith(".") for part in p.relative_to(path).parts
                ):
                    continue
                (files if p.suffix.lower() in SUPPORTED_EXTENSIONS else unsupported).append(p)
        elif path.is_file():
            files.append(path)  # named explicitly: an unsupported type is reported as failed
        else:
            raise GroundworkError(f"{path} does not exist.")
    return list(dict.fromkeys(files)), list(dict.fromkeys(unsupported))


def _open_store(settings: Settings):
    from rag.errors import BackendUnavailable
    from rag.index.store import DocumentStore
    from rag.models.backends import default_embedder, make_embeddings, resolve_backend

    try:
        new_embedder = default_embedder(settings, resolve_backend(settings))
    except BackendUnavailable:
        new_embedder = "embedded/all-MiniLM-L6-v2"
    return DocumentStore(settings, lambda name: make_embeddings(settings, name), new_embedder)


def format_reports(reports) -> str:
    """A table of ingest reports and the count per status."""
    head = f"{'file':<40} {'status':<10} {'pages':>5} {'chunks':>6} {'OCR':>4}  error"
    lines = [head, "-" * len(head)]
    for r in reports:
        error = r.error or "; ".join(w for w in r.warnings if w)
        name = r.filename if len(r.filename) <= 40 else r.filename[:37] + "..."
        lines.append(
            f"{name:<40} {r.status:<10} {r.pages:>5} {r.chunks:>6} "
            f"{len(r.ocr_pages):>4}  {textwrap.shorten(error, 120) if error else ''}"
        )
    counts: dict[str, int] = {}
    for r in reports:
        counts[r.status] = counts.get(r.status, 0) + 1
    lines.append(", ".join(f"{n} {status}" for status, n in sorted(counts.items())))
    return "\n".join(lines)


def run_ingest(args: argparse.Namespace, settings: Settings) -> int:
    """``python -m rag ingest``."""
    from tqdm import tqdm

    from rag.index.indexing import IngestReport, document_names, ingest_files

    files, unsupported = _expand(args.paths, args.recursive)
    if not files:
        raise GroundworkError("No supported files found (use --recursive for sub-folders).")
    meta = {"owner": args.owner, "collection": args.collection, "review_by": args.review_by}
    meta = {k: v for k, v in meta.items() if v}
    names = document_names(files)
    with (
        _open_store(settings) as store,
        tqdm(total=len(files), unit="file", file=sys.stderr) as bar,
    ):
        done: set[str] = set()

        def progress(name: str, chunks_done: int, chunks_total: int) -> None:
            bar.set_postfix_str(f"{name[:40]} {chunks_done}/{chunks_total} chunks")
            if chunks_done >= chunks_total and name not in done:
                done.add(name)
                bar.update(1)

        # Files are read and parsed one ahead of embedding, never all at once.
        pairs = list(zip(names, files, strict=True))
        reports = ingest_files(store, pairs, meta, progress, args.replace)
        bar.update(len(files) - bar.n)
    # Files of other types in a folder are listed, not failed: the folder is not the user's
    # mistake, but they should know what was left out.
    from rag.ingest import SUPPORTED_EXTENSIONS

    skipped = [
        IngestReport(
            p.name,
            "skipped",
            error=f"{p.suffix or 'no extension'} files are not supported "
            f"({', '.join(SUPPORTED_EXTENSIONS)}); convert it to one of these to include it.",
        )
        for p in unsupported
    ]
    print(format_reports(reports + skipped))
    return 1 if any(not r.ok for r in reports) else 0

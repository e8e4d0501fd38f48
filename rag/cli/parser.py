"""The ``python -m rag`` argument parser: one function per subcommand, each with its examples."""

from __future__ import annotations

import argparse
from datetime import date
from pathlib import Path

EVAL_DESCRIPTION = (
    "Answer every golden question through the real pipeline and report source hit@1/@5, MRR, "
    "page hit@5, key-fact recall, unsupported sentences, refusal accuracy and latency, next to "
    "a naive tutorial baseline."
)
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
  python -m rag eval runs
  python -m rag eval compare 12 15
  python -m rag eval compare evals/gate-reference.json latest
  python -m rag eval gate --corpora ../shared/corpora
  python -m rag eval check evals/*.jsonl evals/claims/*.jsonl
  python -m rag eval baseline 12
  python -m rag eval watch            # e.g. from cron, with the app stopped or a Chroma server
  python -m rag eval push latest      # with LANGSMITH_TRACING and LANGSMITH_API_KEY set

The folder is ingested (recursively) into a store of its own under
GROUNDWORK_DATA_DIR/eval-cache/, reused while the files and chunk settings stay the same; the
live store is never touched. Each run is kept in the eval_runs history (Evaluation page).
"""

INGEST_DESCRIPTION = "Ingest files into the configured store and print a report per file."
INGEST_EXAMPLES = """\
examples:
  python -m rag ingest handbook.pdf policies/leave.md
  python -m rag ingest docs/ --recursive --owner hr@example.org --collection HR
  python -m rag ingest contracts/ --review-by 2027-01-31

Ingests into the configured store (GROUNDWORK_DATA_DIR, or CHROMA_URL). Stop the app first
when it uses the embedded store, or share the store through a `chroma run` server.
"""

REINDEX_DESCRIPTION = (
    "Rebuild the vector index with another embedder. A store keeps the embedder that built it, "
    "so this is how a store moves between Ollama and the embedded model. Stop the app first "
    "(it holds the embedded store)."
)
REINDEX_EXAMPLES = """\
examples:
  python -m rag reindex
  python -m rag reindex --embedder ollama/nomic-embed-text"""

GUARD_EVAL_DESCRIPTION = (
    "Score the guardrails on labelled files: the prompt-injection detector (TPR, FPR, precision, "
    "F1 at the configured threshold, a threshold sweep and ROC AUC, each text scored whole as a "
    "question is and by its worst sentence window as a document passage is) and the "
    "personal-data detector (precision and recall per entity type)."
)
GUARD_EVAL_EXAMPLES = """\
examples:
  python -m rag guard-eval --injection prompts.jsonl
  python -m rag guard-eval --injection ../shared/datasets/prompt-injection/train.jsonl --cv
  python -m rag guard-eval --injection evals/guardrails/injection-documents.jsonl --threshold 0.5
  python -m rag guard-eval --pii ../shared/datasets/pii/generated_large.json
  python -m rag guard-eval --pii texts.json --patterns-only --out /tmp/pii.json

--injection reads JSON Lines {"text": ..., "label": 0|1} (1 = injection). --pii reads
Presidio's format: a list of {"full_text", "spans": [{"entity_type", "start_position",
"end_position"}]}. Use --cv for a file the shipped detector was fitted on.
"""

GUARD_FIT_DESCRIPTION = (
    "Refit the prompt-injection detector on a labelled JSON Lines file and write the model "
    "(the threshold is chosen on 5-fold out-of-fold scores for a false-alarm rate of at most "
    "5%). The shipped model is what this writes from ../shared/datasets/prompt-injection."
)
GUARD_FIT_EXAMPLES = """\
examples:
  python -m rag guard-fit ../shared/datasets/prompt-injection/train.jsonl
  python -m rag guard-fit mine.jsonl --out /tmp/injection_model.json"""

COLLECTIONS_DESCRIPTION = (
    "List the collections, who may read each and how many documents each holds; or set who "
    "may read one. Works while the app runs (it only touches the registry database)."
)
COLLECTIONS_EXAMPLES = """\
examples:
  python -m rag collections
  python -m rag collections --set HR --readers "hr, @people.example.org"
  python -m rag collections --set handbook --readers "*"
  python -m rag collections --set board --readers ""

Readers: * (everyone signed in), @domain (an email domain), an address, or a group name from
the identity provider's groups claim. Empty: admins only. Admins read every collection.
"""

_RAW = argparse.RawDescriptionHelpFormatter
EVAL_ACTIONS = ("compare", "gate", "runs", "check", "baseline", "watch", "push")


def build_parser() -> argparse.ArgumentParser:
    """Build the ``python -m rag`` argument parser."""
    parser = argparse.ArgumentParser(
        prog="python -m rag", description="Groundwork: answers from your documents, verified."
    )
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    add_eval(sub)
    add_ingest(sub)
    add_reindex(sub)
    add_guard_eval(sub)
    add_guard_fit(sub)
    add_collections(sub)
    return parser


# name -> (description, examples) shown in the subcommand's own help
_TEXTS = {
    "eval": (EVAL_DESCRIPTION, EVAL_EXAMPLES),
    "ingest": (INGEST_DESCRIPTION, INGEST_EXAMPLES),
    "reindex": (REINDEX_DESCRIPTION, REINDEX_EXAMPLES),
    "guard-eval": (GUARD_EVAL_DESCRIPTION, GUARD_EVAL_EXAMPLES),
    "guard-fit": (GUARD_FIT_DESCRIPTION, GUARD_FIT_EXAMPLES),
    "collections": (COLLECTIONS_DESCRIPTION, COLLECTIONS_EXAMPLES),
}


def _command(sub: argparse._SubParsersAction, name: str, summary: str) -> argparse.ArgumentParser:
    """Add subcommand ``name``, listed with ``summary``, its help text from ``_TEXTS``."""
    description, examples = _TEXTS[name]
    return sub.add_parser(
        name, help=summary, description=description, epilog=examples, formatter_class=_RAW
    )


def _add_files(parser: argparse.ArgumentParser, flag: str, summary: str) -> None:
    """Add a repeatable ``FILE`` option."""
    parser.add_argument(flag, action="append", type=Path, metavar="FILE", help=summary)


def add_eval(sub: argparse._SubParsersAction) -> None:
    """Add ``eval``: golden questions, the multi-corpus suite, or labelled claims."""
    ev = _command(sub, "eval", "score golden question sets against a folder of documents")
    ev.add_argument(
        "action",
        nargs="?",
        choices=EVAL_ACTIONS,
        help="instead of a run: compare RUN_A RUN_B, gate (the CI gate), runs (the history), "
        "check FILE... (validate golden sets and claims files), baseline RUN (hold later runs "
        "of its golden sets to it), watch (run the monitoring set from the live store if due), "
        "push RUN (to LangSmith as a dataset and an experiment)",
    )
    ev.add_argument("names", nargs="*", metavar="NAME", help="the action's runs or files")
    ev.add_argument(
        "--gate",
        type=Path,
        default=Path("evals/gate.json"),
        metavar="FILE",
        help="with gate: the gate file (default: %(default)s)",
    )
    ev.add_argument(
        "--update-reference",
        action="store_true",
        help="with gate: keep this run's per-case results as the reference later runs are "
        "compared with",
    )
    ev.add_argument("--force", action="store_true", help="with watch: run even if nothing changed")
    _add_golden_arguments(ev)
    _add_suite_arguments(ev)
    _add_claims_arguments(ev)


def _add_golden_arguments(ev: argparse.ArgumentParser) -> None:
    """Arguments of a golden-set run (``--dataset`` and ``--docs``) and its shared options."""
    _add_files(ev, "--dataset", "JSONL golden set (repeat for several)")
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


def _add_suite_arguments(ev: argparse.ArgumentParser) -> None:
    """Arguments of a suite run (``--suite``), whose corpora ``--claims`` reads too."""
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


def _add_claims_arguments(ev: argparse.ArgumentParser) -> None:
    """Arguments of a claims run (``--claims``) and ``--tune``, which follows them in help."""
    _add_files(
        ev,
        "--claims",
        "score the answer verifier on labelled claims (e.g. evals/claims/*.jsonl), per corpus "
        "and kind, instead of answering questions; passages are read from --corpora",
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


def add_ingest(sub: argparse._SubParsersAction) -> None:
    """Add ``ingest``: files or folders into the configured store."""
    ing = _command(sub, "ingest", "add files or folders to the document store")
    ing.add_argument("paths", nargs="+", type=Path, metavar="PATH", help="files or folders")
    ing.add_argument("-r", "--recursive", action="store_true", help="descend into sub-folders")
    ing.add_argument("--owner", help="owner recorded on every file")
    ing.add_argument("--collection", help="collection (group) recorded on every file")
    ing.add_argument(
        "--review-by",
        type=review_date,
        metavar="YYYY-MM-DD",
        help="date by which the documents should be reviewed",
    )
    ing.add_argument(
        "--replace",
        action="store_true",
        help="replace a stored document whose name matches but which was uploaded under "
        "another name (without it, such a file is reported as a conflict and left out)",
    )


def add_reindex(sub: argparse._SubParsersAction) -> None:
    """Add ``reindex``: re-embed every document with another embedder."""
    rx = _command(sub, "reindex", "re-embed every document with another embedding model")
    # No default here: naming the embedded model would import the model code (seconds) just
    # to print help; the command fills in rag.models.DEFAULT_EMBEDDER.
    rx.add_argument(
        "--embedder",
        help="embedded/NAME or ollama/NAME (default: the embedded model)",
    )


def add_guard_eval(sub: argparse._SubParsersAction) -> None:
    """Add ``guard-eval``: the injection and PII detectors scored on labelled files."""
    ge = _command(sub, "guard-eval", "score the injection and PII guardrails on labelled files")
    ge.add_argument("--injection", type=Path, metavar="FILE", help="JSONL of {text, label}")
    ge.add_argument("--pii", type=Path, metavar="FILE", help="JSON in Presidio's format")
    ge.add_argument(
        "--threshold", type=_unit, help="injection threshold (default: the configured one)"
    )
    ge.add_argument(
        "--cv", action="store_true", help="cross-validate on the file instead of the shipped model"
    )
    ge.add_argument("--folds", type=int, default=5, help="folds for --cv (default 5)")
    ge.add_argument(
        "--patterns-only", action="store_true", help="PII: pattern recognisers only, no spaCy"
    )
    ge.add_argument("--out", type=Path, metavar="FILE", help="also write the figures as JSON")


def add_guard_fit(sub: argparse._SubParsersAction) -> None:
    """Add ``guard-fit``: refit the injection detector."""
    gf = _command(sub, "guard-fit", "refit the prompt-injection detector on a labelled file")
    gf.add_argument("train", type=Path, metavar="FILE", help="JSONL of {text, label}")
    gf.add_argument("--out", type=Path, metavar="FILE", help="model file (default: the shipped)")


def _unit(value: str) -> float:
    """Parse a threshold between 0 and 1."""
    try:
        number = float(value)
    except ValueError:
        number = -1.0
    if not 0 <= number <= 1:
        raise argparse.ArgumentTypeError(f"{value!r} is not a number from 0 to 1")
    return number


def review_date(value: str) -> str:
    """Parse ``--review-by``: an ISO date, or a usage error naming the expected form."""
    try:
        return date.fromisoformat(value).isoformat()
    except ValueError:
        raise argparse.ArgumentTypeError(f"{value!r} is not a date like 2027-01-31") from None


def add_collections(sub: argparse._SubParsersAction) -> None:
    """Add ``collections``: list them, or set who may read one."""
    co = _command(sub, "collections", "list collections and their readers, or set them")
    co.add_argument("--set", metavar="NAME", help="the collection whose readers to set")
    co.add_argument(
        "--readers", metavar="LIST", help="comma-separated readers for --set ('' = admins only)"
    )

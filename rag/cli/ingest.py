"""``python -m rag ingest`` and ``python -m rag reindex``: filling and rebuilding the store."""

from __future__ import annotations

import argparse
from pathlib import Path

from rag.cli.output import format_reports
from rag.cli.progress import IngestProgress, ReindexProgress
from rag.config import Settings
from rag.errors import GroundworkError


def run_ingest(args: argparse.Namespace, settings: Settings) -> int:
    """Run ``python -m rag ingest``: ingest the files, print a report per file."""
    from rag.index import document_names, ingest_files, open_store
    from rag.ingest import safe_filename

    files, unsupported = expand(args.paths, args.recursive)
    if not files:
        raise GroundworkError("No supported files found (use --recursive for sub-folders).")
    meta = {"owner": args.owner, "collection": args.collection, "review_by": args.review_by}
    meta = {k: v for k, v in meta.items() if v}
    names = document_names(files)
    with (
        open_store(settings) as store,
        IngestProgress([safe_filename(name) for name in names]) as progress,
    ):
        # Files are read and parsed one ahead of embedding, never all at once.
        pairs = list(zip(names, files, strict=True))
        reports = ingest_files(store, pairs, meta, progress, args.replace)
        private = private_collection_note(store.db, meta.get("collection"))
    print(format_reports(reports + skipped_reports(unsupported)))
    if private:
        print(private)
    return 1 if any(not r.ok for r in reports) else 0


def private_collection_note(db, collection: str | None) -> str:
    """Say so when the files went into a collection nobody but admins may read yet."""
    from rag.index.collections import collection_name, list_collections

    if not collection:
        return ""
    name = collection_name(collection)
    if list_collections(db).get(name):
        return ""
    return (
        f"note: the collection {name!r} is readable by admins only. Open it to its readers "
        f'with: python -m rag collections --set "{name}" --readers "GROUP, @DOMAIN"'
    )


def expand(paths: list[Path], recursive: bool) -> tuple[list[Path], list[Path]]:
    """Return the files to ingest, and files found in folders whose type is not supported."""
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


def skipped_reports(unsupported: list[Path]) -> list:
    """Report folder files of unsupported types as skipped.

    They are listed, not failed: the folder is not the user's mistake, but they should know
    what was left out.
    """
    from rag.index import IngestReport
    from rag.ingest import SUPPORTED_EXTENSIONS, safe_filename

    return [
        IngestReport(
            safe_filename(p.name) or "(unnamed)",  # a name is printed: no control characters
            "skipped",
            error=f"{p.suffix or 'no extension'} files are not supported "
            f"({', '.join(SUPPORTED_EXTENSIONS)}); convert it to one of these to include it.",
        )
        for p in unsupported
    ]


def run_reindex(args: argparse.Namespace, settings: Settings) -> int:
    """Run ``python -m rag reindex``: re-embed every chunk with another embedder."""
    from rag.index import reindex
    from rag.models import DEFAULT_EMBEDDER, make_embeddings

    embedder = args.embedder or DEFAULT_EMBEDDER
    with ReindexProgress() as progress:
        count = reindex(settings, embedder, lambda n: make_embeddings(settings, n), progress)
    print(f"Re-indexed {count} chunks with {embedder}.")
    return 0

"""Putting files into the store: one file or a batch, with dedup and name conflicts.

``ingest_file`` reads and chunks one file (:mod:`rag.index.reading`), then writes it as a new
version and switches to it (:mod:`rag.index.commit`). Files in a batch are independent: a bad
one is reported and the rest go in. Changing documents already stored is
:mod:`rag.index.edits`.
"""

from __future__ import annotations

import logging
import os
from collections import Counter
from collections.abc import Callable, Iterable, Sequence
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from rag.errors import GroundworkError
from rag.index import registry
from rag.index.commit import commit
from rag.index.reading import Prepared, prepare
from rag.index.report import IngestReport
from rag.index.store import DocumentStore

log = logging.getLogger(__name__)


def ingest_files(
    store: DocumentStore,
    files: Iterable[tuple[str, bytes | Path]],
    meta: dict[str, str] | None = None,
    progress: Callable[[str, int, int], None] | None = None,
    replace: bool = False,
) -> list[IngestReport]:
    """Ingest a batch; parsing the next file overlaps with embedding the current one.

    Args:
        store: the open store.
        files: (document name, bytes or a path to read) pairs; paths are read one at a time.
        meta: owner / collection / review_by applied to every file.
        progress: called as (file name, chunks done, chunks total).
        replace: replace a document stored under the same name that was uploaded under another
            one (``Q3 report.pdf`` and ``Q3 Report.pdf``); without it such a file is reported
            as a ``conflict`` and nothing changes.
    """
    meta = meta or {}
    reports: list[IngestReport] = []
    items = list(files)
    with ThreadPoolExecutor(max_workers=1) as parser:
        pending = parser.submit(prepare, store.settings, *items[0]) if items else None
        for index in range(len(items)):
            assert pending is not None
            prepared = pending.result()
            pending = (
                parser.submit(prepare, store.settings, *items[index + 1])
                if index + 1 < len(items)
                else None
            )
            reports.append(_finish(store, prepared, meta, progress, replace))
    return reports


def ingest_file(
    store: DocumentStore,
    filename: str,
    data: bytes,
    meta: dict[str, str] | None = None,
    progress: Callable[[str, int, int], None] | None = None,
    replace: bool = False,
) -> IngestReport:
    """Ingest one file and report what happened (never raises ``IngestError``)."""
    return ingest_files(store, [(filename, data)], meta, progress, replace)[0]


def _finish(
    store: DocumentStore,
    prepared: Prepared,
    meta: dict[str, str],
    progress: Callable[[str, int, int], None] | None,
    replace: bool,
) -> IngestReport:
    if prepared.error is not None:
        return IngestReport(
            prepared.name, "failed", error=str(prepared.error), seconds=prepared.seconds
        )
    with store.write_lock:  # two sessions uploading one file take turns, never mix versions
        if (unchanged := _already_stored(store, prepared)) is not None:
            return unchanged
        if not replace and (conflict := _name_conflict(store, prepared)) is not None:
            return conflict
        file_progress = (
            (lambda done, total: progress(prepared.name, done, total)) if progress else None
        )
        try:
            return commit(store, prepared, meta, file_progress)
        except Exception as exc:  # a store failure costs this file; the batch goes on
            log.exception("storing %s failed", prepared.name)
            reason = str(exc) if isinstance(exc, GroundworkError) else repr(exc)[:200]
            return IngestReport(
                prepared.name,
                "failed",
                error=f"{prepared.name}: it could not be stored ({reason}). Nothing was "
                "changed; try again, and check the server's log if it keeps failing.",
                seconds=prepared.seconds,
            )


def _already_stored(store: DocumentStore, prepared: Prepared) -> IngestReport | None:
    same = registry.find_by_hash(store.db, prepared.digest)
    if same is None:
        return None
    status = "unchanged" if same["filename"] == prepared.name else "duplicate"
    note = "" if status == "unchanged" else f"same content as {same['filename']}; not stored twice."
    return IngestReport(
        prepared.name,
        status,
        doc_id=same["doc_id"],
        version=same["version"],
        chunks=same["chunks"],
        pages=same["pages"],
        warnings=[note] if note else [],
    )


def _name_conflict(store: DocumentStore, prepared: Prepared) -> IngestReport | None:
    """A report when another file, uploaded under a different name, is stored under this one."""
    doc_id = registry.doc_id_for(prepared.name)
    existing = registry.get_document(store.db, doc_id)
    if existing is None or existing["upload_name"] == (prepared.upload_name or prepared.name):
        return None
    owner = f" (owner: {existing['owner']})" if existing.get("owner") else ""
    return IngestReport(
        prepared.name,
        "conflict",
        doc_id=doc_id,
        version=existing["version"],
        error=f"{prepared.name}: a different file, uploaded as {existing['upload_name']!r}"
        f"{owner}, is stored under this name. Replace it (its current version is kept and can "
        "be restored), or rename your file and upload it again.",
    )


def document_names(paths: Sequence[Path]) -> list[str]:
    """Name files for the store: the file name, or its path when two files share a name.

    A name identifies a document (the same name again is a new version), so two ``index.md``
    from different folders of one batch are named by their folders (``leave__index.md``)
    instead of replacing each other.
    """
    counts = Counter(p.name.lower() for p in paths)
    clashing = [p.resolve() for p in paths if counts[p.name.lower()] > 1]
    root = Path(os.path.commonpath([str(p.parent) for p in clashing])) if clashing else None
    if root is not None and any(p.parent == root for p in clashing):
        root = root.parent  # so the file at the top keeps its folder in the name too
    names = []
    for path in paths:
        if counts[path.name.lower()] == 1 or root is None:
            names.append(path.name)
        else:
            names.append("__".join(path.resolve().relative_to(root).parts))
    return names


SAMPLES_DIR = Path(__file__).parents[1] / "samples"


def sample_files() -> list[tuple[str, bytes]]:
    """The short sample documents shipped with Groundwork, as (file name, bytes)."""
    return [(p.name, p.read_bytes()) for p in sorted(SAMPLES_DIR.glob("*.md"))]

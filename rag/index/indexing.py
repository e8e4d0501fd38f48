"""Putting documents into the store and taking them out: versions, dedup, reports.

``ingest_file`` loads and chunks one file, writes its chunks under a new version, then switches
the registry to that version and advances the index version in one SQLite transaction before
purging the old version's chunks. Files in a batch are independent: a bad one is reported and
the rest go in.
"""

from __future__ import annotations

import json
import logging
import os
import shutil
import time
from collections import Counter
from collections.abc import Callable, Iterable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from rag.config import Settings
from rag.errors import GroundworkError, IngestError
from rag.index import registry
from rag.index.store import DocumentStore, StoredChunk
from rag.ingest import chunk_document, load_file, safe_filename
from rag.ingest.context import DocumentContext, derive_context, file_words, pdf_cues
from rag.models.embeddings import count_tokens
from rag.ops.database import write_transaction
from rag.types import ChunkDraft, LoadedDocument

log = logging.getLogger(__name__)


@dataclass
class IngestReport:
    """What happened to one file."""

    filename: str
    status: str  # ingested | updated | unchanged | duplicate | superseded | conflict | failed
    doc_id: str = ""
    version: int = 0
    kind: str = ""
    pages: int = 0
    chars_per_page: list[int] = field(default_factory=list)
    ocr_pages: list[int] = field(default_factory=list)
    empty_pages: list[int] = field(default_factory=list)
    chunks: int = 0
    warnings: list[str] = field(default_factory=list)
    error: str = ""
    seconds: float = 0.0

    @property
    def ok(self) -> bool:
        """Whether the file is in the store (new, updated or already there)."""
        return self.status not in ("failed", "skipped", "conflict")

    def to_dict(self) -> dict[str, Any]:
        """Return a JSON-ready dict."""
        return asdict(self)


def identity_header(context: DocumentContext, filename: str, section: str) -> str:
    """The line embedded (and indexed) before each chunk so it keeps its document's identity.

    It names the file, the document's title, subject and period, and the section, e.g.
    ``ACME 2023 Q2 10Q: Quarterly report · Acme Inc · quarterly period ended June 30, 2023
    (Q2 2023) | Results of Operations``.
    """
    label = context.label()
    words = file_words(filename)
    head = label if words.lower() in label.lower() else f"{words}: {label}"
    return f"{head} | {section}\n" if section and section != context.title else f"{head}\n"


def read_document(
    name: str, data: bytes, settings: Settings, corrections: dict[str, str] | None = None
) -> tuple[LoadedDocument, DocumentContext, list[ChunkDraft]]:
    """Load a file, derive its context and cut it into chunks, as ingestion does."""
    doc = load_file(name, data, settings)
    if doc.kind == "pdf":
        for key, value in pdf_cues(data).items():
            doc.metadata.setdefault(key, value)
    context = derive_context(doc, corrections)
    drafts = chunk_document(
        doc,
        count_tokens,
        settings.chunk_tokens,
        header=lambda section: identity_header(context, name, section),
    )
    return doc, context, drafts


@dataclass
class _Prepared:
    name: str
    data: bytes
    digest: str
    upload_name: str = ""  # the name as given, before ``safe_filename``
    doc: LoadedDocument | None = None
    context: DocumentContext | None = None
    drafts: list[ChunkDraft] = field(default_factory=list)
    error: IngestError | None = None
    seconds: float = 0.0
    corrections: dict[str, str] = field(default_factory=dict)


def _prepare(
    store: DocumentStore,
    filename: str,
    source: bytes | Path,
    corrections: dict[str, str] | None = None,
) -> _Prepared:
    started = time.perf_counter()
    name = safe_filename(filename)
    try:
        data = source if isinstance(source, bytes) else source.read_bytes()
    except OSError as exc:
        error = IngestError(name, f"the file cannot be read ({exc.strerror or exc}).")
        return _Prepared(name, b"", "", error=error, seconds=time.perf_counter() - started)
    prepared = _Prepared(
        name, data, registry.content_hash(data), str(filename), corrections=corrections or {}
    )
    try:
        prepared.doc, prepared.context, prepared.drafts = read_document(
            name, data, store.settings, corrections
        )
        if not prepared.drafts:
            raise IngestError(name, "no text could be extracted, so there is nothing to search.")
    except IngestError as exc:
        prepared.error = exc
    except Exception as exc:  # a parser bug must cost this file only, never the batch
        log.exception("reading %s failed", name)
        prepared.error = IngestError(
            name,
            f"it could not be read ({type(exc).__name__}: {str(exc)[:200]}). The file may be "
            "damaged: open and save it again, or export it as PDF, then upload it again.",
        )
    prepared.seconds = time.perf_counter() - started
    return prepared


def _report_for(doc: LoadedDocument, name: str) -> IngestReport:
    chars = [len(p.text) for p in doc.pages]
    return IngestReport(
        filename=name,
        status="ingested",
        kind=doc.kind,
        pages=len(doc.pages),
        chars_per_page=chars,
        ocr_pages=[p.number for p in doc.pages if p.ocr],
        empty_pages=[p.number for p in doc.pages if not p.text.strip()],
        warnings=list(doc.warnings),
    )


def _stored_chunks(prepared: _Prepared, doc_id: str, version: int) -> list[StoredChunk]:
    """The chunks of one version, each with its identity header and where it came from."""
    context = prepared.context
    assert context is not None
    chunks = []
    for i, draft in enumerate(prepared.drafts):
        head = identity_header(context, prepared.name, draft.section)
        metadata = {
            "doc_id": doc_id,
            "version": version,
            "source": prepared.name,
            "title": context.title,
            "context": context.label(),
            "page": draft.page,
            "section": draft.section,
            "start": draft.start,
            "end": draft.end,
            "text_offset": len(head),
        }
        chunks.append(StoredChunk(f"{doc_id}-v{version}-{i:05d}", head + draft.text, metadata))
    return chunks


def _document_row(
    prepared: _Prepared,
    doc_id: str,
    version: int,
    meta: dict[str, str],
    previous: dict[str, Any] | None,
) -> dict[str, Any]:
    """The registry row that serves ``version``; owner, collection and dates carry over."""
    doc, context = prepared.doc, prepared.context
    assert doc is not None and context is not None
    keep = previous or {}
    return {
        "doc_id": doc_id,
        "filename": prepared.name,
        "upload_name": prepared.upload_name or prepared.name,
        "kind": doc.kind,
        "title": context.title,
        "context": json.dumps(context.to_dict()),
        "context_edits": json.dumps(prepared.corrections),
        "content_hash": prepared.digest,
        "version": version,
        "pages": len(doc.pages),
        "chunks": len(prepared.drafts),
        "size_bytes": len(prepared.data),
        "owner": meta.get("owner") or keep.get("owner") or str(doc.metadata.get("owner") or ""),
        "collection": meta.get("collection") or keep.get("collection") or "",
        "review_by": meta.get("review_by")
        or keep.get("review_by")
        or str(doc.metadata.get("review_by") or ""),
        "ingested_at": keep.get("ingested_at") or registry.now(),
        "updated_at": registry.now(),
        "metadata": json.dumps(
            {k: v for k, v in doc.metadata.items() if isinstance(v, (str, int, float, bool))}
        ),
    }


def _commit(
    store: DocumentStore,
    prepared: _Prepared,
    meta: dict[str, str],
    progress: Callable[[int, int], None] | None,
) -> IngestReport:
    """Write a new version and serve it: chunks, then the original, then the switch.

    A crash before the switch leaves the previous version served and this attempt's chunks
    to the purge at the next open; after it, the new version is complete and served.
    """
    started = time.perf_counter()
    assert prepared.doc is not None
    doc_id = registry.doc_id_for(prepared.name)
    previous = registry.get_document(store.db, doc_id)
    version = registry.allocate_version(store.db, doc_id)
    try:
        chunks = _stored_chunks(prepared, doc_id, version)
        total = len(chunks)
        store.add_chunks(chunks, (lambda done: progress(done, total)) if progress else None)
        served = previous["version"] if previous else None
        _keep_original(store, doc_id, version, served, prepared.name, prepared.data)
        report = _report_for(prepared.doc, prepared.name)
        report.doc_id, report.version, report.chunks = doc_id, version, total
        report.status = "updated" if previous else "ingested"
        report.seconds = prepared.seconds + time.perf_counter() - started
        row = _document_row(prepared, doc_id, version, meta, previous)
        row["report"] = json.dumps(report.to_dict())
        with write_transaction(store.db):  # the switch: served and index version advanced at once
            switched = registry.switch_version(store.db, row)
    except BaseException:
        with write_transaction(store.db):
            registry.mark_failed(store.db, doc_id, version)
        _purge_quietly(store, doc_id)
        raise
    _purge_quietly(store, doc_id)
    if not switched:
        report.status = "superseded"
        report.warnings.append("a newer version was stored meanwhile and is the one served.")
    return report


def _purge_quietly(store: DocumentStore, doc_id: str) -> None:
    # Stale chunks are never served, and the next open retries the purge: log, do not fail.
    try:
        store.purge_stale(doc_id=doc_id)
    except Exception:
        log.warning("could not purge the old chunks of %s yet", doc_id, exc_info=True)


def _kept_versions(folder: Path) -> dict[int, Path]:
    """The ``v{N}`` folders of a document's kept originals, by version."""
    if not folder.is_dir():
        return {}
    return {
        int(p.name[1:]): p
        for p in folder.iterdir()
        if p.is_dir() and p.name.startswith("v") and p.name[1:].isdigit()
    }


def _keep_original(
    store: DocumentStore, doc_id: str, version: int, served: int | None, name: str, data: bytes
):
    """Keep the uploaded bytes for re-ingesting and restoring, written crash-safely.

    The file goes to a temporary name, is fsynced, then renamed into ``v{version}/``; the
    originals of this version and of the ``served`` one are kept, older ones removed.
    """
    folder = store.originals_dir(doc_id)
    target = folder / f"v{version}"
    target.mkdir(parents=True, exist_ok=True)
    tmp = target / f".{name}.partial"
    with open(tmp, "wb") as out:
        out.write(data)
        out.flush()
        os.fsync(out.fileno())
    os.replace(tmp, target / name)
    _fsync_dir(target)
    for kept, path in _kept_versions(folder).items():
        if kept not in (version, served):
            shutil.rmtree(path, ignore_errors=True)
    for old in folder.iterdir():
        if old.is_file():  # an original kept before versioned folders
            old.unlink(missing_ok=True)


def _fsync_dir(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _original(store: DocumentStore, doc: dict[str, Any], version: int | None = None) -> Path:
    """The kept original of a version of a document (the served one by default)."""
    folder = store.originals_dir(doc["doc_id"])
    kept = folder / f"v{version or doc['version']}"
    files = sorted(p for p in kept.glob("*") if p.is_file() and not p.name.startswith("."))
    if files:  # one file: named as that version was uploaded
        return files[0]
    return folder / doc["filename"]  # kept before versioned folders (or missing)


def previous_version(store: DocumentStore, doc_id: str) -> int | None:
    """The version before the served one whose original is kept (to restore), if any."""
    doc = registry.get_document(store.db, doc_id)
    if doc is None:
        return None
    kept = _kept_versions(store.originals_dir(doc_id))
    return max((v for v in kept if v < doc["version"]), default=None)


def _reingest_from(store: DocumentStore, doc: dict[str, Any], original: Path) -> IngestReport:
    if not original.is_file():
        raise IngestError(
            doc["filename"],
            "the original file is not kept on this server; upload it again to re-ingest.",
        )
    name = original.name  # a restored version comes back under the name it was uploaded with
    prepared = _prepare(store, name, original.read_bytes(), doc.get("context_edits"))
    prepared.upload_name = doc["upload_name"] if name == doc["filename"] else name
    if prepared.error is not None:
        return IngestReport(prepared.name, "failed", error=str(prepared.error))
    return _commit(store, prepared, {}, None)


def reingest_document(store: DocumentStore, doc_id: str) -> IngestReport:
    """Ingest a document again from its kept original, as a new version."""
    with store.write_lock:
        doc = registry.get_document(store.db, doc_id)
        if doc is None:
            raise IngestError(doc_id, "no such document; it may have been deleted.")
        return _reingest_from(store, doc, _original(store, doc))


def restore_previous(store: DocumentStore, doc_id: str) -> IngestReport:
    """Serve the previous version's original again (as a new version)."""
    with store.write_lock:
        doc = registry.get_document(store.db, doc_id)
        version = previous_version(store, doc_id)
        if doc is None or version is None:
            raise IngestError(
                doc["filename"] if doc else doc_id, "no previous version is kept to restore."
            )
        report = _reingest_from(store, doc, _original(store, doc, version))
        report.warnings.append(f"restored the content of version {version}.")
        return report


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
        pending = parser.submit(_prepare, store, *items[0]) if items else None
        for index in range(len(items)):
            assert pending is not None
            prepared = pending.result()
            pending = (
                parser.submit(_prepare, store, *items[index + 1])
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
    prepared: _Prepared,
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
            return _commit(store, prepared, meta, file_progress)
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


def _already_stored(store: DocumentStore, prepared: _Prepared) -> IngestReport | None:
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


def _name_conflict(store: DocumentStore, prepared: _Prepared) -> IngestReport | None:
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


def delete_document(store: DocumentStore, doc_id: str) -> bool:
    """Remove a document and purge its chunks; return whether it existed."""
    with store.write_lock:
        db = store.db
        if registry.get_document(db, doc_id) is None:
            return False
        with write_transaction(db):
            registry.retire_document(db, doc_id)
        _purge_quietly(store, doc_id)
        shutil.rmtree(store.originals_dir(doc_id), ignore_errors=True)
        return True


def edit_context(store: DocumentStore, doc_id: str, **fields: str) -> IngestReport:
    """Correct a document's title, subject or period and re-index it with the correction.

    The context is part of every chunk's embedded header, so a correction re-embeds the
    document from its kept original (as a new version); later re-ingests keep the correction.
    An empty value goes back to the derived one.
    """
    edits: dict[str, str] = {}
    for key, value in fields.items():
        if key not in ("title", "subject", "period"):
            raise ValueError(f"cannot edit {key!r}: only title, subject and period")
        edits[key] = " ".join(value.split()) if value else ""
    with store.write_lock:
        doc = registry.get_document(store.db, doc_id)
        if doc is None:
            raise IngestError(doc_id, "no such document; it may have been deleted.")
        merged = {**(doc.get("context_edits") or {}), **edits}
        merged = {key: value for key, value in merged.items() if value}
        with write_transaction(store.db):
            store.db["documents"].update(doc_id, {"context_edits": json.dumps(merged)})
        return reingest_document(store, doc_id)


def update_metadata(store: DocumentStore, doc_id: str, **fields: str) -> None:
    """Change owner, collection or review-by date of a document."""
    allowed = {k: v for k, v in fields.items() if k in ("owner", "collection", "review_by")}
    if allowed:
        with store.write_lock, write_transaction(store.db):
            store.db["documents"].update(doc_id, {**allowed, "updated_at": registry.now()})
            registry.bump_index_version(store.db)


SAMPLES_DIR = Path(__file__).parents[1] / "samples"


def sample_files() -> list[tuple[str, bytes]]:
    """The short sample documents shipped with Groundwork, as (file name, bytes)."""
    return [(p.name, p.read_bytes()) for p in sorted(SAMPLES_DIR.glob("*.md"))]

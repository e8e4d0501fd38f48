"""The kept originals: each served version's uploaded bytes, for re-ingesting and restoring.

A document's originals live in ``uploads/<doc_id>/v{N}/<name as uploaded>``; the served
version's and the one before it are kept, so the previous version can be served again.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path
from typing import Any

from rag.index import registry
from rag.index.store import DocumentStore


def kept_versions(folder: Path) -> dict[int, Path]:
    """The ``v{N}`` folders of a document's kept originals, by version."""
    if not folder.is_dir():
        return {}
    return {
        int(p.name[1:]): p
        for p in folder.iterdir()
        if p.is_dir() and p.name.startswith("v") and p.name[1:].isdigit()
    }


def keep_original(
    store: DocumentStore, doc_id: str, version: int, served: int | None, name: str, data: bytes
) -> None:
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
    for kept, path in kept_versions(folder).items():
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


def original_path(store: DocumentStore, doc: dict[str, Any], version: int | None = None) -> Path:
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
    kept = kept_versions(store.originals_dir(doc_id))
    return max((v for v in kept if v < doc["version"]), default=None)

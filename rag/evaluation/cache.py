"""The evaluation corpus: the docs folder's files and the cached store built from them.

``collect_docs`` lists the supported files under a folder (recursively, clashing base names
kept apart); ``eval_store`` opens a store of their own for an evaluation, ingesting them first
unless a store for the same files and chunk settings is cached under
``data_dir/eval-cache/KEY`` (``cache_key``). The live store is never touched. The naive
baseline's index (:mod:`rag.evaluation.baseline`) has a folder of its own, keyed by the files alone.
"""

from __future__ import annotations

import hashlib
import json
import shutil
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from rag.config import Settings
from rag.errors import DatasetError
from rag.ingest import SUPPORTED_EXTENSIONS
from rag.ops.database import utc_now

CACHE_FORMAT = 4  # bump when ingestion changes in a way that must invalidate cached stores
Progress = Callable[[str, int, int, str], None]  # (stage, done, total, label)


@dataclass(frozen=True)
class CorpusFile:
    """A file of the docs folder: ``name`` is what it is ingested as, ``base`` its base name."""

    path: Path
    name: str
    base: str


def collect_docs(folder: str | Path) -> list[CorpusFile]:
    """Every supported file under ``folder`` (recursively); clashing base names get a prefix."""
    folder = Path(folder)
    if not folder.is_dir():
        raise DatasetError(f"Docs folder {folder} does not exist or is not a folder.")
    paths = sorted(
        p
        for p in folder.rglob("*")
        if p.is_file()
        and p.suffix.lower() in SUPPORTED_EXTENSIONS
        and not any(part.startswith(".") for part in p.relative_to(folder).parts)
    )
    if not paths:
        raise DatasetError(
            f"Docs folder {folder} holds no supported files ({', '.join(SUPPORTED_EXTENSIONS)})."
        )
    from rag.index.indexing import document_names  # two "index.md" must not replace each other

    return [
        CorpusFile(p, name, p.name) for p, name in zip(paths, document_names(paths), strict=True)
    ]


def _file_digest(path: Path) -> str:
    h = hashlib.sha256()
    with path.open("rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def _files_hash(h, files: Sequence[CorpusFile]) -> str:
    # Content, not modification times: a fresh checkout of the same corpora reuses the cache.
    for f in files:
        h.update(f"\n{f.name}|{_file_digest(f.path)}".encode())
    return h.hexdigest()[:16]


def cache_key(files: Sequence[CorpusFile], settings: Settings, embedder: str) -> str:
    """Hash of file names and contents plus the settings that shape chunks."""
    h = hashlib.sha256(f"{CACHE_FORMAT}|{embedder}|{settings.chunk_tokens}".encode())
    h.update(f"|{settings.max_file_mb}|{settings.max_pages}".encode())
    return _files_hash(h, files)


def baseline_folder(settings: Settings, files: Sequence[CorpusFile]) -> Path:
    """The naive baseline's index folder: keyed by the files only (it has no settings)."""
    key = _files_hash(hashlib.sha256(b"baseline-v1"), files)
    return settings.data_dir / "eval-cache" / f"baseline-{key}"


@dataclass
class CachedStore:
    """The evaluation's own store, and whether it was reused."""

    store: Any  # rag.index.store.DocumentStore
    folder: Path
    reused: bool
    reports: list[dict[str, Any]]


@contextmanager
def eval_store(
    settings: Settings, files: Sequence[CorpusFile], embeddings, progress: Progress | None = None
) -> Iterator[CachedStore]:
    """Open (ingesting first unless cached) a store holding ``files``, under its own data_dir."""
    from rag.index.indexing import ingest_file
    from rag.index.store import DocumentStore
    from rag.models.embeddings import MODEL_NAME

    embedder = f"embedded/{MODEL_NAME}"
    folder = settings.data_dir / "eval-cache" / cache_key(files, settings, embedder)
    manifest = folder / "ingest.json"
    reused = manifest.is_file()
    if folder.exists() and not reused:
        shutil.rmtree(folder)  # an interrupted ingestion: start over
    own = settings.model_copy(update={"data_dir": folder, "chroma_url": None})
    store = DocumentStore(own, lambda _name: embeddings, embedder, expect_embedder=embedder)
    try:
        if reused:
            reports = json.loads(manifest.read_text())["reports"]
        else:
            reports = []
            for i, f in enumerate(files, 1):
                if progress:
                    progress("ingest", i - 1, len(files), f.name)
                reports.append(ingest_file(store, f.name, f.path.read_bytes()).to_dict())
            manifest.write_text(json.dumps({"created_at": utc_now(), "reports": reports}))
        yield CachedStore(store, folder, reused, reports)
    finally:
        store.close()

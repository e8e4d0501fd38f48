"""The index: the document store (Chroma + registry), ingestion into it, re-indexing, and
hybrid retrieval (vectors + BM25)."""

from rag.index.indexing import (
    IngestReport,
    delete_document,
    document_names,
    edit_context,
    ingest_file,
    ingest_files,
    previous_version,
    reingest_document,
    restore_previous,
    sample_files,
    update_metadata,
)
from rag.index.reindex import reindex
from rag.index.retrieve import Fusion, HybridSearch
from rag.index.store import DocumentStore, open_store

__all__ = [
    "DocumentStore",
    "Fusion",
    "HybridSearch",
    "IngestReport",
    "delete_document",
    "document_names",
    "edit_context",
    "ingest_file",
    "ingest_files",
    "previous_version",
    "reindex",
    "reingest_document",
    "restore_previous",
    "sample_files",
    "open_store",
    "update_metadata",
]

"""The index: the document store (Chroma + registry), ingestion into it, re-indexing, and
hybrid retrieval (vectors + BM25).

Modules, lowest first: ``chroma`` (client, collections, the embedded store's lock), ``registry``
(what is served), ``store`` (``DocumentStore``), ``reading`` (a file read and chunked),
``report``, ``originals`` (kept uploads), ``quarantine`` (passages held as possible prompt
injections), ``commit`` (a version written and switched to), ``indexing`` (files and batches
in), ``edits`` (re-ingest, restore, edit, delete), ``reindex``, ``lexical`` (BM25) and
``retrieve`` (rankings and their fusion).
"""

from rag.index.collections import (
    DEFAULT_COLLECTION,
    clean_readers,
    collection_name,
    collection_sizes,
    delete_collection,
    list_collections,
    outside_scope,
    set_readers,
)
from rag.index.edits import (
    context_changes,
    delete_document,
    edit_context,
    reingest_document,
    restore_previous,
    update_metadata,
)
from rag.index.indexing import document_names, ingest_file, ingest_files, sample_files
from rag.index.originals import previous_version
from rag.index.quarantine import delete_passage, list_quarantined, release_passage
from rag.index.reading import read_document
from rag.index.registry import document_details, is_overdue, review_date
from rag.index.reindex import reindex
from rag.index.report import IngestReport
from rag.index.retrieve import (
    DEFAULT_FUSION,
    Fusion,
    GroundworkRetriever,
    HybridSearch,
    Rankings,
    fuse,
    question_terms,
)
from rag.index.store import DocumentStore, StoredChunk, open_store

__all__ = [
    "DEFAULT_COLLECTION",
    "DEFAULT_FUSION",
    "DocumentStore",
    "Fusion",
    "GroundworkRetriever",
    "HybridSearch",
    "IngestReport",
    "Rankings",
    "StoredChunk",
    "clean_readers",
    "collection_name",
    "collection_sizes",
    "context_changes",
    "delete_collection",
    "delete_document",
    "delete_passage",
    "document_details",
    "document_names",
    "edit_context",
    "fuse",
    "ingest_file",
    "ingest_files",
    "is_overdue",
    "list_collections",
    "list_quarantined",
    "outside_scope",
    "open_store",
    "previous_version",
    "question_terms",
    "read_document",
    "reindex",
    "reingest_document",
    "release_passage",
    "restore_previous",
    "review_date",
    "sample_files",
    "set_readers",
    "update_metadata",
]

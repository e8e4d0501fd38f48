"""Document ingestion: read uploaded files into pages of text and cut them into chunks."""

from rag.ingest.chunking import chunk_document
from rag.ingest.context import DocumentContext
from rag.ingest.loaders import SUPPORTED_EXTENSIONS, load_file, safe_filename

__all__ = [
    "SUPPORTED_EXTENSIONS",
    "DocumentContext",
    "chunk_document",
    "load_file",
    "safe_filename",
]

"""Document ingestion: read uploaded files into pages of text and cut them into chunks."""

from rag.ingest.chunking import chunk_document
from rag.ingest.context import DocumentContext, derive_context, file_words
from rag.ingest.loaders import SUPPORTED_EXTENSIONS, load_file, safe_filename
from rag.ingest.pdf_cues import pdf_cues
from rag.ingest.table_rows import parse_row

__all__ = [
    "SUPPORTED_EXTENSIONS",
    "DocumentContext",
    "chunk_document",
    "derive_context",
    "file_words",
    "load_file",
    "parse_row",
    "pdf_cues",
    "safe_filename",
]

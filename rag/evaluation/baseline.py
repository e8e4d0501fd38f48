"""The naive baseline the evaluation compares against: what a RAG tutorial writes.

pypdf text per page (LangChain's ``PyPDFLoader``; other files read as plain text), a
``RecursiveCharacterTextSplitter(chunk_size=1000, chunk_overlap=200)``, and a vector-only top-5
search in its own Chroma collection, with the same MiniLM embedder as Groundwork. It always
answers, so its refusal accuracy is 0 by construction.
"""

from __future__ import annotations

import json
import shutil
import warnings
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

from langchain_core.documents import Document
from langchain_core.embeddings import Embeddings

CHUNK_SIZE = 1000
CHUNK_OVERLAP = 200
TOP_K = 5
COLLECTION = "baseline"
_DONE = "baseline.json"


@dataclass(frozen=True)
class BaselineHit:
    """One retrieved baseline chunk: its file's base name and 1-based page."""

    source: str
    page: int


def load_naive(path: Path, name: str) -> list[Document]:
    """Load a file the tutorial way: one Document per PDF page, else the whole text."""
    if path.suffix.lower() == ".pdf":
        with warnings.catch_warnings():
            # langchain-community announces its sunset on import; the tutorial still uses it.
            warnings.simplefilter("ignore", DeprecationWarning)
            from langchain_community.document_loaders import PyPDFLoader

        docs = PyPDFLoader(str(path)).load()
        for doc in docs:  # PyPDFLoader counts pages from 0
            doc.metadata = {"source": name, "page": int(doc.metadata.get("page", 0)) + 1}
        return docs
    text = path.read_text(encoding="utf-8", errors="ignore")
    return [Document(page_content=text, metadata={"source": name, "page": 1})]


class NaiveBaseline:
    """A tutorial RAG index over a folder, kept in ``folder`` (reused when complete)."""

    def __init__(self, folder: Path, embeddings: Embeddings):
        import chromadb
        from chromadb.config import Settings as ChromaSettings
        from langchain_chroma import Chroma

        self.folder = folder
        folder.mkdir(parents=True, exist_ok=True)
        self.client = chromadb.PersistentClient(
            path=str(folder / "chroma"), settings=ChromaSettings(anonymized_telemetry=False)
        )
        self.vectors = Chroma(
            client=self.client,
            collection_name=COLLECTION,
            embedding_function=embeddings,
            collection_metadata={"hnsw:space": "cosine"},
        )

    @property
    def built(self) -> bool:
        """Whether the index was completely built before (and can be reused)."""
        return (self.folder / _DONE).is_file()

    def build(
        self,
        files: Sequence[tuple[Path, str]],
        progress: Callable[[str, int, int], None] | None = None,
    ) -> int:
        """Index (path, name) pairs; return the number of chunks. Unreadable files are skipped."""
        from langchain_text_splitters import RecursiveCharacterTextSplitter

        splitter = RecursiveCharacterTextSplitter(
            chunk_size=CHUNK_SIZE, chunk_overlap=CHUNK_OVERLAP
        )
        total, skipped = 0, []
        for index, (path, name) in enumerate(files, 1):
            if progress:
                progress(name, index, len(files))
            try:
                chunks = splitter.split_documents(load_naive(path, name))
            except Exception as exc:  # noqa: BLE001 - a tutorial loader fails in many ways
                skipped.append(f"{name}: {type(exc).__name__}")
                continue
            chunks = [c for c in chunks if c.page_content.strip()]
            for start in range(0, len(chunks), 256):
                self.vectors.add_documents(chunks[start : start + 256])
            total += len(chunks)
        (self.folder / _DONE).write_text(json.dumps({"chunks": total, "skipped": skipped}))
        return total

    def search(self, question: str, k: int = TOP_K) -> list[BaselineHit]:
        """Vector-only top ``k``."""
        return [
            BaselineHit(str(d.metadata.get("source", "")), int(d.metadata.get("page", 1)))
            for d in self.vectors.similarity_search(question, k=k)
        ]

    def close(self) -> None:
        """Close the Chroma client."""
        self.client.close()


def open_baseline(
    folder: Path,
    files: Sequence[tuple[Path, str]],
    embeddings: Embeddings,
    progress: Callable[[str, int, int], None] | None = None,
) -> NaiveBaseline:
    """Open the baseline index in ``folder``, building it (from scratch) unless complete."""
    if folder.exists() and not (folder / _DONE).is_file():
        shutil.rmtree(folder)  # an interrupted build: start over
    baseline = NaiveBaseline(folder, embeddings)
    if not baseline.built:
        baseline.build(files, progress)
    return baseline

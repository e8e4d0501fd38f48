"""Chroma itself: the client for the embedded or server store, its collections, and the lock
that keeps a second process off the embedded store.

Two processes writing one embedded persist directory silently lose vectors, so the embedded
store is held under an exclusive lock file; several processes share a ``chroma run`` server
instead (``CHROMA_URL``), which needs no lock.
"""

from __future__ import annotations

import base64
import fcntl
import os
import re
from pathlib import Path
from typing import IO, Any
from urllib.parse import unquote, urlparse

from rag.config import Settings
from rag.errors import StoreError, StoreLocked


class StoreLock:
    """An exclusive, non-blocking lock file beside the embedded store."""

    def __init__(self, path: Path):
        path.parent.mkdir(parents=True, exist_ok=True)
        self.path = path
        self._file: IO[str] | None = open(path, "a+")  # noqa: SIM115 - held for the store's life
        try:
            fcntl.flock(self._file, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            self._file.seek(0)
            holder = self._file.read().strip() or "unknown"
            self._file.close()
            self._file = None
            raise StoreLocked(
                f"The document store at {path.parent} is open in another Groundwork process "
                f"(pid {holder}). Stop that process, or share the store between processes by "
                f"running `chroma run --path {path.parent / 'chroma'}` and setting CHROMA_URL."
            ) from None
        self._file.seek(0)
        self._file.truncate()
        self._file.write(str(os.getpid()))
        self._file.flush()

    def release(self) -> None:
        """Let another process open the store."""
        if self._file is not None:
            fcntl.flock(self._file, fcntl.LOCK_UN)
            self._file.close()
            self._file = None


def lock_store(settings: Settings) -> StoreLock | None:
    """Take the embedded store's lock (a server store needs none)."""
    return None if settings.chroma_url else StoreLock(settings.data_dir / "chroma.lock")


def rebuild_name(collection: str) -> str:
    """Name of the collection a re-index builds before swapping it in."""
    return f"{collection}-reindex"


def create_collection(client: Any, name: str, embedder: str) -> Any:
    """Create a collection that records the embedder its vectors come from."""
    return client.create_collection(name, metadata={"embedder": embedder, "hnsw:space": "cosine"})


def open_collection(client: Any, name: str, new_embedder: str) -> Any:
    """The store's collection, created recording ``new_embedder`` if there is none yet."""
    names = {c.name for c in client.list_collections()}
    if name not in names and rebuild_name(name) in names:
        # A re-index finished its copy but stopped before the swap: finish the swap.
        client.get_collection(rebuild_name(name)).modify(name=name)
        names.add(name)
    if name in names:
        return client.get_collection(name)
    return create_collection(client, name, new_embedder)


def shown_url(url: str) -> str:
    """``url`` as it may be shown or logged: a user and password in it replaced by ``***``."""
    return _USERINFO.sub("***@", url, count=1)


_USERINFO = re.compile(r"(?<=//)[^/@]+@|^[^/@]+@")


def basic_auth(url: Any) -> dict[str, str]:
    """The HTTP Basic header for a URL's ``user:password@`` part (none without one)."""
    if url.username is None and url.password is None:
        return {}
    pair = f"{unquote(url.username or '')}:{unquote(url.password or '')}"
    return {"Authorization": "Basic " + base64.b64encode(pair.encode()).decode()}


def connect(settings: Settings) -> Any:
    """A Chroma client: the server at ``CHROMA_URL``, else the embedded store on disk."""
    import chromadb
    from chromadb.config import Settings as ChromaSettings

    chroma_settings = ChromaSettings(anonymized_telemetry=False)
    if settings.chroma_url:
        url, shown = urlparse(settings.chroma_url), shown_url(settings.chroma_url)
        try:
            host, port = url.hostname, url.port
        except ValueError:  # a port that is not a number
            host = port = None
        if not host:
            raise StoreError(f"CHROMA_URL {shown!r} is not a URL like http://host:8000.")
        try:
            return chromadb.HttpClient(
                host=host,
                port=port or (443 if url.scheme == "https" else 8000),
                ssl=url.scheme == "https",
                headers=basic_auth(url),
                settings=chroma_settings,
            )
        except Exception as exc:  # chromadb raises bare ValueError/ConnectError variants
            detail = str(exc).replace(settings.chroma_url, shown)
            if url.password:
                detail = detail.replace(url.password, "***")
            raise StoreError(
                f"Cannot reach the Chroma server at {shown} ({detail}). Start it with "
                "`chroma run --path data/chroma`, or unset CHROMA_URL to use the embedded store."
            ) from None
    settings.chroma_dir.mkdir(parents=True, exist_ok=True)
    return chromadb.PersistentClient(path=str(settings.chroma_dir), settings=chroma_settings)

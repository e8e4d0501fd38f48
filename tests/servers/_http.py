"""Own the loopback HTTP plumbing shared by the fake servers.

A `LoopbackServer` runs a stdlib `ThreadingHTTPServer` on 127.0.0.1 with an ephemeral port in a
background thread, speaks HTTP/1.1 (keep-alive, chunked responses for streams), records every
request it receives, and shuts down promptly even while handlers are blocked: closing releases
waiting handlers and cuts their sockets before joining the threads.
"""

from __future__ import annotations

import contextlib
import json
import socket
import threading
import traceback
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Self
from urllib.parse import parse_qs, urlsplit

_QUIET_ERRORS = (ConnectionError, TimeoutError)


def closed_port() -> int:
    """Return a loopback port with nothing listening on it (connections are refused)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@dataclass(frozen=True)
class RecordedRequest:
    """One request as the server received it (body already decompressed when it was zstd)."""

    method: str
    path: str
    query: dict[str, list[str]]
    headers: dict[str, str]
    body: bytes
    json: Any = None


@dataclass
class Exchange:
    """The request being served and the means to answer it."""

    handler: _Handler
    method: str
    path: str
    query: dict[str, list[str]]
    headers: dict[str, str]
    body: bytes
    json: Any = None
    extra: dict[str, Any] = field(default_factory=dict)

    def send_json(self, status: int, payload: Any) -> None:
        data = json.dumps(payload).encode()
        self.send_bytes(status, data, "application/json; charset=utf-8")

    def send_bytes(self, status: int, data: bytes, content_type: str) -> None:
        h = self.handler
        h.send_response(status)
        h.send_header("Content-Type", content_type)
        h.send_header("Content-Length", str(len(data)))
        h.end_headers()
        if self.method != "HEAD":
            h.wfile.write(data)
        h.wfile.flush()

    def start_stream(self, status: int, content_type: str) -> None:
        h = self.handler
        h.send_response(status)
        h.send_header("Content-Type", content_type)
        h.send_header("Transfer-Encoding", "chunked")
        h.end_headers()
        h.wfile.flush()

    def write_chunk(self, data: bytes) -> None:
        if not data:
            return
        w = self.handler.wfile
        w.write(f"{len(data):x}\r\n".encode() + data + b"\r\n")
        w.flush()

    def end_stream(self) -> None:
        w = self.handler.wfile
        w.write(b"0\r\n\r\n")
        w.flush()


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server: _Server

    def setup(self) -> None:
        super().setup()
        with self.server.owner._lock:
            self.server.owner._connections.add(self.connection)

    def finish(self) -> None:
        with self.server.owner._lock:
            self.server.owner._connections.discard(self.connection)
        with contextlib.suppress(OSError):  # the client may already have hung up
            super().finish()

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - stdlib signature
        """Stay quiet: tests assert on `received`, not on stderr."""

    def _read_body(self) -> bytes:
        if self.headers.get("Transfer-Encoding", "").lower() == "chunked":
            chunks = []
            while True:
                size = int(self.rfile.readline().split(b";")[0].strip() or b"0", 16)
                if size == 0:
                    self.rfile.readline()
                    break
                chunks.append(self.rfile.read(size))
                self.rfile.readline()
            return b"".join(chunks)
        length = int(self.headers.get("Content-Length") or 0)
        return self.rfile.read(length) if length else b""

    def _dispatch(self) -> None:
        owner = self.server.owner
        split = urlsplit(self.path)
        ex = Exchange(
            handler=self,
            method=self.command,
            path=split.path,
            query=parse_qs(split.query),
            headers={k.lower(): v for k, v in self.headers.items()},
            body=self._read_body(),
        )
        try:
            owner._prepare(ex)
            owner._record(ex)
            owner._handle(ex)
        except _QUIET_ERRORS:
            raise
        except Exception as exc:
            owner.errors.append(exc)
            ex.send_json(500, {"error": "".join(traceback.format_exception(exc))})

    do_GET = do_POST = do_PATCH = do_PUT = do_DELETE = do_HEAD = _dispatch


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    owner: LoopbackServer

    def handle_error(self, request: Any, client_address: Any) -> None:
        """Ignore clients that hang up (timeouts, cancelled streams); keep anything else."""
        import sys

        exc = sys.exc_info()[1]
        if isinstance(exc, (*_QUIET_ERRORS, OSError)):
            return
        if exc is not None:
            self.owner.errors.append(exc)


class LoopbackServer:
    """Base for fake services: start on 127.0.0.1:0, record requests, close promptly."""

    def __init__(self) -> None:
        self.received: list[RecordedRequest] = []
        self.errors: list[BaseException] = []
        self._lock = threading.RLock()
        self._connections: set[socket.socket] = set()
        self._closing = threading.Event()
        self._httpd: _Server | None = None
        self._thread: threading.Thread | None = None

    # lifecycle -----------------------------------------------------------------------------
    def start(self) -> Self:
        if self._httpd is not None:
            return self
        httpd = _Server(("127.0.0.1", 0), _Handler)
        httpd.owner = self
        self._httpd = httpd
        self._thread = threading.Thread(
            target=httpd.serve_forever,
            kwargs={"poll_interval": 0.05},
            name=f"{type(self).__name__}-{self.port}",
            daemon=True,
        )
        self._thread.start()
        return self

    def close(self) -> None:
        """Stop serving, release blocked handlers, cut open connections and join threads."""
        httpd = self._httpd
        if httpd is None:
            return
        self._closing.set()
        httpd.shutdown()
        with self._lock:
            conns = list(self._connections)
        for conn in conns:
            with contextlib.suppress(OSError):  # already closed by the client
                conn.shutdown(socket.SHUT_RDWR)
        httpd.server_close()
        if self._thread is not None:
            self._thread.join(timeout=5)
        self._httpd = None

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    @property
    def port(self) -> int:
        if self._httpd is None:
            raise RuntimeError(f"{type(self).__name__} is not running; call start()")
        return self._httpd.server_address[1]

    @property
    def url(self) -> str:
        """Base URL, e.g. ``http://127.0.0.1:43121``."""
        return f"http://127.0.0.1:{self.port}"

    # recording -----------------------------------------------------------------------------
    def requests_to(self, path: str, method: str | None = None) -> list[RecordedRequest]:
        """Return the recorded requests for `path` (and `method`, if given), oldest first."""
        with self._lock:
            return [
                r
                for r in self.received
                if r.path == path and (method is None or r.method == method.upper())
            ]

    def _record(self, ex: Exchange) -> None:
        with self._lock:
            self.received.append(
                RecordedRequest(ex.method, ex.path, ex.query, ex.headers, ex.body, ex.json)
            )

    # hooks for subclasses ------------------------------------------------------------------
    def _prepare(self, ex: Exchange) -> None:
        """Decode the body; subclasses may decompress first."""
        ctype = ex.headers.get("content-type", "")
        if ex.body and ("json" in ctype or ex.body[:1] in (b"{", b"[")):
            try:
                ex.json = json.loads(ex.body)
            except ValueError:
                ex.json = None

    def _handle(self, ex: Exchange) -> None:
        raise NotImplementedError

"""A real `chroma run` server on a free loopback port, for tests and the load benchmark.

``ChromaServer`` starts ``chroma run`` (from this virtualenv) in a temp dir, waits until its
heartbeat answers, and stops it. Run as a module it wraps a command, the way ``make
test-server`` runs the store-touching tests against a server::

    python -m tests.servers.chroma -- python -m pytest -m server_store

The command runs with ``GROUNDWORK_TEST_CHROMA_URL`` set to the server's URL; the server is
stopped when the command ends, fails, or is interrupted, and its exit code is passed on.
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Self

import httpx

from ._http import closed_port

TEST_URL_VAR = "GROUNDWORK_TEST_CHROMA_URL"
START_TIMEOUT = 60.0


class ChromaServer:
    """A `chroma run` process on 127.0.0.1; use as a context manager."""

    def __init__(self, path: Path | None = None):
        self._own_dir = path is None
        self.path = Path(tempfile.mkdtemp(prefix="groundwork-chroma-")) if path is None else path
        self.port = closed_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.log_path = self.path.parent / f"{self.path.name}.log"
        self._proc: subprocess.Popen | None = None

    def start(self) -> Self:
        """Start the server and wait until its heartbeat answers."""
        chroma = Path(sys.executable).parent / "chroma"
        cmd = [str(chroma), "run", "--path", str(self.path), "--host", "127.0.0.1"]
        with open(self.log_path, "wb") as log:
            self._proc = subprocess.Popen(
                [*cmd, "--port", str(self.port)], stdout=log, stderr=subprocess.STDOUT
            )
        self._wait_ready()
        return self

    def _wait_ready(self) -> None:
        deadline = time.monotonic() + START_TIMEOUT
        while time.monotonic() < deadline:
            if self._proc is not None and self._proc.poll() is not None:
                raise RuntimeError(f"chroma run exited early; see {self.log_path}")
            try:
                if httpx.get(f"{self.url}/api/v2/heartbeat", timeout=1.0).is_success:
                    return
            except httpx.TransportError:
                pass
            time.sleep(0.1)
        self.stop()
        raise RuntimeError(f"chroma run did not answer within {START_TIMEOUT:.0f} s")

    def stop(self) -> None:
        """Stop the server (politely, then by force) and remove its temp dir."""
        if self._proc is not None and self._proc.poll() is None:
            self._proc.terminate()
            try:
                self._proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self._proc.kill()
                self._proc.wait(timeout=15)
        self._proc = None
        if self._own_dir:
            shutil.rmtree(self.path, ignore_errors=True)
            self.log_path.unlink(missing_ok=True)

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()


def _interrupt(signum: int, frame: object) -> None:
    raise KeyboardInterrupt


def run_with_server(command: list[str]) -> int:
    """Run ``command`` with a fresh server's URL in ``GROUNDWORK_TEST_CHROMA_URL``."""
    # SIGTERM (a CI timeout) unwinds like Ctrl-C, so the server is stopped either way.
    signal.signal(signal.SIGTERM, _interrupt)
    with ChromaServer() as server:
        print(f"chroma run listening at {server.url}", flush=True)
        env = {**os.environ, TEST_URL_VAR: server.url}
        started = time.monotonic()
        try:
            code = subprocess.call(command, env=env)
        except KeyboardInterrupt:
            code = 130
        print(f"server-store run: exit {code} after {time.monotonic() - started:.0f} s", flush=True)
    return code


if __name__ == "__main__":
    args = sys.argv[1:]
    if args[:1] == ["--"]:
        args = args[1:]
    if not args:
        sys.exit("usage: python -m tests.servers.chroma -- COMMAND [ARGS...]")
    sys.exit(run_with_server(args))

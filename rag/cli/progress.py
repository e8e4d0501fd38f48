"""Progress on stderr: a bar or a rewritten line on a terminal, plain lines in logs and CI.

A terminal gets tqdm bars (ingest, reindex) or one rewritten status line (eval). Anything else
(a pipe, a log file, CI) gets whole lines such as ``ingest: 3/54 handbook.pdf 120 chunks``:
one per finished file, and one every ``INTERVAL`` seconds while a long file or re-index runs,
never one per chunk and never a carriage return.
"""

from __future__ import annotations

import sys
import time
from types import TracebackType
from typing import Any, Self

INTERVAL = 10.0  # seconds between plain lines about one long-running step


def interactive() -> bool:
    """Whether stderr is a terminal (bars) rather than a pipe or a log (plain lines)."""
    return sys.stderr.isatty()


def _line(text: str) -> None:
    print(text, file=sys.stderr, flush=True)


class EvalProgress:
    """Evaluation progress: one rewritten status line on a terminal, every tenth step in logs."""

    def __init__(self):
        self.tty = interactive()
        self.stage = ""

    def __call__(self, stage: str, done: int, total: int, label: str) -> None:
        if stage == "done":
            if self.tty:
                print(file=sys.stderr)
            return
        if stage != self.stage and not self.tty and self.stage:
            print(file=sys.stderr)
        self.stage = stage
        line = f"{stage}: {done + 1}/{total} {label}"[:100]
        if self.tty:
            print(f"\r{line:<100}", end="", file=sys.stderr, flush=True)
        elif done % 10 == 0 or done + 1 == total:
            _line(line)


class _Throttle:
    """Whether enough time passed since the last plain line."""

    def __init__(self, interval: float = INTERVAL):
        self.interval = interval
        self.last = time.monotonic()

    def due(self) -> bool:
        now = time.monotonic()
        if now - self.last < self.interval:
            return False
        self.last = now
        return True

    def reset(self) -> None:
        self.last = time.monotonic()


class _BarOrLines:
    """A tqdm bar on a terminal; elsewhere the subclass prints plain lines, ``throttle`` apart."""

    def __init__(self, **bar: Any):
        self.throttle = _Throttle()
        self.bar = None
        if interactive():
            from tqdm import tqdm

            self.bar = tqdm(file=sys.stderr, **bar)

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        if self.bar is None:
            return
        if kind is None and self.bar.total:
            self.bar.update(self.bar.total - self.bar.n)  # files that embedded nothing count too
        self.bar.close()


class IngestProgress(_BarOrLines):
    """Ingest progress per file, called as (file name, chunks done, chunks total).

    Only files that are embedded report progress; the position shown is the file's place in
    the batch, so skipped, unchanged and failed files still count.
    """

    def __init__(self, names: list[str]):
        super().__init__(total=len(names), unit="file")
        self.position: dict[str, int] = {}
        for i, name in enumerate(names, start=1):
            self.position.setdefault(name, i)
        self.total = len(names)
        self.finished: set[str] = set()

    def __call__(self, name: str, chunks_done: int, chunks_total: int) -> None:
        finished = chunks_done >= chunks_total and name not in self.finished
        if finished:
            self.finished.add(name)
        if self.bar is not None:
            self.bar.set_postfix_str(f"{name[:40]} {chunks_done}/{chunks_total} chunks")
            if finished:
                self.bar.update(1)
            return
        where = f"ingest: {self.position.get(name, len(self.finished))}/{self.total} {name}"
        if finished:
            _line(f"{where} {chunks_total} chunks")
            self.throttle.reset()
        elif self.throttle.due():
            _line(f"{where} {chunks_done}/{chunks_total} chunks")


class ReindexProgress(_BarOrLines):
    """Re-index progress, called as (chunks done, chunks total)."""

    def __init__(self):
        super().__init__(unit="chunk")

    def __call__(self, done: int, total: int) -> None:
        if self.bar is not None:
            self.bar.total = total
            self.bar.update(done - self.bar.n)
        elif done >= total or self.throttle.due():
            _line(f"reindex: {done}/{total} chunks")

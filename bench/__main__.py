"""Run the benchmarks: every ``bench/bench_*.py`` in turn, or the ones named.

.venv/bin/python -m bench                 # all of them, each with its defaults
.venv/bin/python -m bench ingest --repeat 3   # one, with its own options
.venv/bin/python -m bench ingest --help
"""

from __future__ import annotations

import importlib
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent


def available() -> list[str]:
    """Names of the benchmarks (``bench_NAME.py`` → ``NAME``)."""
    return sorted(p.stem.removeprefix("bench_") for p in HERE.glob("bench_*.py"))


def run(name: str, args: list[str]) -> None:
    """Import ``bench.bench_NAME`` and call its ``main()`` with ``args`` as the command line."""
    module = importlib.import_module(f"bench.bench_{name}")
    saved = sys.argv
    sys.argv = [f"bench {name}", *args]
    try:
        module.main()
    finally:
        sys.argv = saved


def main() -> None:
    names = available()
    args = sys.argv[1:]
    if args and args[0] in ("-h", "--help"):
        print(__doc__.strip() + f"\n\nbenchmarks: {', '.join(names)}")
        return
    if args and not args[0].startswith("-"):
        name = args[0].removeprefix("bench_").removesuffix(".py")
        if name not in names:
            sys.exit(f"unknown benchmark {args[0]!r}; choose one of: {', '.join(names)}")
        run(name, args[1:])
        return
    for name in names:
        print(f"=== bench {name} ===", flush=True)
        run(name, [])


if __name__ == "__main__":
    main()

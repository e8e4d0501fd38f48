"""Fuzzing the loaders: mutated PDF, DOCX and HTML files load or fail alone, fast and small.

Valid files are mutated deterministically (byte flips, truncations, duplicated slices, inserted
bytes) and read by ``load_file`` in one child process under a 3 GB address-space limit. Each
file must finish within ``PER_FILE`` seconds (a watchdog kills the child otherwise, naming the
file) and either load or raise ``IngestError``; the child's peak memory must stay under 1.5 GB.
"""

from __future__ import annotations

import json
import subprocess
import sys
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
MUTANTS = 60  # per format
PER_FILE = 10.0  # seconds
PEAK_MB = 1536

CHILD = r"""
import json, random, resource, sys, time
sys.path[:0] = [sys.argv[1], sys.argv[2]]
resource.setrlimit(resource.RLIMIT_AS, (3 << 30, 3 << 30))
from ingest_samples import make_docx, make_pdf, stamped_scan_pdf
from rag.config import Settings
from rag.errors import IngestError
from rag.ingest import load_file

HTML = (b"<html><head><title>Travel</title></head><body><h1>Travel</h1><p>Book <b>early</b>."
        b"</p><ul><li>Meals</li></ul><table><tr><td>Boston</td><td>$79</td></tr></table>"
        b"<!-- note --><script>x()</script></body></html>") * 20
SEEDS = {
    "pdf": make_pdf(["Revenue grew ten percent in 2023.", "Costs fell."], title="Report"),
    "docx": make_docx(title="Leave policy"),
    "html": HTML,
}


def mutate(data, rnd):
    data = bytearray(data)
    for _ in range(rnd.randint(1, 4)):
        kind, at = rnd.randrange(4), rnd.randrange(len(data))
        if kind == 0:
            for _ in range(rnd.randint(1, 32)):
                data[rnd.randrange(len(data))] = rnd.randrange(256)
        elif kind == 1:
            data = data[: max(1, at)]
        elif kind == 2:
            end = min(len(data), at + rnd.randint(1, 4096))
            data[at:at] = data[at:end] * rnd.randint(1, 50)
        else:
            data[at:at] = rnd.randbytes(rnd.randint(1, 512))
    return bytes(data)


settings = Settings(data_dir=sys.argv[3], backend="embedded")
for kind, seed in SEEDS.items():
    rnd = random.Random(f"groundwork-{kind}")
    for i in range(int(sys.argv[4])):
        data = mutate(seed, rnd)
        print(json.dumps({"start": f"{kind}-{i}"}), flush=True)
        started = time.perf_counter()
        try:
            load_file(f"mutant.{kind}", data, settings)
            outcome = "loaded"
        except IngestError:
            outcome = "refused"
        except BaseException as exc:
            outcome = f"{type(exc).__name__}: {exc}"[:300]
        seconds = time.perf_counter() - started
        print(json.dumps({"done": f"{kind}-{i}", "outcome": outcome, "seconds": seconds}),
              flush=True)
# VmHWM, not ru_maxrss: Linux carries the parent's peak into ru_maxrss across fork and exec,
# so a large test process would count against the loader.
status = open("/proc/self/status").read().split("VmHWM:")[1]
peak = int(status.split()[0]) / 1024
print(json.dumps({"peak_mb": peak}), flush=True)
"""


def test_mutated_files_load_or_fail_alone_within_time_and_memory(tmp_path):
    child = subprocess.Popen(
        [sys.executable, "-c", CHILD, str(ROOT), str(Path(__file__).parent), str(tmp_path),
         str(MUTANTS)],
        cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )  # fmt: skip
    last = {"at": time.monotonic(), "file": "(start-up)"}
    stuck: list[str] = []

    def watchdog():
        while child.poll() is None:
            if time.monotonic() - last["at"] > PER_FILE + 20:  # start-up imports included
                stuck.append(last["file"])
                child.kill()
            time.sleep(0.5)

    threading.Thread(target=watchdog, daemon=True).start()
    results, peak = [], None
    assert child.stdout is not None
    for line in child.stdout:
        event = json.loads(line)
        last["at"] = time.monotonic()
        if "start" in event:
            last["file"] = event["start"]
        elif "done" in event:
            results.append(event)
        else:
            peak = event["peak_mb"]
    child.wait()
    assert not stuck, f"{stuck[0]} took over {PER_FILE} s (the child was killed)"
    assert child.returncode == 0, child.stderr.read()[-3000:]
    assert len(results) == 3 * MUTANTS
    crashes = [r for r in results if r["outcome"] not in ("loaded", "refused")]
    assert not crashes, crashes[:5]
    slow = [r for r in results if r["seconds"] > PER_FILE]
    assert not slow, slow[:5]
    assert peak is not None and peak < PEAK_MB, f"peak RSS {peak:.0f} MB"
    outcomes = {r["outcome"] for r in results}
    assert outcomes == {"loaded", "refused"}  # the mutations both break files and spare some

"""Time hostile uploads against normal files of the same size: time, peak memory, outcome.

    .venv/bin/python -m bench hostile [--size 200000] [--upload]

Each case is read by ``rag.index.reading.read_document`` (load, context, chunks; no embedding) in a
fresh subprocess, so its peak RSS (``VmHWM``) is the case's own; ``--upload`` times the whole
upload instead (``ingest_file`` into a new embedded store: reading, embedding, storing). The
ratio compares each case with the normal file of its format and size; the goal is under 2x
(plus OCR) and 1.5 GB.
"""

from __future__ import annotations

import argparse
import json
import random
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SAMPLES = ROOT / "tests" / "ingest"
NORMAL = "The committee approved the travel budget for the spring quarter. " * 6 + "\n\n"

CHILD = r"""
import json, sys, time
sys.path[:0] = [sys.argv[1], sys.argv[2]]
from rag.config import Settings
from rag.errors import IngestError
from rag.index.indexing import read_document
from rag.models import DEFAULT_EMBEDDER
name, path = sys.argv[3], sys.argv[4]
data = open(path, "rb").read()
settings = Settings(data_dir=sys.argv[5], backend="embedded")
read_document("warm.txt", b"warm up the tokenizer", settings)
if sys.argv[6] == "upload":
    from rag.models.embeddings import MiniLMEmbeddings
    from rag.index.indexing import ingest_file
    from rag.index.store import DocumentStore
    embeddings = MiniLMEmbeddings()
    embeddings.embed_documents(["warm up the model"])
    store = DocumentStore(settings, lambda _: embeddings, DEFAULT_EMBEDDER)
    started = time.perf_counter()
    report = ingest_file(store, name, data)
    seconds = time.perf_counter() - started
    outcome = f"{report.status}: {report.chunks} chunks" if report.ok else report.error[:80]
    store.close()
else:
    started = time.perf_counter()
    try:
        doc, _, drafts = read_document(name, data, settings)
        outcome = f"loaded: {len(drafts)} chunks" + (f", {len(doc.warnings)} warning(s): "
            + doc.warnings[0][:60] if doc.warnings else "")
    except IngestError as exc:
        outcome = "IngestError: " + exc.reason[:70]
    seconds = time.perf_counter() - started
# VmHWM, not ru_maxrss: Linux carries ru_maxrss across exec from the (bomb-building) parent
status = open("/proc/self/status").read().split("VmHWM:")[1]
peak = int(status.split()[0]) / 1024
print(json.dumps({"seconds": seconds, "peak_mb": peak, "outcome": outcome}))
"""


def _of_size(unit: str, size: int) -> bytes:
    return (unit * (size // len(unit) + 1))[:size].encode()


def cases(size: int) -> list[tuple[str, str, bytes, str]]:
    """(label, file name, bytes, baseline label) for every case."""
    sys.path[:0] = [str(ROOT), str(SAMPLES)]
    from ingest_samples import docx_with_body, make_pdf, pdf_bomb

    para = b"<w:p><w:r><w:t>" + NORMAL.strip().encode() + b"</w:t></w:r></w:p>"
    out = [
        ("normal .md", "n.md", _of_size(NORMAL, size), ""),
        ("normal .html", "n.html", _of_size(f"<p>{NORMAL}</p>", size), ""),
        ("normal .pdf", "n.pdf", make_pdf([NORMAL * 6] * 10), ""),
        ("normal .docx", "n.docx", docx_with_body(para * (size // len(para))), ""),
    ]
    for unit in ("{%", "<!--", "[", "{{", "[](", "# ", "# [", "'"):
        out.append((f".md of {unit!r}", "h.md", _of_size(unit, size), "normal .md"))
    rng = random.Random(0)
    symbols = "".join(rng.choice("!#$%&()*+,-./:;<=>?@[]^_{|}~") for _ in range(size))
    out.append((".md of random symbols", "h.md", symbols.encode(), "normal .md"))
    words = " ".join(
        "".join(rng.choice("abcdefghijklmnopqrstuvwxyz") for _ in range(rng.randint(2, 9)))
        for _ in range(size // 5)
    )
    out.append((".md of random words", "h.md", words[:size].encode(), "normal .md"))
    for unit in ("<!--", "<a ", "<p>", "<li>x", "</"):
        out.append((f".html of {unit!r}", "h.html", _of_size(unit, size), "normal .html"))
    bomb = b"<w:p><w:r><w:t>" + b"0" * (1 << 30) + b"</w:t></w:r></w:p>"
    out.append(("DOCX bomb (1 GB xml)", "bomb.docx", docx_with_body(bomb), "normal .docx"))
    del bomb
    out.append(("PDF bomb (1 GB stream)", "bomb.pdf", pdf_bomb(1 << 30), "normal .pdf"))
    return out


def run(name: str, data: bytes, workdir: Path, mode: str = "read") -> dict:
    path = workdir / f"input-{name}"
    path.write_bytes(data)
    data_dir = Path(tempfile.mkdtemp(dir=workdir))  # a new store per case
    result = subprocess.run(
        [sys.executable, "-c", CHILD, str(ROOT), str(SAMPLES), name, str(path),
         str(data_dir), mode],
        cwd=ROOT, capture_output=True, text=True, timeout=1800,
    )  # fmt: skip
    if result.returncode != 0:
        return {"seconds": float("nan"), "peak_mb": float("nan"), "outcome": "crashed: "
                + result.stderr.strip().splitlines()[-1][:70]}  # fmt: skip
    return json.loads(result.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--size", type=int, default=200_000, help="bytes of each text case")
    parser.add_argument("--upload", action="store_true", help="time whole uploads (embedding too)")
    args = parser.parse_args()
    mode = "upload" if args.upload else "read"
    rows, seen = [], {}
    with tempfile.TemporaryDirectory() as tmp:
        for label, name, data, baseline in cases(args.size):
            result = run(name, data, Path(tmp), mode)
            seen[label] = result["seconds"]
            ratio = result["seconds"] / seen[baseline] if baseline else 1.0
            rows.append((label, len(data), result, ratio))
            print(
                f"{label:24} {len(data) / 1024:8.0f} KB {result['seconds']:7.2f} s "
                f"{result['peak_mb']:7.0f} MB {ratio:6.1f}x  {result['outcome']}",
                flush=True,
            )


if __name__ == "__main__":
    main()

"""Measure table extraction and the scanned-page rule of the PDF loader on real PDFs.

    .venv/bin/python -m bench tables                      # 12 filings, decisions on all
    .venv/bin/python -m bench tables --limit 0 --samples 3   # every filing; show 3 rows
    .venv/bin/python -m bench tables --ocr                # also OCR the pdf-zoo scans

- speed: ``rag.ingest.pdf.load_pdf`` on each filing with and without the table search (OCR off
  in both, so only tables differ), alternating per file (best of ``--repeat`` runs); pages/s
  per file, medians over files, their ratio, and total wall and CPU time both ways (CPU time
  is steadier when other work shares the machine);
- tables: pages searched, tables found, labelled rows written in place of their lines or
  appended after the page text (when their lines could not be found);
- scans: pages the loader would OCR, per pdf-zoo file and over all the filings, next to what the
  previous rule (fewer than 20 letters and digits and any picture) would have OCRed.

Needs the shared corpora (``../shared/corpora``: financebench-dev/docs and pdf-zoo); says so and
exits when they are missing.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

CORPORA = ROOT.parent / "shared" / "corpora"
DEFAULT_FILINGS = CORPORA / "financebench-dev" / "docs"
DEFAULT_ZOO = CORPORA / "pdf-zoo"


def _settings():
    import tempfile

    from rag.config import Settings

    return Settings(data_dir=Path(tempfile.mkdtemp(prefix="bench-tables-")), max_pages=5000)


def _spread(files: list[Path], limit: int) -> list[Path]:
    """Every k-th file, so a small sample still spans companies and years."""
    if limit <= 0 or limit >= len(files):
        return files
    step = len(files) / limit
    return [files[int(i * step)] for i in range(limit)]


def speed(files: list[Path], samples: int, repeat: int) -> None:
    """Time the loader with and without tables on each file and count what it found."""
    from rag.ingest.pdf import LayoutReport, load_pdf
    from rag.ingest.table_rows import parse_row

    settings = _settings()
    with_rates, without_rates, page_counts = [], [], []
    totals = LayoutReport()
    shown = 0
    print(f"{'file':<42}{'pages':>6}{'plain p/s':>10}{'tables p/s':>11}{'slower':>7}{'rows':>6}")
    total_plain = total_tables = cpu_plain = cpu_tables = 0.0
    for path in files:
        data = path.read_bytes()
        plain_s = tables_s = plain_cpu = tables_cpu = float("inf")
        for _ in range(repeat):  # alternate, keep each variant's best: other load only adds
            started, cpu = time.perf_counter(), time.process_time()
            plain = load_pdf(path.name, data, settings, tables=False, ocr=False)
            plain_s = min(plain_s, time.perf_counter() - started)
            plain_cpu = min(plain_cpu, time.process_time() - cpu)
            report = LayoutReport()
            started, cpu = time.perf_counter(), time.process_time()
            doc = load_pdf(path.name, data, settings, ocr=False, report=report)
            tables_s = min(tables_s, time.perf_counter() - started)
            tables_cpu = min(tables_cpu, time.process_time() - cpu)
        total_plain, total_tables = total_plain + plain_s, total_tables + tables_s
        cpu_plain, cpu_tables = cpu_plain + plain_cpu, cpu_tables + tables_cpu
        pages = len(plain.pages)
        page_counts.append(pages)
        without_rates.append(pages / plain_s)
        with_rates.append(pages / tables_s)
        rows = report.rows_placed + report.rows_appended
        for field in ("table_pages", "tables", "rows_placed", "rows_appended"):
            setattr(totals, field, getattr(totals, field) + getattr(report, field))
        print(
            f"{path.name[:41]:<42}{pages:>6}{pages / plain_s:>10.1f}{pages / tables_s:>11.1f}"
            f"{tables_s / plain_s:>7.2f}{rows:>6}"
        )
        for page in doc.pages:
            for line in page.text.split("\n"):
                if shown < samples and (parsed := parse_row(line)) and len(parsed[1]) >= 2:
                    print(f"    sample p.{page.number}: {line[:200]}")
                    shown += 1
    plain_median, tables_median = statistics.median(without_rates), statistics.median(with_rates)
    print(
        f"\nmedian pages/s over {len(files)} files: {plain_median:.1f} without tables, "
        f"{tables_median:.1f} with tables; ratio {tables_median / plain_median:.2f} "
        f"(slowdown {plain_median / tables_median:.2f}x)"
    )
    print(
        f"all {sum(page_counts)} pages: wall {total_plain:.1f} s without tables, "
        f"{total_tables:.1f} s with (slowdown {total_tables / total_plain:.2f}x); CPU "
        f"{cpu_plain:.1f} s vs {cpu_tables:.1f} s (slowdown {cpu_tables / cpu_plain:.2f}x)"
    )
    placed, appended = totals.rows_placed, totals.rows_appended
    print(
        f"tables: {totals.tables} on {totals.table_pages} searched pages; {placed + appended} "
        f"labelled rows, {placed} in place of their lines, {appended} appended after the page"
    )


def decisions(path: Path) -> tuple[int, list[int], int]:
    """Pages, the pages judged scanned, and how many the previous rule would have OCRed.

    Uses the loader's own test (``rag.ingest.ocr.is_scan``) on pdfium's text of each page.
    """
    import pypdfium2 as pdfium

    from rag.ingest.ocr import coverage, is_scan

    pdf = pdfium.PdfDocument(path.read_bytes())
    scanned, old = [], 0
    try:
        for i in range(len(pdf)):
            page = pdf[i]
            textpage = page.get_textpage()
            text = textpage.get_text_range()
            textpage.close()
            if is_scan(page, text):
                scanned.append(i + 1)
            # the previous rule: under 20 letters and digits, and any picture on the page
            if sum(c.isalnum() for c in text) < 20 and coverage(page, with_text=False).images:
                old += 1
            page.close()
        return len(pdf), scanned, old
    finally:
        pdf.close()


def scans(files: list[Path], label: str, run_ocr: bool) -> None:
    """Count the pages judged scanned per file that has any, and in total."""
    from rag.ingest.pdf import LayoutReport, load_pdf

    total_pages = total_new = total_old = 0
    for path in files:
        pages, scanned, old = decisions(path)
        total_pages, total_new, total_old = (
            total_pages + pages,
            total_new + len(scanned),
            total_old + old,
        )
        if not (scanned or old):
            continue
        line = f"  {path.name[:50]:<51}{pages:>5} pages {len(scanned):>4} scanned"
        line += f" (previous rule {old})"
        if run_ocr and scanned:
            report = LayoutReport()
            started = time.perf_counter()
            doc = load_pdf(path.name, path.read_bytes(), _settings(), tables=False, report=report)
            seconds = time.perf_counter() - started
            added = sum(len(doc.pages[n - 1].text) for n in report.ocred)
            line += f"; OCRed {len(report.ocred)} in {seconds:.1f} s ({added} chars)"
        print(line)
    print(
        f"{label}: {total_new} of {total_pages} pages judged scanned in {len(files)} files "
        f"(previous rule: {total_old})"
    )


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__.splitlines()[0],
        epilog="examples:\n  python -m bench tables\n  python -m bench tables --limit 0 --ocr",
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--filings", type=Path, default=DEFAULT_FILINGS, help="folder of PDFs")
    parser.add_argument("--zoo", type=Path, default=DEFAULT_ZOO, help="folder of odd PDFs")
    parser.add_argument("--limit", type=int, default=12, help="filings to time (0: all)")
    parser.add_argument("--samples", type=int, default=0, help="labelled rows to print")
    parser.add_argument("--repeat", type=int, default=1, help="timed runs per file (best kept)")
    parser.add_argument("--ocr", action="store_true", help="OCR the pdf-zoo scans (slow)")
    args = parser.parse_args()

    missing = [p for p in (args.filings, args.zoo) if not p.is_dir()]
    if missing:
        print(
            f"bench tables: skipped: {', '.join(map(str, missing))} not found. It needs the "
            "shared corpora (financebench-dev/docs and pdf-zoo under ../shared/corpora); pass "
            "--filings DIR and --zoo DIR to use others."
        )
        return
    filings = sorted(args.filings.glob("*.pdf"))
    zoo = sorted(args.zoo.glob("*.pdf"))
    timed = _spread(filings, args.limit)
    print(f"speed and tables: {len(timed)} of {len(filings)} filings in {args.filings}")
    speed(timed, args.samples, max(1, args.repeat))
    print(f"\nscanned pages (files with any): pdf-zoo ({args.zoo})")
    scans(zoo, "pdf-zoo", run_ocr=args.ocr)
    print(f"\nscanned pages: filings ({args.filings})")
    scans(filings, "financebench filings", run_ocr=False)


if __name__ == "__main__":
    main()

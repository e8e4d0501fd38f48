#!/usr/bin/env python3
"""Validate the golden evaluation sets in evals/*.jsonl.

Checks, for every line:
  * format: a JSON object with the expected fields and types, unique ids across all files;
  * answerable lines: every key fact appears (case-insensitive, whitespace-normalised) in one
    of the listed source files; for PDF sources the fact must be on one of the listed pages
    (1-based physical page index, as pypdf counts them); every key fact also appears in the
    reference answer;
  * unanswerable lines: empty answer, key_facts and sources.

Source files are found by base name under --corpora (default: ../shared/corpora relative to
the repo root) and --samples (default: rag/samples in the repo). A base name that matches
several files is accepted if any of them contains the fact, and is reported as a warning.

Usage:
  python evals/check.py                      # all evals/*.jsonl
  python evals/check.py evals/samples.jsonl  # one file (works without ../shared)
  python evals/check.py --format-only        # skip the source look-ups

Needs only the standard library and pypdf (for PDF sources). A listed PDF page with almost no
text layer (fewer than 200 characters, e.g. a scanned page behind a one-line stamp) is OCRed
instead, with pypdfium2 + pytesseract and the tesseract binary, imported only then; if they are
missing, that is reported as a problem. Exit status 1 on any problem.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import re
import sys
import unicodedata
from pathlib import Path

EVALS_DIR = Path(__file__).resolve().parent
REPO_ROOT = EVALS_DIR.parent
TEXT_SUFFIXES = {".md", ".markdown", ".txt"}
REQUIRED = {
    "id": str,
    "question": str,
    "answer": str,
    "key_facts": list,
    "sources": list,
    "answerable": bool,
}
ALLOWED = set(REQUIRED) | {"pages"}
OCR_BELOW = 200  # a PDF page with fewer text-layer characters than this is OCRed
OCR_DPI = 300


def norm(text: str) -> str:
    """Case-fold, NFKC-normalise (PDF ligatures, non-breaking spaces) and collapse whitespace."""
    text = unicodedata.normalize("NFKC", text)
    return re.sub(r"\s+", " ", text).strip().casefold()


def strip_markdown(text: str) -> str:
    """A lightly de-marked-up copy: drop emphasis/code markers and backslash escapes."""
    return re.sub(r"[*_`\\]", "", text)


class Sources:
    """Finds source files by base name and caches their normalised text."""

    def __init__(self, roots: list[Path]):
        self.index: dict[str, list[Path]] = {}
        for root in roots:
            if not root.is_dir():
                continue
            for dirpath, _dirs, files in os.walk(root):
                for name in files:
                    self.index.setdefault(name, []).append(Path(dirpath) / name)
        self._text: dict[Path, list[str]] = {}
        self._pdf: dict[Path, list[str]] = {}
        self._ocr: dict[tuple[Path, int], str] = {}
        self.ocr_pages: set[tuple[Path, int]] = set()

    def paths(self, name: str) -> list[Path]:
        return self.index.get(name, [])

    def text_variants(self, path: Path) -> list[str]:
        if path not in self._text:
            raw = path.read_text(encoding="utf-8", errors="replace")
            self._text[path] = [norm(raw), norm(strip_markdown(raw))]
        return self._text[path]

    def pdf_pages(self, path: Path) -> list[str]:
        if path not in self._pdf:
            import pypdf  # only needed when a PDF source is checked

            reader = pypdf.PdfReader(str(path))
            self._pdf[path] = [norm(page.extract_text() or "") for page in reader.pages]
        return self._pdf[path]

    def pdf_page(self, path: Path, page: int) -> str:
        """Normalised text of a 1-based page; OCR (plus the text layer) if the text layer is thin.

        Raises RuntimeError if the page needs OCR and OCR is not available.
        """
        text = self.pdf_pages(path)[page - 1]
        if len(text) >= OCR_BELOW:
            return text
        key = (path, page)
        if key not in self._ocr:
            self._ocr[key] = text + " " + norm(ocr_page(path, page))
            self.ocr_pages.add(key)
        return self._ocr[key]


def ocr_page(path: Path, page: int) -> str:
    """OCR one 1-based PDF page (pypdfium2 renders it, tesseract reads it)."""
    try:
        import pypdfium2
        import pytesseract
    except ImportError as exc:
        raise RuntimeError(f"OCR needs pypdfium2 and pytesseract ({exc})") from exc
    doc = pypdfium2.PdfDocument(str(path))
    try:
        image = doc[page - 1].render(scale=OCR_DPI / 72).to_pil()
        try:
            return pytesseract.image_to_string(image)
        except pytesseract.TesseractNotFoundError as exc:
            raise RuntimeError("OCR needs the tesseract program (Debian: tesseract-ocr)") from exc
    finally:
        doc.close()


def check_format(rec: object, where: str) -> list[str]:
    errs: list[str] = []
    if not isinstance(rec, dict):
        return [f"{where}: not a JSON object"]
    for key, typ in REQUIRED.items():
        if key not in rec:
            errs.append(f"{where}: missing field {key!r}")
        elif not isinstance(rec[key], typ):
            errs.append(f"{where}: field {key!r} should be {typ.__name__}")
    extra = set(rec) - ALLOWED
    if extra:
        errs.append(f"{where}: unexpected fields {sorted(extra)}")
    if errs:
        return errs
    if not rec["id"].strip() or not rec["question"].strip():
        errs.append(f"{where}: empty id or question")
    for key in ("key_facts", "sources"):
        if not all(isinstance(x, str) and x.strip() for x in rec[key]):
            errs.append(f"{where}: {key} must be non-empty strings")
    if any("/" in s or "\\" in s for s in rec["sources"]):
        errs.append(f"{where}: sources must be base file names, not paths")
    pages = rec.get("pages")
    if pages is not None and not (
        isinstance(pages, list)
        and all(isinstance(p, int) and not isinstance(p, bool) and p >= 1 for p in pages)
    ):
        errs.append(f"{where}: pages must be a list of positive integers")
    has_pdf = any(s.lower().endswith(".pdf") for s in rec["sources"])
    if rec["answerable"]:
        if not rec["answer"].strip():
            errs.append(f"{where}: answerable but answer is empty")
        if not rec["key_facts"]:
            errs.append(f"{where}: answerable but no key_facts")
        if not rec["sources"]:
            errs.append(f"{where}: answerable but no sources")
        if has_pdf and not pages:
            errs.append(f"{where}: PDF source but no pages")
        if pages and not has_pdf:
            errs.append(f"{where}: pages given but no PDF source")
        answer = norm(rec["answer"])
        for fact in rec["key_facts"]:
            if norm(fact) not in answer:
                errs.append(f"{where}: key fact {fact!r} missing from the reference answer")
    else:
        if rec["answer"] or rec["key_facts"] or rec["sources"] or pages:
            errs.append(f"{where}: unanswerable must have empty answer, key_facts, sources, pages")
    return errs


def check_sources(rec: dict, where: str, src: Sources) -> tuple[list[str], list[str]]:
    errs: list[str] = []
    warns: list[str] = []
    texts: list[str] = []  # normalised text blobs a fact may be found in
    for name in rec["sources"]:
        paths = src.paths(name)
        if not paths:
            errs.append(f"{where}: source {name!r} not found")
            continue
        if len(paths) > 1:
            warns.append(f"{where}: source {name!r} matches {len(paths)} files")
        for path in paths:
            if path.suffix.lower() == ".pdf":
                pages = src.pdf_pages(path)
                for p in rec.get("pages") or []:
                    if p > len(pages):
                        errs.append(f"{where}: page {p} beyond {name} ({len(pages)} pages)")
                        continue
                    try:
                        texts.append(src.pdf_page(path, p))
                    except RuntimeError as exc:
                        errs.append(
                            f"{where}: {name} page {p} has under {OCR_BELOW} characters "
                            f"of text layer and cannot be OCRed: {exc}"
                        )
            elif path.suffix.lower() in TEXT_SUFFIXES:
                texts.extend(src.text_variants(path))
            else:
                errs.append(f"{where}: unsupported source type {name!r}")
    if errs:
        return errs, warns
    for fact in rec["key_facts"]:
        if not any(norm(fact) in t for t in texts):
            errs.append(
                f"{where}: key fact {fact!r} not found in {rec['sources']}"
                + (f" pages {rec['pages']}" if rec.get("pages") else "")
            )
    return errs, warns


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("files", nargs="*", type=Path, help="JSONL files (default: evals/*.jsonl)")
    ap.add_argument(
        "--corpora",
        type=Path,
        default=REPO_ROOT.parent / "shared" / "corpora",
        help="folder holding the corpora (default: ../shared/corpora from repo root)",
    )
    ap.add_argument(
        "--samples",
        type=Path,
        default=REPO_ROOT / "rag" / "samples",
        help="folder holding the shipped sample documents",
    )
    ap.add_argument("--format-only", action="store_true", help="skip source look-ups")
    ap.add_argument("-v", "--verbose", action="store_true", help="print warnings")
    args = ap.parse_args(argv)
    logging.getLogger("pypdf").setLevel(logging.ERROR)  # font/xref warnings are noise here

    files = args.files or sorted(EVALS_DIR.glob("*.jsonl"))
    if not files:
        print("no JSONL files found", file=sys.stderr)
        return 1
    src = None
    if not args.format_only:
        for root in (args.corpora, args.samples):
            if not root.is_dir():
                print(f"note: {root} not found; sources there cannot be checked", file=sys.stderr)
        src = Sources([args.corpora, args.samples])

    seen: dict[str, str] = {}
    errors: list[str] = []
    warnings: list[str] = []
    width = max(24, *(len(path.name) for path in files))
    print(f"{'file':<{width}} {'lines':>5} {'answerable':>10} {'unanswerable':>12} {'problems':>8}")
    for path in files:
        n = n_ans = n_un = 0
        file_errs: list[str] = []
        for lineno, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
            if not line.strip():
                continue
            where = f"{path.name}:{lineno}"
            try:
                rec = json.loads(line)
            except json.JSONDecodeError as exc:
                file_errs.append(f"{where}: invalid JSON ({exc})")
                continue
            n += 1
            errs = check_format(rec, where)
            if not errs:
                where = f"{where} [{rec['id']}]"
                if rec["id"] in seen:
                    errs.append(f"{where}: duplicate id (also {seen[rec['id']]})")
                seen.setdefault(rec["id"], where)
                if rec["answerable"]:
                    n_ans += 1
                    if src is not None:
                        e, w = check_sources(rec, where, src)
                        errs += e
                        warnings += w
                else:
                    n_un += 1
            file_errs += errs
        print(f"{path.name:<{width}} {n:>5} {n_ans:>10} {n_un:>12} {len(file_errs):>8}")
        errors += file_errs

    if args.verbose:
        for w in warnings:
            print("warning:", w)
        if src is not None and src.ocr_pages:
            print(
                f"note: {len(src.ocr_pages)} PDF pages checked by OCR (text layer under "
                f"{OCR_BELOW} characters):",
                ", ".join(f"{p.name} p{n}" for p, n in sorted(src.ocr_pages)),
            )
    for e in errors:
        print("error:", e)
    mode = "format only" if args.format_only else "format + key facts in sources"
    print(
        f"{'OK' if not errors else 'FAILED'}: {len(seen)} items checked ({mode}), "
        f"{len(errors)} problems, {len(warnings)} warnings"
    )
    return 1 if errors else 0


if __name__ == "__main__":
    sys.exit(main())

"""What the commands print on stdout: the evaluation summary and the table of ingest reports."""

from __future__ import annotations

import textwrap
from typing import Any

SUMMARY_ROWS = [
    ("source hit@1", "source_hit_at_1"),
    ("source hit@5", "source_hit_at_5"),
    ("MRR", "mrr"),
    ("page hit@5", "page_hit_at_5"),
    ("refusal accuracy", "refusal_accuracy"),
    ("false-refusal rate", "false_refusal_rate"),
    ("  blocked by a guardrail", "blocked"),
    ("quoted instead of generated", "quoted_rate"),
    ("key-fact recall", "key_fact_recall"),
    ("unsupported-sentence rate", "unsupported_sentence_rate"),
    ("unsupported sentences", "unsupported_sentences"),
    ("  shown unflagged (must be 0)", "unflagged_unsupported"),
    ("latency p50 / p95, ms", "total_ms"),
    ("verify p50 / p95, ms", "verify_ms"),
]


def _fmt(value: Any) -> str:
    if value is None:
        return "–"
    if isinstance(value, float):
        return f"{value:.3f}" if value <= 1.0 else f"{value:,.0f}"
    return str(value)


def format_summary(run) -> str:
    """Format an evaluation run's summary as a table: Groundwork vs the naive baseline."""
    s, b = run.summary, run.baseline or {}
    lines = [
        f"{s['questions']} questions ({s['answerable']} answerable, {s['unanswerable']} "
        f"unanswerable) from {', '.join(run.datasets)}; mode: {s['mode']}; "
        f"backend: {run.config.get('backend') or '–'} {run.config.get('model') or ''}".rstrip(),
        f"{'metric':<32}{'groundwork':>14}{'baseline':>14}",
    ]
    for label, key in SUMMARY_ROWS:
        if key in ("total_ms", "verify_ms"):
            ours = f"{_fmt(s.get(key + '_p50'))} / {_fmt(s.get(key + '_p95'))}"
            theirs = ""
        elif key not in s:
            continue
        else:
            ours, theirs = _fmt(s[key]), (_fmt(b.get(key)) if key in b else "")
        lines.append(f"{label:<32}{ours:>14}{theirs:>14}")
    if run.baseline is not None:
        lines.append("The baseline always answers, so its refusal accuracy is 0 by construction.")
    lines.extend(_store_lines(run.ingest))
    return "\n".join(lines)


def _store_lines(ingest: dict) -> list[str]:
    """Say whether the evaluation store was reused or built, and which files it left out."""
    if "reused" not in ingest:  # answered from the live store (the monitoring set)
        return [f"Answered from the live store (index version {ingest.get('index_version')})."]
    reuse = "reused" if ingest["reused"] else "built"
    lines = [
        f"Store {reuse}: {ingest['files']} files, {ingest['chunks']} chunks "
        f"({ingest['cache_dir']})."
    ]
    lines.extend(f"  not ingested: {failure}" for failure in ingest["failed"])
    return lines


def format_reports(reports) -> str:
    """Format ingest reports as a table, with the count per status."""
    head = f"{'file':<40} {'status':<10} {'pages':>5} {'chunks':>6} {'OCR':>4}  error"
    lines = [head, "-" * len(head)]
    for r in reports:
        error = r.error or "; ".join(w for w in r.warnings if w)
        name = r.filename if len(r.filename) <= 40 else r.filename[:37] + "..."
        lines.append(
            f"{name:<40} {r.status:<10} {r.pages:>5} {r.chunks:>6} "
            f"{len(r.ocr_pages):>4}  {textwrap.shorten(error, 120) if error else ''}"
        )
    counts: dict[str, int] = {}
    for r in reports:
        counts[r.status] = counts.get(r.status, 0) + 1
    lines.append(", ".join(f"{n} {status}" for status, n in sorted(counts.items())))
    return "\n".join(lines)

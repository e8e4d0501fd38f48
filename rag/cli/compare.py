"""What ``eval compare``, ``eval gate`` and ``eval runs`` print: two runs side by side, the
gate's verdict, and the run history."""

from __future__ import annotations

import textwrap
from typing import Any

from rag.evaluation.compare import retrieved_sources
from rag.evaluation.metrics import shown_text

SHOWN_CASES = 20  # regressed (and improved) cases printed in full; the rest are counted


def _num(value: float | None) -> str:
    return "–" if value is None else f"{value:.3f}"


def _run_line(run) -> str:
    f = run.fingerprint or {}
    parts = [
        run.label,
        run.created_at[:16].replace("T", " "),
        ", ".join(run.datasets),
        f"prompt {f.get('prompt_version') or run.config.get('prompt_version') or '?'}",
        f"{f.get('backend') or run.config.get('backend') or '?'} {f.get('model') or ''}".strip(),
        f"index v{f['index_version']}" if f.get("index_version") is not None else "",
        f"git {f['git_sha']}" if f.get("git_sha") else "",
    ]
    return " · ".join(p for p in parts if p)


def _answer(row: dict[str, Any]) -> str:
    if row.get("refused"):
        return "(refused: not found in the documents)"
    text = " ".join(shown_text(str(row.get("answer") or "")).split())
    return textwrap.shorten(text, 300, placeholder=" …") if text else "(retrieval only)"


def _case_lines(change) -> list[str]:
    dataset, case_id = change.key
    return [
        f"  {case_id} [{dataset}]: {'; '.join(change.changes)}",
        f"    question: {textwrap.shorten(change.question, 200, placeholder=' …')}",
        f"    A answer:  {_answer(change.a)}",
        f"    A sources: {retrieved_sources(change.a)}",
        f"    B answer:  {_answer(change.b)}",
        f"    B sources: {retrieved_sources(change.b)}",
    ]


def format_cases(title: str, changes: list) -> list[str]:
    """A block of moved cases, the first ``SHOWN_CASES`` in full."""
    if not changes:
        return [f"{title}: none"]
    lines = [f"{title} ({len(changes)}):"]
    for change in changes[:SHOWN_CASES]:
        lines += _case_lines(change)
    if len(changes) > SHOWN_CASES:
        lines.append(f"  … and {len(changes) - SHOWN_CASES} more")
    return lines


def format_comparison(comparison) -> str:
    """Two runs side by side: what changed, metric deltas with intervals, then moved cases."""
    c = comparison
    lines = [f"A: {_run_line(c.a)}", f"B: {_run_line(c.b)}"]
    if c.changed:
        lines.append("Changed between A and B:")
        lines += [f"  {field}: {a!r} → {b!r}" for field, a, b in c.changed]
    lines.append(c.coverage)
    lines += format_regressions(c)
    lines.append("")
    lines += format_cases("Improved", c.improved)
    return "\n".join(lines)


def format_regressions(c) -> list[str]:
    """The metric table and the regressed cases of a comparison."""
    lines = ["", f"{'metric':<24}{'A':>8}{'B':>8}{'B - A':>9}   {'95% interval':<20}{'cases':>6}"]
    for m in c.metrics:
        interval = f"[{_num(m.low)}, {_num(m.high)}]"
        delta = "–" if m.delta is None else f"{m.delta:+.3f}"
        verdict = "" if m.verdict == "same" else f"  {m.verdict}"
        lines.append(
            f"{m.label:<24}{_num(m.a):>8}{_num(m.b):>8}{delta:>9}   {interval:<20}{m.cases:>6}"
            + verdict
        )
    lines.append("")
    lines += format_cases("Regressed", c.regressed)
    return lines


GATE_METRICS = (
    "source_hit_at_1",
    "source_hit_at_5",
    "mrr",
    "page_hit_at_5",
    "refusal_accuracy",
    "false_refusal_rate",
    "key_fact_recall",
    "unsupported_sentence_rate",
    "unflagged_unsupported",
)
CLAIM_METRICS = ("supported_pass", "unsupported_caught", "balanced_accuracy")


def _metric_lines(summary: dict[str, Any], names: tuple[str, ...], limits: dict) -> list[str]:
    lines = []
    for metric in dict.fromkeys([*names, *limits]):
        rule = " ".join(f"{k} {v:.3f}" for k, v in limits.get(metric, {}).items())
        lines.append(f"  {metric:<28}{_num(summary.get(metric)):>8}   {rule and f'({rule})'}")
    return lines


def format_gate(result, spec) -> str:
    """The gate's verdict: per corpus its metrics against the thresholds, then what failed and
    the cases that regressed against the reference run."""
    lines = []
    for name, run in result.runs.items():
        s = run.summary
        lines.append(f"{name}: {s['questions']} questions ({s['answerable']} answerable)")
        lines += _metric_lines(s, GATE_METRICS, spec.thresholds.get(name, {}))
    for name, claims in (result.claims or {}).items():
        s = claims["summary"]
        lines.append(f"{name}: {s['claims']} claims")
        lines += _metric_lines(s, CLAIM_METRICS, spec.thresholds.get(name, {}))
    parts = ", ".join(f"{name} {sec:.0f} s" for name, sec in result.timings.items())
    lines.append(f"Gate ran in {result.seconds:.0f} s ({parts}).")
    if result.passed:
        lines.append("PASSED: every metric meets its threshold.")
        return "\n".join(lines)
    lines.append("FAILED:")
    lines += [f"  {failure}" for failure in result.failures]
    failed = {f.corpus for f in result.failures}
    for name in sorted(failed):
        if name in result.comparisons:
            lines.append(f"\n{name} against the reference run:")
            lines += format_regressions(result.comparisons[name])
        elif name in (result.newly_wrong or {}):
            ids = result.newly_wrong[name]
            lines.append(
                f"\n{name}: judged wrong now, right in the reference: {', '.join(ids) or 'none'}"
            )
        else:
            lines.append(f"\n{name}: no reference run to name regressed cases against.")
    return "\n".join(lines)


def format_runs(runs: list[dict[str, Any]]) -> str:
    """The run history, newest last: id, time, trigger, sets, code, and headline metrics."""
    lines = [
        f"{'id':>5}  {'when (UTC)':<16}  {'trigger':<8} {'hit@5':>6} {'refusal':>8} "
        f"{'false ref':>9}  sets · git"
    ]
    for r in runs:
        s = r["summary"]
        git = (r.get("fingerprint") or {}).get("git_sha") or "?"
        lines.append(
            f"{r['id']:>5}  {r['created_at'][:16].replace('T', ' '):<16}  {r['trigger']:<8}"
            f"{_num(s.get('source_hit_at_5')):>7}{_num(s.get('refusal_accuracy')):>9}"
            f"{_num(s.get('false_refusal_rate')):>10}  {', '.join(r['datasets'])} · {git}"
        )
    return "\n".join(lines)

"""The Evaluation page's run history tools: compare two runs side by side, pin a series'
baseline, run the monitoring set now, and push a run to LangSmith.

Answers, questions and file names in runs come from documents, models and golden sets: they
are shown escaped or as inert Markdown, never as live Markdown."""

from __future__ import annotations

from typing import Any

import pandas as pd
import streamlit as st

from pages.common import current_user, database, settings, watcher
from rag import (
    GroundworkError,
    compare_runs,
    escape_line,
    escape_markdown,
    inert_markdown,
    load_run,
    monitoring_sets,
    pin_baseline,
    retrieved_sources,
)


def _run_label(run: dict[str, Any]) -> str:
    f = run.get("fingerprint") or {}
    sets = ", ".join(run["datasets"])[:60]
    return (
        f"#{run['id']} · {run['created_at'][:16].replace('T', ' ')} · {run['trigger']} · {sets}"
        f" · git {f.get('git_sha') or '?'}"
    )


def _pct(value) -> str:
    return "–" if value is None else f"{value:.3f}"


def _answer(row: dict[str, Any]) -> str:
    answer = row.get("answer")
    shown = inert_markdown(answer) if answer else "_Retrieval only: no answer._"
    return ("_Refused: not found in the documents._\n\n" + shown) if row.get("refused") else shown


def _case(change, side: str) -> None:
    row = change.a if side == "A" else change.b
    st.markdown(f"**Run {side}**")
    st.markdown(_answer(row))
    st.caption(escape_markdown(f"Sources: {retrieved_sources(row)}"))


def _cases(title: str, changes: list) -> None:
    st.markdown(f"**{title}: {len(changes)}**")
    for change in changes[:50]:
        dataset, case_id = change.key
        label = f"{case_id} [{dataset}]: {'; '.join(change.changes)}"
        with st.expander(escape_line(label)):
            st.markdown(f"**Question:** {escape_line(change.question)}")
            left, right = st.columns(2)
            with left:
                _case(change, "A")
            with right:
                _case(change, "B")
    if len(changes) > 50:
        st.caption(f"… and {len(changes) - 50} more (the CLI's `eval compare` lists them all).")


def show_comparison(a_id: int, b_id: int) -> None:
    """Run B against run A: what changed, metric deltas with intervals, moved cases first."""
    try:
        db = database()
        c = compare_runs(load_run(db, a_id), load_run(db, b_id))
    except GroundworkError as exc:
        st.error(escape_markdown(str(exc)))
        return
    if c.changed:
        changed = pd.DataFrame(
            {"setting": k, "run A": str(a), "run B": str(b)} for k, a, b in c.changed
        )
        st.caption("What changed between the runs")
        st.dataframe(changed, hide_index=True, width="stretch", key="cmp_changed")
    st.caption(f"{c.coverage} Intervals: 95%, paired bootstrap over the cases.")
    table = pd.DataFrame(
        {
            "metric": m.label,
            "run A": _pct(m.a),
            "run B": _pct(m.b),
            "B − A": "–" if m.delta is None else f"{m.delta:+.3f}",
            "95% interval": f"[{_pct(m.low)}, {_pct(m.high)}]",
            "cases": m.cases,
            "verdict": m.verdict,
        }
        for m in c.metrics
    )
    st.dataframe(table, hide_index=True, width="stretch", key="cmp_metrics")
    _cases("Regressed", c.regressed)
    _cases("Improved", c.improved)


def compare_section(runs: list[dict[str, Any]]) -> None:
    """Pick two recorded runs and compare them; pin a run as its series' baseline."""
    st.subheader("Compare runs")
    by_id = {r["id"]: r for r in runs}
    ids = list(by_id)[::-1]  # newest first
    c1, c2 = st.columns(2)
    a = c1.selectbox("Run A (reference)", ids, index=min(1, len(ids) - 1), key="cmp_a",
                     format_func=lambda i: _run_label(by_id[i]))  # fmt: skip
    b = c2.selectbox("Run B", ids, index=0, key="cmp_b", format_func=lambda i: _run_label(by_id[i]))
    if st.button("Compare", key="cmp_go", type="primary"):
        st.session_state["comparing"] = (a, b)
    if st.session_state.get("comparing"):
        show_comparison(*st.session_state["comparing"])
    p1, p2 = st.columns([3, 1])
    pinned = p1.selectbox(
        "Baseline for its golden sets",
        ids,
        key="pin_run",
        format_func=lambda i: _run_label(by_id[i]),
    )
    if p2.button("Set as baseline", key="pin"):
        try:
            pin_baseline(database(), pinned, current_user())
            st.success(f"Run {pinned} is now the baseline of its golden sets.")
        except GroundworkError as exc:
            st.error(escape_markdown(str(exc)))


def monitoring_section() -> None:
    """The monitoring set: what it is, when it runs, and a button to run it now."""
    st.subheader("Monitoring")
    s = settings()
    sets = monitoring_sets(s)
    when = "when the prompt, model, embedder or index version changes" if s.eval_on_change else ""
    if s.eval_every_hours:
        when += (" and " if when else "") + f"every {s.eval_every_hours:g} hours"
    if not sets:
        st.caption(
            "No monitoring set yet: cases added from Feedback review are answered from the live "
            "documents " + (when or "on demand") + " (or set `GROUNDWORK_EVAL_WATCH`)."
        )
        return
    names = ", ".join(p.name for p in sets)
    st.caption(escape_markdown(f"{names}: answered from the live documents {when or 'on demand'}."))
    w = watcher()
    if w.last:
        st.caption(escape_markdown(f"Last check: {w.last}"))
    if st.button("Run the monitoring set now", key="watch_now"):
        with st.spinner("Answering the monitoring set from the live documents…"):
            done = w.check(force=True)
        st.info(escape_markdown(f"Monitoring: {done or 'nothing to run'}."))


def push_section(runs: list[dict[str, Any]]) -> None:
    """Push a recorded run to LangSmith as a dataset and an experiment (when configured)."""
    from rag import push_run

    s = settings()
    if not (s.langsmith_tracing and s.langsmith_api_key):
        return
    st.subheader("LangSmith")
    by_id = {r["id"]: r for r in runs}
    chosen = st.selectbox(
        "Run to push", list(by_id)[::-1], key="push_run", format_func=lambda i: _run_label(by_id[i])
    )
    if st.button("Push as a LangSmith dataset and experiment", key="push"):
        try:
            with st.spinner("Pushing to LangSmith…"):
                result = push_run(load_run(database(), chosen), s)
            st.success(escape_markdown(result.message()))
        except GroundworkError as exc:
            st.error(escape_markdown(str(exc)))

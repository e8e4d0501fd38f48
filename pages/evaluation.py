"""Evaluation: run a golden set against a folder of documents, in a store of its own (never the
live one), show the metrics next to the naive baseline, and chart the history of past runs.

Only folders allowed by ``GROUNDWORK_EVAL_DIRS`` are read; text from golden sets and documents
is shown escaped, never as live Markdown."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import streamlit as st

from pages.common import current_assistant, database, drift_banner, require_admin, settings
from pages.eval_compare import compare_section, monitoring_section, push_section
from rag import (
    REPO,
    GroundworkError,
    allowed_eval_path,
    escape_markdown,
    evaluate,
    golden_sets,
    list_runs,
    load_dataset,
    record_run,
)


@st.cache_resource(show_spinner="Loading the embedder…")
def embedder():
    """The MiniLM embedder evaluations use (the baseline uses the same one)."""
    from rag import MiniLMEmbeddings

    return MiniLMEmbeddings()


def _label(path: Path) -> str:
    return str(path.relative_to(REPO)) if path.is_relative_to(REPO) else str(path)


def _pct(value) -> str:
    return "–" if value is None else f"{value:.0%}"


def _delta(ours, theirs) -> str | None:
    return (
        None if ours is None or theirs is None else f"{(ours - theirs) * 100:+.0f} pts vs baseline"
    )


def run_evaluation(dataset: Path, docs: str, retrieval_only: bool, baseline: bool, limit: int):
    """Run and record one evaluation, reporting progress in a status box."""
    with st.status("Evaluating…", expanded=True) as status:
        bar = st.progress(0.0, text="Starting")

        def progress(stage: str, done: int, total: int, label: str) -> None:
            share = min(done / total, 1.0) if total else 1.0
            bar.progress(share, text=f"{stage}: {done}/{total} {escape_markdown(label[:80])}")

        try:
            dataset = allowed_eval_path(dataset, settings(), "Golden set")
            docs = allowed_eval_path(docs, settings(), "Documents folder")
            cases = load_dataset(dataset, limit or None)
            model = {}
            if not retrieval_only:  # the app's own chat model, on the eval's own store
                assistant = current_assistant()
                model = {"chat_model": assistant.model, "choice": assistant.backend}
            run = evaluate(
                cases,
                docs,
                settings(),
                retrieval_only=retrieval_only,
                baseline=baseline,
                embeddings=embedder(),
                progress=progress,
                **model,
            )
            record_run(database(), run)
        except GroundworkError as exc:
            status.update(label="Evaluation failed", state="error")
            st.error(escape_markdown(str(exc)))
            return
        status.update(label=f"Evaluated {len(cases)} questions", state="complete", expanded=False)
    st.session_state["eval_run"] = run.to_dict()


st.title("Evaluation")
require_admin("Evaluation")
drift_banner()
st.caption(
    "Answers a golden question set from a folder of documents, ingested into a separate "
    "evaluation store, and scores retrieval, grounding and refusals against a naive baseline."
)

files = golden_sets(settings())
if not files:
    st.info(
        "No golden sets found: add JSONL files to evals/ or grow one from the Feedback "
        "review page (or list other folders in `GROUNDWORK_EVAL_DIRS`).",
        icon=":material/fact_check:",
    )
else:
    c1, c2 = st.columns(2)
    dataset = c1.selectbox("Golden set", files, format_func=_label, key="dataset")
    docs = c2.text_input(
        "Documents folder",
        "rag/samples",
        key="docs",
        help="Ingested recursively; relative paths are from the project root. Only folders "
        "inside `GROUNDWORK_EVAL_DIRS` are read: "
        + escape_markdown(", ".join(_label(root) for root in settings().eval_roots)),
    )
    o1, o2, o3 = st.columns(3)
    retrieval_only = o1.checkbox("Retrieval only (fast, no model)", key="retrieval_only")
    baseline = o2.checkbox("Compare with the naive baseline", True, key="baseline")
    limit = o3.number_input("Questions (0 = all)", 0, 10_000, 0, key="limit")
    if st.button("Run evaluation", type="primary", key="run"):
        run_evaluation(dataset, docs, retrieval_only, baseline, int(limit))

last = st.session_state.get("eval_run")
if last:
    s, b = last["summary"], last["baseline"] or {}
    st.subheader("Latest run")
    about = (
        f"{', '.join(last['datasets'])} on {last['docs_dir']} · {s['mode']} · "
        f"backend {last['config']['backend']} {last['config']['model']}"
    )
    st.caption(escape_markdown(about))
    shown = [
        ("Source hit@5", "source_hit_at_5"),
        ("Source hit@1", "source_hit_at_1"),
        ("MRR", "mrr"),
        ("Page hit@5", "page_hit_at_5"),
        ("Refusal accuracy", "refusal_accuracy"),
        ("False refusals", "false_refusal_rate"),
        ("Key-fact recall", "key_fact_recall"),
        ("Unsupported sentences", "unsupported_sentence_rate"),
    ]
    shown = [(label, key) for label, key in shown if key in s]
    for start in range(0, len(shown), 4):
        for col, (label, key) in zip(st.columns(4), shown[start : start + 4], strict=False):
            col.metric(
                label,
                _pct(s[key]),
                _delta(s[key], b.get(key)),
                delta_color="inverse" if key == "false_refusal_rate" else "normal",
            )
    l1, l2, l3 = st.columns(3)
    l1.metric(
        "Latency p50 / p95", f"{s['total_ms_p50'] or 0:,.0f} / {s['total_ms_p95'] or 0:,.0f} ms"
    )
    l2.metric(
        "Verification p50", "–" if s["verify_ms_p50"] is None else f"{s['verify_ms_p50']:,.0f} ms"
    )
    if "unflagged_unsupported" in s:
        l3.metric(
            "Unsupported shown unflagged",
            s["unflagged_unsupported"],
            help="Must be 0: unsupported sentences appear only flagged or are removed.",
        )
    if b:
        st.caption("The baseline always answers: its refusal accuracy is 0 by construction.")
    table = pd.DataFrame(
        {
            "question": r["question"],
            "answerable": r["answerable"],
            "refused": r["refused"],
            "hit@1": r.get("hit1"),
            "hit@5": r.get("hit5"),
            "page hit@5": r.get("page_hit5"),
            "baseline hit@5": (r.get("baseline") or {}).get("hit5"),
            "retrieved": ", ".join(f"{src} p.{page}" for src, page in r["retrieved"]),
            "support": r.get("support_score"),
            "key facts": r.get("key_fact_recall"),
            "answer": r.get("answer", ""),
            "ms": r.get("total_ms"),
        }
        for r in last["rows"]
    )
    st.dataframe(table, hide_index=True, width="stretch", key="rows")

st.subheader("History")
try:
    runs = list_runs(database())
except GroundworkError as exc:
    st.error(escape_markdown(str(exc)))
    st.stop()
if not runs:
    st.info(
        "No evaluation runs yet. Run one above, or from the command line: "
        "`python -m rag eval --dataset evals/samples.jsonl --docs rag/samples`.",
        icon=":material/history:",
    )
else:
    history = pd.DataFrame(
        {
            "id": r["id"],
            "created_at": pd.to_datetime(r["created_at"]),
            "trigger": r["trigger"],
            "datasets": ", ".join(r["datasets"]),
            "mode": r["summary"].get("mode"),
            "model": r["model"] or "–",
            "hit@5": r["summary"].get("source_hit_at_5"),
            "page hit@5": r["summary"].get("page_hit_at_5"),
            "refusal accuracy": r["summary"].get("refusal_accuracy"),
            "baseline hit@5": (r["baseline"] or {}).get("source_hit_at_5"),
            "questions": r["questions"],
            "git": (r["fingerprint"] or {}).get("git_sha") or "–",
        }
        for r in runs
    )
    st.line_chart(history.set_index("created_at")[["hit@5", "page hit@5", "refusal accuracy"]])
    st.dataframe(history.iloc[::-1], hide_index=True, width="stretch", key="history")
    compare_section(runs)
    push_section(runs)
monitoring_section()

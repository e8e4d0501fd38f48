"""Insights: latency, usage and cost, refusals, satisfaction, most-cited documents, content
gaps and drift against the previous period over a date range, from the run log and feedback."""

from __future__ import annotations

import streamlit as st

from pages.common import database, drift_banner, period_picker, require_admin, settings
from rag import (
    DRIFT_SIGNALS,
    GroundworkError,
    PriceTable,
    drift_questions,
    escape_markdown,
    export_feedback,
    load_drift,
    load_insights,
    run_days,
    score_histogram,
)

st.title("Insights")
require_admin("Insights")
drift_banner()
try:
    db = database()
    first, last = run_days(db)
except GroundworkError as exc:
    st.error(escape_markdown(str(exc)))
    st.stop()

if first is None:
    st.info(
        "No answers logged yet. Every answer given on the Ask page is logged with its latency, "
        "tokens and citations; the charts appear here after the first one.",
        icon=":material/monitoring:",
    )
    st.stop()

price_file = settings().prices_path
try:
    prices = PriceTable.load(price_file)
except GroundworkError as exc:  # a price file that is missing or invalid
    st.warning(escape_markdown(f"{exc} Using the default prices."))
    prices = PriceTable()

c1, c2 = st.columns([2, 1])
since, until = period_picker(c1, "Date range (UTC)", first, last)
support_below = c2.slider(
    "Low support below", 0.0, 1.0, 0.5, 0.05, key="support_below",
    help="An answer whose grounding score is below this counts as a content gap.",
)  # fmt: skip
data = load_insights(db, since, until, prices, support_below=support_below)
totals = data.totals

if totals["runs"] == 0 and totals["ratings"] == 0:
    st.info("No answers or ratings in this date range.", icon=":material/event_busy:")
    st.stop()


def _pct(value: float | None) -> str:
    return "–" if value is None else f"{value:.0%}"


m = st.columns(5)
m[0].metric("Answers", f"{totals['runs']:,}")
m[1].metric("Refusal rate", _pct(totals["refusal_rate"]))
m[2].metric("Thumbs up", _pct(totals["up_rate"]), help=f"{totals['ratings']} ratings")
m[3].metric("Tokens", f"{totals['tokens']:,}", help=f"{totals['cpu_seconds']:,.0f} CPU seconds")
m[4].metric(
    "Cost (USD)",
    f"{totals['cost_usd']:,.2f}",
    help=f"The same tokens on {prices.shadow_model} would cost "
    f"${totals['shadow_cost_usd']:,.2f}. Prices: {price_file}.",
)

st.subheader("Latency")
if data.latency.empty:
    st.caption("No answers in this range.")
else:
    latency = data.latency.set_index("day")
    left, right = st.columns(2)
    left.caption("Total, ms (p50 / p95)")
    left.line_chart(latency[["p50_ms", "p95_ms"]])
    right.caption("Time to first token, ms (p50 / p95)")
    right.line_chart(latency[["ttft_p50_ms", "ttft_p95_ms"]])

st.subheader("Usage and cost")
if not data.usage.empty:
    usage = data.usage.set_index("day")
    left, right = st.columns(2)
    left.caption("Tokens per day")
    left.bar_chart(usage[["tokens_in", "tokens_out"]])
    right.caption("Cost per day, USD (actual vs hosted shadow)")
    right.line_chart(usage[["cost_usd", "shadow_cost_usd"]])
    st.caption("Refusal rate per day")
    st.line_chart(data.refusals.set_index("day")[["refusal_rate"]])

st.subheader("Satisfaction")
left, right = st.columns(2)
for column, frame, label in (
    (left, data.by_prompt, "prompt_version"),
    (right, data.by_model, "model"),
):
    column.caption(f"Thumbs-up rate by {label.replace('_', ' ')}")
    if frame.empty:
        column.caption("No ratings in this range.")
    else:
        column.bar_chart(frame.set_index(label)[["up_rate"]])
        column.dataframe(frame, hide_index=True, width="stretch", key=f"sat_{label}")

st.subheader("Most-cited documents")
if data.documents.empty:
    st.caption("No answer cited a document in this range.")
else:
    st.dataframe(
        data.documents,
        hide_index=True,
        width="stretch",
        key="documents",
        column_config={
            "share": st.column_config.ProgressColumn("share of answers", format="percent")
        },
    )

st.subheader("Content gaps")
st.caption(
    "Questions the documents did not answer: refused, or answered with weak support. The most "
    "asked are the documents to write or update next."
)
if data.gaps.empty:
    st.success("No content gaps in this range.")
else:
    st.dataframe(data.gaps, hide_index=True, width="stretch", key="gaps")
    st.download_button(
        "Export gaps (CSV)",
        export_feedback(data.gaps.to_dict("records"), "csv"),
        "content-gaps.csv",
        "text/csv",
        key="export_gaps",
    )

st.subheader("Drift")
drift = load_drift(db, since, until)
st.caption(
    f"This period ({drift.current.label}) against the period of the same length just before it "
    f"({drift.previous.label}). A change is marked as a shift when it is unlikely to be noise: "
    f"p < {drift.alpha} with at least {drift.min_count} answers (ratings, for thumbs down) in "
    "each period; a two-proportion test for the rates, a Kolmogorov-Smirnov test for the top "
    "retrieval scores."
)
if drift.shifted:
    st.warning(
        "Shifted since the previous period: "
        + ", ".join(DRIFT_SIGNALS[name] for name in drift.shifted)
        + ". The questions behind each are listed below.",
        icon=":material/trending_down:",
    )


def _verdict(signal) -> str:
    """Say whether a signal's change is a shift, noise, or too thin to judge."""
    if min(signal.total, signal.previous_total) < drift.min_count:
        return f"Too few to judge (under {drift.min_count} in a period)."
    if signal.shifted:
        return f":material/warning: **Shift** (p = {signal.p_value:.2g})"
    return f"Within noise (p = {signal.p_value:.2g})"


def _rate_help(signal) -> str:
    def side(hits, total, interval) -> str:
        if not total:
            return "none"
        return f"{hits} of {total} (95% interval {interval[0]:.0%} to {interval[1]:.0%})"

    return (
        f"This period: {side(signal.hits, signal.total, signal.interval)}. Previous period: "
        f"{side(signal.previous_hits, signal.previous_total, signal.previous_interval)}."
    )


def _delta(text: str | None) -> str | None:
    """No delta for a change that rounds to zero (Streamlit would colour "+0.0" as a rise)."""
    return text if text and any(c in "123456789" for c in text) else None


def _quantile_text(quantiles: dict) -> str:
    return " / ".join(f"{quantiles[q]:.4f}" for q in ("p10", "p50", "p90")) if quantiles else "–"


cells = st.columns(4)
for cell, name in zip(cells, DRIFT_SIGNALS, strict=True):
    signal = getattr(drift, name)
    if name == "top_score":  # higher is better
        cell.metric(
            "Median top score",
            "–" if signal.current is None else f"{signal.current:.4f}",
            _delta(None if signal.change is None else f"{signal.change:+.4f}"),
            help=f"The best passage score of each answer, p10 / p50 / p90. This period "
            f"({signal.total} answers): {_quantile_text(signal.quantiles)}. Previous "
            f"({signal.previous_total}): {_quantile_text(signal.previous_quantiles)}.",
            border=True,
        )
    else:  # a rate going up is bad
        cell.metric(
            DRIFT_SIGNALS[name],
            _pct(signal.current),
            _delta(None if signal.change is None else f"{signal.change * 100:+.1f} pts"),
            delta_color="inverse",
            help=_rate_help(signal),
            border=True,
        )
    cell.caption(f"Previous: {_pct(signal.previous)}" if name != "top_score" else (
        "Previous: " + ("–" if signal.previous is None else f"{signal.previous:.4f}")
    ))  # fmt: skip
    cell.caption(_verdict(signal))

top = drift.top_score
if top.total or top.previous_total:
    st.caption("Top retrieval score per answer: share of answers, this period against the previous")
    st.bar_chart(
        score_histogram(top), stack=False, x_label="top retrieval score",
        y_label="share of answers",
    )  # fmt: skip
if top.ks is not None:
    st.caption(
        f"Kolmogorov-Smirnov D = {top.ks:.2f} (p = {top.p_value:.2g}). "
        f"{top.below_previous_p10:.0%} of this period's answers scored under the previous "
        "period's p10 (about 10% when nothing changed). Scores are the retriever's fused "
        "ranking scores: compare periods with the same retrieval settings."
    )

st.caption("The answers behind each signal, in this period:")
for name, label in DRIFT_SIGNALS.items():
    behind = drift_questions(db, name, since, until, drift=drift)
    marker = " · shift" if name in drift.shifted else ""
    with st.expander(f"{label}: {len(behind)} answers{marker}"):
        if behind.empty:
            st.caption("None in this period.")
        else:
            st.dataframe(
                behind, hide_index=True, width="stretch", key=f"drift_{name}",
                column_order=["question", "value", "answer", "time", "run_id"],
            )  # fmt: skip

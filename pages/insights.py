"""Insights: latency, usage and cost, refusals, satisfaction, most-cited documents and content
gaps over a date range, from the local run log and feedback."""

from __future__ import annotations

import streamlit as st

from pages.common import database, period_picker, require_admin, settings
from rag import (
    GroundworkError,
    PriceTable,
    escape_markdown,
    export_feedback,
    load_insights,
    run_days,
)

st.title("Insights")
require_admin("Insights")
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

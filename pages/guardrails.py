"""Guardrails: the audit log of every redaction, block, warning, quarantine and flagged answer,
as counts per type over time and the latest events."""

from __future__ import annotations

from datetime import date

import pandas as pd
import streamlit as st

from pages.common import database, period_picker, require_admin
from rag import GroundworkError, escape_markdown, event_counts, recent_events

ALL = "All"
RECENT = 200  # events listed; the counts above cover the whole period
LABELS = {"pii": "Personal data", "injection": "Prompt injections", "output": "Output checks"}

st.title("Guardrails")
require_admin("The Guardrails page")
try:
    db = database()
    every_day = pd.DataFrame(event_counts(db))
except GroundworkError as exc:
    st.error(escape_markdown(str(exc)))
    st.stop()

if every_day.empty:
    st.info(
        "No guardrail events yet. Personal data redacted or blocked in questions, prompt "
        "injections caught in questions or documents, and answers flagged by the output checks "
        "are logged here, with the offending text redacted.",
        icon=":material/shield:",
    )
    st.stop()

days = every_day["day"]
first, last = date.fromisoformat(days.min()), date.fromisoformat(days.max())
since, until = period_picker(st, "Period (UTC)", first, last)
counts = pd.DataFrame(event_counts(db, since, until))

# --- counts ----------------------------------------------------------------------------------
if counts.empty:
    st.info("No guardrail events in this period.", icon=":material/event_busy:")
else:
    by_kind = counts.groupby("kind")["n"].sum()
    columns = st.columns(len(by_kind) + 1)
    columns[0].metric("Events", f"{int(by_kind.sum()):,}")
    for column, (kind, n) in zip(columns[1:], by_kind.items(), strict=True):
        column.metric(LABELS.get(kind, kind), f"{int(n):,}")
    st.caption("Events per day, by type")
    per_day = counts.pivot_table(index="day", columns="kind", values="n", aggfunc="sum")
    st.bar_chart(per_day.fillna(0).astype(int))
    st.caption("Totals by type, stage and action")
    totals = (
        counts.groupby(["kind", "stage", "action"], as_index=False)["n"]
        .sum()
        .rename(columns={"n": "events"})
        .sort_values(["kind", "events"], ascending=[True, False])
    )
    st.dataframe(totals, hide_index=True, width="stretch", key="totals")

# --- recent events ---------------------------------------------------------------------------
st.subheader("Recent events")
c1, c2 = st.columns(2)
kind = c1.selectbox("Type", [ALL, *sorted(every_day["kind"].unique())], key="f_kind")
stage = c2.selectbox("Stage", [ALL, *sorted(every_day["stage"].unique())], key="f_stage")
rows = recent_events(
    db, RECENT, kind=None if kind == ALL else kind, stage=None if stage == ALL else stage
)
if not rows:
    st.info("No events match these filters.", icon=":material/filter_alt_off:")
    st.stop()

st.caption(
    f"The latest {len(rows)} events, newest first. Excerpts are stored with their personal "
    "data already redacted; they are text from users and documents, shown as plain text."
)
# A dataframe renders cells as plain text: an excerpt's Markdown links and images stay inert.
events = pd.DataFrame(
    {
        "time": r["created_at"][:19].replace("T", " "),
        "stage": r["stage"],
        "type": r["kind"],
        "action": r["action"],
        "detail": r["detail"],
        "excerpt": r["excerpt"],
        "source": r["source"],
    }
    for r in rows
)
st.dataframe(
    events,
    hide_index=True,
    width="stretch",
    key="events",
    column_config={"excerpt": st.column_config.TextColumn(width="large")},
)

"""Feedback review: filter ratings, read what was answered and why, close reviews, export,
and add a reviewed question to the feedback golden set with what a right answer would be."""

from __future__ import annotations

from datetime import UTC, datetime

import pandas as pd
import streamlit as st

from pages.common import current_user, database, require_admin, settings
from rag import (
    FEEDBACK_REASONS,
    FeedbackError,
    GroundworkError,
    append_golden,
    count_feedback,
    escape_line,
    escape_markdown,
    expected_sources,
    export_feedback,
    feedback_facets,
    feedback_golden_set,
    feedback_span,
    get_feedback,
    golden_case,
    inert_markdown,
    list_feedback,
    mark_reviewed,
    parse_pages,
    registered_documents,
)

ALL = "All"
RATINGS = {ALL: None, "👍 Helpful": 1, "👎 Not helpful": 0}
STATUSES = {"Open": False, "Reviewed": True, ALL: None}
ANSWERED = "The documents answer it"
UNANSWERED = "The documents do not answer it"

st.title("Feedback review")
require_admin("Feedback review")
try:
    db = database()
    total = count_feedback(db)
except GroundworkError as exc:
    st.error(escape_markdown(str(exc)))
    st.stop()

if total == 0:
    st.info(
        "No feedback yet. When people press 👍 or 👎 under an answer on the Ask page, the rating "
        "appears here with the question, the answer and the passages it was based on.",
        icon=":material/thumbs_up_down:",
    )
    st.stop()


def golden_path():
    """Where reviewed corrections are collected for the evaluation golden set."""
    return feedback_golden_set(settings())


def _flash(kind: str, text: str) -> None:
    st.session_state["feedback_flash"] = (kind, text)


def _mark_reviewed(feedback_id: int) -> None:
    note = st.session_state.get(f"note_{feedback_id}", "")
    try:
        mark_reviewed(db, feedback_id, note, current_user())
        _flash("success", f"Rating #{feedback_id} marked reviewed.")
    except GroundworkError as exc:
        _flash("error", escape_markdown(str(exc)))


def reviewed_case(row: dict) -> dict:
    """The golden case the reviewer's entries make for ``row``; GroundworkError if not yet valid."""
    fid = row["id"]
    verdict = st.session_state.get(f"gold_verdict_{fid}")
    if verdict is None:
        raise FeedbackError("say whether the documents answer it")
    expected = {}
    if verdict == ANSWERED:
        expected = {
            "answer": st.session_state.get(f"gold_answer_{fid}", ""),
            "key_facts": st.session_state.get(f"gold_facts_{fid}", "").splitlines(),
            "sources": st.session_state.get(f"gold_sources_{fid}", []),
            "pages": parse_pages(st.session_state.get(f"gold_pages_{fid}", "")),
        }
    return golden_case(
        row,
        question=st.session_state.get(f"gold_question_{fid}", row["question"] or ""),
        answerable=verdict == ANSWERED,
        reviewer=current_user(),
        note=st.session_state.get(f"gold_note_{fid}", ""),
        **expected,
    )


def _add_golden(feedback_id: int) -> None:
    row = get_feedback(db, feedback_id)
    try:
        case = reviewed_case(row)
        added = append_golden(golden_path(), case)
    except GroundworkError as exc:
        _flash("error", escape_markdown(f"Not added: {exc}."))
        return
    if added:
        note = f"Added “{case['question']}” to the golden set {golden_path()}."
        _flash("success", escape_line(note))
    else:
        _flash(
            "warning",
            "This question (or this rated answer) is already in the golden set; nothing was added.",
        )


if flash := st.session_state.pop("feedback_flash", None):
    getattr(st, flash[0])(flash[1])

# --- filters ---------------------------------------------------------------------------------
facets = feedback_facets(db)
today = datetime.now(UTC).date()
first_day = min(feedback_span(db)[0] or today, today)
c1, c2, c3, c4 = st.columns(4)
rating = c1.selectbox("Rating", list(RATINGS), key="f_rating")
reason = c2.selectbox("Reason", [ALL, *FEEDBACK_REASONS], key="f_reason")
status = c3.selectbox("Status", list(STATUSES), key="f_status")
dates = c4.date_input("Rated between (UTC)", value=(first_day, today), key="f_dates")
c5, c6, c7, c8 = st.columns(4)
prompt_version = c5.selectbox("Prompt version", [ALL, *facets["prompt_version"]], key="f_prompt")
model = c6.selectbox("Model", [ALL, *facets["model"]], key="f_model")
user = c7.selectbox("User", [ALL, *facets["user"]], key="f_user")
document = c8.selectbox("Document", [ALL, *facets["document"]], key="f_document")


def _any(value: str) -> str | None:
    return None if value == ALL else value


since, until = (tuple(dates) + (None, None))[:2] if dates else (None, None)
rows = list_feedback(
    db,
    rating=RATINGS[rating],
    reason=_any(reason),
    since=since,
    until=until,
    prompt_version=_any(prompt_version),
    model=_any(model),
    user=_any(user),
    document=_any(document),
    reviewed=STATUSES[status],
    limit=5000,
)

if not rows:
    st.info("No ratings match these filters.", icon=":material/filter_alt_off:")
    st.stop()

# --- table and exports -----------------------------------------------------------------------
st.caption(f"{len(rows)} of {total} ratings")
table = pd.DataFrame(
    {
        "id": r["id"],
        "rated": r["created_at"][:16].replace("T", " "),
        "rating": "👍" if r["score"] else "👎",
        "reason": r["reason"] or "",
        "question": r["question"] or "",
        "model": r["model"] or "",
        "prompt": r["prompt_version"] or "",
        "user": r["user"],
        "reviewed": bool(r["reviewed"]),
    }
    for r in rows
)
st.dataframe(table, hide_index=True, width="stretch")
d1, d2, _ = st.columns([1, 1, 4])
d1.download_button(
    "Export CSV", export_feedback(rows, "csv"), "feedback.csv", "text/csv", key="export_csv"
)
d2.download_button(
    "Export JSONL",
    export_feedback(rows, "jsonl"),
    "feedback.jsonl",
    "application/jsonl",
    key="export_jsonl",
)

# --- one rating in detail --------------------------------------------------------------------
by_id = {r["id"]: r for r in rows}
chosen = st.selectbox(
    "Open a rating",
    list(by_id),
    format_func=lambda i: (
        f"#{i} · {'👍' if by_id[i]['score'] else '👎'} · {(by_id[i]['question'] or '')[:80]}"
    ),
    key="detail",
)
row = by_id[chosen]

st.subheader(f"Rating #{row['id']}")
# Questions, comments and notes are other people's words: shown as text, never as Markdown.
st.markdown(f"**Question:** {escape_line(row['question'] or '')}")
if row["rewritten_query"] and row["rewritten_query"] != row["question"]:
    st.caption(f"Searched as: {escape_line(row['rewritten_query'])}")
st.markdown("**Answer shown**")
st.markdown(inert_markdown(row["answer"]) if row["answer"] else "_(empty)_")
support = row.get("support_score")
details = (
    f"{row['backend'] or '?'} / {row['model'] or '?'}",
    f"prompt {row['prompt_version'] or '?'}",
    f"index v{row['index_version']}",
    f"{row['total_ms']:.0f} ms" if row["total_ms"] is not None else None,
    f"{row['tokens_in'] or 0} → {row['tokens_out'] or 0} tokens",
    f"support {support:.2f}" if support is not None else None,
    "refused" if row.get("refused") else None,
    f"by {row['user']}",
    f"run {row['run_id']}",
)
st.caption(escape_markdown(" · ".join(str(d) for d in details if d)))
if row["comment"]:
    st.markdown(f"**Comment:** {escape_markdown(row['comment'])}")

tab_passages, tab_verification = st.tabs(["Passages", "Verification"])
with tab_passages:
    if row["passages"]:
        st.dataframe(pd.DataFrame(row["passages"]), hide_index=True, width="stretch")
    else:
        st.caption("No passages were retrieved.")
with tab_verification:
    if row["verification"]:
        st.dataframe(pd.DataFrame(row["verification"]), hide_index=True, width="stretch")
    else:
        st.caption("No sentence checks were recorded.")

review_col, golden_col = st.columns(2)
with review_col:
    st.markdown("**Review**")
    if row["reviewed"]:
        st.success(
            escape_markdown(
                f"Reviewed by {row['reviewer']} on {(row['reviewed_at'] or '')[:10]}"
                + (f": {row['resolution_note']}" if row["resolution_note"] else ".")
            )
        )
    else:
        st.text_area("Resolution note", key=f"note_{row['id']}", placeholder="What was done?")
        st.button("Mark reviewed", on_click=_mark_reviewed, args=(row["id"],), key="mark")

with golden_col:
    st.markdown("**Add to the golden set**")
    fid, typo = row["id"], ""
    st.text_input(
        "Question",
        value=row["question"] or "",
        key=f"gold_question_{fid}",
        help="As asked, with personal data replaced by placeholders such as <PERSON_1>; reword "
        "it where the documents need the real name or number.",
    )
    verdict = st.radio(
        "Do the documents answer this question?",
        [ANSWERED, UNANSWERED],
        index=None,
        key=f"gold_verdict_{fid}",
        help="Say what a right answer would be; the answer shown above is for reference only.",
    )
    if verdict == ANSWERED:
        # Starts empty: the answer shown was rated, and may be the wrong one.
        st.text_area(
            "Expected answer",
            key=f"gold_answer_{fid}",
            placeholder="What a right answer says (or give key facts below)",
        )
        st.text_area("Key facts (one per line)", key=f"gold_facts_{fid}")
        st.multiselect(
            "Right source",
            expected_sources(row, registered_documents(db)),
            key=f"gold_sources_{fid}",
            placeholder="Choose the document that answers it",
            help="Cited and retrieved documents first, then every other document in the store.",
        )
        pages = st.text_input("Pages", key=f"gold_pages_{fid}", placeholder="e.g. 12, 14")
        try:
            parse_pages(pages)
        except GroundworkError as exc:  # a typing mistake: said where it was made
            typo = str(exc)
            st.error(escape_markdown(f"{typo[:1].upper()}{typo[1:]}."))
    st.text_input("Note (optional)", key=f"gold_note_{fid}")
    try:
        reviewed_case(row)
        missing = None
    except GroundworkError as exc:
        missing = str(exc)
        if not typo:
            st.caption(escape_markdown(f"To add it: {missing}."))
    st.button(
        "Add to golden set",
        on_click=_add_golden,
        args=(fid,),
        key="golden",
        disabled=missing is not None,
    )
    st.caption(f"Appends to `{golden_path()}`.")

"""Ask: chat with the documents; streamed answers, verified citations, thumbs feedback, and
each user's saved conversations (listed in the sidebar, resumed from the URL on a reload)."""

from __future__ import annotations

from collections.abc import Iterable

import streamlit as st

from pages.common import (
    current_assistant,
    current_scope,
    current_store,
    current_user,
    database,
    ingest_with_progress,
    page_identity,
    session_id,
)
from pages.conversation_panel import open_from_url, save_turn, show_conversations
from rag import (
    FEEDBACK_REASONS,
    GroundworkError,
    GuardrailBlocked,
    Outcome,
    answer_message,
    answer_outcome,
    escape_line,
    escape_markdown,
    follow_up_history,
    highlight,
    log_run,
    offers_generation,
    rating_details,
    read_answer,
    record_feedback,
    redaction_note,
    sample_files,
    searched_as,
    section_heading,
    sentence_support,
)

st.title("Ask your documents")
identity = page_identity()
open_from_url()
store = current_store()
scope = current_scope()  # the collections this user reads; None: every one (an admin)
readable = {d["doc_id"]: d for d in store.documents() if scope is None or d["collection"] in scope}
assistant = current_assistant()
backend = assistant.backend
documents = list(readable.values())
st.caption(
    f"Answering from **{len(documents)}** document{'s' * (len(documents) != 1)} with "
    f"**{backend.name}** · {backend.chat_model} · prompt {assistant.prompt.ref}",
    help=f"{backend.reason}\n\nEmbeddings: {store.embedder}. Every answer sentence is checked "
    "against the passage it cites; sentences no passage supports are struck through.",
)

messages: list[dict] = st.session_state.setdefault("messages", [])

if not documents:
    st.info(
        "There are no documents to answer from yet. Upload your own on the Documents page, "
        "or try Groundwork with three short sample policies (leave, travel, security)."
        if identity.is_admin
        else "There are no documents you can read yet. Ask an administrator to add some, or "
        "to give you access to a collection.",
        icon=":material/library_books:",
    )
    if identity.is_admin and st.button(
        "Load sample documents", type="primary", icon=":material/library_add:"
    ):
        reports = ingest_with_progress(store, sample_files())
        for r in reports:
            if not r.ok:
                st.error(escape_markdown(f"{r.filename}: {r.error}"))
        if all(r.ok for r in reports):
            st.session_state["chat_flash"] = f"Loaded {len(reports)} sample documents. Ask away!"
            st.rerun()

if flash := st.session_state.pop("chat_flash", None):
    st.success(flash, icon=":material/check_circle:")
if note := st.session_state.pop("conversation_note", None):
    st.info(escape_markdown(note), icon=":material/forum:")
conversation_panel = st.sidebar.container()  # filled last, once this run's turn is saved


def _save_feedback(run: dict, key: str) -> None:
    """Store the thumbs rating (and, for a thumbs down, the reason) in SQLite and the trace."""
    value = st.session_state.get(key)
    if value is None:
        return
    rid, score = run["run_id"], int(value)
    reason, comment = rating_details(
        score, st.session_state.get(f"reason_{rid}"), st.session_state.get(f"comment_{rid}")
    )
    try:
        record_feedback(database(), run, score, reason, comment, current_user())
        assistant.telemetry.send_feedback(rid, score, reason, comment)
        st.session_state[f"saved_{rid}"] = "reason" if reason else "thumbs"
    except GroundworkError as exc:
        st.session_state[f"saved_{rid}"] = f"error: {exc}"


ERROR_ICONS = {False: ":material/error:", True: ":material/shield:"}  # by: stopped by a guardrail

OUTCOME_CAPTIONS = {
    Outcome.NO_PASSAGES: "no matching passages",
    Outcome.NOT_FOUND: "not found · closest passages quoted, they may not answer it",
    Outcome.QUOTED: "quoted from the documents",
    Outcome.MODEL_FOUND_NOTHING: "quoted from the documents: the model found no answer in them",
    Outcome.NOT_VERIFIED: "quoted from the documents: the generated answer failed the check",
}


def _support_caption(message: dict) -> str:
    seconds = (message["run"].get("timings") or {}).get("total_ms", 0) / 1000
    outcome = answer_outcome(message)
    if outcome is not Outcome.VERIFIED:
        return f"{OUTCOME_CAPTIONS[outcome]} · {seconds:.1f} s"
    supported, checked = sentence_support(message["run"])
    caption = f"verified {supported}/{checked} sentences · {seconds:.1f} s"
    if supported < checked:
        caption += f" · :orange[{checked - supported} unverified, struck through]"
    return caption


def citation_label(c: dict) -> str:
    """Expander label: ``[n] file, p. N — section`` (the most specific heading of the path).

    File and section names come from documents: they are escaped, as labels render Markdown.
    """
    label = f"[{c['number']}] {escape_line(c['source'])}"
    if c.get("page"):
        label += f", p. {c['page']}"
    if section := section_heading(c):
        label += f" — {escape_line(section, limit=60)}"
    if c.get("overdue"):
        label += " · ⚠️ review overdue"
    return label


def show_answer_text(message: dict) -> None:
    """The verified answer; a refusal or extractive answer leads with a clear note."""
    shown = read_answer(message)
    if not shown.notice:
        st.markdown(shown.body)
        return
    icon = ":material/search_off:" if shown.not_found else ":material/format_quote:"
    st.info(shown.notice, icon=icon)
    if shown.body.strip():
        st.markdown(shown.body)


def show_feedback(run: dict) -> None:
    """Thumbs; a thumbs down asks what was wrong."""
    rid = run["run_id"]
    key = f"feedback_{rid}"
    st.feedback("thumbs", key=key, on_change=_save_feedback, args=(run, key))
    saved = st.session_state.get(f"saved_{rid}")
    if saved and saved.startswith("error"):
        st.error(escape_markdown(f"Feedback not saved ({saved[7:]}). Please try again."))
    elif saved == "reason":
        st.caption(":material/check: Thanks: your feedback was recorded for review.")
    elif st.session_state.get(key) == 0:
        with st.form(f"why_{rid}"):
            st.markdown("**What was wrong with this answer?**")
            st.selectbox(
                "Reason", FEEDBACK_REASONS, index=None, placeholder="Choose a reason",
                key=f"reason_{rid}",
            )  # fmt: skip
            st.text_area(
                "Comment (optional)",
                key=f"comment_{rid}",
                height=80,
                placeholder="What should it have said? Which document is right?",
            )
            st.form_submit_button("Send feedback", on_click=_save_feedback, args=(run, key))
    elif saved == "thumbs":
        st.caption(":material/check: Thanks for the feedback.")


def withheld(message: dict) -> bool:
    """Whether an answer cites a document this user cannot read now (moved to a collection
    they do not read, or deleted since): its quotes and citations are not shown again."""
    names = {d["filename"] for d in readable.values()}
    return any(
        c.get("doc_id") not in readable if c.get("doc_id") else c.get("source") not in names
        for c in message.get("citations") or []
    )


def render_answer(message: dict) -> None:
    """Show one assistant answer with its check summary, citations and feedback."""
    run = message["run"]
    if withheld(message):
        st.info(
            "This answer cited documents you cannot read now (they were moved or deleted), "
            "so it is no longer shown.",
            icon=":material/lock:",
        )
        return
    for warning in message.get("warnings", []):
        st.warning(escape_markdown(warning), icon=":material/shield:")
    if note := redaction_note(message):
        st.caption(f":material/shield: {escape_markdown(note)}")
    show_answer_text(message)
    st.caption(
        _support_caption(message),
        help="Each answer sentence is checked against the "
        "passage it cites. Unverified sentences are struck through: do not rely on them.",
    )
    for c in message["citations"]:
        with st.expander(citation_label(c)):
            where = " › ".join((c.get("section") or "").split(" > "))
            notes = [f"From {c['context']}." if c.get("context") else ""]
            notes.append(f"Section: {where}." if where and where != c["source"] else "")
            notes.append("The highlighted sentence supports the answer." if c.get("quote") else "")
            if any(notes):
                st.caption(escape_markdown(" ".join(n for n in notes if n)))
            if c.get("overdue"):
                st.warning("This document is past its review-by date: check it is still current.")
            st.markdown(highlight(c["text"], c.get("quote", "")))
    if offers_generation(message):
        st.button(
            "Write an answer with the model",
            key=f"generate_{run['run_id']}",
            icon=":material/edit_note:",
            help="Draft an answer in prose from these passages; each sentence is checked against "
            f"them. With {backend.chat_model} this takes a few seconds.",
            on_click=st.session_state.__setitem__,
            args=("generate_for", message.get("asked") or run["question"]),
        )
    if rewritten := searched_as(message):
        with st.expander("Details", icon=":material/info:"):
            st.caption("This follow-up was searched as:")
            st.markdown(f"> {escape_line(rewritten)}")
    show_feedback(run)


def _show_draft(stream: Iterable[str], note, draft) -> None:
    """Show the model's text as it arrives, as text, saying what is happening above it.

    The whole draft is escaped again with each piece: a URL split across pieces is still
    recognised and kept from becoming a link.
    """
    text = ""
    for i, piece in enumerate(stream):
        if i == 0:
            note.caption(
                ":material/edit_note: Drafting… each sentence is checked against the "
                "documents before the answer is final."
            )
        text += piece
        draft.markdown(escape_markdown(text))


def waiting_note(mode: str | None) -> str:
    """What the answer is waiting for: the search, or the model busy with other questions."""
    if ahead := assistant.queue_ahead(mode):
        return (
            f":material/hourglass_top: Waiting for the model: {ahead} question"
            f"{'s' * (ahead != 1)} ahead of yours. Yours is queued and will be answered."
        )
    return ":material/search: Searching the documents…"


def answer(question: str, mode: str | None = None) -> None:
    """Stream the draft, then replace it with the verified answer and its citations."""
    history = follow_up_history(messages)
    with st.chat_message("assistant"):
        note, draft = st.empty(), st.empty()
        note.caption(waiting_note(mode))
        try:
            stream = assistant.ask(
                question, history, session_id=session_id(), user=current_user(), mode=mode,
                collections=scope,
            )  # fmt: skip
            _show_draft(stream, note, draft)
        except GroundworkError as exc:
            note.empty()
            icon = ERROR_ICONS[isinstance(exc, GuardrailBlocked)]
            draft.error(escape_markdown(str(exc)), icon=icon)
            failed = {"role": "assistant", "content": "", "error": str(exc), "icon": icon}
            if isinstance(exc, GuardrailBlocked):
                failed["blocked"] = exc.kind
            messages.append(failed)
            save_turn(messages)
            return
        note.empty()
        draft.empty()
        message = answer_message(stream.result, documents)
        message["asked"] = question  # as typed: what "Write an answer" asks again
        try:
            log_run(database(), message["run"])
        except GroundworkError as exc:
            st.toast(escape_markdown(f"This answer was not logged: {exc}"))
        messages.append(message)
        save_turn(messages)
        render_answer(message)


for message in messages:
    with st.chat_message(message["role"]):
        if message["role"] == "user":
            st.markdown(escape_markdown(message["content"]))
            if message.get("generate"):
                st.caption("Asked for an answer written by the model.")
        elif "error" in message:
            st.error(escape_markdown(message["error"]), icon=message.get("icon", ERROR_ICONS[0]))
        else:
            render_answer(message)

prompt = "Ask a question about your documents" if documents else "Add documents first"
if requested := st.session_state.pop("generate_for", None):
    messages.append({"role": "user", "content": requested, "generate": True})
    with st.chat_message("user"):
        st.markdown(escape_markdown(requested))
        st.caption("Asked for an answer written by the model.")
    answer(requested, mode="generate")
if question := st.chat_input(prompt, disabled=not documents):
    messages.append({"role": "user", "content": question})
    with st.chat_message("user"):
        st.markdown(escape_markdown(question))
    answer(question)
show_conversations(conversation_panel, messages)

"""Ask: chat with the documents; streamed answers, verified citations, thumbs feedback."""

from __future__ import annotations

import streamlit as st

from pages.common import (
    current_assistant,
    current_store,
    current_user,
    database,
    session_id,
)
from rag.errors import GroundworkError
from rag.feedback import FEEDBACK_REASONS, record_feedback
from rag.indexing import ingest_files, sample_files
from rag.runlog import log_run
from rag.verify import highlight

st.title("Ask your documents")
store = current_store()
assistant = current_assistant()
backend = assistant.backend
st.caption(
    f"Answering with **{backend.name}** · {backend.chat_model} · embeddings "
    f"{store.embedder} · prompt {assistant.prompt.ref}",
    help=backend.reason,
)

if not store.documents():
    st.info("No documents yet. Upload some on the Documents page, or start with the samples.")
    if st.button("Load sample documents", type="primary", icon=":material/library_add:"):
        with st.spinner("Indexing the sample documents…"):
            reports = ingest_files(store, sample_files())
        failed = [r for r in reports if not r.ok]
        for r in failed:
            st.error(r.error)
        st.toast(f"Loaded {len(reports) - len(failed)} sample documents.")
        st.rerun()

messages: list[dict] = st.session_state.setdefault("messages", [])


def _save_feedback(run: dict, key: str) -> None:
    value = st.session_state.get(key)
    if value is None:
        return
    reason = st.session_state.get(f"reason_{run['run_id']}")
    comment = st.session_state.get(f"comment_{run['run_id']}")
    try:
        record_feedback(database(), run, int(value), reason, comment, current_user())
        assistant.telemetry.send_feedback(run["run_id"], int(value), reason, comment)
    except GroundworkError as exc:
        st.toast(f"Feedback not saved: {exc}")


def render_answer(message: dict, index: int) -> None:
    """Show one assistant answer with its citations and feedback controls."""
    run = message["run"]
    st.markdown(message["content"])
    for citation in message["citations"]:
        label = f"[{citation['number']}] {citation['source']}, p. {citation['page']}"
        if citation.get("section"):
            label += f" — {citation['section']}"
        if citation.get("overdue"):
            label += " · may be out of date"
        with st.expander(label):
            st.markdown(highlight(citation["text"], citation.get("quote", "")))
    if message.get("rewritten") and message["rewritten"] != run["question"]:
        with st.expander("Details"):
            st.caption(f"Searched for: {message['rewritten']}")
    key = f"feedback_{run['run_id']}"
    st.feedback("thumbs", key=key, on_change=_save_feedback, args=(run, key))
    if st.session_state.get(key) == 0:
        with st.form(f"why_{run['run_id']}", border=False):
            st.selectbox("What was wrong?", FEEDBACK_REASONS, key=f"reason_{run['run_id']}")
            st.text_input("Comment (optional)", key=f"comment_{run['run_id']}")
            if st.form_submit_button("Send"):
                _save_feedback(run, key)
                st.toast("Thanks: your feedback was recorded.")


for i, message in enumerate(messages):
    with st.chat_message(message["role"]):
        if message["role"] == "user":
            st.markdown(message["content"])
        else:
            render_answer(message, i)

if question := st.chat_input("Ask a question about your documents"):
    messages.append({"role": "user", "content": question})
    with st.chat_message("user"):
        st.markdown(question)
    history = [
        (messages[j]["content"], messages[j + 1]["content"])
        for j in range(0, len(messages) - 2, 2)
        if messages[j + 1]["role"] == "assistant"
    ]
    with st.chat_message("assistant"):
        draft = st.empty()
        stream = assistant.ask(question, history, session_id=session_id(), user=current_user())
        try:
            with draft.container():
                st.write_stream(stream)
        except GroundworkError as exc:
            draft.error(str(exc))
            st.stop()
        result = stream.result
        draft.empty()
        overdue = {d["doc_id"] for d in store.documents() if d["overdue"]}
        message = {
            "role": "assistant",
            "content": result.answer,
            "rewritten": result.rewritten_query,
            "run": result.record(),
            "citations": [
                {
                    "number": c.number,
                    "source": c.passage.source,
                    "page": c.passage.page,
                    "section": c.passage.section,
                    "text": c.passage.text,
                    "quote": c.quote,
                    "overdue": c.passage.doc_id in overdue,
                }
                for c in result.citations
            ],
        }
        try:
            log_run(database(), message["run"])
        except GroundworkError as exc:
            st.toast(f"Run not logged: {exc}")
        messages.append(message)
        render_answer(message, len(messages) - 1)

"""The Ask page's saved conversations: each user's own, listed in the sidebar, resumed from
the URL on a reload, renamed and deleted; every turn saved as it happens.

Conversations are read and written for :func:`pages.common.current_user` only; another
user's id reads exactly like a missing one.
"""

from __future__ import annotations

import streamlit as st

from pages.common import current_user, database
from rag import (
    MAX_CONVERSATION_MESSAGES,
    MAX_CONVERSATIONS,
    GroundworkError,
    clean_conversation_title,
    delete_conversation,
    escape_line,
    escape_markdown,
    list_conversations,
    load_conversation,
    rename_conversation,
    save_conversation_turn,
)

CONVERSATION_PARAM = "c"  # the URL names the open conversation: a reload resumes it
SHOWN_CONVERSATIONS = 30


def _show_conversation(conversation_id: str | None, messages: list[dict]) -> None:
    """Make ``conversation_id`` (None: a new, not yet saved one) the open conversation."""
    st.session_state["conversation_id"] = conversation_id
    st.session_state["messages"] = messages
    st.session_state.pop("confirm_delete", None)
    if conversation_id:
        st.query_params[CONVERSATION_PARAM] = conversation_id
    elif CONVERSATION_PARAM in st.query_params:
        del st.query_params[CONVERSATION_PARAM]


def _resume(conversation_id: str) -> None:
    """Open one of the owner's conversations; an id that is not theirs opens a new one."""
    try:
        loaded = load_conversation(database(), current_user(), conversation_id)
    except GroundworkError as exc:
        loaded = None
        st.session_state["conversation_note"] = f"Conversations cannot be read now: {exc}"
    if loaded is None:  # another user's id reads exactly like a missing one
        st.session_state.setdefault(
            "conversation_note", "That conversation is not available; this is a new one."
        )
        _show_conversation(None, [])
    else:
        _show_conversation(conversation_id, loaded)


def open_from_url() -> None:
    """On a session's first run, or when someone else signs in, open what the URL names."""
    owner = current_user()
    if st.session_state.get("conversation_owner") == owner:
        current = st.session_state.get("conversation_id")
        if current and st.query_params.get(CONVERSATION_PARAM) != current:
            st.query_params[CONVERSATION_PARAM] = current  # lost when visiting another page
        return
    st.session_state["conversation_owner"] = owner
    if wanted := st.query_params.get(CONVERSATION_PARAM):
        _resume(wanted)
    else:
        _show_conversation(None, [])


def save_turn(messages: list[dict]) -> None:
    """Save the question and answer that end the conversation; the first one starts it."""
    try:
        saved_in, replaced = save_conversation_turn(
            database(), current_user(), st.session_state.get("conversation_id"),
            messages[-2], messages[-1],
        )  # fmt: skip
    except GroundworkError as exc:
        st.toast(escape_markdown(f"This conversation was not saved: {exc}"))
        return
    if replaced:  # full, or deleted in another tab: this turn starts a new one
        st.session_state["conversation_note"] = (
            "The last question started a new conversation: the previous one was full "
            f"({MAX_CONVERSATION_MESSAGES} messages) or had been deleted."
        )
        del messages[:-2]
    st.session_state["conversation_id"] = saved_in
    st.query_params[CONVERSATION_PARAM] = saved_in


def _start_new() -> None:
    _show_conversation(None, [])


def _rename(conversation_id: str, key: str) -> None:
    title = clean_conversation_title(st.session_state.get(key, ""))
    if not title:
        st.session_state["conversation_flash"] = "A conversation needs a title: type one."
        return
    try:
        if not rename_conversation(database(), current_user(), conversation_id, title):
            _resume(conversation_id)  # gone meanwhile: say so, open a new one
    except GroundworkError as exc:
        st.session_state["conversation_flash"] = f"Not renamed: {exc}"


def _delete(conversation_id: str) -> None:
    try:
        delete_conversation(database(), current_user(), conversation_id)
    except GroundworkError as exc:
        st.session_state["conversation_flash"] = f"Not deleted: {exc}"
        return
    _show_conversation(None, [])
    st.session_state["chat_flash"] = "The conversation was deleted."


def _manage(current: dict) -> None:
    """Rename the open conversation, or delete it once confirmed."""
    cid = current["id"]
    with st.expander("Rename or delete", icon=":material/edit:"):
        with st.form(f"rename_{cid}", border=False):
            key = f"title_{cid}"
            st.text_input("Title", value=current["title"], key=key)
            st.form_submit_button("Rename", on_click=_rename, args=(cid, key))
        if not st.session_state.get("confirm_delete"):
            st.button(
                "Delete conversation",
                icon=":material/delete:",
                on_click=st.session_state.__setitem__,
                args=("confirm_delete", True),
            )
            return
        st.warning(f"Delete “{escape_line(current['title'])}” and its messages for good?")
        left, right = st.columns(2)
        left.button("Delete", type="primary", on_click=_delete, args=(cid,))
        right.button("Cancel", on_click=st.session_state.pop, args=("confirm_delete", None))


def show_conversations(panel, messages: list[dict]) -> None:
    """The sidebar's list of the user's conversations, newest first, the open one marked."""
    try:
        saved = list_conversations(database(), current_user(), SHOWN_CONVERSATIONS)
    except GroundworkError as exc:
        panel.warning(escape_markdown(f"Saved conversations cannot be shown: {exc}"))
        return
    current_id = st.session_state.get("conversation_id")
    if not saved and not messages:
        return
    with panel:
        st.subheader("Conversations")
        st.button(
            "New conversation", icon=":material/add_comment:", on_click=_start_new,
            disabled=not messages,
        )  # fmt: skip
        if flash := st.session_state.pop("conversation_flash", None):
            st.error(escape_markdown(flash))
        for c in saved:
            is_open = c["id"] == current_id
            st.button(
                escape_line(c["title"], limit=40),
                key=f"conversation_{c['id']}",
                icon=":material/chat_bubble:" if is_open else ":material/chat_bubble_outline:",
                type="primary" if is_open else "secondary",
                help=f"{c['messages']} messages · last used {c['updated_at'][:10]}"
                + (" · open now" if is_open else ""),
                on_click=_resume,
                args=(c["id"],),
                width="stretch",
            )
            if is_open:
                _manage(c)
        st.caption(f"Your {MAX_CONVERSATIONS} most recently used conversations are kept.")

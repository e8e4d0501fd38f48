"""Groundwork's web app: the router. Run with ``streamlit run app.py``.

It signs users in when an ``[auth]`` section is configured in ``.streamlit/secrets.toml``,
shows which model answers and why, and routes to the pages under ``pages/``.
"""

from __future__ import annotations

import streamlit as st

st.set_page_config(page_title="Groundwork", page_icon=":material/menu_book:", layout="wide")


def auth_configured() -> bool:
    """Whether sign-in is configured (``[auth]`` in secrets)."""
    try:
        return "auth" in st.secrets
    except FileNotFoundError:
        return False


if auth_configured() and not st.user.get("is_logged_in", False):
    st.title("Groundwork")
    st.write("Sign in to ask questions about your organisation's documents.")
    st.button("Sign in", on_click=st.login, type="primary")
    st.stop()

pages = st.navigation(
    {
        "Assistant": [
            st.Page("pages/chat.py", title="Ask", icon=":material/chat:", default=True),
            st.Page("pages/documents.py", title="Documents", icon=":material/description:"),
        ],
        "Operations": [
            st.Page("pages/feedback.py", title="Feedback review", icon=":material/thumbs_up_down:"),
            st.Page("pages/insights.py", title="Insights", icon=":material/monitoring:"),
            st.Page("pages/guardrails.py", title="Guardrails", icon=":material/shield:"),
            st.Page("pages/evaluation.py", title="Evaluation", icon=":material/fact_check:"),
        ],
    }
)

with st.sidebar:
    from pages.common import assistant, backend_override
    from rag import GroundworkError, escape_markdown

    st.caption("Model backend")
    try:
        active = assistant(backend_override()).backend
        st.markdown(f":material/memory: **{active.name}** · {escape_markdown(active.chat_model)}")
        st.caption(escape_markdown(active.reason))
    except GroundworkError as exc:
        st.markdown(":material/cloud_off: **unavailable**")
        st.caption(escape_markdown(str(exc)))
    if auth_configured() and st.user.get("is_logged_in", False):
        st.caption(f"Signed in as {escape_markdown(str(st.user.get('email', '')))}")
        st.button("Sign out", on_click=st.logout)

pages.run()

"""Groundwork's web app: the router. Run with ``streamlit run app.py``.

With an ``[auth]`` section in ``.streamlit/secrets.toml`` users sign in (Streamlit's OIDC
login) and only accounts on the allow-list get in; each sees the pages of their role (readers:
Ask; editors: also Documents; admins: everything). Without one, the app runs in local
single-user mode and says so on every page.
"""

from __future__ import annotations

import streamlit as st

st.set_page_config(page_title="Groundwork", page_icon=":material/menu_book:", layout="wide")

from pages.common import (  # noqa: E402 - set_page_config comes first
    assistant,
    auth_configured,
    backend_override,
    current_identity,
    signed_in,
    watcher,
)
from rag import AccessDenied, GroundworkError, escape_markdown  # noqa: E402


def sign_in_page() -> None:
    """Ask a visitor to sign in, and stop."""
    st.title("Groundwork")
    st.write("Sign in to ask questions about your organisation's documents.")
    st.button("Sign in", on_click=st.login, type="primary")
    st.stop()


def refused_page(exc: AccessDenied) -> None:
    """Tell a signed-in account why it may not use Groundwork, offer to sign out, and stop."""
    st.title("Groundwork")
    st.error(escape_markdown(str(exc)), icon=":material/lock:")
    st.caption("Ask an administrator to add your account, or sign in with another one.")
    st.button("Sign out", on_click=st.logout)
    st.stop()


if auth_configured() and not signed_in():
    sign_in_page()
try:
    identity = current_identity()
except AccessDenied as exc:
    refused_page(exc)

assistant_pages = [st.Page("pages/chat.py", title="Ask", icon=":material/chat:", default=True)]
if identity.manages_documents:
    assistant_pages.append(
        st.Page("pages/documents.py", title="Documents", icon=":material/description:")
    )
sections = {"Assistant": assistant_pages}
if identity.is_admin:
    sections["Operations"] = [
        st.Page("pages/collections.py", title="Collections", icon=":material/folder_shared:"),
        st.Page("pages/feedback.py", title="Feedback review", icon=":material/thumbs_up_down:"),
        st.Page("pages/insights.py", title="Insights", icon=":material/monitoring:"),
        st.Page("pages/guardrails.py", title="Guardrails", icon=":material/shield:"),
        st.Page("pages/evaluation.py", title="Evaluation", icon=":material/fact_check:"),
    ]
pages = st.navigation(sections)
watcher()  # started once per server process; runs the monitoring set when it is due

with st.sidebar:
    if identity.local:
        st.warning(
            "**Local single-user mode.** Sign-in is not configured, so whoever opens this "
            "address is an admin. Configure `[auth]` in `.streamlit/secrets.toml` before "
            "sharing it.",
            icon=":material/person_alert:",
        )
    st.caption("Model backend")
    try:
        active = assistant(backend_override()).backend
        st.markdown(f":material/memory: **{active.name}** · {escape_markdown(active.chat_model)}")
        st.caption(escape_markdown(active.reason))
    except GroundworkError as exc:
        st.markdown(":material/cloud_off: **unavailable**")
        st.caption(escape_markdown(str(exc)))
    if not identity.local:
        st.caption(f"Signed in as {escape_markdown(identity.email)} · {identity.role}")
        st.button("Sign out", on_click=st.logout)

pages.run()

"""Services shared by every page, built once per server process behind ``st.cache_resource``."""

from __future__ import annotations

import streamlit as st

from rag.config import Settings


@st.cache_resource
def settings() -> Settings:
    """Return the process-wide settings."""
    return Settings()


@st.cache_resource
def database():
    """Open the SQLite database (feedback, run log) and apply migrations."""
    from rag.feedback import open_db

    return open_db(settings().db_path)

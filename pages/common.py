"""Services shared by every page, built once per server process behind ``st.cache_resource``.

The store is built once (it holds the embedded store's lock); an assistant is built per backend,
so switching from Ollama to the embedded model never reopens the store.
"""

from __future__ import annotations

import uuid
from datetime import date, timedelta

import streamlit as st

from rag import (
    LOCAL_USER,
    AccessDenied,
    BackendUnavailable,
    EmbedderMismatch,
    GroundworkError,
    Identity,
    Settings,
    escape_markdown,
    identity_from_claims,
    local_identity,
)


@st.cache_resource
def settings() -> Settings:
    """Return the process-wide settings."""
    return Settings()


@st.cache_resource
def database():
    """Open the SQLite database (feedback, run log, registry) and apply migrations."""
    from rag import open_db

    return open_db(settings().db_path)


@st.cache_resource(show_spinner="Opening the document store…")
def store():
    """Open the document store (Chroma + registry)."""
    from rag import open_store

    return open_store(settings(), db=database())


@st.cache_resource(show_spinner="Loading the model…")
def assistant(backend: str):
    """Build the assistant for ``backend`` ('auto', 'ollama' or 'embedded')."""
    from rag import Assistant, make_chat_model, resolve_backend

    s = settings().model_copy(update={"backend": backend})
    choice = resolve_backend(s)
    return Assistant(s, store(), make_chat_model(s, choice), choice)


def backend_override() -> str:
    """The backend this browser session asked for (defaults to the setting)."""
    return st.session_state.get("backend_override") or settings().backend


def current_assistant():
    """Return the assistant for this session, or show what is wrong and stop the page."""
    try:
        return assistant(backend_override())
    except GroundworkError as exc:
        if isinstance(exc, BackendUnavailable):
            _offer_embedded_model(exc)
        st.error(escape_markdown(str(exc)))
        st.stop()


def _offer_embedded_model(exc: BackendUnavailable) -> None:
    """Say the model server is unavailable, offer the embedded model, and stop the page."""
    st.error(escape_markdown(str(exc)), icon=":material/cloud_off:")
    if backend_override() != "embedded" and st.button("Use the embedded model instead"):
        st.session_state["backend_override"] = "embedded"
        st.rerun()
    st.stop()


def current_store():
    """Return the store, or show why it cannot be opened and stop the page."""
    try:
        return store()
    except GroundworkError as exc:
        if isinstance(exc, (BackendUnavailable, EmbedderMismatch)):
            _offer_reindex(exc)
        st.error(escape_markdown(str(exc)), icon=":material/lock:")
        st.stop()


def _offer_reindex(exc: GroundworkError) -> None:
    """Say the store's embedder cannot be used here, offer to rebuild it with the embedded
    one, and stop the page."""
    st.error(escape_markdown(str(exc)), icon=":material/cloud_off:")
    if st.button("Re-index with the embedded embedder", icon=":material/autorenew:"):
        reindex_with_embedded()
        st.rerun()
    st.stop()


def reindex_with_embedded() -> None:
    """Re-embed every document with the embedded MiniLM model, with a progress bar."""
    from rag import DEFAULT_EMBEDDER, make_embeddings, reindex

    s = settings()
    bar = st.progress(0.0, text="Re-indexing…")
    count = reindex(
        s,
        DEFAULT_EMBEDDER,
        lambda name: make_embeddings(s, name),
        lambda done, total: bar.progress(done / max(total, 1), text=f"{done}/{total} passages"),
    )
    store.clear()
    st.toast(f"Re-indexed {count} passages with the embedded embedder.")


def session_id() -> str:
    """A random id for this browser session."""
    if "session_id" not in st.session_state:
        st.session_state["session_id"] = uuid.uuid4().hex[:12]
    return st.session_state["session_id"]


def auth_configured() -> bool:
    """Whether sign-in is configured (an ``[auth]`` section in secrets)."""
    try:
        return "auth" in st.secrets
    except FileNotFoundError:
        return False


def signed_in() -> bool:
    """Whether a user is signed in through the identity provider."""
    return bool(st.user.get("is_logged_in", False))


def current_identity() -> Identity:
    """Who is using this session: the signed-in user (checked against the allow-list) or,
    with no sign-in configured, the local user (an admin).

    Raises:
        AccessDenied: sign-in is configured and this session is not signed in or not allowed.
    """
    if not auth_configured():
        return local_identity()
    if not signed_in():
        raise AccessDenied("Sign in to use Groundwork.")
    return identity_from_claims(st.user.to_dict(), settings())


def current_user() -> str:
    """Who feedback, conversations and the run log are recorded for: the signed-in user's
    email, or the local user when sign-in is not configured."""
    if signed_in():
        return str(st.user.get("email") or "")
    return LOCAL_USER if not auth_configured() else f"anonymous-{session_id()}"


def current_scope() -> frozenset[str] | None:
    """The collections this session's user may read (None: every collection)."""
    from rag import list_collections

    return current_identity().readable(list_collections(current_store().db))


def require(allowed: bool, what: str, who: str = "administrators") -> None:
    """Stop the page with a clear message unless ``allowed`` (say who may use ``what``)."""
    if not allowed:
        st.error(
            f"{what} is for {who}. Ask an administrator if you need access.",
            icon=":material/lock:",
        )
        st.stop()


def require_admin(what: str) -> Identity:
    """Stop the page unless its user is an admin; return who they are."""
    identity = page_identity()
    require(identity.is_admin, what)
    return identity


def page_identity() -> Identity:
    """The session's identity, or stop the page saying why there is none."""
    try:
        return current_identity()
    except AccessDenied as exc:
        st.error(escape_markdown(str(exc)), icon=":material/lock:")
        st.stop()


def ingest_with_progress(
    store, files: list[tuple[str, bytes]], meta: dict[str, str] | None = None, replace: bool = False
):
    """Ingest ``files`` under a progress bar that names the file being embedded."""
    from rag import ingest_files

    bar = st.progress(0.0, text=f"Reading {len(files)} file{'s' * (len(files) != 1)}…")
    seen: list[str] = []

    def progress(name: str, done: int, total: int) -> None:
        if name not in seen:
            seen.append(name)
        share = (len(seen) - 1 + done / max(total, 1)) / max(len(files), 1)
        label = escape_markdown(name)
        bar.progress(min(share, 1.0), text=f"Indexing {label}: {done}/{total} passages")

    try:
        return ingest_files(store, files, meta or {}, progress, replace)
    finally:
        bar.empty()


def period_picker(where, label: str, first: date, last: date) -> tuple[date | None, date | None]:
    """A UTC date range (the last 30 days by default); the inclusive (since, until) picked.

    While a range is being picked only its start is set: it then stands for one day.
    """
    picked = where.date_input(
        label,
        value=(max(first, last - timedelta(days=29)), last),
        min_value=first,
        max_value=last,
        key="range",
    )
    since, until = (tuple(picked) + (None, None))[:2] if picked else (None, None)
    return since, until or since


@st.cache_resource
def watcher():
    """The evaluation watcher of this server process: it runs the monitoring set when the
    prompt, model, embedder or index version changes (or on schedule), in the background."""
    from rag import Watcher

    w = Watcher(settings(), lambda: assistant(settings().backend))
    w.start()
    return w


def drift_banner() -> None:
    """Warn when a series of evaluation runs fell more than the margin below its baseline."""
    from rag import drift_alerts

    try:
        alerts = drift_alerts(database(), settings().drift_margin)
    except GroundworkError as exc:
        st.warning(escape_markdown(f"Evaluation drift could not be checked: {exc}"))
        return
    if not alerts:
        return
    groups: dict[tuple, list] = {}
    for a in alerts:  # one line per series: its latest run against its baseline
        groups.setdefault((a.series, a.baseline_run, a.latest_run), []).append(a)
    lines = []
    for (_series, base, latest), fell in list(groups.items())[:6]:
        moves = "; ".join(f"{a.metric} {a.baseline:.2f} → {a.latest:.2f}" for a in fell)
        lines.append(
            escape_markdown(
                f"{fell[0].sets}: run {latest} ({fell[0].trigger}) against baseline run {base}, "
                f"on the cases both answered: {moves}"
            )
        )
    shown = "\n".join(f"- {line}" for line in lines)
    st.warning(
        f"**Evaluation drift** (more than {settings().drift_margin:.0%} below the baseline "
        f"run):\n{shown}\n\nThe cases behind it: Evaluation › Compare runs.",
        icon=":material/trending_down:",
    )

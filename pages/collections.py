"""Collections: who may read which documents (admins only).

Every document belongs to one collection; retrieval, citations and source previews only ever
use the collections the asker may read. Readers are written as ``*`` (everyone signed in),
``@example.org`` (an email domain), ``jo@example.org`` or a group name from the identity
provider.
"""

from __future__ import annotations

import streamlit as st

from pages.common import current_store, require_admin
from rag import (
    DEFAULT_COLLECTION,
    GroundworkError,
    collection_name,
    collection_sizes,
    delete_collection,
    escape_markdown,
    list_collections,
    set_readers,
)

st.title("Collections")
require_admin("The Collections page")
st.caption(
    "Each document belongs to one collection; a person reads the collections that name them. "
    "Admins read every collection. A collection named for the first time at upload is "
    "readable by admins only until you open it here."
)

db = current_store().db  # the registry: collections live beside the documents
collections = list_collections(db)
sizes = collection_sizes(db)
st.dataframe(
    [
        {
            "collection": name,
            "readers": ", ".join(readers) or "admins only",
            "documents": sizes.get(name, 0),
        }
        for name, readers in collections.items()
    ],
    hide_index=True,
    width="stretch",
)

NEW = "New collection…"
with st.form("readers"):
    chosen = st.selectbox("Collection", [*collections, NEW])
    name = st.text_input("Name of the new collection") if chosen == NEW else chosen
    readers = st.text_input(
        "Readers",
        value=", ".join(collections.get(chosen, [])) if chosen != NEW else "",
        placeholder="*, @example.org, finance, jo@example.org",
        help="Comma-separated: * is everyone signed in; @domain a whole email domain; an "
        "address one person; any other word a group from your identity provider. Empty: "
        "admins only.",
    )
    if st.form_submit_button("Save readers", type="primary", icon=":material/save:"):
        if not (name or "").strip():
            st.error("Give the new collection a name.")
        else:
            try:
                stored = set_readers(db, collection_name(name), readers)
            except GroundworkError as exc:
                st.error(escape_markdown(str(exc)), icon=":material/error:")
            else:
                who = ", ".join(stored) or "admins only"
                st.session_state["collections_flash"] = (
                    f"{collection_name(name)} is now readable by: {who}."
                )
                st.rerun()

empty = [n for n in collections if not sizes.get(n) and n != DEFAULT_COLLECTION]
if empty:
    doomed = st.selectbox("Delete an empty collection", empty, index=None)
    if doomed and st.button("Delete collection", icon=":material/delete:"):
        if delete_collection(db, doomed):
            st.session_state["collections_flash"] = f"Deleted the collection {doomed}."
        st.rerun()

if flash := st.session_state.pop("collections_flash", None):
    st.success(escape_markdown(flash), icon=":material/check_circle:")

"""Documents: upload, list, inspect, re-ingest and delete the documents the assistant answers from."""

from __future__ import annotations

from datetime import date

import streamlit as st

from pages.common import current_store
from rag.errors import GroundworkError
from rag.indexing import (
    IngestReport,
    delete_document,
    ingest_files,
    reingest_document,
    sample_files,
    update_metadata,
)
from rag.ingest import SUPPORTED_EXTENSIONS

st.title("Documents")
store = current_store()

STATUS_ICON = {
    "ingested": ":material/check_circle:",
    "updated": ":material/update:",
    "unchanged": ":material/check:",
    "duplicate": ":material/content_copy:",
    "failed": ":material/error:",
}


def show_report(report: IngestReport) -> None:
    """Render one file's ingestion report."""
    if not report.ok:
        st.error(report.error, icon=STATUS_ICON["failed"])
        return
    summary = f"**{report.filename}** — {report.status}: {report.pages} pages, {report.chunks} chunks"
    if report.ocr_pages:
        summary += f", OCR on pages {', '.join(map(str, report.ocr_pages))}"
    if report.empty_pages:
        summary += f", {len(report.empty_pages)} empty pages"
    st.success(summary, icon=STATUS_ICON[report.status])
    for warning in report.warnings:
        st.warning(f"{report.filename}: {warning}")


def run_ingest(files: list[tuple[str, bytes]], meta: dict[str, str]) -> list[IngestReport]:
    """Ingest ``files`` with a progress bar; returns one report per file."""
    bar = st.progress(0.0, text="Starting…")
    done_files: list[str] = []

    def progress(name: str, done: int, total: int) -> None:
        file_share = 1 / max(len(files), 1)
        value = min(1.0, len(done_files) * file_share + file_share * done / max(total, 1))
        bar.progress(value, text=f"{name}: {done}/{total} chunks")
        if done == total:
            done_files.append(name)

    reports = ingest_files(store, files, meta, progress)
    bar.progress(1.0, text="Done")
    return reports


with st.form("upload", clear_on_submit=True):
    uploads = st.file_uploader(
        "Upload documents",
        type=[ext.lstrip(".") for ext in SUPPORTED_EXTENSIONS],
        accept_multiple_files=True,
        help="PDF, Word, HTML, Markdown, text and CSV files.",
    )
    left, middle, right = st.columns(3)
    owner = left.text_input("Owner", placeholder="e.g. HR team")
    collection = middle.text_input("Collection / tag", placeholder="e.g. policies")
    review_by = right.date_input("Review by", value=None, min_value=date(2000, 1, 1))
    submitted = st.form_submit_button("Ingest", type="primary", icon=":material/upload:")

if submitted and uploads:
    meta = {
        "owner": owner.strip(),
        "collection": collection.strip(),
        "review_by": review_by.isoformat() if review_by else "",
    }
    try:
        st.session_state["last_reports"] = run_ingest([(f.name, f.getvalue()) for f in uploads], meta)
    except GroundworkError as exc:
        st.error(str(exc))
elif submitted:
    st.warning("Choose one or more files first.")

for report in st.session_state.get("last_reports", []):
    show_report(report)

documents = store.documents()
if not documents:
    st.info("No documents yet: upload files above, or load the samples to try Groundwork.")
    if st.button("Load sample documents", icon=":material/library_add:"):
        st.session_state["last_reports"] = run_ingest(sample_files(), {})
        st.rerun()
    st.stop()

st.subheader(f"{len(documents)} documents · index version {store.index_version}")
overdue = [d for d in documents if d["overdue"]]
if overdue:
    st.warning(
        f"{len(overdue)} document(s) are past their review-by date and may be out of date: "
        + ", ".join(d["filename"] for d in overdue)
    )
st.dataframe(
    [
        {
            "name": d["filename"],
            "pages": d["pages"],
            "chunks": d["chunks"],
            "version": d["version"],
            "owner": d["owner"],
            "collection": d["collection"],
            "ingested": d["ingested_at"],
            "review by": d["review_by"],
            "status": "review overdue" if d["overdue"] else "current",
        }
        for d in documents
    ],
    hide_index=True,
    use_container_width=True,
)

names = {d["doc_id"]: d["filename"] for d in documents}
chosen = st.selectbox("Manage a document", list(names), format_func=names.__getitem__)
doc = next(d for d in documents if d["doc_id"] == chosen)
with st.expander("Ingestion report", expanded=False):
    st.json(doc["report"])
with st.form(f"meta_{chosen}"):
    left, middle, right = st.columns(3)
    new_owner = left.text_input("Owner", value=doc["owner"] or "")
    new_collection = middle.text_input("Collection / tag", value=doc["collection"] or "")
    new_review = right.text_input("Review by (YYYY-MM-DD)", value=doc["review_by"] or "")
    if st.form_submit_button("Save details"):
        try:
            if new_review:
                date.fromisoformat(new_review)
            update_metadata(
                store, chosen, owner=new_owner, collection=new_collection, review_by=new_review
            )
            st.rerun()
        except ValueError:
            st.error(f"'{new_review}' is not a date like 2027-01-31.")
left, right = st.columns(2)
if left.button("Re-ingest", icon=":material/refresh:"):
    try:
        st.session_state["last_reports"] = [reingest_document(store, chosen)]
    except GroundworkError as exc:
        st.error(str(exc))
    st.rerun()
if right.button("Delete", icon=":material/delete:", type="secondary"):
    delete_document(store, chosen)
    st.toast(f"Deleted {names[chosen]}.")
    st.rerun()

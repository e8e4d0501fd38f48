"""Documents: upload, list, inspect, re-ingest and delete what the assistant answers from."""

from __future__ import annotations

from collections import Counter
from datetime import date

import streamlit as st

from pages.common import (
    current_store,
    current_user,
    ingest_with_progress,
    page_identity,
    require,
    settings,
)
from rag import (
    SUPPORTED_EXTENSIONS,
    GroundworkError,
    IngestReport,
    context_changes,
    delete_document,
    delete_passage,
    document_details,
    edit_context,
    escape_line,
    escape_markdown,
    list_collections,
    list_quarantined,
    outside_scope,
    previous_version,
    reingest_document,
    release_passage,
    restore_previous,
    review_date,
    sample_files,
    update_metadata,
    user_pseudonym,
)

st.title("Documents")
identity = page_identity()
require(identity.manages_documents, "The Documents page", "editors and administrators")
store = current_store()
scope = identity.readable(list_collections(store.db))  # None: every collection (an admin)
if scope is not None and not scope:
    st.info("You cannot read any collection yet, so there are no documents for you to manage.")
    st.stop()
st.caption(
    "The assistant answers only from these documents. Upload a new version of a file under the "
    "same name to replace it; the old version stops being cited at once."
)

STATUS = {  # status → (icon, what it means)
    "ingested": (":material/check_circle:", "added"),
    "updated": (":material/update:", "replaced the previous version"),
    "unchanged": (":material/check:", "already up to date"),
    "duplicate": (":material/content_copy:", "skipped, duplicate"),
    "superseded": (":material/history:", "stored, but a newer upload is served"),
    "conflict": (":material/difference:", "not added, the name is taken"),
    "failed": (":material/error:", "not added"),
}
PENDING = "pending_replace"  # name -> (name as uploaded, bytes, details) of a file that collided


def _pages(numbers: list[int]) -> str:
    return ", ".join(map(str, numbers[:10])) + ("…" if len(numbers) > 10 else "")


def show_report(report: IngestReport) -> None:
    """Render one file's ingestion report: what went in, and what to do when it did not."""
    icon, meaning = STATUS.get(report.status, (":material/info:", report.status))
    name = escape_markdown(report.filename)
    error = escape_markdown(report.error.removeprefix(f"{report.filename}: "))  # named already
    if report.status == "conflict" and report.filename in st.session_state.get(PENDING, {}):
        st.warning(f"**{name}** — {meaning}: {error}", icon=icon)
        if st.button(f"Replace {name}", key=f"replace_{report.doc_id}"):
            upload_name, data, meta = st.session_state[PENDING].pop(report.filename)
            remember(ingest_with_progress(store, [(upload_name, data)], meta, replace=True))
            st.rerun()
        return
    if not report.ok:
        st.error(f"**{name}** — {meaning}: {error}", icon=icon)
        return
    summary = f"**{name}** — {meaning}: {report.pages} page{'s' * (report.pages != 1)}"
    summary += f", {report.chunks} passages"
    if report.quarantined:
        summary += f" ({report.quarantined} held back for review)"
    if report.seconds:
        summary += f" in {report.seconds:.1f} s"
    notes = list(report.warnings)
    if report.ocr_pages:
        notes.append(f"pages {_pages(report.ocr_pages)} were scanned images, read by OCR")
    if report.empty_pages:
        notes.append(
            f"no text on page{'s' * (len(report.empty_pages) != 1)} {_pages(report.empty_pages)}"
        )
    if notes:
        items = "\n".join(f"- {escape_markdown(n)}" for n in notes)
        st.warning(f"{summary}\n\n{items}", icon=icon)
    else:
        st.success(summary, icon=icon)


def remember(reports: list[IngestReport], files: list[tuple[str, bytes]] = (), meta=None) -> None:
    """Keep the reports to show after the rerun that refreshes the list, and the bytes of files
    whose name collided, so the user can choose to replace."""
    st.session_state["last_reports"] = reports
    pending = st.session_state.setdefault(PENDING, {})
    for report, (upload_name, data) in zip(reports, files, strict=False):
        if report.status == "conflict":
            pending[report.filename] = (upload_name, data, meta or {})


def collection_input(where, current: str) -> str:
    """The collection a document goes in: any name for an admin (a new one starts readable by
    admins only), one of the collections they read for an editor."""
    if scope is None:
        return where.text_input(
            "Collection", value=current, placeholder="general",
            help="Who may read it is set on the Collections page; a new collection starts "
            "readable by admins only.",
        )  # fmt: skip
    options = sorted(scope)
    index = options.index(current) if current in options else 0
    return where.selectbox("Collection", options, index=index) or ""


with st.form("upload", clear_on_submit=True):
    uploads = st.file_uploader(
        "Add documents",
        type=[ext.lstrip(".") for ext in SUPPORTED_EXTENSIONS],
        accept_multiple_files=True,
        help=f"PDF, Word, HTML, Markdown, text and CSV, up to {store.settings.max_file_mb:g} MB "
        "each. Scanned PDFs are read with OCR when it is installed.",
    )
    left, middle, right = st.columns(3)
    owner = left.text_input("Owner", placeholder="e.g. HR team")
    collection = collection_input(middle, "")
    review_by = right.date_input(
        "Review by", value=None, min_value=date(2000, 1, 1), format="YYYY-MM-DD",
        help="After this date, answers citing the document say it may be out of date.",
    )  # fmt: skip
    submitted = st.form_submit_button("Add to library", type="primary", icon=":material/upload:")

if submitted and uploads:
    meta = document_details(owner, collection, review_by)
    files = [(f.name, f.getvalue()) for f in uploads]
    if foreign := outside_scope(store.db, [name for name, _ in files], scope):
        st.error(
            "Not added: a document with the same name is in a collection you cannot manage: "
            + ", ".join(escape_markdown(n) for n in foreign)
            + ". Rename the file to add it as a new document.",
            icon=":material/lock:",
        )
        files = [f for f in files if f[0] not in foreign]
    try:
        remember(ingest_with_progress(store, files, meta), files, meta)
    except GroundworkError as exc:
        st.error(escape_markdown(str(exc)), icon=":material/error:")
elif submitted:
    st.warning("Choose one or more files first.", icon=":material/upload_file:")

if reports := st.session_state.get("last_reports"):
    head, dismiss = st.columns([4, 1], vertical_alignment="center")
    ok = sum(r.ok for r in reports)
    files = f"{len(reports)} file{'s' * (len(reports) != 1)}"
    head.markdown(f"**Last upload:** {ok} of {files} in the library")
    if dismiss.button("Dismiss", icon=":material/close:", key="dismiss_reports"):
        st.session_state.pop("last_reports")
        st.rerun()
    for report in reports:
        show_report(report)

if flash := st.session_state.pop("documents_flash", None):
    st.success(flash, icon=":material/check_circle:")

documents = [d for d in store.documents() if scope is None or d["collection"] in scope]
if not documents:
    st.info(
        "No documents yet. Add files above, or load three short sample policies to try Groundwork.",
        icon=":material/library_books:",
    )
    if identity.is_admin and st.button("Load sample documents", icon=":material/library_add:"):
        remember(ingest_with_progress(store, sample_files()))
        st.rerun()
    st.stop()

shown = {d["doc_id"] for d in documents}
held = [p for p in list_quarantined(store) if p["doc_id"] in shown]
held_by_doc = Counter(p["doc_id"] for p in held)
st.subheader(f"Library · {len(documents)} document{'s' * (len(documents) != 1)}")
overdue = [d for d in documents if d["overdue"]]
if overdue:
    st.warning(
        f"**{len(overdue)} document{'s are' if len(overdue) != 1 else ' is'} past the review-by "
        "date** and may be out of date: "
        + ", ".join(escape_markdown(d["filename"]) for d in overdue)
        + ". Answers citing them carry a warning; update the file or its review date below.",
        icon=":material/schedule:",
    )
st.dataframe(
    [
        {
            "name": d["filename"],
            "title": (d.get("context") or {}).get("title") or d["title"] or "",
            "about": (d.get("context") or {}).get("subject") or "",
            "period": (d.get("context") or {}).get("period") or "",
            "status": "⚠️ review overdue" if d["overdue"] else "current",
            "review by": d["review_by"] or "",
            "owner": d["owner"] or "",
            "collection": d["collection"] or "",
            "pages": d["pages"],
            "passages": d["chunks"],
            "held back": held_by_doc[d["doc_id"]],
            "version": d["version"],
            "updated": (d["updated_at"] or "")[:10],
        }
        for d in documents
    ],
    hide_index=True,
    width="stretch",
    column_config={
        "name": st.column_config.TextColumn(width="medium", pinned=True),
        "title": st.column_config.TextColumn(width="medium", help="Derived at upload; edit below"),
        "about": st.column_config.TextColumn(help="The organisation or party it is about"),
        "period": st.column_config.TextColumn(help="The period or date it covers"),
        "pages": st.column_config.NumberColumn(width="small"),
        "passages": st.column_config.NumberColumn(width="small", help="Searchable chunks"),
        "held back": st.column_config.NumberColumn(
            width="small", help="Passages quarantined as possible prompt injections; see below"
        ),
        "owner": st.column_config.TextColumn(width="medium"),
        "version": st.column_config.NumberColumn(width="small"),
    },
)
st.caption(f"Index version {store.index_version} · embeddings {store.embedder}")


def review_held(passage: dict) -> None:
    """One quarantined passage, shown as inert text, with its release and delete buttons."""
    where = f"**{escape_line(passage['source'])}** · page {passage['page']}"
    if passage["section"]:
        where += f" · {escape_line(passage['section'], 80)}"
    st.markdown(f"{where} · injection score {passage['score']:.2f}")
    if passage["excerpt"]:
        st.caption("Most suspicious sentence: " + escape_line(passage["excerpt"], 300))
    with st.expander("Passage text"):
        st.code(passage["passage"], language=None, wrap_lines=True)  # untrusted: never rendered
    buttons, cid = st.container(horizontal=True), passage["chunk_id"]
    for label, act, icon, done in (
        ("Release", release_passage, ":material/lock_open:", "released: answers can cite it now"),
        ("Delete", delete_passage, ":material/delete:", "deleted: answers will never use it"),
    ):
        if buttons.button(label, key=f"{label.lower()}_{cid}", icon=icon):
            try:
                act(store, cid, user_pseudonym(settings(), current_user()))
            except GroundworkError as exc:
                st.error(escape_markdown(str(exc)), icon=":material/error:")
            else:
                page = f"{escape_line(passage['source'])}, page {passage['page']}"
                st.session_state["documents_flash"] = f"The passage of {page} was {done}."
                st.rerun()


if held:
    st.subheader(f"Quarantined passages · {len(held)}")
    st.caption(
        "These passages read like instructions to the assistant (possible prompt injection), "
        "so answers never use them. Release a passage that is harmless to make it searchable; "
        "delete one that is not."
    )
    for passage in held:
        with st.container(border=True):
            review_held(passage)

st.subheader("Manage a document")
names = {d["doc_id"]: d["filename"] for d in documents}
chosen = st.selectbox("Document", list(names), format_func=names.__getitem__)
doc = next(d for d in documents if d["doc_id"] == chosen)
label = escape_markdown(names[chosen])
report = doc["report"] or {}
held_note = f" ({held_by_doc[chosen]} held back)" if held_by_doc[chosen] else ""
st.caption(
    f"{doc['kind']} · {doc['pages']} pages · {doc['chunks']} passages{held_note} · version "
    f"{doc['version']} · first added {(doc['ingested_at'] or '')[:10]}"
)
for warning in report.get("warnings") or []:
    st.warning(escape_markdown(warning), icon=":material/warning:")
with st.expander("Full ingestion report"):
    st.json(report, expanded=False)

with st.form(f"meta_{chosen}"):
    left, middle, right = st.columns(3)
    new_owner = left.text_input("Owner", value=doc["owner"] or "")
    new_collection = collection_input(middle, doc["collection"] or "")
    new_review = right.date_input(
        "Review by", value=review_date(doc["review_by"]), min_value=date(2000, 1, 1),
        format="YYYY-MM-DD",
    )  # fmt: skip
    if st.form_submit_button("Save details", icon=":material/save:"):
        try:
            update_metadata(
                store, chosen, **document_details(new_owner, new_collection, new_review)
            )
        except GroundworkError as exc:
            st.error(escape_markdown(str(exc)), icon=":material/error:")
        else:
            st.session_state["documents_flash"] = f"Saved the details of {label}."
            st.rerun()

context = doc.get("context") or {}
edited = doc.get("context_edits") or {}
with st.form(f"context_{chosen}"):
    st.markdown(
        "**What this document is.** Every passage carries this, so questions that name the "
        "title, organisation or period find it. Correct anything derived wrongly; the document "
        "is then re-indexed. Clear a field to go back to the derived value."
    )
    left, middle, right = st.columns(3)
    new_title = left.text_input("Title", value=context.get("title") or doc["title"] or "")
    new_subject = middle.text_input(
        "About", value=context.get("subject") or "", placeholder="e.g. Acme Inc."
    )
    new_period = right.text_input(
        "Period", value=context.get("period") or "", placeholder="e.g. quarter ended June 30, 2024"
    )
    if edited:
        st.caption("Corrected by hand: " + ", ".join(sorted(edited)))
    if st.form_submit_button("Save and re-index", icon=":material/edit_note:"):
        changes = context_changes(context, title=new_title, subject=new_subject, period=new_period)
        if not changes:
            st.info("Nothing changed.", icon=":material/info:")
        else:
            try:
                with st.spinner(f"Re-indexing {label} with the corrected details…"):
                    remember([edit_context(store, chosen, **changes)])
            except GroundworkError as exc:
                st.error(escape_markdown(str(exc)), icon=":material/error:")
            else:
                st.session_state["documents_flash"] = f"Saved what {label} is about."
                st.rerun()

confirm_key = "confirm_delete"
actions = st.container(horizontal=True)
if actions.button("Re-ingest", icon=":material/refresh:", help="Read the kept original again"):
    try:
        remember([reingest_document(store, chosen)])
    except GroundworkError as exc:
        remember([IngestReport(names[chosen], "failed", error=str(exc))])
    st.rerun()
restorable = previous_version(store, chosen)
if restorable and actions.button(
    f"Restore version {restorable}",
    icon=":material/history:",
    help="Serve the previous upload of this document again (as a new version)",
):
    try:
        remember([restore_previous(store, chosen)])
    except GroundworkError as exc:
        remember([IngestReport(names[chosen], "failed", error=str(exc))])
    st.rerun()
if actions.button("Delete…", icon=":material/delete:"):
    st.session_state[confirm_key] = chosen

if st.session_state.get(confirm_key) == chosen:
    with st.container(border=True):
        st.warning(
            f"Delete **{label}**? Its {doc['chunks']} passages leave the index and answers "
            "will no longer cite it. Feedback that cited it is kept.",
            icon=":material/delete_forever:",
        )
        choice = st.container(horizontal=True)
        if choice.button("Delete permanently", type="primary", key="delete_yes"):
            st.session_state.pop(confirm_key)
            try:
                delete_document(store, chosen)
            except GroundworkError as exc:
                st.error(escape_markdown(str(exc)), icon=":material/error:")
            else:
                st.session_state["documents_flash"] = f"Deleted {label}."
                st.rerun()
        if choice.button("Cancel", key="delete_no"):
            st.session_state.pop(confirm_key)
            st.rerun()

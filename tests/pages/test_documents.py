"""AppTest of the Documents page: uploads, reports, metadata, review dates and deletion.

Everything goes through the page against a real store and registry under tmp_path (the page owns
the store's lock, so the test reads the registry from SQLite directly).
"""

from __future__ import annotations

from datetime import date
from pathlib import Path

from streamlit.testing.v1 import AppTest

from rag.index.registry import content_hash
from rag.ops.database import open_db
from rag.text.markup import escape_markdown
from tests.conftest import make_pdf
from tests.pages.apptest import run_page_file

PDF = "expenses.pdf"


def run_page() -> AppTest:
    return run_page_file("documents", 120)


def click(at: AppTest, label: str) -> AppTest:
    matches = [b for b in at.button if b.label == label]
    assert len(matches) == 1, [b.label for b in at.button]
    matches[0].click().run()
    assert not at.exception, at.exception
    return at


def registry(store_page_data_dir: Path) -> dict[str, dict]:
    db = open_db(store_page_data_dir / "app.db")
    try:
        return {r["filename"]: r for r in db["documents"].rows}
    finally:
        db.close()


def upload(at: AppTest, *files: tuple[str, bytes, str]) -> AppTest:
    at.file_uploader[0].set_value(list(files))
    return click(at, "Add to library")


def test_empty_state_loads_the_samples(store_page_data_dir):
    at = run_page()
    assert "No documents yet" in at.info[0].value
    click(at, "Load sample documents")
    assert set(registry(store_page_data_dir)) == {
        "leave-policy.md",
        "security-handbook.md",
        "travel-policy.md",
    }
    # Two samples list an on-call phone number: added, with the personal data flagged.
    shown = [e.value for e in [*at.success, *at.warning] if "— added" in e.value]
    assert len(shown) == 3
    assert sum("phone number" in v for v in shown) == 2
    assert at.dataframe[0].value["name"].tolist()  # the library table is shown
    assert at.subheader[0].value == "Library · 3 documents"


def test_upload_reports_each_file_and_a_bad_one_does_not_stop_the_rest(store_page_data_dir):
    at = run_page()
    pdf = make_pdf(["Expense claims are paid within 10 working days.", "Receipts are required."])
    upload(
        at,
        (PDF, pdf, "application/pdf"),
        ("broken.pdf", b"%PDF-1.7 this is not really a PDF", "application/pdf"),
    )
    assert "1 of 2 files in the library" in " ".join(m.value for m in at.markdown)
    [ok] = at.success
    assert ok.value.startswith(f"**{escape_markdown(PDF)}** — added: 2 pages")
    [bad] = at.error
    assert bad.value.startswith(f"**{escape_markdown('broken.pdf')}** — not added:")
    assert "Traceback" not in bad.value
    assert set(registry(store_page_data_dir)) == {PDF}
    click(at, "Dismiss")
    assert not at.error and not at.success


def test_upload_without_files_asks_for_them(store_page_data_dir):
    at = run_page()
    click(at, "Add to library")
    assert "Choose one or more files first" in at.warning[0].value


def test_metadata_save_and_review_overdue_warning(store_page_data_dir):
    at = run_page()
    upload(
        at, (PDF, make_pdf(["Expense claims are paid within 10 working days."]), "application/pdf")
    )
    assert not [w for w in at.warning if "review-by" in w.value]
    owner = [t for t in at.text_input if t.label == "Owner"][-1]  # the manage form's
    owner.input("Finance team")
    at.date_input[-1].set_value(date(2020, 1, 31))
    click(at, "Save details")
    row = registry(store_page_data_dir)[PDF]
    assert (row["owner"], row["review_by"]) == ("Finance team", "2020-01-31")
    assert f"Saved the details of {escape_markdown(PDF)}" in at.success[-1].value
    [overdue] = [w for w in at.warning if "review-by" in w.value]
    assert "1 document is past the review-by date" in overdue.value
    assert escape_markdown(PDF) in overdue.value
    assert at.dataframe[0].value["status"].tolist() == ["⚠️ review overdue"]


def test_delete_asks_for_confirmation(store_page_data_dir):
    at = run_page()
    click(at, "Load sample documents")
    doc_id = at.selectbox[0].value  # the first listed document is preselected
    [name] = [n for n, row in registry(store_page_data_dir).items() if row["doc_id"] == doc_id]
    click(at, "Delete…")
    assert any(f"Delete **{escape_markdown(name)}**?" in w.value for w in at.warning)
    assert name in registry(store_page_data_dir), "nothing is deleted before the confirmation"
    click(at, "Cancel")
    assert not any("Delete **" in w.value for w in at.warning)
    assert name in registry(store_page_data_dir)
    click(at, "Delete…")
    click(at, "Delete permanently")
    assert name not in registry(store_page_data_dir) and len(registry(store_page_data_dir)) == 2
    assert f"Deleted {escape_markdown(name)}." in " ".join(s.value for s in at.success)
    assert at.subheader[0].value == "Library · 2 documents"


def test_derived_title_is_shown_and_a_correction_reindexes(store_page_data_dir):
    at = run_page()
    cover = (
        "FORM 10-Q\nFor the quarterly period ended June 30, 2024\nInitech Corporation\n"
        "(Exact name of registrant as specified in its charter)"
    )
    upload(at, ("initech-q2.pdf", make_pdf([cover, "Revenue grew 4%."]), "application/pdf"))
    table = at.dataframe[0].value
    assert table["about"].tolist() == ["Initech Corporation"]
    assert "Q2 2024" in table["period"].tolist()[0]
    title = next(t for t in at.text_input if t.label == "Title")
    title.set_value("Initech quarterly report, Q2 2024")
    click(at, "Save and re-index")
    row = registry(store_page_data_dir)["initech-q2.pdf"]
    assert row["version"] == 2  # re-embedded with the corrected header
    assert '"title": "Initech quarterly report, Q2 2024"' in row["context"]
    assert at.dataframe[0].value["title"].tolist() == ["Initech quarterly report, Q2 2024"]
    assert "Corrected by hand: title" in " ".join(c.value for c in at.caption)


def test_a_name_collision_asks_before_replacing_and_the_old_version_can_be_restored(
    store_page_data_dir,
):
    at = run_page()
    first = make_pdf(["Expense claims are paid within 10 working days."])
    upload(at, ("Expenses.pdf", first, "application/pdf"))
    other = make_pdf(["Expense claims are paid within 30 days."])
    upload(at, ("expenses.pdf", other, "application/pdf"))  # another file, the same stored name
    [conflict] = [w for w in at.warning if "the name is taken" in w.value]
    assert escape_markdown("uploaded as 'Expenses.pdf'") in conflict.value
    assert registry(store_page_data_dir)["Expenses.pdf"]["version"] == 1  # nothing replaced yet
    click(at, f"Replace {escape_markdown('expenses.pdf')}")
    row = registry(store_page_data_dir)["expenses.pdf"]
    assert row["version"] == 2 and row["upload_name"] == "expenses.pdf"
    click(at, "Restore version 1")
    row = registry(store_page_data_dir)["Expenses.pdf"]
    assert row["version"] == 3 and row["content_hash"] == content_hash(first)
    assert any("restored the content of version 1" in w.value for w in at.warning)


def test_hostile_file_names_are_shown_as_text(store_page_data_dir):
    at = run_page()
    name = "![x](http:evil.test?q=1)[a](http:b) .md"
    upload(at, (name, b"# Note\n\nThe canteen opens at 8.\n", "text/markdown"))
    shown = " ".join(e.value for e in [*at.success, *at.warning])
    assert "canteen" not in shown  # sanity: only the report is shown
    assert "![" not in shown.replace("!\\[", "") and "](" not in shown.replace("\\]\\(", "")

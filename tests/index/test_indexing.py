"""Ingestion into a real store: versions, dedup, deletion, crash consistency, batches."""

from __future__ import annotations

import pytest

from rag.index import delete_document, ingest_file, ingest_files, registry, reingest_document
from rag.index.retrieve import HybridSearch
from tests.conftest import make_pdf

POLICY_V1 = (
    b"# Remote work\n\nStaff may work remotely up to 3 days per week with manager approval.\n"
)
POLICY_V2 = (
    b"# Remote work\n\nStaff may work remotely up to 4 days per week with manager approval.\n"
)


def served_texts(store) -> list[str]:
    return [c.text for c in store.chunks()]


def test_ingest_pdf_keeps_file_and_page(store):
    data = make_pdf(
        ["Introduction to the fleet handbook.", "Vans must be refuelled above a quarter tank."]
    )
    report = ingest_file(store, "fleet.pdf", data)
    assert report.status == "ingested" and report.pages == 2 and report.chunks >= 2
    hits = HybridSearch(store).search("when must vans be refuelled?")
    assert (hits[0].source, hits[0].page) == ("fleet.pdf", 2)
    assert "quarter tank" in hits[0].text


def test_same_bytes_are_not_stored_twice(store):
    first = ingest_file(store, "remote.md", POLICY_V1)
    again = ingest_file(store, "remote.md", POLICY_V1)
    copy = ingest_file(store, "remote-copy.md", POLICY_V1)
    assert (first.status, again.status, copy.status) == ("ingested", "unchanged", "duplicate")
    assert "remote.md" in copy.warnings[0]
    assert len(store.documents()) == 1
    assert store.count() == first.chunks


def test_changed_document_replaces_old_version(store):
    ingest_file(store, "remote.md", POLICY_V1)
    before = store.index_version
    report = ingest_file(store, "remote.md", POLICY_V2)
    assert report.status == "updated" and report.version == 2
    assert store.index_version > before
    texts = served_texts(store)
    assert any("4 days" in t for t in texts) and not any("3 days" in t for t in texts)
    assert store.count() == report.chunks  # old version purged from the index


def test_failed_switch_keeps_old_version_served_and_purges_the_attempt(store, monkeypatch):
    first = ingest_file(store, "remote.md", POLICY_V1)

    def crash(*args, **kwargs):
        raise RuntimeError("disk full")

    # New chunks are written, then the registry switch fails: the file fails, nothing is lost.
    monkeypatch.setattr(registry, "bump_index_version", crash)
    failed = ingest_file(store, "remote.md", POLICY_V2)
    monkeypatch.undo()
    assert failed.status == "failed" and "disk full" in failed.error
    texts = served_texts(store)
    assert any("3 days" in t for t in texts) and not any("4 days" in t for t in texts)
    hits = HybridSearch(store).search("how many days remote work")
    assert hits and all("4 days" not in p.text for p in hits)
    assert store.count() == first.chunks  # the attempt's chunks are gone already
    rerun = ingest_file(store, "remote.md", POLICY_V2)
    assert rerun.status == "updated" and rerun.version == 3  # version 2 is never reused
    assert store.count() == rerun.chunks


@pytest.mark.embedded_store("a restart purges a dead writer's attempt at once")
def test_a_crashed_attempt_is_purged_when_the_store_opens(settings, store, open_store):
    from rag.index.store import StoredChunk

    ingest_file(store, "remote.md", POLICY_V1)
    doc_id = store.documents()[0]["doc_id"]
    version = registry.allocate_version(store.db, doc_id)  # an attempt that died mid-write
    meta = {"doc_id": doc_id, "version": version, "source": "remote.md", "page": 1}
    store.add_chunks([StoredChunk(f"{doc_id}-v{version}-00000", "4 days", meta)])
    assert store.count() == 2
    store.close()
    reopened = open_store(settings)
    assert reopened.count() == 1 and "3 days" in served_texts(reopened)[0]
    again = ingest_file(reopened, "remote.md", POLICY_V2)
    assert again.version == version + 1 and reopened.count() == again.chunks


def test_delete_purges_every_index(store):
    ingest_file(store, "remote.md", POLICY_V1)
    doc_id = store.documents()[0]["doc_id"]
    search = HybridSearch(store)
    assert search.search("remote work days")  # builds the lexical index
    assert delete_document(store, doc_id)
    assert store.count() == 0 and store.documents() == []
    assert search.search("remote work days") == []
    assert not delete_document(store, doc_id)


def test_batch_ingests_good_files_and_reports_bad_ones(store):
    reports = ingest_files(
        store,
        [
            ("good.md", POLICY_V1),
            ("broken.pdf", b"%PDF-1.7 this is not really a pdf"),
            ("empty.txt", b""),
            ("notes.txt", "Caf\u00e9 opening hours are 8 to 4.".encode("cp1252")),
            ("script.exe", b"MZ\x90\x00"),
        ],
    )
    status = {r.filename: r.status for r in reports}
    assert status == {
        "good.md": "ingested",
        "broken.pdf": "failed",
        "empty.txt": "failed",
        "notes.txt": "ingested",
        "script.exe": "failed",
    }
    for report in reports:
        if report.status == "failed":
            assert report.filename in report.error
    assert {d["filename"] for d in store.documents()} == {"good.md", "notes.txt"}


def test_reingest_makes_a_new_version(store):
    ingest_file(store, "remote.md", POLICY_V1)
    doc_id = store.documents()[0]["doc_id"]
    report = reingest_document(store, doc_id)
    assert report.version == 2 and store.count() == report.chunks


def test_review_by_from_front_matter_flags_overdue(store):
    doc = (
        b"---\ntitle: Old policy\nreview_by: 2001-01-01\n---\n\n# Old\n\nText of the old policy.\n"
    )
    ingest_file(store, "old.md", doc)
    (row,) = store.documents()
    assert row["review_by"] == "2001-01-01" and row["overdue"]


def test_same_file_names_in_different_folders_are_kept_apart(store, tmp_path):
    from rag.index import document_names

    (tmp_path / "leave").mkdir()
    (tmp_path / "travel").mkdir()
    leave = tmp_path / "leave" / "index.md"
    travel = tmp_path / "travel" / "index.md"
    other = tmp_path / "travel" / "per-diem.md"
    leave.write_text("# Leave\n\nEmployees get 25 days of leave.\n")
    travel.write_text("# Travel\n\nBook trains at least 7 days ahead.\n")
    other.write_text("# Per diem\n\nMeals are paid at 60 dollars a day.\n")
    paths = [leave, travel, other]
    names = document_names(paths)
    assert names == ["leave__index.md", "travel__index.md", "per-diem.md"]
    reports = ingest_files(store, list(zip(names, paths, strict=True)))
    assert [r.status for r in reports] == ["ingested"] * 3
    assert len(store.documents()) == 3


def test_unreadable_path_is_reported_not_raised(store, tmp_path):
    missing = tmp_path / "gone.md"
    (report,) = ingest_files(store, [("gone.md", missing)])
    assert (
        report.status == "failed" and "gone.md" in report.error and "cannot be read" in report.error
    )


def test_context_correction_is_searchable_and_survives_reingest(store):
    from rag.index import edit_context

    ingest_file(store, "q.md", b"# Notes\n\nThe offsite budget is 12,000 euros.\n")
    report = edit_context(store, registry.doc_id_for("q.md"), subject="Hooli Research Lab")
    assert report.status == "updated" and report.version == 2
    hit = HybridSearch(store).search("Hooli Research Lab offsite budget")[0]
    assert hit.source == "q.md" and "Hooli Research Lab" in hit.context
    again = reingest_document(store, registry.doc_id_for("q.md"))
    assert again.version == 3
    assert "Hooli Research Lab" in store.chunks()[0].text  # the correction is kept
    edit_context(store, registry.doc_id_for("q.md"), subject="")  # back to the derived value
    assert "Hooli" not in store.chunks()[0].text
    with pytest.raises(ValueError):
        edit_context(store, registry.doc_id_for("q.md"), owner="x")


def test_a_name_collision_asks_before_replacing(store):
    mine = ingest_file(store, "Remote.md", POLICY_V1, {"owner": "hr@example.org"})
    theirs = ingest_file(store, "folder/remote.md", POLICY_V2)  # same stored name, other file
    assert theirs.status == "conflict" and not theirs.ok
    assert "'Remote.md'" in theirs.error and "hr@example.org" in theirs.error
    [doc] = store.documents()
    assert doc["version"] == mine.version and doc["upload_name"] == "Remote.md"
    assert any("3 days" in t for t in served_texts(store))
    replaced = ingest_file(store, "folder/remote.md", POLICY_V2, {"owner": "it@x.org"}, None, True)
    assert replaced.status == "updated"
    [doc] = store.documents()
    assert doc["owner"] == "it@x.org" and doc["upload_name"] == "folder/remote.md"
    again = ingest_file(store, "Remote.md", POLICY_V1)  # the first name is the other file now
    assert again.status == "conflict"


def test_the_previous_version_is_kept_and_can_be_restored(store):
    from rag.index import previous_version, restore_previous

    ingest_file(store, "remote.md", POLICY_V1)
    doc_id = store.documents()[0]["doc_id"]
    assert previous_version(store, doc_id) is None
    ingest_file(store, "remote.md", POLICY_V2)
    assert previous_version(store, doc_id) == 1
    restored = restore_previous(store, doc_id)
    assert restored.status == "updated" and restored.version == 3
    texts = served_texts(store)
    assert any("3 days" in t for t in texts) and not any("4 days" in t for t in texts)
    assert store.count() == restored.chunks
    kept = sorted(p.name for p in store.originals_dir(doc_id).iterdir())
    assert kept == ["v2", "v3"]  # the served version and the one before it


def test_two_sessions_uploading_one_file_never_mix_versions(store):
    from concurrent.futures import ThreadPoolExecutor

    ingest_file(store, "remote.md", POLICY_V1)
    uploads = [POLICY_V2, POLICY_V2.replace(b"manager", b"director"), POLICY_V2]
    with ThreadPoolExecutor(3) as pool:
        reports = list(pool.map(lambda data: ingest_file(store, "remote.md", data), uploads))
    pairs = zip(reports, uploads, strict=True)
    updated = [(r.version, d) for r, d in pairs if r.status == "updated"]
    assert all(r.status in ("updated", "unchanged") for r in reports)
    assert len({v for v, _ in updated}) == len(updated)  # each took a version of its own
    [doc] = store.documents()
    assert doc["content_hash"] == registry.content_hash(max(updated)[1])  # the last one won
    served = store.chunks()
    assert {c.metadata["version"] for c in served} == {doc["version"]}
    assert store.count() == len(served) == doc["chunks"]


def test_a_parser_crash_fails_that_file_only(store, monkeypatch):
    import rag.index.reading as reading

    real = reading.load_file

    def flaky(name, data, settings):
        if name == "bad.md":
            raise KeyError("xref")  # a parser bug, not an IngestError
        return real(name, data, settings)

    monkeypatch.setattr(reading, "load_file", flaky)
    reports = ingest_files(store, [("bad.md", POLICY_V1), ("good.md", POLICY_V2)])
    assert [r.status for r in reports] == ["failed", "ingested"]
    assert "bad.md" in reports[0].error and "KeyError" in reports[0].error

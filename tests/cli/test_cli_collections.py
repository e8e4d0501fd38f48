"""``python -m rag collections`` and ingestion into a new collection, as subprocesses."""

from __future__ import annotations

from tests.cli.test_cli import run_cli


def test_a_new_collection_from_ingest_is_private_and_is_opened_from_the_cli(tmp_path):
    doc = tmp_path / "bands.md"
    doc.write_text("# Bands\n\nGrade seven is paid 61,000 to 74,000 euros.\n")
    data = tmp_path / "data"
    ingest = run_cli("ingest", str(doc), "--collection", "HR", data_dir=data)
    assert ingest.returncode == 0, ingest.stderr
    assert "'HR' is readable by admins only" in ingest.stdout

    listed = run_cli("collections", data_dir=data)
    lines = {line.split()[0]: line for line in listed.stdout.splitlines()}
    assert "1 documents" in lines["HR"] and "admins only" in lines["HR"]
    assert "readers: *" in lines["general"]

    opened = run_cli("collections", "--set", "HR", "--readers", "hr, @x.org, hr", data_dir=data)
    assert opened.returncode == 0 and "HR: readable by hr, @x.org" in opened.stdout
    assert "readers: hr, @x.org" in run_cli("collections", data_dir=data).stdout
    again = run_cli("ingest", str(doc), "--collection", "HR", data_dir=data)
    assert "admins only" not in again.stdout


def test_readers_without_a_collection_is_an_error(tmp_path):
    result = run_cli("collections", "--readers", "*", data_dir=tmp_path / "data")
    assert result.returncode == 1 and "--set NAME and --readers" in result.stderr

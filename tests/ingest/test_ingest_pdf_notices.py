"""pypdf's repair notices land in the file's warnings, counted, never on stderr or the log."""

from __future__ import annotations

import logging
import threading

import pytest
from ingest_samples import make_pdf, misdirect_xref

from rag.ingest import load_file
from rag.ingest.pdf_notices import describe, pypdf_notices

BROKEN = "Ignoring wrong pointing object %(id)d %(gen)d (offset %(offset)d)"
FOUND = "Object %(idnum)d %(generation)d found"


def _pypdf_records(caplog) -> list[logging.LogRecord]:
    return [r for r in caplog.records if r.name.startswith("pypdf")]


def test_broken_object_references_are_a_warning_not_stderr(settings, capsys, caplog):
    caplog.set_level(logging.WARNING)
    data = misdirect_xref(make_pdf(["Overtime is paid at 1.5 times the rate."] * 3), 3)
    doc = load_file("damaged.pdf", data, settings)
    assert [p.text for p in doc.pages] == ["Overtime is paid at 1.5 times the rate."] * 3
    assert "the PDF has 3 broken object references (repaired while reading)." in doc.warnings
    assert not [w for w in doc.warnings if "wrong pointing" in w]  # counted, not listed
    assert "wrong pointing" not in capsys.readouterr().err
    assert _pypdf_records(caplog) == []


def test_a_sound_pdf_has_no_pypdf_warnings(settings):
    doc = load_file("sound.pdf", make_pdf(["Overtime is paid at 1.5 times the rate."]), settings)
    assert doc.warnings == []


def test_notices_of_threads_that_do_not_collect_still_reach_the_log(caplog):
    caplog.set_level(logging.WARNING)
    reader_log = logging.getLogger("pypdf._reader")
    other_thread_ran = threading.Event()

    def other_thread():
        reader_log.warning("from another thread")
        other_thread_ran.set()

    with pypdf_notices() as collected:
        reader_log.warning("from the collecting thread")
        logging.getLogger("pypdf.filters").warning("from a module pypdf loads late")
        thread = threading.Thread(target=other_thread)
        thread.start()
        thread.join()
    reader_log.warning("after the block")
    assert other_thread_ran.is_set()
    assert [r.getMessage() for r in collected] == [
        "from the collecting thread",
        "from a module pypdf loads late",
    ]
    assert [r.getMessage() for r in _pypdf_records(caplog)] == [
        "from another thread",
        "after the block",
    ]


def _record(template: str, **values) -> logging.LogRecord:
    record = logging.LogRecord("pypdf._reader", logging.WARNING, __file__, 1, template, (), None)
    record.args = values or ()
    return record


def _broken(n: int) -> list[logging.LogRecord]:
    return [_record(BROKEN, id=i, gen=0, offset=100 + i) for i in range(n)]


def _found(n: int) -> list[logging.LogRecord]:
    return [_record(FOUND, idnum=i, generation=0) for i in range(n)]


@pytest.mark.parametrize(
    ("records", "expected"),
    [
        ([], []),
        (_broken(1), ["the PDF has 1 broken object reference (repaired while reading)."]),
        (
            _broken(12) + _found(12),
            ["the PDF has 12 broken object references (repaired while reading)."],
        ),
        (_found(2), ["pypdf: Object 0 0 found (2 times)"]),
        (
            [_record("EOF marker not found")] * 3 + _broken(2),
            [
                "the PDF has 2 broken object references (repaired while reading).",
                "pypdf: EOF marker not found (3 times)",
            ],
        ),
        (
            [_record(f"notice {i}") for i in range(7)],
            [f"pypdf: notice {i}" for i in range(5)] + ["pypdf: 2 other repair notices."],
        ),
    ],
    ids=["none", "one-broken", "broken-and-found", "found-alone", "mixed", "many-kinds"],
)
def test_describe_counts_each_kind_once(records, expected):
    assert describe(records) == expected

"""Evaluation: metric functions on handmade rows, golden-set validation, and real runs on the
shipped samples (real Chroma, MiniLM and SQLite; the embedded chat model for the full run)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from rag.answer import render, verify
from rag.config import Settings
from rag.errors import DatasetError
from rag.evaluation.cache import collect_docs
from rag.evaluation.evaluate import (
    allowed_eval_path,
    evaluate,
    golden_sets,
    hit_at,
    key_fact_recall,
    list_runs,
    load_dataset,
    page_hit,
    reciprocal_rank,
    record_run,
    summarise,
    unflagged_unsupported,
)
from rag.ops.database import open_db
from rag.text.markup import escape_markdown

REPO = Path(__file__).resolve().parents[2]
SAMPLES_SET = REPO / "evals" / "samples.jsonl"
SAMPLES_DIR = REPO / "rag" / "samples"

# --- metrics on handmade rows -------------------------------------------------------------------


@pytest.mark.parametrize(
    ("retrieved", "sources", "k", "hit", "rr"),
    [
        (["a.md", "b.md", "c.md"], ["a.md"], 1, True, 1.0),
        (["b.md", "a.md", "c.md"], ["a.md"], 1, False, 0.5),
        (["b.md", "c.md", "a.md"], ["a.md"], 5, True, 1 / 3),
        (["b.md", "c.md", "d.md", "e.md", "f.md", "a.md"], ["a.md"], 5, False, 0.0),
        (["b.md", "C.md"], ["x.md", "c.md"], 5, True, 0.5),  # any listed source, any case
        ([], ["a.md"], 5, False, 0.0),
    ],
)
def test_hit_at_k_and_reciprocal_rank(retrieved, sources, k, hit, rr):
    assert hit_at(retrieved, sources, k) is hit
    assert reciprocal_rank(retrieved, sources) == pytest.approx(rr)


@pytest.mark.parametrize(
    ("retrieved", "expected"),
    [
        ([("R-FAQ.pdf", 7)], True),
        ([("R-FAQ.pdf", 8), ("R-intro.pdf", 7)], False),  # right page, wrong file
        ([("x.pdf", 1)] * 5 + [("R-FAQ.pdf", 7)], False),  # only the top 5 count
        ([("x.pdf", 1)] * 4 + [("R-FAQ.pdf", 41)], True),
    ],
)
def test_page_hit_needs_source_and_page_in_top_5(retrieved, expected):
    assert page_hit(retrieved, ["R-FAQ.pdf"], [7, 41]) is expected


@pytest.mark.parametrize(
    ("answer", "facts", "recall"),
    [
        ("Per diem is $65 a day and  $48.75 on travel days.", ["$65", "$48.75"], 1.0),
        ("You may carry over 5 DAYS.", ["5 days", "31 March"], 0.5),
        ("Nothing relevant.", ["16 weeks"], 0.0),
        # a fact inside a flagged (unverified) sentence is not asserted, so not counted
        (f"Leave is paid. {render.UNVERIFIED} ~~It lasts 16 weeks.~~", ["16 weeks"], 0.0),
        ("Anything.", [], None),
    ],
)
def test_key_fact_recall(answer, facts, recall):
    assert key_fact_recall(answer, facts) == recall


def _verification(*claims: tuple[str, bool]) -> verify.Verification:
    checks = [verify.SentenceCheck(c, c, [1], ok, 0.9 if ok else 0.2, 1, "") for c, ok in claims]
    return verify.Verification(checks, sum(ok for _, ok in claims) / len(claims))


def test_unflagged_unsupported_counts_sentences_shown_as_fact():
    v = _verification(
        ("Trips over $5,000 need the CFO.", True), ("The CEO signs all trips.", False)
    )
    flagged = render.render_answer(v, mode="flag")
    removed = render.render_answer(v, mode="remove")
    assert unflagged_unsupported(v, flagged) == 0
    assert unflagged_unsupported(v, removed) == 0
    shown_plainly = "Trips over $5,000 need the CFO [1]. The CEO signs all trips."
    assert unflagged_unsupported(v, shown_plainly) == 1
    assert unflagged_unsupported(None, shown_plainly) == 0
    assert unflagged_unsupported(v, shown_plainly, extractive=True) == 0  # quotes, not claims


def test_unflagged_check_compares_whole_sentences():
    # A flagged stray "1." must not match the list marker or "1" elsewhere in the answer.
    v = _verification(("Passwords change every 90 days.", True), ("1.", False))
    answer = f"1. Passwords change every 90 days [1]. {render.UNVERIFIED} ~~1.~~"
    assert unflagged_unsupported(v, answer) == 0
    assert unflagged_unsupported(v, "Passwords change every 90 days [1]. 1.") == 1


def test_summarise_on_handmade_rows():
    rows = [
        {
            "answerable": True,
            "hit1": True,
            "hit5": True,
            "rr": 1.0,
            "page_hit5": True,
            "refused": False,
            "claims": 2,
            "unsupported": 1,
            "unflagged": 0,
            "key_fact_recall": 1.0,
            "total_ms": 100.0,
            "verify_ms": 10.0,
        },
        {
            "answerable": True,
            "hit1": False,
            "hit5": True,
            "rr": 0.5,
            "page_hit5": None,
            "refused": True,
            "claims": 0,
            "unsupported": 0,
            "unflagged": 0,
            "key_fact_recall": 0.0,
            "total_ms": 300.0,
            "verify_ms": 30.0,
        },
        {
            "answerable": False,
            "refused": True,
            "claims": 2,
            "unsupported": 0,
            "unflagged": 0,
            "key_fact_recall": None,
            "total_ms": 200.0,
            "verify_ms": 20.0,
        },
        {
            "answerable": False,
            "refused": False,
            "claims": 0,
            "unsupported": 0,
            "unflagged": 0,
            "key_fact_recall": None,
            "total_ms": 400.0,
            "verify_ms": None,
        },
    ]
    s = summarise(rows)
    assert (s["questions"], s["answerable"], s["unanswerable"]) == (4, 2, 2)
    assert s["source_hit_at_1"] == 0.5 and s["source_hit_at_5"] == 1.0 and s["mrr"] == 0.75
    assert s["page_hit_at_5"] == 1.0 and s["page_questions"] == 1
    assert s["refusal_accuracy"] == 0.5 and s["false_refusal_rate"] == 0.5
    assert s["key_fact_recall"] == 0.5
    assert s["unsupported_sentence_rate"] == 0.25 and s["unflagged_unsupported"] == 0
    assert s["total_ms_p50"] == 250.0 and s["verify_ms_p50"] == 20.0
    assert "key_fact_recall" not in summarise(rows, retrieval_only=True)


# --- golden sets and folders ------------------------------------------------------------------


@pytest.mark.parametrize(
    ("line", "problem"),
    [
        ("{not json", "not valid JSON"),
        ('["a list"]', "must be a JSON object"),
        ('{"question": "", "answerable": true, "sources": ["a.md"]}', "'question'"),
        ('{"question": "Q?", "sources": ["a.md"]}', "'answerable'"),
        ('{"question": "Q?", "answerable": true, "sources": "a.md"}', "'sources'"),
        ('{"question": "Q?", "answerable": true}', "needs 'sources'"),
        ('{"question": "Q?", "answerable": true, "sources": ["a.pdf"], "pages": [0]}', "1-based"),
    ],
)
def test_invalid_line_names_file_line_and_problem(tmp_path, line, problem):
    path = tmp_path / "gold.jsonl"
    path.write_text('{"question": "Fine?", "answerable": false, "sources": []}\n\n' + line + "\n")
    with pytest.raises(DatasetError) as info:
        load_dataset(path)
    assert "gold.jsonl line 3" in str(info.value) and problem in str(info.value)


def test_dataset_missing_or_empty(tmp_path):
    with pytest.raises(DatasetError, match="does not exist"):
        load_dataset(tmp_path / "nope.jsonl")
    (tmp_path / "empty.jsonl").write_text("\n")
    with pytest.raises(DatasetError, match="no questions"):
        load_dataset(tmp_path / "empty.jsonl")


def test_limit_and_fields():
    cases = load_dataset(SAMPLES_SET, limit=3)
    assert [c.id for c in cases] == ["sm-001", "sm-002", "sm-003"]
    assert cases[0].sources == ["travel-policy.md"] and cases[0].dataset == "samples.jsonl"


def test_collect_docs_recurses_and_keeps_clashing_names_apart(tmp_path):
    with pytest.raises(DatasetError, match="does not exist"):
        collect_docs(tmp_path / "missing")
    (tmp_path / "a" / "b").mkdir(parents=True)
    (tmp_path / "notes.xyz").write_text("unsupported")
    with pytest.raises(DatasetError, match="no supported files"):
        collect_docs(tmp_path)
    (tmp_path / "a" / "index.md").write_text("# A")
    (tmp_path / "a" / "b" / "index.md").write_text("# B")
    (tmp_path / "a" / "b" / "leave.md").write_text("# Leave")
    (tmp_path / ".hidden").mkdir()
    (tmp_path / ".hidden" / "x.md").write_text("# hidden")
    files = collect_docs(tmp_path)
    assert [(f.name, f.base) for f in files] == [
        ("a__b__index.md", "index.md"),
        ("leave.md", "leave.md"),
        ("a__index.md", "index.md"),
    ]


# --- where the app may read ----------------------------------------------------------------------


@pytest.fixture
def roots(tmp_path):
    """An allowed folder (with a golden set and a symlink out) next to a private one."""
    allowed, private = tmp_path / "allowed", tmp_path / "private"
    (allowed / "docs").mkdir(parents=True)
    private.mkdir()
    (private / "secret.md").write_text("# Secret\n\nThe vault code is 4711.\n")
    (private / "private.jsonl").write_text('{"question": "Q?", "answerable": false}\n')
    (allowed / "set.jsonl").write_text('{"question": "Q?", "answerable": false}\n')
    (allowed / "out").symlink_to(private, target_is_directory=True)
    (allowed / "linked.jsonl").symlink_to(private / "private.jsonl")
    (tmp_path / "allowed-evil").mkdir()  # shares the allowed folder's name as a prefix
    return Settings(data_dir=tmp_path / "data", eval_dirs=[allowed]), allowed, private


@pytest.mark.parametrize(
    "given",
    ["{private}", "{allowed}/../private", "{allowed}/out", "{allowed}/out/secret.md",
     "{allowed}/linked.jsonl", "{allowed}-evil", "/etc", "../../../../../../etc", "evals"],
)  # fmt: skip
def test_paths_outside_the_allowed_folders_are_refused(roots, given):
    settings, allowed, private = roots
    text = given.format(allowed=allowed, private=private)
    with pytest.raises(DatasetError, match="outside the folders evaluation may read") as caught:
        allowed_eval_path(text, settings)
    assert str(allowed) in str(caught.value) and "GROUNDWORK_EVAL_DIRS" in str(caught.value)


def test_paths_inside_the_allowed_folders_resolve(roots):
    settings, allowed, _ = roots
    assert allowed_eval_path(allowed, settings) == allowed
    assert allowed_eval_path(f" {allowed}/docs/../set.jsonl ", settings) == allowed / "set.jsonl"
    assert allowed_eval_path(allowed / "missing", settings) == allowed / "missing"  # checked later
    assert golden_sets(settings) == [allowed / "set.jsonl"]  # the symlink out is not listed


def test_default_folders_are_the_shipped_ones_and_the_grown_golden_set(tmp_path, monkeypatch):
    monkeypatch.delenv("GROUNDWORK_EVAL_DIRS", raising=False)
    settings = Settings(data_dir=tmp_path / "data")
    assert settings.eval_roots == [REPO / "evals", SAMPLES_DIR, tmp_path / "data" / "golden"]
    assert allowed_eval_path("rag/samples", settings) == SAMPLES_DIR  # from the project root
    assert SAMPLES_SET in golden_sets(settings)
    monkeypatch.setenv("GROUNDWORK_EVAL_DIRS", f"{tmp_path}/a:b")
    assert Settings().eval_roots == [tmp_path / "a", REPO / "b"]
    monkeypatch.setenv("GROUNDWORK_EVAL_DIRS", "")
    with pytest.raises(DatasetError, match="none are configured"):
        allowed_eval_path("rag/samples", Settings())


# --- real runs ----------------------------------------------------------------------------------


def test_retrieval_only_run_on_samples_and_cache_reuse(settings, minilm):
    cases = load_dataset(SAMPLES_SET)
    first = evaluate(cases, SAMPLES_DIR, settings, retrieval_only=True, embeddings=minilm)
    s = first.summary
    assert s["questions"] == 8 and s["mode"] == "retrieval-only"
    assert s["source_hit_at_5"] == 1.0 and s["mrr"] >= 0.8
    assert s["refusal_accuracy"] == 1.0  # both near-miss questions have weak evidence
    assert first.baseline["source_hit_at_5"] is not None
    assert first.baseline["refusal_accuracy"] == 0.0
    assert not first.ingest["reused"] and first.ingest["files"] == 3 and not first.ingest["failed"]
    row = first.rows[0]
    assert row["retrieved"] and row["baseline"]["retrieved"] and "hit5" in row

    second = evaluate(cases[:2], SAMPLES_DIR, settings, retrieval_only=True, embeddings=minilm)
    assert second.ingest["reused"]
    assert second.ingest["cache_dir"] == first.ingest["cache_dir"]
    assert second.ingest["index_version"] == first.ingest["index_version"]  # nothing re-ingested
    assert Path(first.ingest["cache_dir"]).parent == settings.data_dir / "eval-cache"
    assert not settings.chroma_dir.exists()  # the live store's place is never touched

    other = settings.model_copy(update={"chunk_tokens": 120})
    third = evaluate(
        cases[:1], SAMPLES_DIR, other, retrieval_only=True, baseline=False, embeddings=minilm
    )
    assert not third.ingest["reused"] and third.baseline is None


def test_history_round_trip(settings, minilm):
    run = evaluate(
        load_dataset(SAMPLES_SET, limit=2),
        SAMPLES_DIR,
        settings,
        retrieval_only=True,
        baseline=False,
        embeddings=minilm,
    )
    db = open_db(settings.db_path)
    run_id = record_run(db, run)
    [stored] = list_runs(db)
    assert stored["id"] == run_id and stored["datasets"] == ["samples.jsonl"]
    assert stored["summary"]["source_hit_at_5"] == run.summary["source_hit_at_5"]
    assert stored["embedder"] == "embedded/all-MiniLM-L6-v2" and stored["retrieval_only"] == 1
    assert stored["baseline"] is None and stored["top_k"] == settings.top_k
    db.close()


@pytest.mark.slow
def test_full_run_with_the_embedded_model(settings, minilm, tmp_path):
    lines = SAMPLES_SET.read_text().splitlines()
    subset = tmp_path / "subset.jsonl"
    subset.write_text("\n".join([lines[3], lines[6]]) + "\n")  # sm-004 and unanswerable sm-007
    run = evaluate(load_dataset(subset), SAMPLES_DIR, settings, embeddings=minilm)
    s = run.summary
    assert run.config["backend"] == "embedded" and run.config["model"]
    for key in ("key_fact_recall", "unsupported_sentence_rate", "verify_ms_p50", "total_ms_p95"):
        assert key in s
    assert s["unflagged_unsupported"] == 0
    assert s["refusal_accuracy"] == 1.0  # weak evidence: refused before the model is asked
    answered = run.rows[0]
    assert answered["answer"] and answered["total_ms"] > 0 and answered["verify_ms"] is not None
    assert answered["hit5"]
    json.dumps(run.to_dict())  # the results file is plain JSON


def test_shown_text_drops_the_word_joiner_that_keeps_urls_inert():
    shown = escape_markdown("Report it at https://help.example.org/desk today.")
    assert "\u2060" in shown  # the escape that stops the URL from becoming a link
    assert key_fact_recall(shown, ["https://help.example.org/desk"]) == 1.0

"""The run log: storage of run records, concurrent writers, and the price table."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import pytest

from rag.errors import ConfigError, DatabaseError
from rag.ops.database import open_db
from rag.ops.pricing import DEFAULT_SHADOW, Price, PriceTable, cost_of
from rag.ops.runlog import count_runs, get_run, log_run, new_run_id
from tests.conftest import run_in_threads
from tests.ops.conftest import run_in_processes


def make_run(**overrides) -> dict:
    """Return a complete run record; tests override what they check."""
    run = {
        "run_id": new_run_id(),
        "created_at": "2026-03-01T09:30:00+00:00",
        "session_id": "s1",
        "user": "ana",
        "question": "How many days of annual leave do staff get?",
        "rewritten_query": "annual leave days staff",
        "answer": "Staff get 25 days of annual leave [1].",
        "refused": False,
        "support_score": 0.91,
        "verification": [
            {"sentence": "Staff get 25 days of annual leave [1].", "supported": True,
             "score": 0.91, "citation": 1}
        ],
        "passages": [
            {"chunk_id": "hr-1", "source": "handbook.pdf", "page": 3, "score": 0.82},
            {"chunk_id": "it-7", "source": "vpn.md", "page": 1, "score": 0.11},
        ],
        "cited_chunk_ids": ["hr-1"],
        "cited_sources": ["handbook.pdf"],
        "backend": "embedded",
        "model": "smollm2-135m",
        "embed_model": "all-MiniLM-L6-v2",
        "prompt_version": "v1",
        "index_version": 3,
        "timings": {"rewrite_ms": 4.0, "retrieve_ms": 21.5, "ttft_ms": 350.0,
                    "generate_ms": 900.0, "verify_ms": 40.0, "total_ms": 1320.0},
        "tokens_in": 812,
        "tokens_out": 41,
        "cpu_seconds": 1.7,
        "error": None,
    }  # fmt: skip
    run.update(overrides)
    return run


@pytest.fixture
def db(tmp_path):
    database = open_db(tmp_path / "app.db")
    yield database
    database.close()


def test_log_run_round_trips_the_record(db):
    run = make_run()
    log_run(db, run)
    assert get_run(db, run["run_id"]) == run | {"created_at": "2026-03-01T09:30:00.000000+00:00"}


def test_log_run_flattens_timings_and_stores_json(db):
    run = make_run()
    log_run(db, run)
    row = db["runs"].get(run["run_id"])
    assert row["total_ms"] == 1320.0 and row["ttft_ms"] == 350.0 and row["refused"] == 0
    assert json.loads(row["passages"])[0]["source"] == "handbook.pdf"


def test_log_run_keeps_unknown_keys_and_replaces_same_run(db):
    run = make_run(trace_url="http://langsmith.local/r/1")
    log_run(db, run)
    log_run(db, run | {"answer": "Updated."})
    assert count_runs(db) == 1
    stored = get_run(db, run["run_id"])
    assert stored["answer"] == "Updated." and stored["trace_url"] == "http://langsmith.local/r/1"


def test_log_run_normalises_timestamps_and_fills_missing(db):
    run_id = log_run(db, {"run_id": "r1", "created_at": datetime(2026, 3, 1, 12, tzinfo=UTC)})
    stored = get_run(db, run_id)
    assert stored["created_at"] == "2026-03-01T12:00:00.000000+00:00"
    assert stored["passages"] == [] and stored["refused"] is False and stored["timings"] == {}


def test_log_run_on_a_locked_database_raises_database_error(tmp_path):
    from tests.ops.test_database import held_exclusive

    path = tmp_path / "app.db"
    db = open_db(path, busy_timeout=0.1)
    with held_exclusive(path), pytest.raises(DatabaseError, match="is busy") as caught:
        log_run(db, make_run(run_id="r-locked"))
    assert str(path) in str(caught.value)
    assert get_run(db, "r-locked") is None and not db.conn.in_transaction
    log_run(db, make_run(run_id="r-locked"))
    assert get_run(db, "r-locked")["question"] == make_run()["question"]
    db.close()


def test_log_run_needs_a_run_id(db):
    with pytest.raises(ValueError, match="run_id"):
        log_run(db, {"question": "?"})


# --- concurrency -----------------------------------------------------------------------------


def _write_runs(path, worker: int, n: int = 500) -> None:
    db = open_db(path)
    for i in range(n):
        log_run(db, make_run(run_id=f"w{worker}-{i}"))
    db.close()


def test_eight_threads_sharing_one_connection_lose_nothing(db):
    def work(worker):
        for i in range(500):
            log_run(db, make_run(run_id=f"t{worker}-{i}"))

    run_in_threads(work)
    assert count_runs(db) == 4000


def test_eight_threads_with_own_connections_lose_nothing(tmp_path):
    path = tmp_path / "app.db"
    run_in_threads(lambda w: _write_runs(path, w))
    assert count_runs(open_db(path)) == 4000


def test_eight_processes_lose_nothing(tmp_path, spawn_safe_main):
    path = tmp_path / "fresh" / "app.db"  # not created yet: the processes race to migrate it
    run_in_processes(_write_runs, path)
    assert count_runs(open_db(path)) == 4000


# --- prices ----------------------------------------------------------------------------------


def test_local_models_cost_nothing_but_have_a_shadow_cost():
    costs = cost_of(make_run(tokens_in=1000, tokens_out=500), PriceTable())
    small = DEFAULT_SHADOW["hosted-small"]
    assert costs["cost_usd"] == 0.0
    assert costs["shadow_cost_usd"] == pytest.approx(small.input_per_1k + small.output_per_1k / 2)
    assert costs["cpu_seconds"] == 1.7


def test_paid_model_and_cpu_price():
    prices = PriceTable(models={"smollm2-135m": Price(1.0, 2.0)}, cpu_hour_usd=3.6)
    costs = cost_of(make_run(tokens_in=1000, tokens_out=500, cpu_seconds=10), prices)
    assert costs["cost_usd"] == pytest.approx(1.0 + 1.0 + 0.01)


def test_missing_token_counts_cost_nothing():
    costs = cost_of({"model": "x", "tokens_in": None, "tokens_out": None}, PriceTable())
    assert costs == {"cost_usd": 0.0, "shadow_cost_usd": 0.0, "cpu_seconds": 0.0}


@pytest.mark.parametrize("suffix", [".toml", ".json"])
def test_price_file(tmp_path, suffix):
    path = tmp_path / f"prices{suffix}"
    data = {
        "shadow_model": "mine",
        "cpu_hour_usd": 0.5,
        "models": {"paid": {"input_per_1k": 0.1, "output_per_1k": 0.2}},
        "shadow": {"mine": {"input_per_1k": 1, "output_per_1k": 3}},
    }
    if suffix == ".json":
        path.write_text(json.dumps(data))
    else:
        path.write_text(
            'shadow_model = "mine"\ncpu_hour_usd = 0.5\n'
            "[models.paid]\ninput_per_1k = 0.1\noutput_per_1k = 0.2\n"
            "[shadow.mine]\ninput_per_1k = 1\noutput_per_1k = 3\n"
        )
    prices = PriceTable.load(path)
    assert prices.price_of("paid") == Price(0.1, 0.2)
    assert prices.shadow_price == Price(1, 3)
    assert "hosted-large" in prices.shadow  # defaults stay available
    assert prices.cpu_hour_usd == 0.5


def test_price_file_errors(tmp_path):
    assert PriceTable.load(tmp_path / "absent.toml") == PriceTable()
    with pytest.raises(ConfigError, match="does not exist"):
        PriceTable.load(tmp_path / "absent.toml", missing_ok=False)
    bad = tmp_path / "bad.toml"
    bad.write_text("[models.x]\ninput_per_1k = 1\nper_token = 2\n")
    with pytest.raises(ConfigError, match="not valid"):
        PriceTable.load(bad)
    with pytest.raises(ConfigError, match="hosted-small"):
        PriceTable(shadow_model="nope")

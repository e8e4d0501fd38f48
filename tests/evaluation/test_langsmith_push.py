"""Pushing a real evaluation run to LangSmith (a loopback server speaking its API): the dataset
of golden cases, the experiment on it, scores as feedback, redaction, and LangSmith failing."""

from __future__ import annotations

import copy
import json
import os
from pathlib import Path

import pytest
from pydantic import SecretStr

from rag.config import Settings
from rag.errors import ConfigError, GroundworkError
from rag.evaluation import LangSmithPushError, evaluate, load_dataset, push_run
from rag.evaluation.langsmith_cases import case_scores, dataset_name, experiment_metadata
from rag.guardrails import Guardrails
from tests.servers._http import closed_port
from tests.servers.langsmith import LangSmithCapture

REPO = Path(__file__).resolve().parents[2]
SAMPLES_SET = REPO / "evals" / "samples.jsonl"
SAMPLES_DIR = REPO / "rag" / "samples"
API_KEY = "lsv2_pt_0123456789abcdef0123456789abcdef_01234567"
EMAIL = "maria.garcia@example.com"
PHONE = "+1 415 555 0134"


def as_traced(settings, *texts: str) -> list[str]:
    """``texts`` redacted as a trace's would be, sharing placeholders like one case's texts."""
    guardrails, mapping, out = Guardrails(settings), {}, []
    for text in texts:
        redacted, mapping = guardrails.redact_text(text, mapping) if text else (text, mapping)
        out.append(redacted)
    return out


def run_on(cases, settings, minilm):
    return evaluate(
        cases, SAMPLES_DIR, settings, retrieval_only=True, baseline=False, embeddings=minilm
    )


def pointed_at(settings, url: str, timeout: float = 2.0):
    return settings.model_copy(
        update={
            "langsmith_tracing": True,
            "langsmith_api_key": SecretStr(API_KEY),
            "langsmith_endpoint": url,
            "langsmith_timeout": timeout,
        }
    )


@pytest.fixture
def capture():
    with LangSmithCapture() as server:
        yield server


@pytest.fixture(scope="module")
def module_run(tmp_path_factory, minilm):
    """One real retrieval-only run over the samples, shared by this module's tests."""
    with pytest.MonkeyPatch.context() as env:  # what the function-scoped clean_env does
        for name in list(os.environ):
            if name.startswith(("GROUNDWORK_", "LANGSMITH_", "LANGCHAIN_", "CHROMA_")):
                env.delenv(name)
        own = Settings(data_dir=tmp_path_factory.mktemp("eval") / "data", backend="embedded")
        return run_on(load_dataset(SAMPLES_SET), own, minilm)


@pytest.fixture
def samples_run(module_run):
    return copy.deepcopy(module_run)


def test_run_becomes_a_dataset_and_an_experiment(samples_run, settings, capture):
    cases = load_dataset(SAMPLES_SET)
    result = push_run(samples_run, pointed_at(settings, capture.url), cases=cases)

    dataset = capture.dataset("groundwork/samples")
    assert result.dataset_id == dataset["id"] and result.dataset_name == dataset_name(samples_run)
    examples = {e["metadata"]["case_id"]: e for e in capture.examples(dataset["id"])}
    assert sorted(examples) == sorted(c.id for c in cases)
    for case in cases:
        example = examples[case.id]
        # Names and places are redacted as in traces ("Vaultwarden" reads as a place).
        question, answer, *facts = as_traced(settings, case.question, case.answer, *case.key_facts)
        assert example["inputs"] == {"question": question}
        assert example["metadata"] == {"case_id": case.id, "golden_set": "samples.jsonl"}
        ref = example["outputs"]
        assert ref["answerable"] is case.answerable and ref["sources"] == case.sources
        assert ref["pages"] == case.pages and ref["key_facts"] == facts
        assert ref["answer"] == (answer or None)
    assert any(e["outputs"]["answer"] == c.answer for c in cases for e in [examples[c.id]])

    project = capture.project(result.experiment_name)
    assert (
        project["reference_dataset_id"] == dataset["id"] and project["id"] == result.experiment_id
    )
    meta = project["extra"]["metadata"]
    assert meta["summary"] == samples_run.summary
    fingerprint = getattr(samples_run, "fingerprint", None) or {}
    for key in ("prompt_version", "backend", "model", "embedder", "index_version", "datasets"):
        assert meta["fingerprint"].get(key) == fingerprint.get(key)
    assert meta["config"]["prompt_version"] == samples_run.config["prompt_version"]
    assert result.experiment_url.endswith(f"/compare?selectedSessions={project['id']}")

    runs = capture.wait_for_runs(lambda r: r.get("session_name") == project["name"], count=8)
    assert len(runs) == 8
    by_case = {r["extra"]["metadata"]["case_id"]: r for r in runs}
    for row in samples_run.rows:
        run = by_case[row["id"]]
        assert run["reference_example_id"] == examples[row["id"]]["id"]
        assert run["inputs"] == examples[row["id"]]["inputs"]
        assert run["outputs"]["refused"] == row["refused"]
        assert [(p["source"], p["page"]) for p in run["outputs"]["retrieved"]] == [
            tuple(p) for p in row["retrieved"]
        ]
    assert result.runs == 8 and result.left_out == 0
    assert result.examples_created == 8 and result.examples_reused == 0


def test_feedback_matches_the_rows(samples_run, settings, capture):
    result = push_run(samples_run, pointed_at(settings, capture.url))
    runs = capture.wait_for_runs(lambda r: r.get("session_name") == result.experiment_name, count=8)
    expected = sum(len(case_scores(row)) for row in samples_run.rows)
    feedback = capture.wait_for_feedback(count=expected)
    assert len(feedback) == expected == result.feedback
    case_of = {r["id"]: r["extra"]["metadata"]["case_id"] for r in runs}
    got: dict[str, dict[str, float]] = {}
    for fb in feedback:
        assert fb["session_id"] == result.experiment_id
        got.setdefault(case_of[fb["run_id"]], {})[fb["key"]] = fb["score"]
    for row in samples_run.rows:
        scores = got[row["id"]]
        assert scores["refusal_correct"] == float(row["refused"] != row["answerable"])
        if row["answerable"]:
            assert scores["hit@5"] == float(row["hit5"])
            assert scores["reciprocal_rank"] == row["rr"]
        else:
            assert "hit@5" not in scores and "reciprocal_rank" not in scores
    # The scores left the client in batches, not one request each.
    assert len(capture.requests_to("/feedback", "POST")) == 0
    assert 1 <= len(capture.requests_to("/runs/multipart", "POST")) < len(runs)


@pytest.mark.parametrize(
    "row, scores",
    [
        (
            {"answerable": True, "hit5": True, "rr": 0.5, "page_hit5": None, "refused": False},
            {"hit@5": 1.0, "reciprocal_rank": 0.5, "refusal_correct": 1.0},
        ),
        (
            {"answerable": False, "refused": False, "unsupported": 2, "key_fact_recall": None},
            {"refusal_correct": 0.0, "unsupported_sentences": 2.0},
        ),
        (
            {"answerable": True, "hit5": False, "rr": 0.0, "page_hit5": True, "refused": True,
             "key_fact_recall": 0.5},
            {"hit@5": 0.0, "reciprocal_rank": 0.0, "page_hit@5": 1.0, "refusal_correct": 0.0,
             "key_fact_recall": 0.5},
        ),
    ],
)  # fmt: skip
def test_case_scores(row, scores):
    assert case_scores(row) == scores


def test_experiment_metadata_leaves_secrets_and_addresses_out(samples_run):
    samples_run.fingerprint = {
        "prompt_version": "answer.v2",
        "settings": {"chunk_tokens": 200, "chroma_url": "http://u:pw@h", "langsmith_api_key": "k"},
    }
    meta = experiment_metadata(samples_run)
    assert meta["fingerprint"] == {"prompt_version": "answer.v2", "settings": {"chunk_tokens": 200}}
    assert meta["summary"] == samples_run.summary


def test_second_push_reuses_examples_and_updates_a_changed_reference(
    samples_run, settings, capture
):
    cases = load_dataset(SAMPLES_SET)
    target = pointed_at(settings, capture.url)
    first = push_run(samples_run, target, cases=cases)
    ids = {e["metadata"]["case_id"]: e["id"] for e in capture.examples()}

    cases[0].answer = "A corrected expected answer."
    second = push_run(samples_run, target, cases=cases)

    examples = capture.examples()
    assert len(examples) == 8 and len(capture.datasets) == 1
    assert {e["metadata"]["case_id"]: e["id"] for e in examples} == ids
    changed = next(e for e in examples if e["metadata"]["case_id"] == cases[0].id)
    assert changed["outputs"]["answer"] == "A corrected expected answer."
    assert (second.examples_created, second.examples_updated, second.examples_reused) == (0, 1, 7)
    assert second.experiment_id != first.experiment_id  # each push is an experiment of its own
    assert {p["reference_dataset_id"] for p in capture.projects} == {first.dataset_id}


def test_references_come_from_the_golden_set_the_run_read(samples_run, settings, capture):
    """Without ``cases``, the set of the run's name in the evaluation folders gives the expected
    answers and key facts, unless it changed since the run (its recorded hash differs)."""
    cases = {c.id: c for c in load_dataset(SAMPLES_SET)}
    target = pointed_at(settings, capture.url)
    push_run(samples_run, target)
    facts = {e["metadata"]["case_id"]: e["outputs"]["key_facts"] for e in capture.examples()}
    assert facts["sm-001"] == cases["sm-001"].key_facts == ["$65", "$48.75"]

    samples_run.fingerprint = {"datasets": {"samples.jsonl": "0123456789abcdef"}}
    again = push_run(samples_run, target)
    assert again.examples_updated == sum(bool(c.key_facts or c.answer) for c in cases.values())
    stale = {e["metadata"]["case_id"]: e["outputs"] for e in capture.examples()}
    assert stale["sm-001"]["key_facts"] == [] and stale["sm-001"]["answer"] is None
    assert stale["sm-001"]["sources"] == ["travel-policy.md"]  # the run's own fields remain


def test_personal_data_never_reaches_langsmith(settings, minilm, capture, tmp_path):
    lines = [json.loads(line) for line in SAMPLES_SET.read_text().splitlines()[:2]]
    lines[0]["question"] = f"I am {EMAIL}, call me on {PHONE}: {lines[0]['question']}"
    lines[1]["answer"] = f"Ask {EMAIL} first. " + lines[1]["answer"]
    golden = tmp_path / "private.jsonl"
    golden.write_text("".join(json.dumps(line) + "\n" for line in lines))
    cases = load_dataset(golden)
    run = run_on(cases, settings, minilm)
    assert EMAIL in run.rows[0]["question"]  # the local run keeps the user's words
    run.rows[1]["answer"] = f"Write to {EMAIL} or call {PHONE}."  # as an answering run has
    before = json.dumps(run.to_dict(), sort_keys=True)

    result = push_run(run, pointed_at(settings, capture.url), cases=cases)
    capture.wait_for_runs(lambda r: r.get("session_name") == result.experiment_name, count=2)

    sent = b"\n".join(capture.bodies).decode("utf-8", "replace")
    assert EMAIL not in sent and "555 0134" not in sent
    [asked] = [e for e in capture.examples() if e["metadata"]["case_id"] == cases[0].id]
    assert "<EMAIL_1>" in asked["inputs"]["question"] and "<PHONE_" in asked["inputs"]["question"]
    assert "per diem" in asked["inputs"]["question"]  # the rest of the question is kept
    [run_sent] = [r for r in capture.runs if r["reference_example_id"] == asked["id"]]
    assert run_sent["inputs"] == asked["inputs"]  # same placeholders in the run and its example
    [answered] = [r for r in capture.runs if r["extra"]["metadata"]["case_id"] == cases[1].id]
    assert answered["outputs"]["answer"] == "Write to <EMAIL_1> or call <PHONE_1>."
    assert json.dumps(run.to_dict(), sort_keys=True) == before  # nothing changed locally


def test_api_key_only_in_the_header(samples_run, settings, capture):
    push_run(samples_run, pointed_at(settings, capture.url))
    assert capture.bodies and all(API_KEY.encode() not in body for body in capture.bodies)
    assert all(r.headers.get("x-api-key") == API_KEY for r in capture.received)
    assert all(API_KEY not in r.path + json.dumps(r.query) for r in capture.received)


def test_not_configured_is_refused(samples_run, settings, capture):
    with pytest.raises(ConfigError, match="LANGSMITH_API_KEY"):
        push_run(samples_run, settings)
    no_key = pointed_at(settings, capture.url).model_copy(update={"langsmith_api_key": None})
    with pytest.raises(ConfigError, match="LangSmith is not configured"):
        push_run(samples_run, no_key)
    assert capture.received == []


@pytest.mark.timeout(30)
@pytest.mark.parametrize("failure", ["down", "hang", "error500", "runs-rejected"])
def test_langsmith_failing_gives_a_clear_error(samples_run, settings, failure):
    before = json.dumps(samples_run.to_dict(), sort_keys=True)
    with LangSmithCapture(hang_seconds=60) as server:
        url = f"http://127.0.0.1:{closed_port()}" if failure == "down" else server.url
        if failure in ("hang", "error500"):
            server.mode = failure
        if failure == "runs-rejected":  # LangSmith fails part-way, after the dataset exists
            server.fail_paths = {"/runs/multipart", "/runs/batch"}
        with pytest.raises(LangSmithPushError) as info:
            push_run(samples_run, pointed_at(settings, url, timeout=0.5))
    message = str(info.value)
    assert isinstance(info.value, GroundworkError)
    assert message.startswith(f"LangSmith at {url} ") and API_KEY not in message
    expected = {
        "down": "cannot be reached",
        "hang": "did not answer in time",
        "error500": "answered with an error",
        "runs-rejected": "answered with an error",
    }[failure]
    assert expected in message and "push again" in message
    assert json.dumps(samples_run.to_dict(), sort_keys=True) == before  # nothing lost locally

"""End to end with real parts: a PDF into real Chroma, answered by the real embedded model."""

from __future__ import annotations

import pytest

from rag.answer.chain import Assistant
from rag.index.indexing import ingest_file
from rag.models.backends import make_chat_model, resolve_backend
from tests.conftest import make_pdf

pytestmark = pytest.mark.slow

PAGES = [
    "Harbor Logistics employee handbook. This handbook explains the rules for all staff.",
    "Overtime. Warehouse staff who work more than 40 hours in a week are paid overtime at "
    "1.5 times their hourly rate. Overtime must be approved by a shift supervisor in advance.",
    "Safety. Forklift operators must renew their forklift licence every 3 years.",
]


@pytest.fixture
def assistant(store, settings):
    settings = settings.model_copy(update={"temperature": 0.0})
    choice = resolve_backend(settings)
    assert choice.name == "embedded"
    return Assistant(settings, store, make_chat_model(settings, choice), choice)


def test_streamed_answer_cites_the_pdf_page(assistant, store):
    report = ingest_file(store, "handbook.pdf", make_pdf(PAGES, title="Harbor handbook"))
    assert report.status == "ingested" and report.pages == 3

    stream = assistant.ask("What is the overtime rate for warehouse staff?", mode="generate")
    pieces = list(stream)
    result = stream.result

    assert len(pieces) > 1, "the answer should arrive as a stream of pieces"
    assert result.raw_answer == "".join(pieces).strip()
    assert result.passages[0].source == "handbook.pdf" and result.passages[0].page == 2
    cited = {(c.passage.source, c.passage.page) for c in result.citations}
    assert ("handbook.pdf", 2) in cited
    assert result.answer  # verified text or the extractive fallback, never empty
    assert result.backend == "embedded" and result.prompt_version == "answer.v2"
    assert result.tokens_in > 0 and result.tokens_out > 0
    for key in ("retrieve_ms", "ttft_ms", "generate_ms", "verify_ms", "total_ms"):
        assert result.timings[key] >= 0


def test_question_the_documents_cannot_answer_is_refused(assistant, store):
    ingest_file(store, "handbook.pdf", make_pdf(PAGES))
    stream = assistant.ask("What is the capital of Australia?")
    list(stream)
    assert stream.result.refused
    assert stream.result.answer.startswith("I could not find this in the documents.")


def test_embedded_backend_quotes_the_documents_first(assistant, store):
    ingest_file(store, "handbook.pdf", make_pdf(PAGES, title="Harbor handbook"))
    assert assistant.mode() == "quote"  # auto: a 135M model's drafts rarely pass the check
    stream = assistant.ask("What is the overtime rate for warehouse staff?")
    assert list(stream) == []  # no model text: the quotes are the answer
    result = stream.result
    assert result.mode == "quote" and result.extractive and not result.refused
    assert result.answer.startswith("From the documents:")
    assert ("handbook.pdf", 2) in {(c.passage.source, c.passage.page) for c in result.citations}
    assert result.tokens_out == 0 and "generate_ms" not in result.timings

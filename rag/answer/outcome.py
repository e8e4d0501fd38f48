"""What an answer shows: the model's draft once verified, or the documents quoted under a head.

The head says why the documents are quoted: asked for (quote mode), the model found nothing,
its draft failed the check, or the passages do not answer the question ("not found").
"""

from __future__ import annotations

from rag.answer import evidence
from rag.answer.encoder import Encode
from rag.answer.render import render_answer, render_quotes
from rag.answer.result import AnswerResult
from rag.answer.verdict import Verification
from rag.answer.verify import verify_answer
from rag.config import Settings
from rag.types import Citation

NOT_FOUND = "I could not find this in the documents."
QUOTED = "From the documents:"
NOT_VERIFIED = (
    "I could not verify a generated answer against the documents, so here is what they say:"
)
MODEL_FOUND_NOTHING = "The model found no answer in these passages. The most relevant say:"


def settle(r: AnswerResult, settings: Settings, encode: Encode) -> None:
    """Verify the model's answer; quote the documents when there is none or it fails."""
    if not r.passages:
        r.refused, r.answer = True, f"{NOT_FOUND} No documents matched the question."
        return
    model_refused = bool(r.raw_answer) and _is_refusal(r.raw_answer)
    if r.raw_answer and not model_refused and _verified(r, settings, encode):
        return
    found = r.evidence >= settings.refusal_threshold
    _quote_documents(r, encode, found, model_refused)


def _verified(r: AnswerResult, settings: Settings, encode: Encode) -> bool:
    """Show the model's answer when its sentences are supported and address the question."""
    r.verification = verify_answer(r.raw_answer, r.passages, encode)
    if not (
        r.verification.support_score > 0
        and evidence.answers_question(r.question, r.verification, r.passages, encode)
    ):
        return False
    r.answer = render_answer(r.verification, mode=settings.unsupported)
    used = sorted({s.passage for s in r.verification.sentences if s.supported and s.passage})
    r.citations = [Citation(n, r.passages[n - 1], _quote(r.verification, n)) for n in used]
    return True


def _quote_documents(r: AnswerResult, encode: Encode, found: bool, model_refused: bool) -> None:
    """Quote the passages' best sentences under a head that says why.

    As the answer (quote mode), instead of a draft that failed the check, or as the closest
    evidence. "Not found" only when the gate (or the model, with the gate agreeing) says the
    passages do not answer it.
    """
    picks = evidence.extractive_answer(r.question, r.passages, encode)
    r.extractive = True
    r.refused = not picks or not found
    if r.refused:
        head = f"{NOT_FOUND} The closest passages say:"
    elif model_refused:
        head = MODEL_FOUND_NOTHING
    elif r.raw_answer:
        head = NOT_VERIFIED
    else:
        head = QUOTED
    r.answer = f"{head}\n{render_quotes(picks)}" if picks else NOT_FOUND
    used = sorted({n for _, n in picks})
    r.citations = [
        Citation(n, r.passages[n - 1], next(s for s, m in picks if m == n)) for n in used
    ]


def _quote(v: Verification, n: int) -> str:
    return next((s.evidence for s in v.sentences if s.supported and s.passage == n), "")


def _is_refusal(text: str) -> bool:
    lowered = text.lower()
    return (
        "could not find" in lowered
        or "couldn't find" in lowered
        or "not in the documents" in lowered
    )

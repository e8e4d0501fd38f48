"""Scoring the verifier on labelled claims: is each sentence supported by its passage?

A claims file (``evals/claims/*.jsonl``) holds one claim per line, written against a real
passage: which file and page it is checked against, a short ``anchor`` quoted from that passage,
the claim, its label (``supported`` or ``unsupported``) and its kind (a verbatim sentence, a
paraphrase, a computed value, or one kind of error: a changed number, reversed polarity, ...).

The passage a claim is checked against is what ingestion makes of that spot: the document is
loaded and chunked exactly as for the store, and the chunk holding the anchor, with its
neighbours, becomes the passages (PDF: the chunks of that page). The claim then goes through
:func:`rag.answer.verify.verify_answer` as a one-sentence answer. Reported per corpus and per kind:
the share of claims judged right, balanced accuracy (mean of the supported and unsupported
pass rates) and milliseconds per claim.
"""

from __future__ import annotations

import hashlib
import json
import re
import statistics
import time
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from rag.answer.encoder import Encode
from rag.answer.support import passage_sentences
from rag.answer.verify import verify_answer
from rag.config import Settings
from rag.errors import DatasetError
from rag.evaluation.cache import CACHE_FORMAT
from rag.evaluation.schema import CLAIM, SUPPORTED_KINDS, UNSUPPORTED_KINDS, validated
from rag.types import Passage

WINDOW = 1  # chunks either side of the anchor's chunk


@dataclass(frozen=True)
class Claim:
    """One labelled claim and where its passage is."""

    id: str
    corpus: str
    source: str
    page: int | None
    anchor: str
    claim: str
    label: str
    kind: str
    note: str = ""

    @property
    def supported(self) -> bool:
        """Whether the claim's label says the passage supports it."""
        return self.label == "supported"


def load_claims(path: str | Path) -> list[Claim]:
    """Read a claims file (:data:`rag.evaluation.schema.CLAIM`); a bad line raises naming it."""
    path = Path(path)
    claims = []
    for _where, record in validated(path, CLAIM, "Claims file"):
        claims.append(Claim(**{"note": ""} | record))
    if not claims:
        raise DatasetError(f"Claims file {path} has no claims.")
    return claims


def _squash(text: str) -> str:
    return re.sub(r"[^0-9a-z]+", "", text.lower())


class PassageFinder:
    """Chunks each document once, as ingestion would, and finds a claim's passages."""

    def __init__(self, corpora: Path, settings: Settings):
        self.corpora = corpora
        self.settings = settings
        self._docs: dict[tuple[str, str], list[Passage]] = {}

    def chunks(self, corpus: str, source: str) -> list[Passage]:
        """Every chunk of one document, in reading order."""
        key = (corpus, source)
        if key not in self._docs:
            from rag.index.reading import read_document

            path = self.corpora / corpus / source
            try:
                data = path.read_bytes()
            except OSError as exc:
                raise DatasetError(f"{path} cannot be read ({exc.strerror or exc}).") from None
            digest = hashlib.sha256(
                f"{CACHE_FORMAT}|{self.settings.chunk_tokens}|{path.name}|".encode() + data
            ).hexdigest()[:16]
            cached = self.settings.data_dir / "eval-cache" / "claims" / f"{digest}.json"
            if cached.is_file():  # chunking a long filing takes seconds: do it once
                rows = json.loads(cached.read_text(encoding="utf-8"))
            else:
                _, context, drafts = read_document(path.name, data, self.settings)
                rows = [
                    {"page": d.page, "section": d.section, "text": d.text, "start": d.start,
                     "end": d.end, "context": context.label()}
                    for d in drafts
                ]  # fmt: skip
                cached.parent.mkdir(parents=True, exist_ok=True)
                cached.write_text(json.dumps(rows), encoding="utf-8")
            self._docs[key] = [
                Passage(chunk_id=f"{source}#{i}", doc_id=source, source=path.name, **row)
                for i, row in enumerate(rows)
            ]
        return self._docs[key]

    def passages(self, claim: Claim) -> tuple[list[Passage], bool]:
        """The passages a claim is checked against, and whether its anchor was found."""
        chunks = self.chunks(claim.corpus, claim.source)
        pool = [c for c in chunks if claim.page is None or c.page == claim.page]
        anchor = _squash(claim.anchor)
        at = next((i for i, c in enumerate(pool) if anchor and anchor in _squash(c.text)), None)
        if at is None:
            # PDF tables are rewritten as rows: the anchor may not survive; use the page.
            return (pool[: 2 * WINDOW + 1] if claim.page is None else pool), False
        return pool[max(0, at - WINDOW) : at + WINDOW + 1], True


@dataclass
class ClaimResult:
    """The verifier's verdict on one claim."""

    claim: Claim
    passed: bool  # the verifier let it stand as supported
    seconds: float
    anchored: bool
    missing: list[str] = field(default_factory=list)
    reason: str = ""

    @property
    def correct(self) -> bool:
        """Whether the verdict matches the label."""
        return self.passed == self.claim.supported


def check_claims(
    claims: list[Claim],
    finder: PassageFinder,
    encode: Encode,
    progress: Callable[[int, int], None] | None = None,
) -> list[ClaimResult]:
    """Verify each claim as a one-sentence answer against its passages."""
    results = []
    for i, claim in enumerate(claims):
        if progress:
            progress(i, len(claims))
        passages, anchored = finder.passages(claim)
        encode([s for p in passages for s in passage_sentences(p)])  # as the chain does
        started = time.perf_counter()
        # The claim cites its evidence (all the passages it is checked against), as an
        # answer sentence cites its sources: figures may come from several chunks of a page.
        markers = "".join(f"[{n}]" for n in range(1, len(passages) + 1))
        v = verify_answer(f"{claim.claim} {markers}", passages, encode)
        seconds = time.perf_counter() - started
        claims_checked = v.claims
        passed = all(s.supported for s in claims_checked)
        first = claims_checked[0] if claims_checked else None
        results.append(
            ClaimResult(
                claim,
                passed,
                seconds,
                anchored,
                missing=list(first.missing) if first else [],
                reason=first.reason if first else "not a claim",
            )
        )
    return results


def _share(values: list[bool]) -> float | None:
    return round(sum(values) / len(values), 4) if values else None


def summarise(results: list[ClaimResult]) -> dict[str, Any]:
    """Per kind: claims and share judged right; overall: balanced accuracy and timing."""
    by_kind: dict[str, list[bool]] = defaultdict(list)
    for r in results:
        by_kind[r.claim.kind].append(r.correct)
    sup = [r.correct for r in results if r.claim.supported]
    uns = [r.correct for r in results if not r.claim.supported]
    ms = sorted(r.seconds * 1000 for r in results)
    rates = [x for x in (_share(sup), _share(uns)) if x is not None]
    return {
        "claims": len(results),
        "supported_pass": _share(sup),
        "unsupported_caught": _share(uns),
        "balanced_accuracy": round(sum(rates) / len(rates), 4) if rates else None,
        "kinds": {
            k: {"n": len(v), "correct": _share(v)}
            for k in SUPPORTED_KINDS + UNSUPPORTED_KINDS
            if (v := by_kind.get(k))
        },
        "ms_p50": round(statistics.median(ms), 1) if ms else None,
        "ms_p95": round(ms[min(len(ms) - 1, int(0.95 * len(ms)))], 1) if ms else None,
        "unanchored": sum(1 for r in results if not r.anchored),
    }


def format_summary(name: str, s: dict[str, Any]) -> str:
    """A plain-text block: one line per kind, then the overall figures."""
    lines = [f"\n{name}: {s['claims']} claims"]
    for kind, k in s["kinds"].items():
        side = "passes" if kind in SUPPORTED_KINDS else "caught"
        lines.append(f"  {kind:<20}{k['n']:>5}   {side} {k['correct']:.0%}")
    lines.append(
        f"  supported pass {s['supported_pass'] or 0:.0%} · unsupported caught "
        f"{s['unsupported_caught'] or 0:.0%} · balanced accuracy {s['balanced_accuracy'] or 0:.3f}"
        f" · {s['ms_p50']} ms per claim (p95 {s['ms_p95']})"
    )
    if s["unanchored"]:
        lines.append(f"  ({s['unanchored']} anchors not found in a chunk: whole page used)")
    return "\n".join(lines)

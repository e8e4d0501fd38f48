"""Score the PII detector on labelled text in Presidio's format, per entity type.

A file is a JSON list of ``{"full_text": str, "spans": [{"entity_type", "start_position",
"end_position", ...}]}``. Types the file labels but the detector does not know (DATE_TIME,
ORGANIZATION, ...) are ignored; types the detector finds but the file never labels get a
predicted count and no precision or recall.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from rag.errors import DatasetError
from rag.guardrails.pii import ENTITY_TYPES, PiiDetector, PiiSpan


@dataclass(frozen=True)
class GoldSpan:
    """One labelled piece of personal data."""

    entity_type: str
    start: int
    end: int


@dataclass(frozen=True)
class PiiCase:
    """One labelled text."""

    text: str
    spans: tuple[GoldSpan, ...]
    group: str = ""  # the generator's template id when the file has one (for grouped folds)


def load_pii_cases(path: str | Path) -> list[PiiCase]:
    """Read a Presidio-format file; a malformed one is a ``DatasetError`` naming the problem."""
    path = Path(path)
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise DatasetError(f"{path}: cannot read it as JSON ({exc})") from exc
    if not isinstance(data, list):
        raise DatasetError(f"{path}: expected a JSON list of cases, found {type(data).__name__}")
    return [_case(path, i, item) for i, item in enumerate(data)]


def _case(path: Path, index: int, item: object) -> PiiCase:
    where = f"{path}: case {index}"
    if not isinstance(item, dict) or not isinstance(item.get("full_text"), str):
        raise DatasetError(f'{where} has no "full_text" string')
    text, spans = item["full_text"], item.get("spans", [])
    if not isinstance(spans, list):
        raise DatasetError(f'{where}: "spans" is not a list')
    gold = []
    for j, span in enumerate(spans):
        try:
            start, end = int(span["start_position"]), int(span["end_position"])
            entity_type = str(span["entity_type"])
        except (TypeError, KeyError, ValueError) as exc:
            raise DatasetError(
                f"{where}, span {j}: needs entity_type, start_position and end_position ({exc})"
            ) from exc
        if not 0 <= start < end <= len(text):
            raise DatasetError(f"{where}, span {j}: positions {start}-{end} outside the text")
        gold.append(GoldSpan(entity_type, start, end))
    group = str(item.get("template_id", "")) if item.get("template_id") is not None else ""
    return PiiCase(text, tuple(gold), group)


def _overlaps(a: GoldSpan | PiiSpan, b: GoldSpan | PiiSpan) -> bool:
    return a.start < b.end and b.start < a.end


def score_pii(cases: Sequence[PiiCase], detector: PiiDetector) -> dict[str, dict[str, float]]:
    """Precision, recall and F1 per type, plus "ANY" (found as personal data of any type).

    Matching rule: any overlap of at least one character. A gold span is recalled when a
    predicted span of the same type overlaps it; a predicted span is correct when it overlaps a
    gold span of the same type. So one predicted address covering a labelled street and house
    number recalls both. The "ANY" row ignores types: it is what matters for redaction (was the
    value hidden at all?), over the gold spans of the nine types the detector knows.
    """
    predicted = detector.find_many([case.text for case in cases])
    counts = {t: {"tp_gold": 0, "gold": 0, "tp_pred": 0, "pred": 0} for t in (*ENTITY_TYPES, "ANY")}
    labelled = {g.entity_type for case in cases for g in case.spans}
    for case, found in zip(cases, predicted, strict=True):
        gold = [g for g in case.spans if g.entity_type in ENTITY_TYPES]
        for entity_type in ENTITY_TYPES:
            _count(counts[entity_type], _of(gold, entity_type), _of(found, entity_type))
        _count(counts["ANY"], gold, found)
    return {t: _metrics(c, t == "ANY" or t in labelled) for t, c in counts.items()}


def _of(spans, entity_type: str) -> list:
    return [s for s in spans if s.entity_type == entity_type]


def _count(counts: dict[str, int], gold: list, found: list) -> None:
    counts["gold"] += len(gold)
    counts["pred"] += len(found)
    counts["tp_gold"] += sum(any(_overlaps(g, p) for p in found) for g in gold)
    counts["tp_pred"] += sum(any(_overlaps(p, g) for g in gold) for p in found)


def _metrics(c: dict[str, int], labelled: bool) -> dict[str, float]:
    row: dict[str, float] = {"support": c["gold"], "predicted": c["pred"]}
    if not labelled:
        return row
    precision = c["tp_pred"] / c["pred"] if c["pred"] else float("nan")
    recall = c["tp_gold"] / c["gold"] if c["gold"] else float("nan")
    f1 = 2 * precision * recall / (precision + recall) if precision + recall > 0 else 0.0
    row.update(precision=precision, recall=recall, f1=f1)
    return row


def format_scores(scores: dict[str, dict[str, float]]) -> str:
    """Render ``score_pii``'s result as a plain table."""
    lines = [f"{'type':<15}{'precision':>10}{'recall':>8}{'f1':>7}{'support':>9}{'predicted':>10}"]
    for entity_type, row in scores.items():
        cells = [
            f"{row[k]:.3f}" if k in row and row[k] == row[k] else "-"
            for k in ("precision", "recall", "f1")
        ]
        lines.append(
            f"{entity_type:<15}{cells[0]:>10}{cells[1]:>8}{cells[2]:>7}"
            f"{int(row['support']):>9}{int(row['predicted']):>10}"
        )
    return "\n".join(lines)

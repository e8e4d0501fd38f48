"""Labelled injection files: JSON Lines of ``{"text": ..., "label": 0|1}`` (1 = injection).

One reader for fitting the detector and for scoring it; a bad line is a ``DatasetError`` that
names the file and the line.
"""

from __future__ import annotations

import json
from pathlib import Path

from rag.errors import DatasetError


def load_injection_cases(path: Path) -> tuple[list[str], list[int]]:
    """Read ``{"text", "label"}`` lines; a bad line is a ``DatasetError`` naming it."""
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except (OSError, UnicodeDecodeError) as exc:
        raise DatasetError(f"{path}: cannot be read ({exc}).") from exc
    texts, labels = [], []
    for number, line in enumerate(lines, 1):
        if not line.strip():
            continue
        try:
            row = json.loads(line)
        except json.JSONDecodeError as exc:
            raise DatasetError(f"{path}, line {number}: not JSON ({exc.msg}).") from exc
        if not isinstance(row, dict) or not isinstance(row.get("text"), str):
            raise DatasetError(f'{path}, line {number}: needs a "text" string.')
        label = row.get("label")
        if label not in (0, 1, True, False, "0", "1"):
            raise DatasetError(f'{path}, line {number}: "label" must be 0 or 1, not {label!r}.')
        texts.append(row["text"])
        labels.append(int(label))
    if not texts:
        raise DatasetError(f"{path}: has no labelled lines.")
    return texts, labels

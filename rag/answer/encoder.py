"""Sentence vectors for verification: the ``Encode`` signature and a cache in front of it."""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Callable

import numpy as np

Encode = Callable[[list[str]], np.ndarray]


class CachingEncoder:
    """Wrap an ``encode`` function with an LRU cache of text → vector.

    Build one per service (next to the embeddings) so the passages embedded for
    :func:`~rag.answer.evidence.evidence_strength` are not embedded again by
    :func:`~rag.answer.verify.verify_answer`.
    """

    def __init__(self, encode: Encode, maxsize: int = 4096):
        self._encode = encode
        self._cache: OrderedDict[str, np.ndarray] = OrderedDict()
        self.maxsize = maxsize

    def __call__(self, texts: list[str]) -> np.ndarray:
        todo = list(dict.fromkeys(t for t in texts if t not in self._cache))
        if todo:
            for text, vec in zip(todo, self._encode(todo), strict=True):
                self._cache[text] = vec
        out = np.stack([self._cache[t] for t in texts]) if texts else np.zeros((0, 384))
        for t in texts:
            self._cache.move_to_end(t)
        while len(self._cache) > self.maxsize:
            self._cache.popitem(last=False)
        return out

"""Statistical tests behind the drift signals: Wilson intervals, the two-proportion z-test and
the two-sample Kolmogorov-Smirnov test, in numpy (no SciPy in the app)."""

from __future__ import annotations

import math

import numpy as np

_Z95 = 1.959963984540054  # the two-sided 95 % normal quantile


def wilson_interval(hits: int, total: int, z: float = _Z95) -> tuple[float, float] | None:
    """Return the Wilson score interval of ``hits / total`` (None when ``total`` is 0)."""
    if total <= 0:
        return None
    p, zz = hits / total, z * z
    centre = (p + zz / (2 * total)) / (1 + zz / total)
    half = z * math.sqrt(p * (1 - p) / total + zz / (4 * total * total)) / (1 + zz / total)
    return max(0.0, centre - half), min(1.0, centre + half)


def two_proportion_p(hits: int, total: int, hits_b: int, total_b: int) -> float | None:
    """Return the two-sided p-value of a pooled two-proportion z-test (None if a side is empty)."""
    if total <= 0 or total_b <= 0:
        return None
    pooled = (hits + hits_b) / (total + total_b)
    variance = pooled * (1 - pooled) * (1 / total + 1 / total_b)
    if variance == 0:  # both rates 0 or both 1: nothing moved
        return 1.0
    z = (hits / total - hits_b / total_b) / math.sqrt(variance)
    return math.erfc(abs(z) / math.sqrt(2))


def ks_two_sample(a: np.ndarray, b: np.ndarray) -> tuple[float, float]:
    """Return the two-sample Kolmogorov-Smirnov statistic and its asymptotic p-value.

    The p-value is Kolmogorov's limiting distribution at Stephens' corrected lambda
    ``(sqrt(ne) + 0.12 + 0.11 / sqrt(ne)) * D`` with ``ne = n m / (n + m)``.
    """
    a, b = np.sort(np.asarray(a, float)), np.sort(np.asarray(b, float))
    grid = np.concatenate([a, b])
    gap = np.searchsorted(a, grid, "right") / len(a) - np.searchsorted(b, grid, "right") / len(b)
    d = float(np.max(np.abs(gap)))
    ne = len(a) * len(b) / (len(a) + len(b))
    lam = (math.sqrt(ne) + 0.12 + 0.11 / math.sqrt(ne)) * d
    if lam < 0.1:  # the series converges slowly there and its value is 1 to many places
        return d, 1.0
    k = np.arange(1, 101)
    q = 2 * np.sum((-1.0) ** (k - 1) * np.exp(-2 * k**2 * lam**2))
    return d, float(min(1.0, max(0.0, q)))

"""What an answer costs: a price table and ``cost_of``, applied to stored token counts.

Costs are never stored. The run log keeps tokens and CPU seconds; prices are applied when a
report is made, so changing a price recomputes all history. Local models (Ollama, embedded) cost
nothing per token but use CPU; a *shadow* price says what the same tokens would have cost on a
hosted model, to show what self-hosting saves.

A price file (TOML or JSON) overrides the defaults::

    shadow_model = "hosted-medium"
    cpu_hour_usd = 0.04            # optional: what an hour of this machine's CPU costs

    [models."some-hosted-model"]   # models this deployment pays for per token
    input_per_1k = 0.0005
    output_per_1k = 0.0015

    [shadow."hosted-medium"]       # reference prices for the shadow comparison
    input_per_1k = 0.0025
    output_per_1k = 0.01
"""

from __future__ import annotations

import json
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from rag.errors import ConfigError


@dataclass(frozen=True)
class Price:
    """USD per 1,000 input and output tokens."""

    input_per_1k: float = 0.0
    output_per_1k: float = 0.0

    def cost(self, tokens_in: float, tokens_out: float) -> float:
        """Return the USD cost of this many tokens."""
        return (tokens_in * self.input_per_1k + tokens_out * self.output_per_1k) / 1000.0


# Illustrative reference tiers, roughly the spread of hosted prices in 2025-26. They are only a
# yardstick: set real ones for your provider in the price file.
DEFAULT_SHADOW: dict[str, Price] = {
    "hosted-small": Price(0.00015, 0.0006),
    "hosted-medium": Price(0.0025, 0.01),
    "hosted-large": Price(0.015, 0.075),
}


@dataclass(frozen=True)
class PriceTable:
    """Per-model prices this deployment pays, plus the shadow prices it compares against."""

    models: Mapping[str, Price] = field(default_factory=dict)
    shadow: Mapping[str, Price] = field(default_factory=lambda: dict(DEFAULT_SHADOW))
    shadow_model: str = "hosted-small"
    cpu_hour_usd: float = 0.0

    def __post_init__(self):
        if self.shadow_model not in self.shadow:
            allowed = ", ".join(sorted(self.shadow)) or "(none)"
            raise ConfigError(
                f"Unknown shadow model {self.shadow_model!r}; the price table has: {allowed}."
            )

    def price_of(self, model: str | None) -> Price:
        """Return what ``model`` costs per token here (zero for local models not listed)."""
        return self.models.get(model or "", Price())

    @property
    def shadow_price(self) -> Price:
        """The hosted reference price used for shadow costs."""
        return self.shadow[self.shadow_model]

    @classmethod
    def load(cls, path: str | Path | None = None, *, missing_ok: bool = True) -> PriceTable:
        """Read a TOML or JSON price file; defaults when ``path`` is None (or absent and ok)."""
        if path is None:
            return cls()
        path = Path(path)
        if not path.exists():
            if missing_ok:
                return cls()
            raise ConfigError(f"Price file {path} does not exist; create it or unset it.")
        try:
            text = path.read_text(encoding="utf-8")
            data = json.loads(text) if path.suffix == ".json" else tomllib.loads(text)
            return cls.from_dict(data)
        except (ValueError, TypeError) as exc:  # JSONDecodeError and TOMLDecodeError included
            raise ConfigError(f"Price file {path} is not valid: {exc}") from exc

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> PriceTable:
        """Build a table from the price file's structure (see the module docstring)."""
        unknown = set(data) - {"models", "shadow", "shadow_model", "cpu_hour_usd"}
        if unknown:
            raise ValueError(f"unknown keys {sorted(unknown)}")
        shadow = dict(DEFAULT_SHADOW)
        shadow.update({k: Price(**v) for k, v in data.get("shadow", {}).items()})
        return cls(
            models={k: Price(**v) for k, v in data.get("models", {}).items()},
            shadow=shadow,
            shadow_model=data.get("shadow_model", "hosted-small"),
            cpu_hour_usd=float(data.get("cpu_hour_usd", 0.0)),
        )


def cost_of(run: Mapping[str, Any], prices: PriceTable) -> dict[str, float]:
    """Return ``cost_usd``, ``shadow_cost_usd`` and ``cpu_seconds`` of a run (or of summed runs).

    Works on anything with ``model``, ``tokens_in``, ``tokens_out`` and ``cpu_seconds``: costs
    are linear, so a row of per-model sums gives the sum of its runs' costs.
    """
    tokens_in = run.get("tokens_in") or 0
    tokens_out = run.get("tokens_out") or 0
    cpu_seconds = float(run.get("cpu_seconds") or 0.0)
    cost = prices.price_of(run.get("model")).cost(tokens_in, tokens_out)
    cost += cpu_seconds / 3600.0 * prices.cpu_hour_usd
    return {
        "cost_usd": cost,
        "shadow_cost_usd": prices.shadow_price.cost(tokens_in, tokens_out),
        "cpu_seconds": cpu_seconds,
    }

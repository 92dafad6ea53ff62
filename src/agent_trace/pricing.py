"""Token prices: the bundled table (``data/prices.json``) plus user overrides.

Lookup is by longest model-name prefix, so dated or suffixed model ids
(``claude-sonnet-4-5-20250929``, ``gpt-4o-2024-08-06``) find their family.
User files (``AGENT_TRACE_PRICES``, then ``~/.config/agent-strace/prices.json``)
have the same shape and win over the bundled table, model by model.
"""

from __future__ import annotations

import json
import os

_BUNDLED = os.path.join(os.path.dirname(__file__), "data", "prices.json")
KINDS = ("input", "output", "cache_read", "cache_write")


class PriceTable:
    def __init__(self, models: dict[str, dict]):
        self.models = models
        self._order = sorted(models, key=len, reverse=True)
        self._cache: dict[str, dict | None] = {}

    @classmethod
    def load(cls) -> "PriceTable":
        with open(_BUNDLED, encoding="utf-8") as f:
            models = dict(json.load(f)["models"])
        for path in (os.environ.get("AGENT_TRACE_PRICES"),
                     os.path.expanduser("~/.config/agent-strace/prices.json")):
            if path and os.path.isfile(path):
                with open(path, encoding="utf-8") as f:
                    models.update(json.load(f).get("models", {}))
        return cls(models)

    def price(self, model: str | None) -> dict | None:
        if not model:
            return None
        if model in self._cache:
            return self._cache[model]
        name = model.lower()
        name = name.split("/")[-1]  # provider-qualified ids: "anthropic/claude-..."
        found = next((self.models[p] for p in self._order if name.startswith(p)), None)
        self._cache[model] = found
        return found

    def cost(self, model: str | None, usage: dict) -> float | None:
        """USD for ``usage`` on ``model``; ``None`` when the model is unpriced."""
        p = self.price(model)
        if p is None:
            return None
        return sum(usage.get(k, 0) * p.get(k, 0.0) for k in KINDS) / 1_000_000

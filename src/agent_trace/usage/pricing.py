"""Token prices: the bundled table (``data/prices.json``) plus user overrides.

Lookup is by longest model-name prefix, so dated or suffixed model ids
(``claude-sonnet-4-5-20250929``, ``gpt-4o-2024-08-06``) find their family.
User files (``AGENT_TRACE_PRICES``, then ``~/.config/agent-strace/prices.json``)
have the same shape and win over the bundled table, model by model.
"""

from __future__ import annotations

import os

from ..event.fastjson import loads

_BUNDLED = os.path.join(os.path.dirname(os.path.dirname(__file__)), "data", "prices.json")
KINDS = ("input", "output", "cache_read", "cache_write")


class PriceTable:
    def __init__(self, models: dict[str, dict]):
        self.models = models
        self._order = sorted(models, key=len, reverse=True)
        self._cache: dict[str, str | None] = {}

    @classmethod
    def load(cls) -> "PriceTable":
        with open(_BUNDLED, "rb") as f:
            models = dict(loads(f.read())["models"])
        for path in (os.environ.get("AGENT_TRACE_PRICES"),
                     os.path.expanduser("~/.config/agent-strace/prices.json")):
            if path and os.path.isfile(path):
                with open(path, "rb") as f:
                    models.update(loads(f.read()).get("models", {}))
        return cls(models)

    def match(self, model: str | None) -> str | None:
        """The table key (longest model-name prefix) that prices ``model``."""
        if not model:
            return None
        if model not in self._cache:
            name = model.lower().split("/")[-1]  # provider-qualified ids: "anthropic/claude-..."
            self._cache[model] = next((p for p in self._order if name.startswith(p)), None)
        return self._cache[model]

    def price(self, model: str | None) -> dict | None:
        key = self.match(model)
        return None if key is None else self.models[key]

    def cost(self, model: str | None, usage: dict) -> float | None:
        """USD for ``usage`` on ``model``; ``None`` when the model is unpriced."""
        p = self.price(model)
        if p is None:
            return None
        return sum(usage.get(k, 0) * p.get(k, 0.0) for k in KINDS) / 1_000_000

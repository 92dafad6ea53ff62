"""Token prices: the bundled, dated table (``data/prices.json``) plus user overrides.

Lookup is by longest model-name prefix, so dated or suffixed model ids
(``claude-sonnet-4-5-20250929``, ``gpt-4o-2024-08-06``, Vertex's
``claude-opus-4-1@20250805``) find their entry; provider-qualified ids
(``anthropic/...``, Bedrock's ``us.anthropic.claude-...-v1:0``) are looked
up by the model part.  A model no entry matches is *unpriced*: reports list
it and never count it as zero.

Cache writes kept for an hour (Anthropic's 1-hour cache) have their own
price, ``cache_write_1h`` (twice the input price); ``cache_write`` is the
5-minute price.  Cost is per request: a request whose input (with cache reads and writes) is
over an entry's ``long_context.above`` is priced, all of it, at the entry's
long-context prices (Anthropic's and Google's rule for their long-context
tiers).

User files (``AGENT_TRACE_PRICES``, then ``$XDG_CONFIG_HOME/agent-strace/
prices.json`` or ``~/.config/agent-strace/prices.json``) have the same shape
and win over the bundled table, model by model.
"""

from __future__ import annotations

import os

from ..event.fastjson import loads

_BUNDLED = os.path.join(os.path.dirname(os.path.dirname(__file__)), "data", "prices.json")
KINDS = ("input", "output", "cache_read", "cache_write")
LONG_CONTEXT = 200_000  # input tokens (with cache reads and writes) over which a request is long-context


def user_prices_path() -> str:
    """Where ``prices update`` writes and user overrides are read from."""
    explicit = os.environ.get("AGENT_TRACE_PRICES")
    if explicit:
        return explicit
    base = os.environ.get("XDG_CONFIG_HOME") or os.path.join(os.path.expanduser("~"), ".config")
    return os.path.join(base, "agent-strace", "prices.json")


def model_name(model: str) -> str:
    """The bare model id: lower-cased, without a provider prefix."""
    name = model.lower().rsplit("/", 1)[-1]
    if "anthropic." in name:  # Bedrock: us.anthropic.claude-...-v1:0
        name = name.split("anthropic.", 1)[1]
    return name


class PriceTable:
    def __init__(self, models: dict[str, dict], sources: list[str] | None = None):
        self.models = {k.lower(): v for k, v in models.items() if isinstance(v, dict)}
        self.sources = sources or []
        self._order = sorted(self.models, key=len, reverse=True)
        self._cache: dict[str, str | None] = {}

    @classmethod
    def load(cls) -> "PriceTable":
        with open(_BUNDLED, "rb") as f:
            models = dict(loads(f.read())["models"])
        sources = [_BUNDLED]
        path = user_prices_path()
        for p in (path, os.path.join(os.path.expanduser("~"), ".config", "agent-strace", "prices.json")):
            if p and os.path.isfile(p):
                try:
                    with open(p, "rb") as f:
                        extra = loads(f.read()).get("models", {})
                except (OSError, ValueError, AttributeError):
                    continue  # a broken override must not take the bundled prices away
                if isinstance(extra, dict):
                    models.update(extra)
                    sources.append(p)
                break
        return cls(models, sources)

    def match(self, model: str | None) -> str | None:
        """The table key (longest model-name prefix) that prices ``model``."""
        if not model:
            return None
        if model not in self._cache:
            name = model_name(model)
            self._cache[model] = next((p for p in self._order if name.startswith(p)), None)
        return self._cache[model]

    def price(self, model: str | None) -> dict | None:
        key = self.match(model)
        return None if key is None else self.models[key]

    def rates(self, model: str | None, long: bool = False) -> dict | None:
        """USD per million tokens by kind (and ``cache_write_1h``), at
        long-context rates when ``long`` and the entry has them; None when
        the model is unpriced."""
        p = self.price(model)
        if p is None:
            return None
        lc = p.get("long_context")
        src = lc if long and isinstance(lc, dict) else p
        r = {k: float(src.get(k, p.get(k, 0.0)) or 0.0) for k in KINDS}
        r["cache_write_1h"] = float(src.get("cache_write_1h", p.get("cache_write_1h", r["cache_write"])) or 0.0)
        return r

    def is_long(self, model: str | None, usage: dict) -> bool:
        p = self.price(model)
        lc = p.get("long_context") if p else None
        if not isinstance(lc, dict):
            return False
        above = lc.get("above")
        if not isinstance(above, (int, float)) or isinstance(above, bool):
            above = LONG_CONTEXT  # a malformed entry: the default threshold, not a failure
        return long_context(usage, above)

    def cost(self, model: str | None, usage: dict, write_1h: int = 0) -> float | None:
        """USD for one request's ``usage`` on ``model``; None when unpriced.
        ``write_1h`` of the cache writes were kept for an hour (priced apart)."""
        r = self.rates(model, self.is_long(model, usage))
        if r is None:
            return None
        return usd(r, [usage.get(k) or 0 for k in KINDS], write_1h)


def cache_write_1h(e: dict) -> int:
    """Of an ``llm.response``'s cache writes, the tokens kept for an hour
    (Anthropic's ``usage.cache_creation.ephemeral_1h_input_tokens``, in the
    transcript's usage or in the captured message)."""
    data = e.get("data")
    if not isinstance(data, dict):
        return 0
    u = data.get("usage")
    if not isinstance(u, dict):
        msg = data.get("message")
        u = msg.get("usage") if isinstance(msg, dict) else None
    cc = u.get("cache_creation") if isinstance(u, dict) else None
    n = cc.get("ephemeral_1h_input_tokens") if isinstance(cc, dict) else None
    return n if type(n) is int and n > 0 else 0


def long_context(usage, above: float = LONG_CONTEXT) -> bool:
    """Is a request with this ``usage`` a long-context one: more than
    ``above`` prompt tokens (input and cache)?  One rule for a request's own
    cost (:meth:`PriceTable.is_long`, with its entry's ``above``) and for
    the usage index and the trends sums, which keep such requests in rows of
    their own and price those rows at the long-context rates (at the
    default threshold, which every bundled entry uses)."""
    if not isinstance(usage, dict):
        return False
    return sum(n for n in (usage.get(k) for k in ("input", "cache_read", "cache_write"))
               if type(n) is int) > above


def usd(rates: dict, tokens, write_1h: int = 0) -> float:
    """USD for summed ``tokens`` (in :data:`KINDS` order) at ``rates`` (from
    :meth:`PriceTable.rates`), ``write_1h`` of the cache writes kept for an
    hour: how the usage and trends reports price their rows."""
    i, o, r, w = tokens  # (KINDS order; added left to right, as before, in every Python version)
    return (i * rates["input"] + o * rates["output"] + r * rates["cache_read"] + w * rates["cache_write"]
            + write_1h * (rates["cache_write_1h"] - rates["cache_write"])) / 1_000_000

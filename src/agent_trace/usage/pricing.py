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
and win over the bundled table, model by model.  They are edited by hand, so
they are checked as they load: an entry with a price that is not a
plausible number is left out (the bundled entry, if any, prices that model)
and one warning line says so.

Token counts are priced only when they are ints in ``0..2**53``: an event
store can be edited by hand or written by an older version, and a count
such as ``10**400`` must cost its value, never the report.
"""

from __future__ import annotations

import os

from ..event import MAX_TOKENS, is_token_count
from ..event.fastjson import loads

_BUNDLED = os.path.join(os.path.dirname(os.path.dirname(__file__)), "data", "prices.json")
KINDS = ("input", "output", "cache_read", "cache_write")
LONG_CONTEXT = 200_000  # input tokens (with cache reads and writes) over which a request is long-context
MAX_RATE = 1_000_000.0  # USD per million tokens: over a dollar a token is not a price
TABLE_CAP = 256 << 20  # bytes: a price table is a few MiB at most
_RATE_KEYS = (*KINDS, "cache_write_1h")
_warned = False  # one warning line per process about the user's prices file


def read_capped(path: str, cap: int = TABLE_CAP) -> bytes:
    """The bytes of the regular file ``path``, at most ``cap`` of them:
    ``OSError`` for anything else (a FIFO would block forever, a device
    such as ``/dev/zero`` never ends), ``ValueError`` when it is larger."""
    from ..store.regular import open_regular

    with open_regular(path) as f:
        data = f.read(cap + 1)
    if len(data) > cap:
        raise ValueError(f"over {cap >> 20} MiB")
    return data


def _rate(v) -> bool:
    return (type(v) is float or type(v) is int) and 0 <= v <= MAX_RATE  # (NaN fails both)


def _bad(entry) -> bool:
    """Can this user entry not be priced as it stands: not an object, a
    price that is not a plausible number, a ``long_context`` that is not an
    object of prices with a positive ``above``, or neither an input nor an
    output price?"""
    if not isinstance(entry, dict) or ("input" not in entry and "output" not in entry):
        return True
    lc = entry.get("long_context", {})
    if not isinstance(lc, dict):
        return True
    above = lc.get("above", LONG_CONTEXT)
    if not ((type(above) is int or type(above) is float) and 0 < above <= MAX_TOKENS):
        return True
    return not all(_rate(d[k]) for d in (entry, lc) for k in _RATE_KEYS if k in d)


def checked(models: dict) -> tuple[dict[str, dict], list[str]]:
    """A user's ``models`` without the entries :func:`_bad` refuses (left
    out whole, so the bundled entry, if any, prices the model: never a
    silent zero), and the names left out.  An ``as_of`` that is not text
    is dropped (it is only shown)."""
    out: dict[str, dict] = {}
    dropped: list[str] = []
    for name, entry in models.items():
        if _bad(entry):
            dropped.append(name)
            continue
        if "as_of" in entry and not isinstance(entry["as_of"], str):
            entry = {k: v for k, v in entry.items() if k != "as_of"}
        out[name] = entry
    return out, dropped


def _warn(message: str) -> None:
    global _warned
    if not _warned:
        _warned = True
        import sys

        sys.stderr.write(f"agent-strace: {message}\n")


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
            if not p or not os.path.lexists(p):
                continue
            try:
                extra = loads(read_capped(p))
                extra = extra.get("models", {}) if isinstance(extra, dict) else None
            except (OSError, ValueError, RecursionError) as e:  # RecursionError: nested too deep
                _warn(f"prices file {p} not read ({getattr(e, 'strerror', None) or e}); bundled prices used")
                continue  # a broken override must not take the bundled prices away
            if not isinstance(extra, dict):
                _warn(f"prices file {p} has no \"models\" object; bundled prices used")
                continue
            extra, dropped = checked(extra)
            if dropped:
                more = f" and {len(dropped) - 5} more" if len(dropped) > 5 else ""
                _warn(f"prices file {p}: bad prices for {', '.join(dropped[:5])}{more}; those left out")
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
        return usd(r, [n if is_token_count(n) else 0 for n in map(usage.get, KINDS)], write_1h)


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
    return n if is_token_count(n) and n > 0 else 0


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
               if is_token_count(n)) > above


def usd(rates: dict, tokens, write_1h: int = 0) -> float:
    """USD for summed ``tokens`` (in :data:`KINDS` order) at ``rates`` (from
    :meth:`PriceTable.rates`), ``write_1h`` of the cache writes kept for an
    hour: how the usage and trends reports price their rows.  Sums no float
    can hold come only from a hand-edited index or store: they cost
    nothing rather than the report (OverflowError)."""
    i, o, r, w = tokens  # (KINDS order; added left to right, as before, in every Python version)
    try:
        return (i * rates["input"] + o * rates["output"] + r * rates["cache_read"] + w * rates["cache_write"]
                + write_1h * (rates["cache_write_1h"] - rates["cache_write"])) / 1_000_000
    except OverflowError:
        return 0.0

"""Price tables in LiteLLM's ``model_prices_and_context_window.json`` format.

LiteLLM's table is what the ecosystem keeps current: one entry per model
with USD *per token* (``input_cost_per_token``, ``output_cost_per_token``,
``cache_read_input_token_cost``, ``cache_creation_input_token_cost`` and
``*_above_200k_tokens`` for long-context tiers).  :func:`convert` turns it
into our shape (USD per million tokens, long-context prices under
``long_context``), keeping chat models that have at least an input or an
output price.  Provider-qualified keys (``anthropic/claude-...``) give
their bare model name unless the table has the bare name too.
"""

from __future__ import annotations

_KIND_KEYS = {
    "input": "input_cost_per_token",
    "output": "output_cost_per_token",
    "cache_read": "cache_read_input_token_cost",
    "cache_write": "cache_creation_input_token_cost",
}
_SKIP_MODES = frozenset({"embedding", "image_generation", "audio_transcription", "audio_speech", "rerank",
                         "moderation", "video_generation"})


class LiteLLMError(ValueError):
    pass


def _per_million(v) -> float | None:
    if isinstance(v, bool) or not isinstance(v, (int, float)):
        return None
    if v < 0 or v != v or v > 1:  # negative, NaN, or over a dollar a token: not a price
        return None
    return round(v * 1_000_000, 6)


def convert(table, as_of: str) -> dict[str, dict]:
    """Our ``models`` mapping from a parsed LiteLLM table."""
    if not isinstance(table, dict):
        raise LiteLLMError("not a LiteLLM price table: the top level is not an object")
    out: dict[str, dict] = {}
    qualified: dict[str, dict] = {}
    for key, spec in table.items():
        if not isinstance(key, str) or key == "sample_spec" or not isinstance(spec, dict):
            continue
        mode = spec.get("mode")
        if isinstance(mode, str) and mode in _SKIP_MODES:  # (a list or object is no mode: not hashable either)
            continue
        prices = {k: _per_million(spec.get(src)) for k, src in _KIND_KEYS.items()}
        if prices["input"] is None and prices["output"] is None:
            continue
        entry: dict[str, object] = {k: (v if v is not None else 0.0) for k, v in prices.items()}
        long = {k: _per_million(spec.get(src + "_above_200k_tokens")) for k, src in _KIND_KEYS.items()}
        if any(v is not None for v in long.values()):
            entry["long_context"] = {"above": 200000,
                                     **{k: (long[k] if long[k] is not None else entry[k]) for k in long}}
        entry["as_of"] = as_of
        name = key.lower().strip()
        if not name or len(name) > 200:
            continue
        if "/" in name:
            qualified.setdefault(name.rsplit("/", 1)[1], entry)
        else:
            out[name] = entry
    for name, entry in qualified.items():
        out.setdefault(name, entry)
    if not out:
        raise LiteLLMError("no model with an input or output price in it")
    return out

"""Fork points: where a replayed run stops playing the cassette and goes on
with a live model.

``--fork-at`` / ``fork_at=`` takes:

* ``N`` (an int): the first N model calls are played, call N+1 goes live;
* ``divergence``: calls are played while they match a recording (with the
  drift-tolerant conversation match); the first one that does not, and every
  call after it, goes live;
* ``prompt:TEXT``: the recorded turn whose user prompt contains TEXT goes
  live (with every call after it): the number of model calls recorded before
  it are played.

Model calls are Messages, Chat Completions, Responses and Completions API
calls; other recorded calls (``/models``, token counts) are played when they
match, whatever the fork point.
"""

from __future__ import annotations

from ..capture.llm_wire import api_kind
from ..render import words
from . import format as fmt
from .conversation import latest_user_text

MODEL_APIS = frozenset({"anthropic.messages", "openai.chat", "openai.responses", "openai.completions"})


class ForkError(ValueError):
    pass


def is_model_call(call: dict) -> bool:
    return api_kind(str(call.get("path") or "")) in MODEL_APIS


class ForkPoint:
    """A parsed fork point; ``calls`` is the number of model calls to play
    (None for ``divergence``), set for ``prompt:`` by :meth:`resolve`."""

    def __init__(self, spec):
        self.spec = str(spec)
        self.divergence = False
        self.prompt: str | None = None
        self.calls: int | None = None
        if isinstance(spec, bool):
            raise ForkError(f"fork point must be a number, 'divergence' or 'prompt:TEXT', not {spec!r}")
        if isinstance(spec, int) or (isinstance(spec, str) and spec.strip().isdigit()):
            self.calls = int(spec)
            if self.calls < 0:
                raise ForkError("fork point must not be negative")
        elif spec == "divergence":
            self.divergence = True
        elif isinstance(spec, str) and spec.startswith("prompt:") and spec[7:].strip():
            self.prompt = spec[7:].strip()
        else:
            raise ForkError(f"fork point must be a number, 'divergence' or 'prompt:TEXT', not {spec!r}")

    def resolve(self, entries: list[dict]) -> "ForkPoint":
        """Turn ``prompt:TEXT`` into the number of model calls recorded before
        the first call whose latest user prompt contains TEXT."""
        if self.prompt is None:
            return self
        n = 0
        for e in entries:
            req = e.get("request") or {}
            if e.get("kind") != "http" or not is_model_call(req):
                continue
            if self.prompt in latest_user_text(fmt.body_value(req.get("body"))):
                self.calls = n
                return self
            n += 1
        raise ForkError(f"no recorded model call has a user prompt containing {self.prompt!r}")

    def describe(self) -> str:
        if self.divergence:
            return "at the first request no recording matches"
        where = f" (the turn of prompt {self.prompt!r})" if self.prompt else ""
        return f"after {words.count(self.calls, 'model call')}{where}"

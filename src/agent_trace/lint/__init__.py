"""Lint: named rules over a session's events, each a small function in a
registry (like vcrpy's matchers).  ``lint`` runs them after the fact; the
rules engine of ``watch`` and the PreToolUse hook runs the same ones live.

A rule is ``fn(event, state, cfg) -> list of Finding or None`` registered with
:func:`registry.rule`; ``state`` is a dict the rule owns for one session,
``cfg`` its options (defaults overridable per project).  Rules see events one
at a time, so they run in constant memory on any session size and can be fed
live.
"""

from .registry import RULES, Finding, rule  # noqa: F401
from . import rules as _rules  # noqa: F401  (registers the built-in rules)

"""Rules at a framework's pre-tool point: the same engine as the hooks.

:func:`check` is called with the ``tool.call`` event just recorded, before
the tool runs.  It finds the rules file like the hook does (from the current
directory up, ``$AGENT_STRACE_RULES``, the user's file), honours pause, and
returns the engine's :class:`~agent_trace.control.engine.Decision` (recorded
as a ``rule.decision``) or ``None``.

Enforcement fails closed, unlike capture: if the decision cannot be made
(a broken rules file, an exception in the engine, a call that could not be
recorded), the answer is a deny that says why.  Each integration turns the
decision into its framework's own answer:

* ``deny``: the tool does not run; the model is told the reason where the
  framework has a way (an Agents SDK guardrail's ``reject_content``, a Pydantic
  AI ``SkipToolExecution``, a Claude Agent SDK ``permissionDecision``), else
  :class:`ToolDenied` is raised in place of the tool (LangChain);
* ``stop`` and ``kill``: the tool does not run and the run ends
  (:class:`ToolDenied` with ``stop=True``); in-process there is no other
  process to kill, so ``kill`` is ``stop``;
* ``warn``: the tool runs; the decision is in the log;
* ``pause``: the call waits for ``agent-strace resume`` (the engine's wait).
"""

from __future__ import annotations

import os

class ToolDenied(Exception):
    """A rule denied a tool call: the tool did not run.  ``stop`` is true when
    the rule ends the run (``stop``/``kill``)."""

    def __init__(self, tool: str, rule: str, reason: str, action: str = "deny"):
        self.tool, self.rule, self.reason, self.action = tool, rule, reason, action
        self.stop = action in ("stop", "kill")
        super().__init__(f"agent-strace: {reason} (rule {rule})")


def message(decision) -> str:
    """What the model (or the user) is told."""
    return f"agent-strace: {decision.reason} (rule {decision.rule})"


def check(run, call: dict | None, source: str, tool: str = "?"):
    """The decision for ``call`` in ``run``'s session, or ``None`` (no rules,
    nothing denied).  Never raises: a failure is a deny."""
    from ..control.engine import Decision

    try:
        from ..control.pause import is_paused
        from ..control.policy import find_rules_file

        rules_file = find_rules_file(run.cwd if run is not None else os.getcwd())
        store = getattr(run.sink, "store", None) if run is not None else None
        if store is None:
            from ..store import Store

            store = Store.open()
        if not rules_file and (call is None or not is_paused(store, call["session"])):
            return None
        if call is None:
            return Decision("deny", "rules-engine", f"the call to {tool} could not be recorded, so rules could "
                                                    "not be checked and it is denied")
        from ..control.enforce import decide_call

        return decide_call(store, run.sink, {"cwd": run.cwd}, call, source, rules_file)
    except Exception as e:  # enforcement never silently turns off
        return Decision("deny", "rules-engine", f"rules could not be evaluated ({type(e).__name__}: {e}), "
                                                "so the call is denied")


def blocks(decision) -> bool:
    return decision is not None and decision.action in ("deny", "stop", "kill", "pause")


def denied(decision, tool: str) -> ToolDenied:
    return ToolDenied(tool, decision.rule, decision.reason, decision.action)

"""What the scripted model endpoints share: scenarios and step selection.

A scenario is keyed by a substring of the conversation's user text and is a
list of steps; a step is a list of blocks, ``{"text": ...}`` or
``{"tool": NAME, "input": {...}}`` (``{"tool": NAME, "patch": TEXT}`` for a
freeform tool such as Codex's ``apply_patch``).  The step played is the one
whose tool calls the conversation has answered so far: after the first
step's two tool results, the second step plays.  A conversation no scenario
matches (titles, summaries, probes) gets a short text answer.
"""

from __future__ import annotations


def tool_count(step: list[dict]) -> int:
    return sum(1 for b in step if "tool" in b)


def pick_step(steps: list[list[dict]], answered: int) -> list[dict]:
    """The step to play once ``answered`` tool results are in the conversation."""
    seen = 0
    for step in steps:
        if answered <= seen:
            return step
        seen += tool_count(step)
    return [{"text": "Done."}]


def find_scenario(scenarios: dict, user_text: str):
    for key, steps in scenarios.items():
        if key in user_text:
            return steps
    return None

"""The agents of a session as a tree, with what each one did.

Fed one event at a time, like the shared summary.  Nodes are agent runs:
``subagent.start`` events (Claude Code subagents, framework agent runs);
a framework integration names the agent a run was under in
``data.parent_agent_id`` and how it got there in ``data.via`` (``handoff``,
``tool``).  Tool calls, failures and model calls are counted on the agent
whose ``agent_id`` they carry (a model call seen twice, once: same id);
handoffs on the agent that handed off.
"""

from __future__ import annotations

from .. import event as ev


class AgentTree:
    def __init__(self):
        self.nodes: dict[str, dict] = {}
        self._llm_ids: set = set()

    def add(self, e: dict) -> None:
        aid = e.get("agent_id")
        if not aid:
            return
        t = e.get("type")
        data = e.get("data") if isinstance(e.get("data"), dict) else {}
        node = self.nodes.get(aid)
        if node is None:
            node = self.nodes[aid] = {"agent_id": aid, "name": e.get("agent_type") or aid, "parent": None,
                                      "via": None, "tool_calls": 0, "tool_errors": 0, "llm_calls": 0,
                                      "handoffs": []}
        if t == ev.SUBAGENT_START:
            node["name"] = e.get("agent_type") or node["name"]
            # type-checker: narrowed by isinstance() on the same .get()
            node["parent"] = data.get("parent_agent_id")  # type: ignore[union-attr]
            node["via"] = data.get("via")  # type: ignore[union-attr]  # narrowed by isinstance() on the same .get()
        elif t == ev.TOOL_CALL:
            node["tool_calls"] += 1
        elif t == ev.TOOL_ERROR or (t == ev.TOOL_RESULT and e.get("status") == ev.ERROR):
            node["tool_errors"] += 1
        elif t == ev.LLM_RESPONSE and e.get("id") not in self._llm_ids:
            self._llm_ids.add(e.get("id"))
            node["llm_calls"] += 1
        # type-checker: narrowed by isinstance() on the same .get()
        elif t == ev.GENERIC and e.get("name") == "handoff" and data.get("to_agent"):  # type: ignore[union-attr]
            # type-checker: narrowed by isinstance() on the same .get()
            node["handoffs"].append(str(data["to_agent"]))  # type: ignore[index]

    def to_list(self) -> list[dict]:
        """Depth-first, each node with its ``depth``."""
        children: dict = {}
        for n in self.nodes.values():
            parent = n["parent"] if n["parent"] in self.nodes else None
            children.setdefault(parent, []).append(n)
        out, todo = [], [(n, 0) for n in reversed(children.get(None, []))]
        while todo:
            n, depth = todo.pop()
            out.append({**n, "depth": depth})
            todo.extend((c, depth + 1) for c in reversed(children.get(n["agent_id"], [])))
        return out

    def lines(self) -> list[str]:
        out = []
        for n in self.to_list():
            via = f" (via {n['via']})" if n["via"] else ""
            what = [f"{n['tool_calls']} tool call(s)" + (f" ({n['tool_errors']} failed)" if n["tool_errors"] else ""),
                    f"{n['llm_calls']} LLM call(s)"]
            if n["handoffs"]:
                what.append("handed off to " + ", ".join(n["handoffs"]))
            out.append(f"{'  ' * (n['depth'] + 1)}{n['name']}{via}: {', '.join(what)}")
        return out

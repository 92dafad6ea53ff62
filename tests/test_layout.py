"""The package layout shows the shape (ADR 8): no loose modules at the top,
and no import cycle between packages, counting imports inside functions."""

from __future__ import annotations

import ast
import os

import agent_trace

ROOT = os.path.dirname(agent_trace.__file__)


def _modules() -> dict[str, tuple[str, bool]]:
    mods = {}
    for dirpath, _dirs, files in os.walk(ROOT):
        for f in files:
            if f.endswith(".py"):
                path = os.path.join(dirpath, f)
                parts = ["agent_trace"] + os.path.relpath(path, ROOT)[:-3].split(os.sep)
                is_init = parts[-1] == "__init__"
                mods[".".join(parts[:-1] if is_init else parts)] = (path, is_init)
    return mods


def _imports(mods) -> dict[str, set[str]]:
    graph = {}
    for mod, (path, is_init) in mods.items():
        deps = set()
        with open(path, encoding="utf-8") as f:
            tree = ast.parse(f.read())
        for node in ast.walk(tree):
            if isinstance(node, ast.ImportFrom):
                if node.level:
                    base = mod.split(".") if is_init else mod.split(".")[:-1]
                    base = base[: len(base) - (node.level - 1)]
                    target = ".".join(base + ([node.module] if node.module else []))
                else:
                    target = node.module or ""
                for alias in node.names:
                    full = f"{target}.{alias.name}"
                    deps.add(full if full in mods else target)
            elif isinstance(node, ast.Import):
                deps.update(a.name for a in node.names)
        graph[mod] = {d for d in deps if d.startswith("agent_trace.")}
    return graph


def _package(mod: str) -> str:
    return ".".join(mod.split(".")[:2])


def test_only_the_event_model_and_the_package_face_at_the_top():
    loose = sorted(f for f in os.listdir(ROOT) if f.endswith(".py"))
    assert loose == ["__init__.py", "__main__.py"], loose
    assert os.path.isfile(os.path.join(ROOT, "event", "__init__.py"))


def _package_cycles(graph: dict[str, set[str]]) -> list[str]:
    edges: dict[str, set[str]] = {}
    why: dict[tuple[str, str], str] = {}
    for mod, deps in graph.items():
        for dep in deps:
            a, b = _package(mod), _package(dep)
            if a != b and b != "agent_trace":
                edges.setdefault(a, set()).add(b)
                why.setdefault((a, b), f"{mod} imports {dep}")

    def reaches(start: str, goal: str) -> bool:
        seen, todo = set(), [start]
        while todo:
            n = todo.pop()
            if n == goal:
                return True
            if n not in seen:
                seen.add(n)
                todo.extend(edges.get(n, ()))
        return False

    return sorted(f"{why[(a, b)]}, and {b} leads back to {a}"
                  for a, bs in edges.items() for b in bs if reaches(b, a))


def test_no_import_cycle_between_packages():
    cycles = _package_cycles(_imports(_modules()))
    assert not cycles, "\n".join(cycles)


def test_the_cycle_check_finds_a_cycle():
    graph = _imports(_modules())
    graph["agent_trace.store.paths"] = graph["agent_trace.store.paths"] | {"agent_trace.analysis.summary"}
    assert any("agent_trace.store.paths imports agent_trace.analysis.summary" in c
               for c in _package_cycles(graph))

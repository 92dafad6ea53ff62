"""A fake GitHub REST API (the issue-comment endpoints the action uses) and a
runner for the action's composite steps, so ``action.yml`` runs here as it
would on a runner: its ``run`` steps in bash with the environment Actions
provides, inputs passed through ``env`` as the file declares them."""

from __future__ import annotations

import json
import os
import re
import subprocess
import threading
from pathlib import Path

import yaml

from .processes import JsonHandler, LocalServer

REPO = Path(__file__).resolve().parents[2]


class FakeGitHub(LocalServer):
    def __init__(self, token: str, repo: str = "acme/widgets", existing: list[dict] | None = None):
        self.token = token
        self.repo = repo
        self.comments: dict[int, dict] = {}
        self.calls: list[tuple[str, str]] = []
        self._next = 1000
        self._lock = threading.Lock()
        for c in existing or ():
            self._add(c["issue"], c["body"], c.get("login", "someone"))
        self._start_server()

    def _add(self, issue: int, body: str, login: str = "github-actions[bot]") -> dict:
        self._next += 1
        c = {"id": self._next, "issue": issue, "body": body, "user": {"login": login},
             "html_url": f"https://github.example/{self.repo}/pull/{issue}#issuecomment-{self._next}"}
        self.comments[c["id"]] = c
        return c

    def on_issue(self, issue: int) -> list[dict]:
        return [c for c in self.comments.values() if c["issue"] == issue]

    def _handler(self):
        gh = self

        class Handler(JsonHandler):

            def _route(self, method):
                n = int(self.headers.get("content-length") or 0)
                body = json.loads(self.rfile.read(n)) if n else None
                path, _, query = self.path.partition("?")
                with gh._lock:
                    gh.calls.append((method, self.path))
                    if self.headers.get("authorization") != f"Bearer {gh.token}":
                        return self._json(401, {"message": "Bad credentials"})
                    if self.headers.get("accept") != "application/vnd.github+json":
                        return self._json(415, {"message": "expected the GitHub media type"})
                    m = re.fullmatch(rf"/repos/{gh.repo}/issues/(\d+)/comments", path)
                    if m and method == "GET":
                        q = dict(p.split("=", 1) for p in query.split("&") if "=" in p)
                        per, page = int(q.get("per_page", 30)), int(q.get("page", 1))
                        items = gh.on_issue(int(m.group(1)))[(page - 1) * per: page * per]
                        return self._json(200, items)
                    if m and method == "POST":
                        return self._json(201, gh._add(int(m.group(1)), body["body"]))
                    m = re.fullmatch(rf"/repos/{gh.repo}/issues/comments/(\d+)", path)
                    if m and method == "PATCH":
                        c = gh.comments.get(int(m.group(1)))
                        if c is None:
                            return self._json(404, {"message": "Not Found"})
                        if c["user"]["login"] != "github-actions[bot]":
                            return self._json(403, {"message": "Resource not accessible by integration"})
                        c["body"] = body["body"]
                        return self._json(200, c)
                    return self._json(404, {"message": "Not Found"})

            def do_GET(self):
                self._route("GET")

            def do_POST(self):
                self._route("POST")

            def do_PATCH(self):
                self._route("PATCH")

        return Handler


def load_action() -> dict:
    with open(REPO / "action.yml", encoding="utf-8") as f:
        return yaml.safe_load(f)


_EXPR = re.compile(r"\$\{\{\s*(.*?)\s*\}\}")


class ActionRun:
    """Runs the composite action's steps like a runner: ``${{ }}`` expressions
    over inputs, github and step outputs; ``if:`` conditions; ``run`` steps
    in bash with GITHUB_OUTPUT/GITHUB_STEP_SUMMARY/RUNNER_TEMP...; ``uses``
    steps are recorded with their resolved inputs (they run on GitHub)."""

    def __init__(self, workspace: Path, temp: Path, inputs: dict, env: dict):
        self.action = load_action()
        self.workspace, self.temp = workspace, temp
        self.inputs = {k: str(v.get("default", "")) for k, v in self.action["inputs"].items()}
        self.inputs.update({k: str(v) for k, v in inputs.items()})
        self.env = env
        self.steps: dict[str, dict] = {}
        self.uses: list[dict] = []
        self.results: list[tuple[str, int, str, str]] = []

    def value(self, expr: str) -> str:
        parts = expr.split(".")
        if parts[0] == "inputs":
            v = self.inputs.get(parts[1], "")
            return self.expand(v)
        if parts[0] == "github":
            return {"action_path": str(REPO), "token": self.env["GITHUB_TOKEN_FOR_TEST"],
                    "workspace": str(self.workspace)}[parts[1]]
        if parts[0] == "steps":
            return self.steps.get(parts[1], {}).get("outputs", {}).get(parts[3], "")
        raise AssertionError(f"expression not supported by this runner: {expr}")

    def condition(self, expr: str) -> bool:
        ok = True
        for clause in expr.split("&&"):
            m = re.fullmatch(r"\s*([\w.\-]+)\s*(==|!=)\s*'([^']*)'\s*", clause)
            assert m, f"condition not supported by this runner: {clause}"
            v = self.value(m.group(1))
            ok = ok and ((v == m.group(3)) if m.group(2) == "==" else (v != m.group(3)))
        return ok

    def expand(self, text: str) -> str:
        return _EXPR.sub(lambda m: self.value(m.group(1)), text)

    def run(self, skip_install: bool = False) -> int:
        assert self.action["runs"]["using"] == "composite"
        out_file = self.temp / "github_output"
        summary = self.temp / "step_summary"
        base_env = {**{k: v for k, v in os.environ.items() if not k.startswith(("GITHUB_", "INPUT_", "AGENT_"))},
                    "RUNNER_TEMP": str(self.temp), "GITHUB_WORKSPACE": str(self.workspace),
                    "GITHUB_STEP_SUMMARY": str(summary),
                    **{k: v for k, v in self.env.items() if k != "GITHUB_TOKEN_FOR_TEST"}}
        for step in self.action["runs"]["steps"]:
            cond = step.get("if")
            if cond and not self.condition(_EXPR.sub(lambda m: m.group(1), cond)):
                continue
            if "uses" in step:
                self.uses.append({"uses": step["uses"], "with": {k: self.expand(str(v))
                                                                 for k, v in (step.get("with") or {}).items()}})
                continue
            if skip_install and step["name"].startswith("Install"):
                continue
            out_file.write_text("")
            env = {**base_env, "GITHUB_OUTPUT": str(out_file)}
            env.update({k: self.expand(str(v)) for k, v in (step.get("env") or {}).items()})
            assert "${{" not in step["run"], "inputs reach the script through env, never interpolated"
            r = subprocess.run(["bash", "-e", "-c", step["run"]], cwd=self.workspace, env=env,
                               capture_output=True, text=True, timeout=600)
            self.results.append((step["name"], r.returncode, r.stdout, r.stderr))
            if step.get("id"):
                self.steps[step["id"]] = {"outputs": parse_outputs(out_file.read_text())}
            if r.returncode != 0:
                return r.returncode
        return 0

    @property
    def outputs(self) -> dict:
        return {k: self.expand(v["value"]) for k, v in self.action["outputs"].items()}

    def step_output(self, name: str) -> str:
        return next(r[2] + r[3] for r in self.results if r[0] == name)


def parse_outputs(text: str) -> dict:
    out, lines, i = {}, text.splitlines(), 0
    while i < len(lines):
        line = lines[i]
        if "<<" in line and "=" not in line.split("<<")[0]:
            k, delim = line.split("<<", 1)
            j = lines.index(delim, i + 1)
            out[k] = "\n".join(lines[i + 1: j])
            i = j + 1
            continue
        if "=" in line:
            k, v = line.split("=", 1)
            out[k] = v
        i += 1
    return out

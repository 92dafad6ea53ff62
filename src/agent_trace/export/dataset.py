"""Datasets: LLM calls as parquet rows, with the agents' own session logs,
and a secret gate before anything is published.

A dataset folder holds ``data/llm_calls.parquet``, ``sessions/<id>.jsonl`` and
a ``README.md`` dataset card; ``--hub owner/name`` pushes exactly that folder
(``--dry-run`` writes it and stops).  Before writing, every string of the
session as stored is scanned for secrets (the redaction scanner); a hit
refuses the export unless ``allow_secrets`` is given.  Either way what is
written is redacted (rows and session log alike), like every export.
"""

from __future__ import annotations

import os

import json

from ..event.encode import to_bytes
from ..event.redact import find_secrets, redact_event
from ..store.reader import iter_events
from .tables import DATASET_COLUMNS, dataset_rows


class DatasetError(Exception):
    pass


def _pyarrow():
    try:
        import pyarrow
        import pyarrow.parquet
    except ImportError:
        raise DatasetError("parquet export needs the parquet extra: pip install 'agent-strace[parquet]'") from None
    return pyarrow


def scan_secrets(texts) -> list[tuple[str, str]]:
    found = []
    for t in texts:
        if isinstance(t, str):
            for name, value in find_secrets(t):
                found.append((name, value[:6] + "..." + value[-4:] if len(value) > 12 else "..."))
    return found


def _events(path: str, anonymizer):
    for e in iter_events(path):
        yield anonymizer.event(e) if anonymizer else e


def write_parquet(path: str, rows: list[dict]) -> None:
    pa = _pyarrow()
    schema = pa.schema([(c, pa.int64() if c == "turn" else pa.string()) for c in DATASET_COLUMNS])
    table = pa.Table.from_pylist([{c: r.get(c) for c in DATASET_COLUMNS} for r in rows], schema=schema)
    pa.parquet.write_table(table, path)


def build(session_path: str, out_dir: str, anonymizer=None, allow_secrets: bool = False) -> dict:
    """Write the dataset folder; returns what was written."""
    stored = [json.dumps(e, ensure_ascii=False) for e in _events(session_path, anonymizer)]
    hits = scan_secrets([v for r in dataset_rows(_events(session_path, anonymizer)) for v in r.values()] + stored)
    rows = list(dataset_rows(redact_event(dict(e)) for e in _events(session_path, anonymizer)))
    lines = [to_bytes(e) for e in _events(session_path, anonymizer)]
    if hits and not allow_secrets:
        kinds = ", ".join(sorted({k for k, _ in hits}))
        raise DatasetError(f"refusing to export: {len(hits)} verified-looking secret(s) found ({kinds}), "
                           f"e.g. {hits[0][1]}; remove them or pass --allow-secrets")
    session = os.path.basename(session_path)[: -len(".jsonl")]
    os.makedirs(os.path.join(out_dir, "data"), exist_ok=True)
    os.makedirs(os.path.join(out_dir, "sessions"), exist_ok=True)
    parquet = os.path.join(out_dir, "data", "llm_calls.parquet")
    write_parquet(parquet, rows)
    log = os.path.join(out_dir, "sessions", f"{session}.jsonl")
    with open(log, "wb") as f:
        f.write(b"".join(ln + b"\n" for ln in lines))
    card = os.path.join(out_dir, "README.md")
    with open(card, "w", encoding="utf-8") as f:
        f.write(dataset_card(session, len(rows), len(lines), anonymizer is not None))
    return {"rows": len(rows), "events": len(lines), "files": [parquet, log, card]}


def dataset_card(session: str, rows: int, events: int, anonymized: bool) -> str:
    cols = "\n".join(f"| `{c}` | {d} |" for c, d in (
        ("request_id", "the upstream's request id (or the response id)"),
        ("model", "model requested/served"), ("captured_at", "when the response completed (UTC)"),
        ("task_id", "task number in an `agent-strace run --tasks` corpus"), ("turn", "turn within the task"),
        ("request", "the request body, JSON, unchanged"),
        ("response", "the response body, JSON; raw SSE text for streams"),
        ("served_by", "the upstream's server header"), ("served_build_info", "the upstream's build header"),
        ("served_model", "the model the upstream says served the call"), ("provider", "anthropic, openai ..."),
        ("upstream_url", "the API base URL"), ("session", "agent session id"), ("agent", "agent or subagent")))
    pseudo = " Usernames, home paths, hostnames and emails are pseudonymised." if anonymized else ""
    return f"""---
configs:
- config_name: llm_calls
  data_files: data/llm_calls.parquet
tags:
- agent-traces
- agent-strace
---
# Agent session capture

Recorded with [agent-strace](https://pypi.org/project/agent-strace/): {rows} LLM call(s) and the agent's own
session log ({events} events) of session `{session}`.{pseudo}
Credentials were removed before capture and the export passed a secret scan.

## `data/llm_calls.parquet`

| column | meaning |
|---|---|
{cols}

## `sessions/*.jsonl`

The agent-strace event log, one JSON event per line (schema: `event.schema.json` in the package).
"""


def push(folder: str, repo: str, token: str | None = None) -> str:
    try:
        from huggingface_hub import HfApi
    except ImportError:
        raise DatasetError("pushing needs the hub extra: pip install 'agent-strace[hub]'") from None
    api = HfApi(token=token)
    api.create_repo(repo, repo_type="dataset", exist_ok=True)
    info = api.upload_folder(folder_path=folder, repo_id=repo, repo_type="dataset")
    return str(getattr(info, "commit_url", info))

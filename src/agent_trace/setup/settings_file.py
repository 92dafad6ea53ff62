"""Read-merge-write of an agent's JSON settings file, safely.

* a missing file is an empty object; a file that is not a JSON object is an
  error (we never overwrite what we cannot read);
* before the first change the original is copied to ``<file>.agent-strace.bak``;
* writes go to a temp file in the same folder, then ``os.replace``;
* writing what is already there is a no-op (idempotent ``setup``).
"""

from __future__ import annotations

import json
import os
import shutil
import tempfile


class SettingsError(Exception):
    pass


def load(path: str) -> dict:
    try:
        with open(path, encoding="utf-8") as f:
            text = f.read()
    except FileNotFoundError:
        return {}
    except OSError as e:
        raise SettingsError(f"cannot read {path}: {e.strerror}") from None
    if not text.strip():
        return {}
    try:
        data = json.loads(text)
    except ValueError as e:
        raise SettingsError(f"{path} is not valid JSON ({e}); fix it or move it away first") from None
    if not isinstance(data, dict):
        raise SettingsError(f"{path} holds a JSON {type(data).__name__}, not an object")
    return data


def render(data: dict) -> str:
    return json.dumps(data, indent=2, ensure_ascii=False) + "\n"


def save(path: str, data: dict) -> bool:
    """Write ``data`` to ``path``; returns False when nothing changed."""
    new = render(data)
    try:
        with open(path, encoding="utf-8") as f:
            old = f.read()
    except FileNotFoundError:
        old = None
    if old is not None and old == new:
        return False
    if old is not None and json.loads(old or "{}") == data:
        return False
    folder = os.path.dirname(os.path.abspath(path))
    os.makedirs(folder, exist_ok=True)
    if old is not None:
        backup = path + ".agent-strace.bak"
        if not os.path.exists(backup):
            shutil.copy2(path, backup)
    fd, tmp = tempfile.mkstemp(prefix=".settings.", dir=folder)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            f.write(new)
        if old is not None:
            shutil.copymode(path, tmp)
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise
    return True

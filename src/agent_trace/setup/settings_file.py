"""Read-merge-write of an agent's JSON settings file, safely.

* a missing file is an empty object; a file that is not a JSON object is an
  error (we never overwrite what we cannot read);
* before the first change the original is copied to ``<file>.agent-strace.bak``
  (only an original without our hooks: the backup is the file as it was
  before setup, which uninstall restores);
* writes go to a temp file in the same folder, then ``os.replace``; a new
  file gets the permissions the user's umask gives, an existing one keeps its
  own;
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


def backup_path(path: str) -> str:
    return path + ".agent-strace.bak"


def load_backup(path: str) -> dict | None:
    """The file as it was before setup, when a backup of it exists."""
    try:
        return load(backup_path(path)) if os.path.exists(backup_path(path)) else None
    except SettingsError:
        return None


def save(path: str, data: dict, backup: bool = True) -> bool:
    """Write ``data`` to ``path``; returns False when nothing changed.
    ``backup``: copy the current file aside first (when there is no copy yet)."""
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
    if old is not None and backup and not os.path.exists(backup_path(path)):
        shutil.copy2(path, backup_path(path))
    fd, tmp = tempfile.mkstemp(prefix=".settings.", dir=folder)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            f.write(new)
        if old is not None:
            shutil.copymode(path, tmp)
        else:
            os.chmod(tmp, 0o666 & ~_umask())
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise
    return True


def restore(path: str) -> None:
    """Put the backup back in place of ``path`` (byte for byte)."""
    os.replace(backup_path(path), path)


def delete(path: str) -> None:
    """Remove a file setup created, and its folder when setup leaves it empty."""
    os.unlink(path)
    folder = os.path.dirname(os.path.abspath(path))
    try:
        os.rmdir(folder)  # only succeeds when empty
    except OSError:
        pass


def _umask() -> int:
    mask = os.umask(0o022)
    os.umask(mask)
    return mask

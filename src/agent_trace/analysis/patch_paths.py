"""The files a Codex ``apply_patch`` touches, from the patch text.

Codex's editing tool takes a patch, not a path (``{"command": "*** Begin
Patch\\n*** Update File: a.py\\n..."}``), so the files are read from its
header lines: ``*** Add File:``, ``*** Update File:``, ``*** Delete File:``
and ``*** Move to:`` (the new name of an updated file).  The same patch can
arrive inside a shell command (``apply_patch <<'EOF' ...``).  Only those
header lines count: ``+*** Add File: x`` is file content, `` *** ...``
context.
"""

from __future__ import annotations

HEADERS = ("*** Add File:", "*** Update File:", "*** Delete File:", "*** Move to:")
BEGIN = "*** Begin Patch"


def patch_paths(text) -> list[str]:
    """Every path a patch adds, updates, deletes or moves to, in order."""
    if not isinstance(text, str) or BEGIN not in text:
        return []
    out: list[str] = []
    for line in text.splitlines():
        line = line.rstrip()  # headers start the line: " *** Add File:" is context, "+***" content
        if line.startswith("***"):
            for h in HEADERS:
                if line.startswith(h):
                    path = line[len(h):].strip()
                    if path and path not in out:
                        out.append(path)
                    break
    return out

"""Installing agent-strace into agents' settings files (``agent-strace setup``).

Each agent module (:mod:`.claude`, :mod:`.codex`, :mod:`.gemini`) knows where
its settings live and how its hooks are declared; :mod:`.settings_file` does
the careful part they share: read, merge, back up, write atomically.
"""

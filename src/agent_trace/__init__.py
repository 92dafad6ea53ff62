"""agent-strace: strace for AI agents.

Capture sources -> one versioned event -> one append-only JSONL store -> readers.
"""

__version__ = "0.1.0"

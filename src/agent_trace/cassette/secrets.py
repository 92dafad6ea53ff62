"""Secrets in cassettes become placeholders that still match on replay.

A secret the store's redaction finds (the same scanner and the same walk:
secret-shaped text, credential-named members, header and argument lists,
inside base64 bodies too) becomes ``<secret:HASH>``, HASH being the first
12 hex digits of its SHA-256.  The live request is put through the same
function before matching, so a request carrying the same key matches its
recording, and the key itself is never written.  Credential headers are not
recorded at all.
"""

from __future__ import annotations

import hashlib

from ..event.redact import redact_value, sub_secrets

SAFE_HEADERS = frozenset({"content-type", "accept", "anthropic-version", "anthropic-beta", "openai-organization",
                          "openai-project", "x-stainless-lang", "x-stainless-package-version", "user-agent",
                          "request-id", "x-request-id", "openai-processing-ms", "openai-model", "retry-after",
                          "x-claude-code-session-id", "x-agent-strace-session"})


def placeholder(value: str) -> str:
    return "<secret:" + hashlib.sha256(value.encode("utf-8", "surrogatepass")).hexdigest()[:12] + ">"


def scrub_text(text: str) -> str:
    return sub_secrets(text, placeholder)[0]


def scrub(value):
    """A copy of a JSON value with secrets replaced by placeholders."""
    return redact_value(value, [0], placeholder)


def safe_headers(pairs) -> dict:
    return {k.lower(): v for k, v in pairs if k.lower() in SAFE_HEADERS}

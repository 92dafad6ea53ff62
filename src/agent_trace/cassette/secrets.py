"""Secrets in cassettes become placeholders that still match on replay.

A secret-shaped value (the same patterns as the store's redaction) or the
value of a secret-named key becomes ``<secret:HASH>``, HASH being the first
12 hex digits of its SHA-256.  The live request is put through the same
function before matching, so a request carrying the same key matches its
recording, and the key itself is never written.  Credential headers are not
recorded at all.
"""

from __future__ import annotations

import hashlib

from ..event.redact import _is_secret_key, find_secrets

SAFE_HEADERS = frozenset({"content-type", "accept", "anthropic-version", "anthropic-beta", "openai-organization",
                          "openai-project", "x-stainless-lang", "x-stainless-package-version", "user-agent",
                          "request-id", "x-request-id", "openai-processing-ms", "openai-model", "retry-after",
                          "x-claude-code-session-id", "x-agent-strace-session"})


def placeholder(value: str) -> str:
    return "<secret:" + hashlib.sha256(value.encode("utf-8", "surrogatepass")).hexdigest()[:12] + ">"


def scrub_text(text: str) -> str:
    for _name, value in find_secrets(text):
        text = text.replace(value, placeholder(value))
    return text


def scrub(value):
    """A copy of a JSON value with secrets replaced by placeholders."""
    if isinstance(value, str):
        return scrub_text(value) if len(value) >= 16 else value
    if isinstance(value, dict):
        out = {}
        for k, v in value.items():
            if isinstance(v, str) and v and _is_secret_key(str(k)) and not v.startswith("<secret:"):
                out[k] = placeholder(v)
            else:
                out[k] = scrub(v)
        return out
    if isinstance(value, list):
        return [scrub(v) for v in value]
    return value


def safe_headers(pairs) -> dict:
    return {k.lower(): v for k, v in pairs if k.lower() in SAFE_HEADERS}

"""Secret redaction: runs on every event before it reaches disk.

Two passes over the event:

* by key: a JSON object member whose name is a credential name
  (``authorization``, ``x-api-key``, ``api_key``, ``password``, ``cookie`` ...)
  has its string value replaced.  Names are matched exactly (case and ``-``/``_``
  insensitive), so ``input_tokens`` or ``max_tokens`` are never touched.
* by pattern: strings are scanned for well-known token formats (OpenAI,
  Anthropic, GitHub, GitLab, Slack, AWS, Google, Hugging Face, Stripe, JWTs,
  ``Bearer ...``, private key blocks).  Patterns need a vendor prefix or a
  structural marker, so git SHAs and content hashes (bare hex) never match.

A cheap pre-check runs one combined regex over the serialised event; the walk
only happens when it (or a credential key) hits.
"""

from __future__ import annotations

PLACEHOLDER = "[REDACTED]"

SECRET_KEYS = frozenset(
    k.replace("-", "_")
    for k in (
        "authorization", "proxy-authorization", "x-api-key", "api-key", "api_key",
        "apikey", "x-goog-api-key", "openai_api_key", "anthropic_api_key",
        "password", "passwd", "secret", "client_secret", "access_token",
        "refresh_token", "id_token", "auth_token", "session_token", "bearer_token",
        "private_key", "cookie", "set-cookie", "x-auth-token", "x-amz-security-token",
        "aws_secret_access_key", "github_token", "gh_token", "hf_token", "npm_token",
    )
)

# Each pattern names a token format.  Order matters only for the name reported.
_PATTERNS = [
    ("anthropic_key", r"sk-ant-[A-Za-z0-9_\-]{20,}"),
    ("openai_key", r"sk-(?:proj-|svcacct-|admin-)?[A-Za-z0-9_\-]{20,}"),
    ("github_token", r"(?:ghp|gho|ghu|ghs|ghr)_[A-Za-z0-9]{30,}|github_pat_[A-Za-z0-9_]{40,}"),
    ("gitlab_token", r"glpat-[A-Za-z0-9_\-]{20,}"),
    ("slack_token", r"xox[abprs]-[A-Za-z0-9\-]{10,}"),
    ("aws_access_key", r"(?:AKIA|ASIA)[0-9A-Z]{16}"),
    ("google_api_key", r"AIza[0-9A-Za-z_\-]{35}"),
    ("huggingface_token", r"hf_[A-Za-z]{30,}"),
    ("stripe_key", r"(?:sk|rk)_(?:live|test)_[A-Za-z0-9]{20,}"),
    ("jwt", r"eyJ[A-Za-z0-9_\-]{8,}\.eyJ[A-Za-z0-9_\-]{8,}\.[A-Za-z0-9_\-]{8,}"),
    ("bearer", r"(?i:bearer)\s+[A-Za-z0-9_\-\.=:+/]{16,}"),
    ("private_key", r"-----BEGIN [A-Z ]*PRIVATE KEY-----[\s\S]*?-----END [A-Z ]*PRIVATE KEY-----"),
]

# Every pattern above contains one of these literal markers; text without
# any of them cannot match, so ordinary events never load the ``re`` module.
_MARKERS = (
    "sk-", "ghp_", "gho_", "ghu_", "ghs_", "ghr_", "github_pat_", "glpat-", "xox", "AKIA", "ASIA", "AIza", "hf_",
    "_live_", "_test_", "eyJ", "earer", "EARER", "PRIVATE KEY",
)

_COMBINED = None  # compiled lazily: the hook path only pays when it must


def _combined():
    global _COMBINED
    if _COMBINED is None:
        import re

        _COMBINED = re.compile("|".join(f"(?:{p})" for _, p in _PATTERNS))
    return _COMBINED


def find_secrets(text: str) -> list[tuple[str, str]]:
    """(pattern name, match) for every token-shaped secret in ``text``."""
    import re

    found = []
    for m in _combined().finditer(text):
        value = m.group(0)
        for name, pattern in _PATTERNS:
            if re.fullmatch(pattern, value):
                found.append((name, value))
                break
    return found


def redact_text(text: str) -> tuple[str, int]:
    """Replace token-shaped secrets in ``text``; returns (text, count)."""
    if not any(m in text for m in _MARKERS):
        return text, 0
    count = 0

    def sub(m) -> str:
        nonlocal count
        count += 1
        value = m.group(0)
        if value[:6].lower() == "bearer":
            return value[:6] + " " + PLACEHOLDER
        return PLACEHOLDER

    return _combined().sub(sub, text), count


def _is_secret_key(key: str) -> bool:
    return key.lower().replace("-", "_") in SECRET_KEYS


def redact_value(value, counter: list):
    """Return ``value`` with secrets replaced; ``counter[0]`` counts them."""
    if isinstance(value, str):
        new, n = redact_text(value)
        counter[0] += n
        return new
    if isinstance(value, dict):
        out = {}
        for k, v in value.items():
            if isinstance(k, str) and _is_secret_key(k) and isinstance(v, (str, list)) and v:
                counter[0] += 1
                out[k] = PLACEHOLDER if isinstance(v, str) else [PLACEHOLDER for _ in v]
            else:
                out[k] = redact_value(v, counter)
        return out
    if isinstance(value, list):
        return [redact_value(v, counter) for v in value]
    return value


def might_hold_secret(serialised: str) -> bool:
    """Cheap pre-check over an already serialised event."""
    if any(m in serialised for m in _MARKERS) and _combined().search(serialised):
        return True
    low = serialised.lower()
    return any(f'"{k}"' in low or f'"{k.replace("_", "-")}"' in low for k in _KEY_HINTS)


# Key names worth a walk when they appear quoted in the serialised JSON.
_KEY_HINTS = tuple(sorted(SECRET_KEYS))


def redact_event(event: dict) -> dict:
    """Processor: redact ``data``/``error`` and record how many were replaced."""
    counter = [0]
    for field in ("data", "error"):
        if field in event:
            event[field] = redact_value(event[field], counter)
    if counter[0]:
        event["redacted"] = event.get("redacted", 0) + counter[0]
    return event

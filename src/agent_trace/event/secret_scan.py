"""Finding secrets in text: a linear-time scanner over candidate spans.

What it finds (``docs/event-schema.md``, "Redaction and caps"):

* vendor tokens by prefix: OpenAI/Anthropic ``sk-``, GitHub ``ghp_``/``gho_``/
  ``ghu_``/``ghs_``/``ghr_``/``github_pat_``, GitLab ``glpat-``, Slack
  ``xox?-``, AWS access key ids ``AKIA``/``ASIA`` (and a 40-character secret
  access key close after one), Google ``AIza``, Hugging Face ``hf_``, npm
  ``npm_``, PyPI ``pypi-AgE``, Stripe ``sk_live_``/``rk_test_``..., JWTs;
* ``Bearer <token>`` and ``Basic <base64 user:pass>``;
* passwords in URLs and DSNs (``postgres://app:PW@db``);
* values after credential names: ``password=``, ``api_key: ``, ``"token": "``,
  ``--password VALUE``, ``?key=`` / ``&sig=`` in query strings,
  ``Authorization: <scheme> <credentials>``, ``Cookie: ...``;
* private key blocks, with or without their END line.

Only the secret itself is a span: the scheme, the name, the user name and the
host stay.  Token shapes need a boundary on the left (no letter, digit, ``_``
or ``-`` before them, so ``task-management-dashboard.tsx`` or a base64 blob
holding ``sk-`` never match) and a bounded length.

Why it is linear
----------------
Candidates are found with ``str.find`` on fixed markers (C loops over the
text).  Each candidate is examined only forward from its marker, by runs of
a character class (``str.lstrip`` over windows that grow 4x, never past a
bounded length) and ``str.find`` for stop characters: no regular expression,
no backtracking, and no ``re`` import on the hook path.  Candidates inside an
identifier already classified or a value already taken are skipped.  :class:`Work` counts the characters examined; a
scan stops when it exceeds ``WORK_FACTOR`` times the text length (plus a
constant) and then treats the rest of the text as secret (fails closed).
Tests and ``benchmarks/redaction.py --check`` assert the count stays below
that bound, and grows linearly, on adversarial inputs.
"""

from __future__ import annotations

import sys

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Callable, Iterable
    from typing import Any

    Span = tuple[int, int, str]  # (start, end, kind) of a secret in the text
    State = dict[str, Any]  # one scan's memo shared by the rules (next stops, identifier end)

_UPPER = "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
_LOWER = "abcdefghijklmnopqrstuvwxyz"
_DIGITS = "0123456789"
ALNUM = _UPPER + _LOWER + _DIGITS
TOKEN_CHARS = ALNUM + "_-"
BEARER_CHARS = TOKEN_CHARS + ".=:+/~"
B64_CHARS = ALNUM + "+/"
PEM_CHARS = B64_CHARS + "=,: \t\r\n\\"
IDENT_CHARS = _LOWER + _DIGITS + "_-."
UPPER_DIGITS = _UPPER + _DIGITS

WORK_FACTOR = 64     # budget: work units per character of text ...
WORK_BASE = 4096     # ... plus this
CANDIDATE_UNITS = 16  # what examining one candidate counts, beyond the characters it reads
MAX_TOKEN = 512      # vendor tokens, URL authorities, name=value values
MAX_BEARER = 8192    # bearer tokens may be long JWTs
MAX_PEM = 65536      # a private key block's body
MAX_IDENT = 128      # a credential name (identifier) around a marker

_WORD = frozenset(TOKEN_CHARS)
_IDENT = frozenset(IDENT_CHARS)
_B64 = frozenset(B64_CHARS)
_AUTHORITY_STOPS = "/?#\"'<>\\` \t\r\n|{}^"  # never in a URL authority (RFC 3986)
_VALUE_STOPS = "\"'&;,<>()[]{}\\ \t\r\n"
_LINE_STOPS = "\r\n\"'"
_VALUE_STOPSET = frozenset(_VALUE_STOPS)
_LINE_STOPSET = frozenset(_LINE_STOPS)


class Work:
    """Characters examined by one scan (candidates, windows, runs)."""

    __slots__ = ("units", "budget", "exhausted")

    def __init__(self, n: int) -> None:
        self.units = 0
        self.budget = WORK_BASE + WORK_FACTOR * n
        self.exhausted = False


def _run(text: str, start: int, limit: int, chars: str, work: Work) -> int:
    """End of the run of ``chars`` from ``start`` (at most ``limit`` long).
    Windows grow 4x at a time, so the work is under twice the run's length."""
    end_max = min(len(text), start + limit + 1)
    w = 64
    while True:
        stop = min(end_max, start + w)
        seg = text[start:stop]
        r = len(seg) - len(seg.lstrip(chars))
        work.units += len(seg) + 1
        if r < len(seg) or stop >= end_max:
            return start + r
        w *= 4


def _until(text: str, start: int, limit: int, stops: str, work: Work, nxt: dict[str, int]) -> int:
    """Position of the first of ``stops`` at or after ``start``, or ``start +
    limit + 1`` when there is none that close.

    ``nxt`` remembers, per stop character, its next position at or after an
    earlier start.  Callers pass starts in increasing order (one marker's
    pass over the text), so each character's ``find`` covers any stretch of
    text once per pass: linear in total.
    """
    n = len(text)
    best = n
    for c in stops:
        p = nxt.get(c, -1)
        if p < start:
            p = text.find(c, start)
            if p < 0:
                p = n
            work.units += p - start + 1
            nxt[c] = p
        if p < best:
            best = p
    return min(best, start + limit + 1)


def _boundary_before(text: str, p: int) -> bool:
    """No word character before ``p`` (an escape like ``\\n`` counts as none)."""
    if p == 0:
        return True
    c = text[p - 1]
    if c not in _WORD:
        return True
    return p >= 2 and text[p - 2] == "\\" and c in "ntr"


def _boundary_after(text: str, p: int) -> bool:
    return p >= len(text) or text[p] not in _WORD


_SK_STRONG = ("ant-api", "ant-admin", "proj-", "svcacct-")  # prefixes no word continues into


def _mixed(s: str) -> bool:
    """Random-looking: a digit, an upper and a lower case letter."""
    return not s.isalpha() and not s.isdigit() and s != s.lower() and s != s.upper() \
        and any(c in _DIGITS for c in s)


# -- token rules: (text, start of marker, work) -> (span start, span end, kind) | None --

def _sk(text: str, p: int, work: Work) -> Span | None:
    if not _boundary_before(text, p) and not (p and not text[p - 1].isalnum()
                                              and text.startswith(_SK_STRONG, p + 3)):
        return None  # "task-..." is a word; "name-sk-ant-api03-..." is still a key
    end = _run(text, p + 3, MAX_TOKEN, TOKEN_CHARS, work)
    body = text[p + 3:end]
    if not 20 <= len(body) <= MAX_TOKEN - 3 or not _mixed(body):
        return None
    return p, end, "anthropic_key" if body.startswith("ant-") else "openai_key"


def _prefixed(prefix_len: int, chars: str, lo: int, hi: int, kind: str) -> Callable[[str, int, Work], Span | None]:
    def rule(text: str, p: int, work: Work) -> Span | None:
        if not _boundary_before(text, p):
            return None
        end = _run(text, p + prefix_len, hi, chars, work)
        if not lo <= end - p - prefix_len <= hi or not _boundary_after(text, end):
            return None
        return p, end, kind
    return rule


def _stripe(text: str, p: int, work: Work) -> Span | None:
    # marker "k_live_" / "k_test_": the key starts one character earlier
    if p == 0 or text[p - 1] not in "sr" or not _boundary_before(text, p - 1):
        return None
    end = _run(text, p + 7, MAX_TOKEN, ALNUM, work)
    return (p - 1, end, "stripe_key") if 20 <= end - p - 7 <= MAX_TOKEN and _boundary_after(text, end) else None


def _slack(text: str, p: int, work: Work) -> Span | None:
    if not _boundary_before(text, p) or len(text) < p + 5 or text[p + 3] not in "abprse" or text[p + 4] != "-":
        return None
    end = _run(text, p + 5, MAX_TOKEN, TOKEN_CHARS, work)
    return (p, end, "slack_token") if 10 <= end - p - 5 <= MAX_TOKEN else None


def _pypi(text: str, p: int, work: Work) -> Span | None:
    if not text.startswith("pypi-AgE", p) or not _boundary_before(text, p):
        return None
    end = _run(text, p + 8, MAX_TOKEN, TOKEN_CHARS, work)
    return (p, end, "pypi_token") if 40 <= end - p - 8 <= MAX_TOKEN else None


def _aws(text: str, p: int, work: Work) -> list[Span] | None:
    if not _boundary_before(text, p):
        return None
    end = _run(text, p + 4, 16, UPPER_DIGITS, work)
    if end - p - 4 != 16 or not _boundary_after(text, end):
        return None
    out = [(p, end, "aws_access_key")]
    # a secret access key written close after its id (credentials files, env dumps):
    # a run of exactly 40 base64 characters, mixed case, within 256 characters
    i, wend = end, min(len(text), end + 256)
    while i < wend:
        if text[i] not in _B64:
            i += 1
            work.units += 1
            continue
        j = _run(text, i, 41, B64_CHARS, work)
        if j - i == 40 and (j >= len(text) or text[j] not in "=") and text[i - 1] != "=" and _mixed(text[i:j]):
            out.append((i, j, "aws_secret_key"))
            break
        i = j
    return out


def _jwt(text: str, p: int, work: Work) -> Span | None:
    if not _boundary_before(text, p):
        return None
    a = _run(text, p + 3, 4096, TOKEN_CHARS, work)
    if a - p < 11 or a >= len(text) or text[a] != ".":
        return None
    b = _run(text, a + 1, 8192, TOKEN_CHARS, work)
    if b - a < 9 or b >= len(text) or text[b] != ".":
        return None
    c = _run(text, b + 1, 2048, TOKEN_CHARS, work)
    return (p, c, "jwt") if c - b >= 9 else None


def _pem_head(text: str, p: int, work: Work) -> int:
    """End of ``-----BEGIN [A-Z0-9 ]* PRIVATE KEY[ BLOCK]-----`` at ``p``, or -1."""
    i = p + 11
    label_end = _run(text, i, 40, UPPER_DIGITS + " ", work)
    label = text[i:label_end]
    if not label.endswith(("PRIVATE KEY", "PRIVATE KEY BLOCK")) or not text.startswith("-----", label_end):
        return -1
    return label_end + 5


def _pem(text: str, p: int, work: Work, state: State) -> Span | None:
    body = _pem_head(text, p, work)
    if body < 0:
        return None
    nxt = state.get("pem_end", -1)
    if nxt != -2 and nxt < body:  # the next END marker, looked up once per stretch of text
        nxt = text.find("-----END", body)
        work.units += (nxt if nxt >= 0 else len(text)) - body
        state["pem_end"] = nxt if nxt >= 0 else -2
    end = body
    while True:  # base64 lines, headers like "Proc-Type: 4,ENCRYPTED", escaped newlines
        end = _run(text, end, MAX_PEM - (end - body), PEM_CHARS, work)
        if (end < len(text) - 1 and text[end] == "-" and text[end - 1].isalpha() and text[end + 1].isalpha()
                and end - body < MAX_PEM):
            end += 1
            continue
        break
    if 0 <= nxt <= end:
        end = nxt  # the whole body up to the END line
    while end > body and text[end - 1] in " \t\r\n\\":
        end -= 1
    start = body
    while start < end and (text[start] in " \t\r\n\\" or (text[start] == "n" and text[start - 1] == "\\")):
        start += 1
    return (start, end, "private_key") if end > start else None  # the header says what follows


def _url(text: str, p: int, work: Work, state: State) -> Span | None:
    """``scheme://user:PASSWORD@host``: the password."""
    if p == 0 or not text[p - 1].isalnum():
        return None
    end = _until(text, p + 3, MAX_TOKEN, _AUTHORITY_STOPS, work, state["next"])
    authority = text[p + 3:end]
    at = authority.rfind("@")
    colon = authority.find(":", 0, at) if at > 0 else -1
    if colon < 0:
        return None
    start, stop = p + 3 + colon + 1, p + 3 + at
    if _placeholder(text[start:stop]):
        return None
    return start, stop, "url_password"


def _after_space(text: str, i: int) -> int:
    j = i
    while j < len(text) and j - i < 8 and text[j] in " \t":
        j += 1
    return j


def _bearer(text: str, low: str, p: int, work: Work) -> Span | None:
    if not _boundary_before(low, p):
        return None
    j = _after_space(text, p + 6)
    if j == p + 6:
        return None
    end = _run(text, j, MAX_BEARER, BEARER_CHARS, work)
    return (j, end, "bearer") if end - j >= 16 else None


def _basic(text: str, low: str, p: int, work: Work) -> Span | None:
    if not _boundary_before(low, p):
        return None
    j = _after_space(text, p + 5)
    if j == p + 5:
        return None
    end = _run(text, j, 1024, B64_CHARS, work)
    while end < len(text) and end - j < 1026 and text[end] == "=":
        end += 1
    token = text[j:end]
    if len(token) < 8 or not _boundary_after(text, end):
        return None
    if "authorization" in low[max(0, p - 24):p]:
        return j, end, "basic_auth"
    import binascii

    try:
        decoded = binascii.a2b_base64(token + "=" * (-len(token) % 4)).decode("utf-8")
    except (binascii.Error, UnicodeDecodeError):
        return None
    if ":" in decoded and decoded.isprintable():
        return j, end, "basic_auth"
    return None


# -- credential names --------------------------------------------------------------

PW, TOKEN, LINE, QUERY = "password", "token", "header", "query"
_PW_SUFFIXES = ("password", "passwd", "passphrase", "_pwd", "secret")
_PW_EXACT = frozenset({"pass"})
_TOKEN_SUFFIXES = ("token", "apikey", "api_key", "private_key", "privatekey", "secret_key", "secretkey",
                   "access_key", "accesskey", "signing_key", "encryption_key", "master_key", "auth", "auth_key",
                   "credential", "credentials")
_LINE_EXACT = frozenset({"authorization", "proxy_authorization", "cookie", "set_cookie"})
_QUERY_EXACT = frozenset({"key", "sig", "signature", "x_amz_signature", "x_amz_credential"})
NAME_MARKERS = ("pass", "pwd", "secret", "token", "key", "auth", "cookie", "credential", "sig")


def classify_name(name: str) -> str | None:
    """The credential class of a member or parameter name, or None.

    Names match by their ending, case and ``-``/``_`` insensitive, so
    ``DB_PASSWORD``, ``client_secret``, ``X-Api-Key`` and ``_authToken`` are
    credentials while ``max_tokens``, ``input_tokens`` or ``tokenizer`` are not.
    """
    n = name.strip().lower().replace("-", "_").lstrip("_.")
    if not n or len(n) > MAX_IDENT:
        return None
    if n in _LINE_EXACT:
        return LINE
    if n in _PW_EXACT or n.endswith(_PW_SUFFIXES):
        return PW
    if n.endswith(_TOKEN_SUFFIXES):
        return TOKEN
    if n in _QUERY_EXACT:
        return QUERY
    return None


_PLACEHOLDER_WORDS = frozenset({
    "null", "none", "nil", "true", "false", "undefined", "required", "optional", "str", "string", "int",
    "bytes", "bool", "any", "secretstr", "redacted", "await", "new", "self", "this", "function", "lambda",
    "return", "env", "changeme", "xxx", "..."})


_PLACEHOLDER_FIRST = frozenset("$%<{[*")


def _placeholder(value: str) -> bool:
    """Values that stand for a secret rather than being one."""
    if not value:
        return True
    c = value[0]
    if c in _PLACEHOLDER_FIRST or value.startswith(("...", "xxx", "XXX")):
        return True
    return value.lower() in _PLACEHOLDER_WORDS


def _looks_like_code(value: str, nxt: str) -> bool:
    """An expression rather than a literal: ``os.environ[...]``, ``get()``."""
    return (nxt != "" and nxt in "([") or ("." in value and value.replace(".", "").replace("_", "").isalnum()
                            and not value.replace(".", "").isdigit())


def _short_until(text: str, start: int, stopset: frozenset[str]) -> int:
    """First stop character within 32 of ``start``, or -1 (most values are short)."""
    for i, ch in enumerate(text[start:start + 32]):
        if ch in stopset:
            return start + i
    return -1 if start + 32 < len(text) else len(text)


def _name(text: str, low: str, p: int, work: Work, state: State, lenient: bool) -> Span | None:
    """A credential name around ``p`` followed by a separator: span of its value."""
    if p < state["ident_end"]:
        return None  # inside an identifier already classified
    seg = low[p:p + 64]
    r = len(seg) - len(seg.lstrip(IDENT_CHARS))
    e = p + r if r < len(seg) else _run(low, p, MAX_IDENT, IDENT_CHARS, work)
    state["ident_end"] = e
    work.units += r + 16
    while e > p and low[e - 1] == ".":
        e -= 1
    # the separator, in a small window: quote(s) closing the name, spaces,
    # ":" "=" "=>" ":=" (or a space after a --flag), spaces, quote(s) opening the value
    w = text[e:e + 16]
    a = w.lstrip("\"'\\")
    closed = len(a) < len(w)
    b = a.lstrip(" \t")
    spaced = len(b) < len(a)
    c0 = b[:1]
    if c0 == ":" or c0 == "=":
        two = b[:2]
        if two == "==" or two == "::":
            return None
        b = b[2:] if two == "=>" or two == ":=" else b[1:]
        how = "sep"
    elif c0 and spaced and not closed:
        how = "flag"
    elif lenient and closed:
        how = "quoted"
    else:
        return None
    seg = low[max(0, p - MAX_IDENT):p]
    s = p - (len(seg) - len(seg.rstrip(IDENT_CHARS)))
    work.units += p - s
    ident = low[s:e]
    if how == "flag" and not ident.startswith("-"):
        return None
    if s and text[s - 1] == "<" and ident == "secret":
        return None  # a cassette placeholder, <secret:HASH>: already a stand-in
    cls = classify_name(ident)
    if cls is None or (cls == QUERY and (s == 0 or text[s - 1] not in "?&")):
        return None
    if lenient:
        return e, e, "credential_name"  # the walk decides on the value
    if how == "quoted":
        return None
    c = b.lstrip(" \t")
    tight = how == "sep" and not spaced and len(c) == len(b) and not closed  # NAME=value, --flag=value
    k = e + len(w) - len(c)  # where the value (or its opening quote) starts
    q = c.lstrip("\\")
    n = len(text)
    if q[:1] in ("\"", "'") and len(c) - len(q) <= 3:
        close = c[:len(c) - len(q) + 1]  # the same escapes and quote close the value
        start = k + len(close)
        limit = min(n, start + MAX_TOKEN)
        stop = text.find(close, start, limit)
        nl = text.find("\n", start, stop if stop >= 0 else limit)
        if stop < 0 or nl >= 0:
            stop = nl if nl >= 0 else limit
        work.units += stop - start
        value = text[start:stop]
        quoted = True
    elif cls == LINE:
        start = k
        stop = _short_until(text, start, _LINE_STOPSET)
        if stop < 0:
            stop = _until(text, start, 2048, _LINE_STOPS, work, state["next"])
        value = text[start:stop].rstrip()
        stop = start + len(value)
        sp = value.find(" ")
        if 0 < sp < 16 and value[:sp].isalpha():  # keep the scheme: "Bearer", "Basic", "token"
            start += sp + 1
            value = value[sp + 1:]
        quoted = True
    else:
        start = k
        if text[start:start + 1] in _PLACEHOLDER_FIRST or text.startswith(("...", "xxx", "XXX"), start):
            return None  # decided before reading a possibly long value
        stop = _short_until(text, start, _VALUE_STOPSET)
        if stop < 0:
            stop = _until(text, start, MAX_TOKEN, _VALUE_STOPS, work, state["next"])
        work.units += stop - start
        value = text[start:stop]
        quoted = False
    if _placeholder(value) or value.lower() == ident.lstrip("-_"):
        return None
    if not quoted:
        if _looks_like_code(value, text[stop] if stop < n else ""):
            return None
        if cls == TOKEN and not tight and (len(value) < 8 or value.isalpha()):
            return None  # "token: expired", "auth: oauth": prose, not a credential
    state["ident_end"] = max(state["ident_end"], stop)
    return start, stop, "credential_value" if cls != LINE else "credential_header"


# -- the scan ------------------------------------------------------------------------

_CS_RULES = {
    "sk-": _sk,
    "k_live_": _stripe, "k_test_": _stripe,
    "ghp_": _prefixed(4, ALNUM, 30, 255, "github_token"),
    "gho_": _prefixed(4, ALNUM, 30, 255, "github_token"),
    "ghu_": _prefixed(4, ALNUM, 30, 255, "github_token"),
    "ghs_": _prefixed(4, ALNUM, 30, 255, "github_token"),
    "ghr_": _prefixed(4, ALNUM, 30, 255, "github_token"),
    "github_pat_": _prefixed(11, ALNUM + "_", 40, 255, "github_token"),
    "glpat-": _prefixed(6, TOKEN_CHARS, 20, 64, "gitlab_token"),
    "xox": _slack,
    "AKIA": _aws, "ASIA": _aws,
    "AIza": _prefixed(4, TOKEN_CHARS, 35, 35, "google_api_key"),
    "hf_": _prefixed(3, ALNUM, 30, 64, "huggingface_token"),
    "npm_": _prefixed(4, ALNUM, 36, 36, "npm_token"),
    "pypi-": _pypi,
    "eyJ": _jwt,
}
_MARKERS: list[tuple[str, Any, str]] = ([(m, r, "cs") for m, r in _CS_RULES.items()]
            + [("://", _url, "state"), ("-----BEGIN ", _pem, "state"), ("bearer", _bearer, "ci"),
               ("basic", _basic, "ci")]
            + [(m, None, "name") for m in NAME_MARKERS])


def _lowered(text: str) -> str:
    """``text.lower()`` with positions kept: U+0130 is the one character whose
    lower case is two characters long."""
    low = text.lower()
    if len(low) == len(text):
        return low
    return text.replace("\u0130", "i").lower()


ALL_MARKERS = tuple(range(len(_MARKERS)))
_CS_IDX = tuple(i for i, m in enumerate(_MARKERS) if m[2] not in ("ci", "name"))
_CI_IDX = tuple(i for i, m in enumerate(_MARKERS) if m[2] in ("ci", "name"))


# case-sensitive markers sharing a prefix: one compiled pattern (a literal
# prefix, so ``re`` skips ahead at C speed) says whether any of them is there
_CS_GROUPS = (("g(?:h[pousr]_|ithub_pat_)", ("ghp_", "gho_", "ghu_", "ghs_", "ghr_", "github_pat_")),
              ("k_(?:live|test)_", ("k_live_", "k_test_")), ("A(?:KIA|SIA|Iza)", ("AKIA", "ASIA", "AIza")))
_CS_SOLO = tuple(i for i in _CS_IDX if not any(_MARKERS[i][0] in g[1] for g in _CS_GROUPS))
_compiled_groups: list[tuple[Any, tuple[int, ...]]] = []


def _cs_groups() -> list[tuple[Any, tuple[int, ...]]]:
    if not _compiled_groups:
        import re

        index = {m[0]: i for i, m in enumerate(_MARKERS)}
        _compiled_groups.extend((re.compile(p), tuple(index[m] for m in members)) for p, members in _CS_GROUPS)
    return _compiled_groups


def present_markers(text: str, low: str | None = None, grouped: bool | None = None) -> tuple[int, ...]:
    """Indices of the markers that occur in ``text``.

    Every marker is printable ASCII without a quote or a backslash, so JSON
    escaping never splits one: a marker in any string of a serialised object
    (member names included) is in the serialised text too.  A scan of each of
    those strings with ``markers=present_markers(serialised)`` therefore finds
    exactly what a full scan would.
    """
    if grouped is None:
        grouped = "re" in sys.modules  # loaded: a bulk writer, not the hook path
    if grouped:  # markers sharing a prefix are looked for in one pass
        out = [i for i in _CS_SOLO if _MARKERS[i][0] in text]
        for pattern, members in _cs_groups():
            if pattern.search(text):
                out += [i for i in members if _MARKERS[i][0] in text]
        out.sort()
    else:
        out = [i for i in _CS_IDX if _MARKERS[i][0] in text]
    if low is None:
        low = _lowered(text)
    out += [i for i in _CI_IDX if _MARKERS[i][0] in low]
    return tuple(out)


def marker_at(idx: int) -> tuple[str, bool]:
    """The marker with index ``idx`` and whether it is looked for in lower case."""
    return _MARKERS[idx][0], _MARKERS[idx][2] in ("ci", "name")


def _candidates(text: str, low: str, markers: tuple[int, ...] = ALL_MARKERS) -> Iterable[tuple[int, int]]:
    """(position, rule index) of every marker (of ``markers``), in position order."""
    import heapq

    streams: list[list[tuple[int, int]]] = []
    for idx in markers:
        marker, _rule, kind = _MARKERS[idx]
        hay = low if kind in ("ci", "name") else text
        p = hay.find(marker)
        if p < 0:
            continue
        found: list[tuple[int, int]] = []
        while p >= 0:
            found.append((p, idx))
            p = hay.find(marker, p + 1)
        streams.append(found)
    if len(streams) == 1:
        return streams[0]
    return heapq.merge(*streams)


def scan(text: str, work: Work | None = None, lenient: bool = False,
         markers: tuple[int, ...] = ALL_MARKERS) -> list[tuple[int, int, str]]:
    """Sorted, non-overlapping ``(start, end, kind)`` spans of secrets in ``text``.

    Candidates are examined in position order, once each; one inside a span
    already found is skipped.

    ``lenient``: also report every credential name followed by a separator
    (or closing a quoted string) as an empty span, whatever its value: the
    encoder's cheap first pass over a whole serialised event uses it to decide
    whether the event needs the structural walk.

    ``markers``: look only for these markers (indices from
    :func:`present_markers` of a text holding this one); a text holding none
    of them returns at once.
    """
    if markers is not ALL_MARKERS:
        low = None
        for idx in markers:
            if _MARKERS[idx][2] in ("ci", "name"):
                if low is None:
                    low = _lowered(text)
                if _MARKERS[idx][0] in low:
                    break
            elif _MARKERS[idx][0] in text:
                break
        else:
            return []
    n = len(text)
    if work is None:
        work = Work(n)
    found: list[tuple[int, int, str]] = []
    state: State = {"next": {}, "ident_end": -1}
    low = _lowered(text)
    taken = 0
    for p, idx in _candidates(text, low, markers):
        if p < taken:
            work.units += 1
            continue
        work.units += CANDIDATE_UNITS
        marker, rule, kind = _MARKERS[idx]
        if kind == "cs":
            hit = rule(text, p, work)
        elif kind == "ci":
            hit = rule(text, low, p, work)
        elif kind == "name":
            hit = _name(text, low, p, work, state, lenient)
        else:
            hit = rule(text, p, work, state)
        if hit:
            if isinstance(hit, list):
                found.extend(hit)
                taken = max(taken, hit[-1][1])
            else:
                found.append(hit)
                taken = max(taken, hit[1])
        if work.units > work.budget:
            return _exhausted(found, work, p, n)
    return _merge(found)


def _exhausted(found: list[Span], work: Work, p: int, n: int) -> list[Span]:
    """Out of budget: everything from the last candidate on counts as secret."""
    work.exhausted = True
    found.append((max(0, p), n, "scan_limit"))
    return _merge(found)


def _merge(found: list[Span]) -> list[Span]:
    if not found:
        return found
    found.sort(key=lambda s: (s[0], -s[1]))
    out = [found[0]]
    for s in found[1:]:
        last = out[-1]
        if s[0] < last[1] or (s[0] == last[1] == s[1]):
            if s[1] > last[1]:
                out[-1] = (last[0], s[1], last[2])
            continue
        out.append(s)
    return out

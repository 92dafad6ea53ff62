"""Secret redaction: runs on every event before it reaches disk or an export.

The text scanner (:mod:`.secret_scan`) finds secrets inside strings; this
module walks an event and also redacts by structure:

* members with a credential name (``password``, ``client_secret``,
  ``api_key``, ``access_token``, ``Authorization``, ``Cookie`` ...: see
  :func:`.secret_scan.classify_name`), at any depth; header lists in any of
  their usual shapes (``[["Authorization", "..."]]``,
  ``[{"name": "x-api-key", "value": "..."}]``, OTLP attributes
  ``{"key": "api_key", "value": {"stringValue": "..."}}``);
* argument lists: the value after ``--password``, ``--api-key``, ``--token``;
* object keys that are themselves secrets;
* base64 copies (members named ``b64``, ``*_b64``, ``*base64``): decoded,
  redacted as text, and re-encoded, so a secret cannot hide in its encoding;
* base64 inside any string the walk reads (``echo c2st... | base64 -d``, a
  data URL, a blob in a tool's output): every run of at least
  :data:`B64_RUN` base64 characters in mixed case is decoded at each of the
  four alignments and, when the decoded bytes hold a secret, replaced whole.

Only the secret is replaced by ``[REDACTED]``: the rest of the string stays.
``redacted`` on the event counts the replacements.
"""

from __future__ import annotations

import sys

from .fastjson import loads
from .secret_scan import ALL_MARKERS as ALL_MARKERS  # re-exported: walk_markers' "every marker"
from .secret_scan import LINE, NAME_MARKERS, PW, TOKEN, Work, _lowered, marker_at, present_markers, scan
from .secret_scan import classify_name as _classify

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Callable
    from typing import Any

    from . import EventDict

    Replace = Callable[[str], str]  # a secret -> its replacement


def classify_name(name: str) -> str | None:
    """The credential class of a member name (``key``, ``sig``: only in query strings)."""
    cls = _classify(name)
    return cls if cls in (PW, TOKEN, LINE) else None

PLACEHOLDER = "[REDACTED]"
MIN_TEXT = 5  # no secret shape is shorter than "pwd=x"

def _is_secret_key(key: str) -> bool:
    return classify_name(key) is not None


def find_secrets(text: str) -> list[tuple[str, str]]:
    """(kind, secret) for every secret the scanner finds in ``text``."""
    if len(text) < MIN_TEXT:
        return []
    return [(kind, text[s:e]) for s, e, kind in scan(text) if e > s]


def sub_secrets(text: str, replace: Replace | None = None,
                markers: tuple[int, ...] = ALL_MARKERS) -> tuple[str, int]:
    """``text`` with every secret replaced (by ``replace(secret)`` or the
    placeholder); returns (text, count).  ``markers``: see :func:`.secret_scan.scan`."""
    if len(text) < MIN_TEXT:
        return text, 0
    spans = [s for s in scan(text, markers=markers) if s[1] > s[0]]
    if not spans:
        return text, 0
    out: list[str] = []
    last = 0
    for s, e, _ in spans:
        out.append(text[last:s])
        out.append(replace(text[s:e]) if replace else PLACEHOLDER)
        last = e
    out.append(text[last:])
    return "".join(out), len(spans)


def redact_text(text: str) -> tuple[str, int]:
    """Replace secrets in ``text``; returns (text, count)."""
    return sub_secrets(text)


def redact_b64(value: str, replace: Replace | None = None) -> tuple[str, int]:
    """A base64 string whose decoded bytes are redacted (as text, undecodable
    bytes kept) and encoded again; unchanged when nothing was found.  A value
    cut short (by the field cap) is decoded up to its last whole quantum.
    A value that does not decode is replaced whole: what cannot be read
    cannot be checked."""
    import binascii

    body = "".join(value.split())
    cut = len(body) - len(body) % 4
    try:
        raw = binascii.a2b_base64(body[:cut], strict_mode=True)
    except (binascii.Error, ValueError):
        return (replace(value) if replace else PLACEHOLDER), 1
    text = raw.decode("utf-8", "surrogateescape")
    new, n = sub_secrets(text, replace)
    if not n:
        return value, 0
    return binascii.b2a_base64(new.encode("utf-8", "surrogateescape"), newline=False).decode("ascii") \
        + body[cut:], n


B64_RUN = 24  # the base64 of the shortest secret shape worth decoding ("password=x1y2z3" is 20)
B64_SCAN_MAX = 1 << 20  # characters of runs decoded per string: beyond, the rest is left to the text scanner
B64_GLUED_MAX = 4096  # runs up to this long are also read at the three other alignments
_b64_run_re = None


def _b64_runs(text: str, replace: Replace | None) -> tuple[str, int]:
    """``text`` with every base64 run that decodes to a secret replaced whole
    (standard or URL-safe alphabet); returns (text, count).  A run up to
    :data:`B64_GLUED_MAX` characters is read at each of the four alignments,
    so one glued to other letters (``KEY`` + the encoding) is still read; a
    longer one (a file's or an image's encoding) from its start.  Every
    decoding of every run is scanned in one pass (joined by line breaks, which
    end every secret shape but a private key's body; a span reaching over one
    marks both runs).  Linear: at most four decodes per run, one scan, and at
    most :data:`B64_SCAN_MAX` characters of runs per string."""
    global _b64_run_re
    if _b64_run_re is None:
        import re

        _b64_run_re = re.compile(r"[A-Za-z0-9+/_-]{%d,}={0,2}" % B64_RUN)
    import binascii
    from bisect import bisect_right

    runs: list[tuple[int, int]] = []  # (start, end) in text
    parts: list[str] = []  # decodings, joined for one scan
    starts: list[int] = []  # where each decoding starts in the joined text
    owner: list[int] = []  # the run each decoding belongs to
    pos = budget = 0
    for m in _b64_run_re.finditer(text):
        run = m.group()
        if run.islower() or run.isupper() or budget + len(run) > B64_SCAN_MAX:
            continue  # one case only: an identifier or a hash, not an encoding (26 random characters are mixed)
        budget += len(run)
        body = run.rstrip("=").replace("-", "+").replace("_", "/")
        for k in range(4 if len(body) <= B64_GLUED_MAX else 1):
            part = body[k:]
            try:
                raw = binascii.a2b_base64(part[: len(part) - len(part) % 4])
            except (binascii.Error, ValueError):
                continue
            parts.append(raw.decode("latin-1"))
            starts.append(pos)
            owner.append(len(runs))
            pos += len(parts[-1]) + 1
        runs.append((m.start(), m.end()))
    if not parts:
        return text, 0
    hit: set[int] = set()
    for s, e, _kind in scan("\n".join(parts)):
        if e > s:
            hit.update(owner[i] for i in range(bisect_right(starts, s) - 1, bisect_right(starts, e - 1)))
    if not hit:
        return text, 0
    out: list[str] = []
    last = 0
    for i in sorted(hit):
        a, b = runs[i]
        out.append(text[last:a])
        out.append(replace(text[a:b]) if replace else PLACEHOLDER)
        last = b
    out.append(text[last:])
    return "".join(out), len(hit)


def _is_b64_key(key: object) -> bool:
    return isinstance(key, str) and (key == "b64" or key.endswith(("_b64", "base64")))


def _secret_string(v: str, replace: Replace | None) -> str:
    return replace(v) if replace else PLACEHOLDER


def _member_secret(cls: str | None, value: object, siblings: dict[Any, Any]) -> bool:
    """Whether the string value of a credential-named member is a secret."""
    if not isinstance(value, str) or not value or value.startswith(("[REDACTED", "<secret:")):
        return False
    if cls == TOKEN and ("logprob" in siblings or "top_logprobs" in siblings):
        return False  # {"token": " Hello", "logprob": -0.1}: a model's token, not a credential
    return value.lower() not in ("none", "null", "") and value[0] not in "$<"


class _Walk:
    def __init__(self, replace: Replace | None = None, markers: tuple[int, ...] = ALL_MARKERS) -> None:
        self.count = 0
        self.replace = replace
        self.markers = markers  # the scanner's markers that can occur in the strings walked

    def text(self, s: str) -> str:
        new, n = sub_secrets(s, self.replace, self.markers)
        if len(new) >= B64_RUN:
            new, m = _b64_runs(new, self.replace)
            n += m
        self.count += n
        return new

    def secret(self, v: str) -> str:
        self.count += 1
        return _secret_string(v, self.replace)

    def value(self, v: Any) -> Any:
        # recursive: the encoder caps nesting (sanitize.MAX_DEPTH) before this runs
        if isinstance(v, str):
            return self.text(v)
        if isinstance(v, dict):
            return self.obj(v)
        if isinstance(v, list):
            return self.array(v)
        return v

    def obj(self, d: dict[Any, Any]) -> dict[Any, Any]:
        out: dict[Any, Any] = {}
        named = None
        for k in ("name", "key", "header"):
            nk = d.get(k)
            if isinstance(nk, str) and "value" in d and classify_name(nk):
                named = classify_name(nk)
        for k, v in d.items():
            key = k
            if isinstance(k, str) and len(k) >= 5:
                key = self.text(k)
                if key != k and key in d:
                    key = f"{key}#{len(out)}"
            cls = classify_name(k) if isinstance(k, str) else None
            if cls is None and named and k == "value":
                cls = named
            if cls is not None and isinstance(v, str) and _member_secret(cls, v, d):
                out[key] = self.secret(v)
            elif cls is not None and isinstance(v, list) and all(isinstance(x, str) for x in v) and v:
                out[key] = [self.secret(x) if _member_secret(cls, x, d) else x for x in v]
            elif cls is not None and k == "value" and isinstance(v, dict):
                # OTLP attribute: {"key": "api_key", "value": {"stringValue": "..."}}
                out[key] = {vk: self.secret(vv) if _member_secret(cls, vv, d) else self.value(vv)
                            for vk, vv in v.items()}
            elif _is_b64_key(k) and isinstance(v, str):
                new, n = redact_b64(v, self.replace)
                self.count += n
                out[key] = new
            else:
                out[key] = self.value(v)
        return out

    def array(self, items: list[Any]) -> list[Any]:
        out: list[Any] = []
        secret_next = False
        for v in items:
            if secret_next and isinstance(v, str) and v and not v.startswith("-"):
                out.append(self.secret(v) if _member_secret(PW, v, {}) else v)
                secret_next = False
                continue
            secret_next = False
            if isinstance(v, str) and v.startswith("-") and "=" not in v and classify_name(v.lstrip("-")):
                secret_next = True  # an argument list: ["--api-key", "VALUE"]
            elif (isinstance(v, list) and len(v) == 2 and isinstance(v[0], str) and isinstance(v[1], str)
                  and classify_name(v[0]) and _member_secret(classify_name(v[0]), v[1], {})):
                out.append([self.text(v[0]), self.secret(v[1])])  # a header pair
                continue
            out.append(self.value(v))
        return out


def redact_value(value: Any, counter: list[int], replace: Replace | None = None,
                 markers: tuple[int, ...] = ALL_MARKERS) -> Any:
    """Return ``value`` with secrets replaced; ``counter[0]`` counts them.
    ``replace(secret) -> str`` chooses the replacement (default: the placeholder)."""
    w = _Walk(replace, markers)
    out = w.value(value)
    counter[0] += w.count
    return out


# Fields that are the reader's own structure, never foreign text.
_STRUCTURAL = frozenset({"v", "id", "ts", "type", "truncated", "redacted"})


def might_hold_secret(serialised: str) -> bool:
    """Cheap first pass over an already serialised event: whether the walk is
    needed (a secret shape, a credential name used as a member or argument, or
    a base64 copy)."""
    if '_b64"' in serialised or '"b64"' in serialised or 'base64"' in serialised:
        return True
    return bool(scan(serialised, Work(len(serialised)), lenient=True))


def _open_quote(text: str, p: int) -> int:
    """The unescaped ``"`` before ``p`` (in JSON text: the start of the string holding ``p``)."""
    q = text.rfind('"', 0, p)
    while q > 0:
        k = q
        while k > 0 and text[k - 1] == "\\":
            k -= 1
        if (q - k) % 2 == 0:
            return q
        q = text.rfind('"', 0, q)
    return q


def _close_quote(text: str, p: int) -> int:
    """The unescaped ``"`` at or after ``p``, or -1."""
    q = text.find('"', p)
    while q > 0:
        k = q
        while k > 0 and text[k - 1] == "\\":
            k -= 1
        if (q - k) % 2 == 0:
            return q
        q = text.find('"', q + 1)
    return q


def _hot_strings(serialised: str, low: str, markers: tuple[int, ...]) -> set[str] | None:
    """The strings (member names and values) of a JSON text that hold one of
    ``markers``; None if the text does not read as JSON strings there."""
    hot: set[str] = set()
    for idx in markers:
        marker, ci = marker_at(idx)
        hay = low if ci else serialised
        p = hay.find(marker)
        while p >= 0:
            q, r = _open_quote(serialised, p), _close_quote(serialised, p)
            if q < 0 or r < 0:
                return None
            try:
                s = loads(serialised[q:r + 1])
            except ValueError:
                return None
            if not isinstance(s, str) or marker not in (_lowered(s) if ci else s):
                return None  # not where a string holding the marker was expected: walk
            hot.add(s)
            p = hay.find(marker, r + 1)
    return hot


PREFILTER_MIN = 1024  # from this length on (or once ``re`` is loaded), :mod:`.name_prefilter` is worth it


def walk_markers(serialised: str, prefilter: bool = True) -> tuple[int, ...] | None:
    """Whether redacting the object whose JSON text is ``serialised`` can
    change anything: None when it cannot, else the markers to look for.

    A marker of the scanner in any string or member name of the object is in
    its JSON text too (markers are printable ASCII without a quote or a
    backslash, so escaping never splits one).  A string holding none is left
    as it is by the walk, and is no credential name (every name class ends
    with a name marker).  So the walk changes nothing when no string holding a
    marker has a secret in it or is a credential name, and the object has no
    base64 copy (whose decoded text the JSON does not show).  When every
    marker present is a name marker, :func:`.name_prefilter.possible_name_hit`
    first rules out the shapes a credential name needs, over the whole text.
    """
    low = _lowered(serialised)
    markers = present_markers(serialised, low)
    b64 = "b64" in serialised or "base64" in serialised
    if not markers:
        return markers if b64 else None
    if b64:
        return markers
    if prefilter and (len(serialised) >= PREFILTER_MIN or "re" in sys.modules):
        names = [m for m, _ci in map(marker_at, markers) if m in NAME_MARKERS]
        if len(names) == len(markers):  # only name markers: a compiled pattern rules them out at C speed
            from .name_prefilter import possible_name_hit

            if not possible_name_hit(low, names):
                return None
    hot = _hot_strings(serialised, low, markers)
    if hot is None:
        return markers
    for s in hot:
        if classify_name(s) or classify_name(s.lstrip("-")) or sub_secrets(s, None, markers)[1]:
            return markers
    return None


def redact_event(event: EventDict, markers: tuple[int, ...] = ALL_MARKERS) -> EventDict:
    """Processor: redact every field holding foreign text and count the replacements.

    ``markers``: what :func:`walk_markers` gave for the event's JSON text
    (the walk then looks only for those); by default, every marker.
    """
    counter = [0]
    for field in list(event):
        if field not in _STRUCTURAL:
            event[field] = redact_value(event[field], counter, markers=markers)
    if counter[0]:
        event["redacted"] = event.get("redacted", 0) + counter[0] if isinstance(event.get("redacted"), int) \
            else counter[0]
    return event

"""Ruling out a credential name in a serialised event at C speed.

Ordinary text is full of the scanner's name markers (``token``, ``key``,
``pass``, ``auth``, ``sig`` ...), and every occurrence used to cost the
encoder a Python-level look at the identifier around it.  A credential name
does something only in one of three shapes (:func:`.secret_scan._name`,
:func:`.secret_scan.classify_name` and the structural walk of :mod:`.redact`):

* the identifier ends the string (``{"password": ...}``, ``["--token", ...]``,
  ``{"name": "X-Api-Key", ...}``; trailing white space is stripped first);
* the identifier is followed by quotes, spaces and ``:`` or ``=``
  (``api_key = "..."``, ``"token": "..."`` inside a string);
* a ``--flag`` identifier followed by a space or a tab (``--password VALUE``).

Every credential name ends with one of the endings below, and each ending
starts with the name marker it holds.  So in the lowered JSON text of an
event (escaping turns a quote, a backslash or a control character into a
backslash sequence, never splits an identifier, and keeps every other
character), each of those shapes leaves an ending followed by one of a few
characters.  :func:`possible_name_hit` looks for exactly that, one compiled
pattern per marker present, each starting with the marker's literal (so
``re`` skips ahead at C speed): no match means no name rule can fire and no
structural rule applies.  The patterns are a superset (a match only sends the
event down the full walk), and each is linear: a literal, then a possessive run closed by a
character outside it, or (``--flag``) a lazy run of identifier characters
that cannot cross the next ``-``.

``re`` is imported on first use only (the hook path never pays for it on
small events: :mod:`.redact` calls this for large texts).
"""

from __future__ import annotations

TYPE_CHECKING = False
if TYPE_CHECKING:
    import re

# name marker -> the endings of credential names that hold it (a regular
# expression starting with the marker; tests/test_adversarial_redaction.py
# checks every name classify_name accepts ends with one of them)
ENDINGS = {
    "pass": "pass(?:word|wd|phrase)?",
    "pwd": "pwd",
    "secret": "secret",
    "token": "token",
    "key": "key",
    "auth": "auth(?:orization)?",
    "cookie": "cookie",
    "credential": "credentials?",
    "sig": "sig(?:nature)?",
}
# after an ending, in JSON text: white space (escaped or not) up to the end of
# the string, or quotes, backslashes and spaces up to ":" or "=" (possessive
# runs: what closes them is outside the run, so giving back cannot help)
_AFTER = r'(?:(?:\s|\\[tnrfb]|\\u00[01][0-9a-f])*+"|(?:\\["\\t]|[ \'"])*+[:=])'
# a --flag ending in one, then a space or a tab
_FLAG = r'-[a-z0-9_.]*?{}(?: |\\t)'

_compiled: dict[str, tuple[re.Pattern[str], re.Pattern[str]]] = {}


def _patterns(marker: str) -> tuple[re.Pattern[str], re.Pattern[str]]:
    pats = _compiled.get(marker)
    if pats is None:
        import re

        ending = ENDINGS[marker]
        pats = _compiled[marker] = (re.compile(ending + _AFTER), re.compile(_FLAG.format("(?:" + ending + ")")))
    return pats


def possible_name_hit(low: str, markers: list[str]) -> bool:
    """Whether a credential name can be at work in the lowered JSON text
    ``low`` (holding the name markers ``markers``).  False is certain."""
    for m in markers:
        after, flag = _patterns(m)
        if after.search(low) or flag.search(low):
            return True
    return False

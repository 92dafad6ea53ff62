"""``share``: one session as a single offline HTML file.

The page is the dashboard's own script and style inlined, with the session
embedded as JSON.  Before embedding, every event is redacted again (the store
may have been written with redaction off) and every string is capped, with a
page budget that tightens the cap for very large sessions, so a 30 MB tool
argument gives a page of a few hundred kB.  A Content-Security-Policy without
any network source keeps the page from loading anything.
"""

from __future__ import annotations

import json
from importlib import resources

from .. import __version__
from ..event.redact import redact_event, redact_value
from ..analysis.session_view import session_view
from ..event.truncate import truncate_event
from ..store.timeline import iter_timeline

CAPS = (4000, 1000, 200)  # per-string caps, tightened until the page fits
BUDGET = 8 * 1024 * 1024  # bytes of embedded events
CSP = "default-src 'none'; style-src 'unsafe-inline'; script-src 'unsafe-inline'; img-src data:"


def _web(name: str) -> str:
    return resources.files("agent_trace").joinpath("web", name).read_text("utf-8")


def _events(path: str, cap: int, anonymizer=None) -> tuple[list[dict], int]:
    out, size = [], 0
    for e in iter_timeline(path):
        if anonymizer is not None:
            e = anonymizer.event(e)
        e = truncate_event(redact_event(e), cap)
        out.append(e)
        size += len(json.dumps(e, ensure_ascii=False))
    return out, size


def build(path: str, anonymizer=None) -> tuple[str, dict]:
    """The page for the session file at ``path`` and what went into it;
    ``anonymizer`` (:class:`agent_trace.export.anonymize.Anonymizer`)
    pseudonymises events and the summary, as ``export --anonymize`` does."""
    view = session_view(path)
    for cap in CAPS:
        events, size = _events(path, cap, anonymizer)
        if size <= BUDGET:
            break
    dropped = 0
    while size > BUDGET and events:  # still too big: keep the head and tail of the session
        half = len(events) // 2
        cut_n = max(1, len(events) // 4)
        dropped += cut_n
        events = events[: half - cut_n // 2] + events[half - cut_n // 2 + cut_n:]
        size = sum(len(json.dumps(e, ensure_ascii=False)) for e in events)
    cuts = sum(len(e.get("truncated") or []) for e in events)
    note = (f"Shared with agent-strace {__version__}: {len(events)} events, secrets redacted, "
            + ("names, home paths, hosts and emails pseudonymised, " if anonymizer is not None else "")
            + f"strings over {cap:,} characters cut ({cuts} cut)")
    if dropped:
        note += f", {dropped} events from the middle left out to keep the page small"
    # the summary quotes the store too (title, last error): redact it as well
    shown = {"summary": view["summary"], "subagents": view["subagents"], "llm_series": view["llm_series"]}
    if anonymizer is not None:
        shown = anonymizer.value(shown)
    shown = redact_value(shown, [0])
    data = {"view": shown,
            "events": events, "note": note + "."}
    blob = json.dumps(data, ensure_ascii=False, separators=(",", ":"))
    blob = blob.replace("</", "<\\/").replace("<!--", "<\\u0021--")
    title = shown["summary"].get("title") or shown["summary"].get("session") or "session"
    html = (
        "<!doctype html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n"
        f"<meta http-equiv=\"Content-Security-Policy\" content=\"{CSP}\">\n"
        "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n"
        f"<title>agent-strace: {_esc(title[:80])}</title>\n<style>\n{_web('app.css')}\n</style>\n</head>\n<body>\n"
        "<header><span class=\"brand\">agent-strace</span><span id=\"live-dot\" class=\"live-dot\" hidden></span>"
        "<span id=\"where\"></span></header>\n<main id=\"app\"></main>\n"
        f"<script type=\"application/json\" id=\"agent-strace-data\">{blob}</script>\n"
        f"<script>\n{_web('app.js')}\n</script>\n</body>\n</html>\n"
    )
    return html, {"events": len(events), "cuts": cuts, "cap": cap, "dropped": dropped, "bytes": len(html.encode())}


def _esc(s: str) -> str:
    return s.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;").replace('"', "&quot;")

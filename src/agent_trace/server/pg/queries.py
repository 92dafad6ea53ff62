"""The dashboard's reads, answered by SQL.

Lists and trends never touch ``events``: they read ``sessions`` (one row per
session, kept by ingest) and the usage sums (``usage_hours`` and
``session_hours``, ``session_days``; ``usage_buckets`` for days that start off
the hour).
Search walks ``events`` newest first, or uses the GIN index on
``events.doc`` for rare matches.  A session page streams its events in ``seq`` order through
the same code as the file backend (session view, compare), so both backends
show the same numbers.
"""

from __future__ import annotations

import time

from ...analysis import search_text, trends
from ...analysis.git_link import matches as git_matches
from ...analysis.session_view import RUNNING_WINDOW_S, status_of
from ...event.fastjson import loads
from ...store.paths import SessionNotFound
from ...store.reader import ReadStats, parse_line
from ..api import display_event
from ..file_storage import hit
from ..query_params import SessionFilters, TrendParams, limit

ITERSIZE = 2000


def _like(prefix: str) -> str:
    return prefix.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"


def resolve(conn, ref: str) -> str:
    """A session reference (full id, unique prefix, ``latest``) -> its id."""
    if ref == "latest":
        row = conn.execute("SELECT session FROM sessions ORDER BY changed DESC LIMIT 1").fetchone()
        if row is None:
            raise SessionNotFound("no sessions in the database")
        return row[0]
    if conn.execute("SELECT 1 FROM sessions WHERE session = %s", (ref,)).fetchone():
        return ref
    rows = [r[0] for r in conn.execute("SELECT session FROM sessions WHERE session LIKE %s ESCAPE '\\' "
                                       "ORDER BY session LIMIT 6", (_like(ref),))] if ref else []
    if len(rows) == 1:
        return rows[0]
    if not rows:
        raise SessionNotFound(f"no session matches {ref!r} in the database")
    raise SessionNotFound(f"{ref!r} matches {len(rows)}{'+' if len(rows) > 5 else ''} sessions "
                          f"({', '.join(rows[:5])}...): give more characters")


def _where(f: SessionFilters, alias: str = "") -> tuple[list[str], list]:
    a = alias + "." if alias else ""
    sql: list[str] = []
    args: list[str | float] = []
    if f.q:
        pat = "%" + _like(f.q)[:-1] + "%"
        sql.append(f"({a}session ILIKE %s OR {a}title ILIKE %s OR {a}cwd ILIKE %s OR {a}last_error ILIKE %s)")
        args += [pat] * 4
    for col, value in (("agent", f.agent), ("sender", f.user), ("project", f.project)):
        if value:
            sql.append(f"{a}{col} = %s")
            args.append(value)
    if f.min_cost:
        sql.append(f"{a}cost_usd >= %s")
        args.append(f.min_cost)
    if f.since is not None:
        sql.append(f"{a}last >= to_timestamp(%s)")
        args.append(f.since)
    if f.until is not None:
        sql.append(f"({a}started IS NULL OR {a}started < to_timestamp(%s))")  # as the file backend
        args.append(f.until)
    running = f"{a}last >= now() - make_interval(secs => {RUNNING_WINDOW_S})"
    status = {"stopped": f"{a}stopped",
              "ended": f"{a}ended AND NOT {a}stopped",
              "running": f"NOT {a}ended AND NOT {a}stopped AND {running}",
              "idle": f"NOT {a}ended AND NOT {a}stopped AND NOT coalesce({running}, false)"}.get(f.status)
    if status:
        sql.append(f"({status})")
    return sql, args


def sessions(conn, params: dict) -> dict:
    f = SessionFilters(params)
    n = limit(params.get("limit"), 500)
    where, args = _where(f)
    clause = (" WHERE " + " AND ".join(where)) if where else ""
    now = time.time()
    out = []
    git = f.branch is not None or f.commit is not None
    if git:
        # the git filters (the list's own glob and commit-prefix rules) run
        # here on the rows whose text can match: those with a branch, or
        # holding the commit prefix
        where, args = [*where, "row LIKE %s ESCAPE '\\'"], \
            [*args, '%"branch":"%' if f.commit is None else "%" + _like(f.commit.lower())]
        clause = " WHERE " + " AND ".join(where)
    for row_text, size in conn.execute(f"SELECT row, bytes FROM sessions{clause} "
                                       "ORDER BY last DESC NULLS LAST, session DESC"
                                       + ("" if git else " LIMIT %s"), (*args,) if git else (*args, n)):
        if row_text is None:
            continue
        r = loads(row_text)
        if git and not git_matches(r, f.branch, f.commit):
            continue
        r["bytes"] = size
        r["status"] = status_of(r, now)
        out.append(r)
    if git:
        matched, out = len(out), out[:n]
    else:
        matched = len(out) if len(out) < n else \
            conn.execute(f"SELECT count(*) FROM sessions{clause}", args).fetchone()[0]
    total = conn.execute("SELECT count(*) FROM sessions").fetchone()[0]
    facets = {}
    for col in ("agent", "sender", "project"):
        facets[col] = [r[0] for r in conn.execute(
            f"SELECT DISTINCT {col} FROM sessions WHERE {col} IS NOT NULL ORDER BY 1 LIMIT 1000")]
    return {"sessions": out, "total": total, "matched": matched, "agents": facets["agent"],
            "users": facets["sender"], "projects": facets["project"]}


def iter_session(conn, session: str, after: int = 0):
    """``(seq, event)`` of a session in stored order, streamed (lines a reader
    would skip are skipped)."""
    stats = ReadStats()
    with conn.cursor(name="session_events") as cur:
        cur.itersize = ITERSIZE
        cur.execute("SELECT seq, line FROM events WHERE session = %s AND seq > %s ORDER BY seq", (session, after))
        for seq, line in cur:
            e = parse_line(line.encode("utf-8"), stats)
            if e is not None:
                yield seq, e


def events(conn, session: str):
    """A session's events in time order, as ``store.timeline`` gives a
    session file's: by ``ts``, stored order breaking ties, an event without a
    readable ``ts`` keeping its place after the one before it."""
    keys, last, ordered = [], None, True
    for seq, t in conn.execute("SELECT seq, extract(epoch FROM ts) FROM events WHERE session = %s ORDER BY seq",
                               (session,)):
        key = t if t is not None else last
        if key is not None and last is not None and key < last:
            ordered = False
        elif key is not None:
            last = key
        keys.append((key if key is not None else -1, seq))
    if ordered:
        yield from (e for _seq, e in iter_session(conn, session))
        return
    keys.sort(key=lambda k: k[0])  # stable: stored order breaks ties
    stats = ReadStats()
    for i in range(0, len(keys), ITERSIZE):
        want = [seq for _key, seq in keys[i:i + ITERSIZE]]
        lines = dict(conn.execute("SELECT seq, line FROM events WHERE session = %s AND seq = ANY(%s)",
                                  (session, want)).fetchall())
        for seq in want:
            e = parse_line(lines[seq].encode("utf-8"), stats)
            if e is not None:
                yield e


def session_view(conn, ref: str) -> dict:
    from ...analysis.session_view import session_view as view_of

    session = resolve(conn, ref)
    size, next_seq = conn.execute("SELECT bytes, next_seq FROM sessions WHERE session = %s", (session,)).fetchone()
    view = view_of(None, events=events(conn, session))
    view["summary"]["project"] = trends.project_of(view["summary"].get("cwd"))
    view["file"] = None
    view["bytes"] = size
    view["cursor_end"] = next_seq - 1
    return view


def events_page(conn, session: str, cursor: int, n: int) -> dict:
    rows = conn.execute("SELECT seq, line FROM events WHERE session = %s AND seq > %s ORDER BY seq LIMIT %s",
                        (session, max(0, cursor), n)).fetchall()
    end = conn.execute("SELECT next_seq - 1 FROM sessions WHERE session = %s", (session,)).fetchone()[0]
    stats = ReadStats()
    out = []
    nxt = cursor
    for seq, line in rows:
        nxt = seq
        e = parse_line(line.encode("utf-8"), stats)
        if e is not None:
            out.append(display_event(e))
    return {"events": out, "next": nxt, "size": end, "done": nxt >= end, "skipped": stats.as_dict()}


def signature(conn) -> tuple:
    n, changed = conn.execute("SELECT count(*), max(changed) FROM sessions").fetchone()
    return n, str(changed)


# Search walks the newest WINDOW events by time first (the ``events_by_ts``
# index backwards), testing each against the query: a word in more than
# about one event in a thousand fills a page from there, whatever the
# planner guesses of a phrase or of words that go together (it multiplies
# their frequencies, so it underestimates both).  When the window holds
# fewer than a page of hits, the matches are rare: they are read through
# the full-text index and sorted (the ``+ interval '0'`` keeps the planner
# from walking the whole time index for them).  Both give the newest hits
# first, so the answer is the same either way.
WINDOW = 20000


def search(conn, params: dict) -> dict:
    terms = search_text.parse_query(params.get("q") or "")
    f = SessionFilters({**params, "q": ""})
    n = limit(params.get("limit"), 50, 500)
    if not terms:
        return {"q": params.get("q") or "", "terms": [], "hits": [], "more": False}
    # the session filters pick sessions first (a hash of their ids), so a
    # match is joined to its session's row only when it is on the page.  In
    # the full-text index's query ``OFFSET 0`` keeps that subquery apart:
    # the planner, which underestimates the matches of several words, would
    # otherwise probe the sessions' key once per match (40,000 probes for
    # ``permission denied`` at 10 million events: twice the time).  The
    # window's query, which tests a few hundred events at most, probes.
    swhere, sargs = _where(SessionFilters({k: v for k, v in params.items() if k not in ("q", "since", "until")}))
    where, args = ["doc @@ to_tsquery('simple', %s)"], [search_text.tsquery(terms)]
    fenced = list(where)
    if swhere:
        where.append(f"session IN (SELECT session FROM sessions WHERE {' AND '.join(swhere)})")
        fenced.append(f"session IN (SELECT session FROM sessions WHERE {' AND '.join(swhere)} OFFSET 0)")
        args += sargs
    if params.get("type"):
        where.append("type = %s")
        fenced.append("type = %s")
        args.append(params["type"])
    when, when_args = [], []
    if f.since is not None:
        when.append("ts >= to_timestamp(%s)")
        when_args.append(f.since)
    if f.until is not None:
        when.append("ts < to_timestamp(%s)")
        when_args.append(f.until)
    page = ("SELECT e.seq, e.line, s.row FROM ({}) e JOIN sessions s ON s.session = e.session "
            "ORDER BY e.ts DESC NULLS LAST")
    rows = conn.execute(page.format(
        "SELECT session, seq, line, ts FROM (SELECT session, seq, line, doc, type, ts FROM events "
        f"WHERE {' AND '.join(['ts IS NOT NULL', *when])} ORDER BY ts DESC LIMIT %s) w "
        f"WHERE {' AND '.join(where)} ORDER BY ts DESC LIMIT %s"),
        (*when_args, WINDOW, *args, n + 1)).fetchall()
    if len(rows) <= n:
        rows = conn.execute(page.format(
            f"SELECT session, seq, line, ts FROM events WHERE {' AND '.join([*fenced, *when])} "
            "ORDER BY ts + interval '0' DESC NULLS LAST LIMIT %s"), (*args, *when_args, n + 1)).fetchall()
    stats = ReadStats()
    hits = []
    for seq, line, row_text in rows[:n]:
        e = parse_line(line.encode("utf-8"), stats)
        if e is None:
            continue
        row = loads(row_text) if row_text else {}
        row["project"] = row.get("project") or trends.project_of(row.get("cwd"))
        hits.append(hit(row, e, seq, search_text.event_text(e), terms))
    return {"q": params.get("q") or "", "terms": terms, "hits": hits, "more": len(rows) > n}


def _whole_hours(p: TrendParams) -> bool:
    """Do the report's days all start on a whole UTC hour (so whole rows of
    ``usage_hours`` fall in each)?  True in every time zone but a few."""
    import datetime as dt

    day, until = dt.date.fromisoformat(p.since_date), dt.date.fromisoformat(p.until_date)
    while day <= until + dt.timedelta(days=1):
        if dt.datetime.combine(day, dt.time(), p.tz).timestamp() % 3600:
            return False
        day += dt.timedelta(days=1)
    return True


def trends_report(conn, params: dict) -> dict:
    p = TrendParams(params)
    if not _whole_hours(p):
        rows, per_day = _trends_by_bucket(conn, p)
    elif p.user or p.project or p.agent:
        rows, per_day = _trends_by_hour(conn, p)
    else:
        rows, per_day = _trends_by_day(conn, p), _sessions_by_day(conn, p)
    return trends.report(rows, trends.day_range(p.since_date, p.until_date), p.by, per_day, **p.meta())


def _trends_by_hour(conn, p: TrendParams) -> tuple[list, dict]:
    """From the hourly sums (a few rows per hour and sender, whatever the
    number of sessions)."""
    key = {"user": "sender", "project": "project", "model": "model", "agent": "agent"}[p.by]
    where: list[str] = ["hour >= to_timestamp(%s)", "hour < to_timestamp(%s)"]
    args: list[object] = [p.start, p.end]
    for col, value in (("sender", p.user), ("project", p.project), ("agent", p.agent)):
        if value:
            where.append(f"{col} = %s")
            args.append(value)
    day = "(hour AT TIME ZONE %s)::date"
    sums = ", ".join(f"sum({c})::bigint" for c in trends.COUNTS)
    rows = [(d.isoformat(), k, m, long, *counts)
            for d, k, m, long, *counts in conn.execute(
                f"SELECT {day}, {key}, model, long, {sums} FROM usage_hours WHERE {' AND '.join(where)} "
                "GROUP BY 1, 2, 3, 4", (p.tzname, *args))]
    return rows, _sessions_per_day(conn, p)


def _sessions_per_day(conn, p: TrendParams) -> dict:
    """Sessions with usage on each of the report's days (``session_hours``)."""
    hwhere = ["h.hour >= to_timestamp(%s)", "h.hour < to_timestamp(%s)"]
    args: list[object] = [p.start, p.end]
    for col, value in (("h.sender", p.user), ("s.project", p.project), ("s.agent", p.agent)):
        if value:
            hwhere.append(f"{col} = %s")
            args.append(value)
    join = " JOIN sessions s ON s.session = h.session" if (p.project or p.agent) else ""
    return {d.isoformat(): c for d, c in conn.execute(
        f"SELECT (h.hour AT TIME ZONE %s)::date, count(DISTINCT h.session) FROM session_hours h{join} "
        f"WHERE {' AND '.join(hwhere)} GROUP BY 1", (p.tzname, *args))}


def _sessions_by_day(conn, p: TrendParams) -> dict:
    """Sessions with usage on each of the report's days, unfiltered, from
    ``session_days`` (one row per session and UTC day; a part of a UTC day
    is a mask of its hours): what :func:`_sessions_per_day` counts from the
    session hours.  Only for days that start on whole hours."""
    parts = day_parts(p)
    if all((lo, hi) == (0, 24) and day == local for day, local, lo, hi in parts):
        return dict(conn.execute("SELECT to_char(day, 'YYYY-MM-DD'), count(*) FROM session_days "
                                 "WHERE day >= %s AND day <= %s GROUP BY day", (p.since_date, p.until_date)).fetchall())
    # a session active in both parts of a local day is counted once
    return dict(conn.execute(
        "SELECT to_char(s.local, 'YYYY-MM-DD'), count(DISTINCT d.session) FROM session_days d "
        "JOIN unnest(%s::date[], %s::date[], %s::int[]) AS s(day, local, mask) ON d.day = s.day "
        "WHERE d.hours & s.mask <> 0 GROUP BY s.local",
        ([day for day, *_ in parts], [local for _d, local, *_ in parts],
         [(1 << hi) - (1 << lo) for *_, lo, hi in parts])).fetchall())


def day_parts(p: TrendParams) -> list[tuple]:
    """The report's days as parts of UTC days: ``(UTC date, local date,
    first hour, end hour)``, hours of the UTC day, ``[first, end)``.  Only
    for days that start on whole hours (:func:`_whole_hours`)."""
    import datetime as dt

    out = []
    day, until = dt.date.fromisoformat(p.since_date), dt.date.fromisoformat(p.until_date)
    while day <= until:
        t = dt.datetime.combine(day, dt.time(), p.tz).timestamp()
        end = dt.datetime.combine(day + dt.timedelta(days=1), dt.time(), p.tz).timestamp()
        while t < end:
            u0 = t // 86400 * 86400
            stop = min(end, u0 + 86400)
            out.append((dt.datetime.fromtimestamp(u0, dt.timezone.utc).date(), day, int((t - u0) // 3600),
                        int((stop - u0) // 3600)))
            t = stop
        day += dt.timedelta(days=1)
    return out


def _trends_by_day(conn, p: TrendParams) -> list:
    """From the daily running totals (a few rows per day, whatever the number
    of sessions and senders): each part of a UTC day is two lookups per
    count.  Unfiltered reports only.  The rows come sorted as the report
    adds them up (so its sort finds them in order)."""
    from .ingest import DAY_SLOTS

    dim, key = {"user": ("user", "d.key"), "project": ("project", "d.key"), "agent": ("agent", "d.key"),
                "model": ("agent", "d.model")}[p.by]
    parts = day_parts(p)
    n = len(trends.COUNTS)
    if p.by != "model" and all((lo, hi) == (0, 24) for _day, _local, lo, hi in parts):
        # whole UTC days (every UTC report): a row per stored row, each
        # count the day's total (the running total before hour 24)
        counts = [f"d.sums[{(i + 1) * DAY_SLOTS}]" for i in range(n)]
        select, tail = ", ".join(counts), ""
        where = " OR ".join(f"{x} <> 0" for x in counts)
    else:
        # (float8 sums: exact below 2**53, and much faster than bigint's numeric)
        part = [f"sum((d.sums[{i * DAY_SLOTS + 1} + s.hi] - d.sums[{i * DAY_SLOTS + 1} + s.lo])::float8)"
                for i in range(n)]
        select, tail = ", ".join(f"{x}::bigint" for x in part), " GROUP BY s.local, 2, 3, 4 HAVING " + \
            " OR ".join(f"{x} <> 0" for x in part)
        where = "true"
    return conn.execute(
        f"SELECT to_char(s.local, 'YYYY-MM-DD'), {key}, d.model, d.long, {select} FROM usage_days d "
        "JOIN unnest(%s::date[], %s::date[], %s::int[], %s::int[]) AS s(day, local, lo, hi) ON d.day = s.day "
        f'WHERE d.dim = %s AND ({where}){tail} ORDER BY s.local, {key} COLLATE "C", d.model COLLATE "C", d.long',
        (*[list(c) for c in zip(*parts)], dim)).fetchall()


def _trends_by_bucket(conn, p: TrendParams) -> tuple[list, dict]:
    """From each session's 15-minute buckets: days that start off the hour."""
    key = {"user": "u.sender", "project": "s.project", "model": "u.model", "agent": "s.agent"}[p.by]
    where = ["u.bucket >= to_timestamp(%s)", "u.bucket < to_timestamp(%s)"]
    args: list[str | float] = [p.start, p.end]
    for col, value in (("u.sender", p.user), ("s.project", p.project), ("s.agent", p.agent)):
        if value:
            where.append(f"{col} = %s")
            args.append(value)
    join = " JOIN sessions s ON s.session = u.session" if (p.by in ("project", "agent") or p.project or p.agent) \
        else ""
    day = "(u.bucket AT TIME ZONE %s)::date"
    sums = ", ".join(f"sum(u.{c})::bigint" for c in trends.COUNTS)
    rows = [(d.isoformat(), k, m, long, *counts)
            for d, k, m, long, *counts in conn.execute(
                f"SELECT {day}, {key}, u.model, u.long, {sums} FROM usage_buckets u{join} "
                f"WHERE {' AND '.join(where)} GROUP BY 1, 2, 3, 4", (p.tzname, *args))]
    per_day = {d.isoformat(): c for d, c in conn.execute(
        f"SELECT {day}, count(DISTINCT u.session) FROM usage_buckets u{join} WHERE {' AND '.join(where)} "
        "GROUP BY 1", (p.tzname, *args))}
    return rows, per_day

"""``export``: write one session out in another format."""

from __future__ import annotations

import sys

from agent_trace.event.encode import to_bytes
from agent_trace.store.reader import ReadStats, iter_events
from agent_trace.store.timeline import iter_timeline, timeline

from agent_trace.render import words

from . import EXIT_ERROR, EXIT_OK, EXIT_USAGE
from .parsing import add_session, guarded, open_store, parser

FORMATS = ("jsonl", "json", "csv", "otlp", "parquet")


def run(name: str, argv: list[str]) -> int:
    p = parser("export", "Write a session out: jsonl (one event per line), json (an array), or otlp "
                         "(OpenTelemetry GenAI spans to an OTLP/HTTP endpoint, or as OTLP/JSON to stdout/-o).")
    add_session(p)
    p.add_argument("--format", choices=FORMATS, default="jsonl")
    p.add_argument("-o", "--output", metavar="FILE", help="write here instead of stdout")
    p.add_argument("--endpoint", metavar="URL", help="otlp: the collector (http://localhost:4318)")
    p.add_argument("--protocol", choices=("http/json", "http/protobuf"), default="http/json")
    p.add_argument("--header", action="append", default=[], metavar="K=V", help="otlp: extra request header")
    p.add_argument("--content", action="store_true", help="otlp: include tool arguments/results and messages")
    p.add_argument("--retries", type=int, default=4, help="otlp: retries on 429/5xx/unreachable (default 4)")
    p.add_argument("-f", "--follow", action="store_true",
                   help="jsonl, csv, otlp: keep exporting as events arrive, until the session ends (Ctrl-C to stop)")
    p.add_argument("--anonymize", action="store_true",
                   help="pseudonymise usernames, home paths, hostnames and emails (consistently)")
    p.add_argument("--hub", metavar="OWNER/NAME", help="write a dataset folder and push it to the Hugging Face Hub")
    p.add_argument("--dry-run", action="store_true", help="hub: write exactly what would be pushed, push nothing")
    p.add_argument("--allow-secrets", action="store_true", help="datasets: export even if the secret scan hits")
    args = p.parse_args(argv)
    if args.hub or args.format == "parquet":
        return guarded(_dataset)(args)
    if args.format == "otlp":
        return guarded(_otlp)(args)
    if args.follow and args.format == "json":
        p.error("--follow writes a stream: use --format jsonl (or csv)")
    return _export(args)


def _dataset(args) -> int:
    import os
    import tempfile

    from agent_trace.export.dataset import DatasetError, build, push

    path = open_store(args).resolve(args.session)
    anonymizer = _anonymizer(args)
    try:
        if args.hub:
            folder = args.output or tempfile.mkdtemp(prefix="agent-strace-dataset-")
            info = build(path, folder, anonymizer, args.allow_secrets)
            if args.dry_run:
                print(f"dry run: {words.count(info['rows'], 'LLM call')}, {words.count(info['events'], 'event')} "
                      f"written to {folder}; nothing pushed")
                for f in info["files"]:
                    print(f"  {os.path.relpath(f, folder)}")
                return EXIT_OK
            url = push(folder, args.hub, os.environ.get("HF_TOKEN"))
            print(f"pushed {words.count(info['rows'], 'LLM call')} to {args.hub}: {url}")
            return EXIT_OK
        if not args.output or not args.output.endswith(".parquet"):
            sys.stderr.write("agent-strace export: --format parquet needs -o FILE.parquet\n")
            return EXIT_USAGE
        folder = tempfile.mkdtemp(prefix="agent-strace-dataset-")
        info = build(path, folder, anonymizer, args.allow_secrets)
        os.replace(os.path.join(folder, "data", "llm_calls.parquet"), args.output)
        log = args.output[: -len(".parquet")] + ".session.jsonl"
        os.replace(info["files"][1], log)
        print(f"{words.count(info['rows'], 'LLM call')} -> {args.output}; session log -> {log}")
        return EXIT_OK
    except DatasetError as e:
        sys.stderr.write(f"agent-strace export: {e}\n")
        return EXIT_ERROR


def _anonymizer(args):
    if not args.anonymize:
        return None
    from agent_trace.export.anonymize import Anonymizer

    return Anonymizer()


def _otlp(args) -> int:
    from agent_trace.export.otlp import ExportError, encode, request_body, send
    from agent_trace.export.otlp_spans import SpanBuilder

    path = open_store(args).resolve(args.session)
    stats = ReadStats()
    b = SpanBuilder(content=args.content)
    anonymizer = _anonymizer(args)
    if args.follow:
        if not args.endpoint:
            sys.stderr.write("agent-strace export: --follow needs --endpoint\n")
            return EXIT_USAGE
        return _otlp_follow(args, path, b, anonymizer)
    for e in iter_timeline(path, stats):
        b.add(anonymizer.event(e) if anonymizer else e)
    spans = b.spans()
    if not args.endpoint:
        if args.protocol == "http/protobuf":
            if not args.output and sys.stdout.isatty():
                sys.stderr.write("agent-strace export: protobuf is binary: give -o FILE or a pipe\n")
                return EXIT_USAGE
            data = encode(spans, args.protocol)[0]
        else:
            data = to_bytes(request_body(spans), indent=2) + b"\n"
        if args.output:
            with open(args.output, "wb") as f:
                f.write(data)
        else:
            sys.stdout.buffer.write(data)
        return EXIT_OK
    headers = {}
    for h in args.header:
        if "=" not in h:
            sys.stderr.write(f"agent-strace export: --header wants K=V, got {h!r}\n")
            return EXIT_USAGE
        k, v = h.split("=", 1)
        headers[k.strip()] = v.strip()
    try:
        n = send(args.endpoint, spans, args.protocol, headers, retries=args.retries,
                 progress=lambda msg: sys.stderr.write(f"agent-strace export: {msg}\n"))
    except ExportError as e:
        sys.stderr.write(f"agent-strace export: {e}\n")
        return EXIT_ERROR
    print(f"exported {words.count(n, 'span')} of session {b.session} to {args.endpoint} ({args.protocol})")
    note = stats.note()
    if note:
        sys.stderr.write(note + "\n")
    return EXIT_OK


def _otlp_follow(args, path, b, anonymizer) -> int:
    """Tail the session; every 0.5 s, export what finished (ids are stable, so
    updated agent spans replace their earlier versions)."""
    import time

    from agent_trace.export.otlp import ExportError, send

    headers = dict(h.split("=", 1) for h in args.header if "=" in h)
    offset, total, ended = 0, 0, False
    try:
        while not ended:
            stats = ReadStats()
            fed = False
            for e in iter_events(path, stats, start=offset):
                b.add(anonymizer.event(e) if anonymizer else e)
                fed = True
                ended = ended or e.get("type") == "session.end"
            offset = stats.end
            if fed:
                spans = b.take_finished()
                total += send(args.endpoint, spans, args.protocol, headers, retries=args.retries,
                              progress=lambda msg: sys.stderr.write(f"agent-strace export: {msg}\n"))
                print(f"exported {words.count(len(spans), 'span')} ({total} so far)", flush=True)
            if not ended:
                time.sleep(0.5)
    except ExportError as e:
        sys.stderr.write(f"agent-strace export: {e}\n")
        return EXIT_ERROR
    except KeyboardInterrupt:
        pass
    print(f"session {b.session} ended: {words.count(total, 'span')} exported in all")
    return EXIT_OK


@guarded
def _export(args) -> int:
    path = open_store(args).resolve(args.session)
    stats = ReadStats()
    out = open(args.output, "wb") if args.output else sys.stdout.buffer
    anonymizer = _anonymizer(args)
    events = timeline(path, stats, follow=args.follow)
    if anonymizer:
        events = (anonymizer.event(e) for e in events)
    try:
        if args.format == "csv":
            from agent_trace.export.tables import csv_rows

            for row in csv_rows(events):
                out.write(row.encode("utf-8", "backslashreplace"))
        elif args.format == "jsonl":
            for e in events:
                out.write(to_bytes(e) + b"\n")
                if args.follow:
                    out.flush()
        else:
            out.write(b"[")
            for i, e in enumerate(events):
                out.write((b",\n" if i else b"\n") + to_bytes(e))
            out.write(b"\n]\n")
        out.flush()
    finally:
        if out is not sys.stdout.buffer:
            out.close()
    note = stats.note()
    if note:
        sys.stderr.write(note + "\n")
    return EXIT_OK

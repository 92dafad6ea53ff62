"""What every command's parser shares: the prog name, ``--trace-dir``,
``--json``, the SESSION argument and how failures turn into exit codes."""

from __future__ import annotations

import argparse
import json
import sys

from agent_trace.store import SessionNotFound, Store, StoreError

from . import EXIT_ERROR, EXIT_NOT_FOUND, EXIT_USAGE


class Parser(argparse.ArgumentParser):
    """argparse that exits 2 with one line instead of a usage dump."""

    def error(self, message):
        self.exit(EXIT_USAGE, f"{self.prog}: error: {message} (see --help)\n")


def parser(name: str, description: str) -> Parser:
    p = Parser(prog=f"agent-strace {name}", description=description)
    p.add_argument("--trace-dir", metavar="DIR",
                   help="store root (default: $AGENT_TRACE_DIR or ./.agent-traces)")
    return p


def add_json(p: argparse.ArgumentParser) -> None:
    p.add_argument("--json", action="store_true", help="machine-readable output")


def add_session(p: argparse.ArgumentParser, name: str = "session", latest: bool = True) -> None:
    """The SESSION argument: optional, 'latest' by default, in every command
    that reads one session (``latest=False`` where a session must be named,
    e.g. the two sides of ``compare``)."""
    if latest:
        p.add_argument(name, metavar=name.upper(), nargs="?", default="latest",
                       help="session id, unique prefix, or 'latest' (the default)")
    else:
        p.add_argument(name, metavar=name.upper(), help="session id, unique prefix, or 'latest'")


def open_store(args) -> Store:
    return Store.open(getattr(args, "trace_dir", None))


def print_json(obj) -> None:
    """Indented for a person at a terminal; compact (and fast: the C encoder)
    for scripts and pipes."""
    indent = 2 if sys.stdout.isatty() else None
    text = json.dumps(obj, ensure_ascii=False, indent=indent)
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:  # a lone surrogate (undecodable input kept as is): escape it
        text = json.dumps(obj, ensure_ascii=True, indent=indent)
    sys.stdout.write(text + "\n")


def fail(exc: Exception) -> int:
    """Map a failure to one line on stderr and an exit code."""
    if isinstance(exc, SessionNotFound):
        sys.stderr.write(f"agent-strace: {exc}\n")
        return EXIT_NOT_FOUND
    if isinstance(exc, StoreError):
        sys.stderr.write(f"agent-strace: {exc}\n")
        return EXIT_ERROR
    if isinstance(exc, OSError):
        where = f" {exc.filename}" if exc.filename else ""
        sys.stderr.write(f"agent-strace: {exc.strerror or exc}{':' if where else ''}{where}\n")
        return EXIT_ERROR
    raise exc


def guarded(fn):
    """Run a command body, turning known failures into one-line errors."""

    def wrapper(args, *more):
        try:
            return fn(args, *more)
        except BrokenPipeError:  # `agent-strace export ... | head`
            import os

            os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
            return 0
        except (StoreError, OSError) as e:
            return fail(e)
        except KeyboardInterrupt:
            return 130

    return wrapper

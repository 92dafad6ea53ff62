"""Remote capture: deliver the local store to an ``agent-strace server``.

The local store *is* the spool.  Capture sources always append to it first
(so nothing waits on the network), and a shipper sends what was appended
since its cursor to ``AGENT_STRACE_ENDPOINT``: in order per session file,
at least once on the wire, and exactly once in the server's store because
the server ignores event ids it already holds.  See ``adr/0006``.
"""

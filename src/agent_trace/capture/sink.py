"""The sink every capture source writes through: the local store, and also
an ``agent-strace server`` when ``AGENT_STRACE_ENDPOINT`` is set.

Capture depends on the store and on remote delivery; neither depends back.
"""

from __future__ import annotations

import sys

from ..store.paths import Store
from ..store.sink import FileSink


def open_sink(store: Store, *, detached: bool = False):
    """The sink capture sources should use for ``store``.

    With ``AGENT_STRACE_ENDPOINT`` set, events are also delivered to that
    server (see :mod:`agent_trace.remote`): by a background thread, or, with
    ``detached=True`` (short-lived hook processes), by a forked shipper that
    does not hold the caller up."""
    from ..remote.config import endpoint

    url = endpoint()
    if url is None:
        return FileSink(store)
    if not url.startswith(("http://", "https://")):
        sys.stderr.write(f"agent-strace: AGENT_STRACE_ENDPOINT must be an http(s) URL, not {url!r}: "
                         "recording locally only\n")
        return FileSink(store)
    from ..remote.config import token
    from ..remote.delivery import ShippingSink

    return ShippingSink(store, url, token(), detached=detached)

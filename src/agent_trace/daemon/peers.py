"""Which process is on the other end of a loopback TCP connection (Linux).

The ``kill`` action must signal the agent.  A command hook finds it among its
own parents; the daemon is nobody's child, but an HTTP hook's connection
comes from the agent process itself, so its socket names the agent:
``/proc/net/tcp`` gives the socket's inode, ``/proc/*/fd`` the process
holding it.  Only run when a kill rule fires.
"""

from __future__ import annotations

import os


def _inode(client_port: int, server_port: int) -> str | None:
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        try:
            with open(table, encoding="ascii") as f:
                next(f, None)
                for line in f:
                    cols = line.split()
                    if len(cols) < 10:
                        continue
                    local, remote = cols[1], cols[2]
                    if int(local.rsplit(":", 1)[1], 16) == client_port and \
                            int(remote.rsplit(":", 1)[1], 16) == server_port:
                        return cols[9]
        except (OSError, ValueError):
            continue
    return None


def pid_of_peer(client_port: int, server_port: int) -> int | None:
    inode = _inode(client_port, server_port)
    if not inode or inode == "0":
        return None
    target = f"socket:[{inode}]"
    me = os.getpid()
    for name in os.listdir("/proc"):
        if not name.isdigit() or int(name) == me:
            continue
        fd_dir = f"/proc/{name}/fd"
        try:
            fds = os.listdir(fd_dir)
        except OSError:
            continue
        for fd in fds:
            try:
                if os.readlink(f"{fd_dir}/{fd}") == target:
                    return int(name)
            except OSError:
                continue
    return None

"""A round-robin TCP load balancer on loopback, as operators put in front of
several collectors: each new connection goes to the next backend that
accepts it (a dead one is skipped).  Threads only; for tests and the load
benchmark."""

from __future__ import annotations

import socket
import threading


class Balancer:
    def __init__(self, backends: list[tuple[str, int]]):
        self.backends = list(backends)
        self._next = 0
        self._lock = threading.Lock()
        self.connections = [0] * len(self.backends)
        self.sock = socket.socket()
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(128)
        self.port = self.sock.getsockname()[1]
        self._stop = False
        threading.Thread(target=self._accept, daemon=True).start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def _accept(self) -> None:
        while not self._stop:
            try:
                client, _ = self.sock.accept()
            except OSError:
                return
            threading.Thread(target=self._serve, args=(client,), daemon=True).start()

    def _connect(self) -> socket.socket | None:
        for _ in range(len(self.backends)):
            with self._lock:
                i = self._next
                self._next = (self._next + 1) % len(self.backends)
            try:
                s = socket.create_connection(self.backends[i], timeout=2)
                s.settimeout(None)
                self.connections[i] += 1
                return s
            except OSError:
                continue
        return None

    def _serve(self, client: socket.socket) -> None:
        upstream = self._connect()
        if upstream is None:
            client.close()
            return
        for s in (client, upstream):
            s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        t = threading.Thread(target=_pipe, args=(upstream, client), daemon=True)
        t.start()
        _pipe(client, upstream)
        t.join()

    def close(self) -> None:
        self._stop = True
        self.sock.close()


def _pipe(src: socket.socket, dst: socket.socket) -> None:
    try:
        while True:
            data = src.recv(65536)
            if not data:
                break
            dst.sendall(data)
    except OSError:
        pass
    finally:
        for s in (src, dst):
            try:
                s.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
        try:
            src.close()
        except OSError:
            pass

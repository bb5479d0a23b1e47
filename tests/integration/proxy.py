"""A TCP proxy for outage tests: a free loopback port forwarded to a server, with a cable to cut.

    with TcpProxy.to(anvil.url) as proxy:
        w3 = Web3(Web3.HTTPProvider(proxy.url))
        proxy.cut()  # live connections are reset; new ones are accepted and reset at once
        proxy.restore()  # forwards again

The listening port stays bound while cut, so no other process can take it meanwhile and
`restore` cannot fail. One thread moves the bytes (a selector over every socket) and runs the
commands, so `cut` returns once every live connection is reset. It forwards with blocking
sends (up to 5 s each): fine for test traffic, not for a peer that stops reading.
"""

from __future__ import annotations

import queue
import selectors
import socket
import struct
import threading
from collections.abc import Callable
from types import TracebackType
from urllib.parse import urlsplit

__all__ = ["TcpProxy"]

_CHUNK = 65_536
_COMMAND_TIMEOUT = 5.0  # seconds a command waits for the proxy's thread


class TcpProxy:
    """Forwards 127.0.0.1:`port` to `target_host`:`target_port`, until cut."""

    def __init__(self, target_host: str, target_port: int) -> None:
        self.target = (target_host, target_port)
        self.host = "127.0.0.1"
        self.port = 0  # chosen by the system at start
        self.accepted = 0  # connections accepted, cut or not
        self._cut = False
        self._peers: dict[socket.socket, socket.socket] = {}
        self._commands: queue.Queue[tuple[Callable[[], None], threading.Event]] = queue.Queue()
        self._selector = selectors.DefaultSelector()
        self._listener: socket.socket | None = None
        self._wake_in, self._wake_out = socket.socketpair()
        self._thread: threading.Thread | None = None
        self._closing = False

    @classmethod
    def to(cls, url: str) -> TcpProxy:
        """A started proxy to the host and port of an http:// URL."""
        parts = urlsplit(url)
        if parts.hostname is None or parts.port is None:
            raise ValueError(f"{url} names no host and port")
        return cls(parts.hostname, parts.port).start()

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}"

    @property
    def is_cut(self) -> bool:
        return self._cut

    @property
    def connections(self) -> int:
        """Live forwarded connections."""
        return len(self._peers) // 2

    def start(self) -> TcpProxy:
        listener = socket.create_server((self.host, 0))
        listener.setblocking(False)
        self._listener = listener
        self.port = int(listener.getsockname()[1])
        self._selector.register(listener, selectors.EVENT_READ)
        self._selector.register(self._wake_in, selectors.EVENT_READ)
        self._thread = threading.Thread(target=self._serve, name=f"proxy:{self.port}", daemon=True)
        self._thread.start()
        return self

    def cut(self) -> None:
        """Resets every live connection, and every new one until `restore`."""
        self._call(self._do_cut)

    def restore(self) -> None:
        """Forwards new connections again."""
        self._call(self._do_restore)

    def close(self) -> None:
        """Resets every connection and stops listening."""
        if self._thread is None:
            return
        if self._thread.is_alive():
            self._closing = True
            self._call(self._do_cut)
            self._thread.join(timeout=_COMMAND_TIMEOUT)
        self._thread = None
        if self._listener is not None:
            self._listener.close()
        self._wake_in.close()
        self._wake_out.close()
        self._selector.close()

    def __enter__(self) -> TcpProxy:
        return self if self._thread is not None else self.start()

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    # -- on the proxy's thread

    def _call(self, command: Callable[[], None]) -> None:
        if self._thread is None or not self._thread.is_alive():
            raise RuntimeError("the proxy is not running")
        done = threading.Event()
        self._commands.put((command, done))
        self._wake_out.send(b"!")
        if not done.wait(_COMMAND_TIMEOUT):
            raise RuntimeError("the proxy's thread did not answer")

    def _serve(self) -> None:
        while True:
            for key, _ in self._selector.select():
                sock = key.fileobj
                assert isinstance(sock, socket.socket)
                if sock is self._wake_in:
                    self._run_commands()
                    if self._closing:
                        return
                elif sock is self._listener:
                    self._accept(sock)
                elif sock in self._peers:  # not reset by an earlier event of this round
                    self._forward(sock)

    def _run_commands(self) -> None:
        self._wake_in.recv(_CHUNK)
        while not self._commands.empty():
            command, done = self._commands.get()
            command()
            done.set()

    def _accept(self, listener: socket.socket) -> None:
        try:
            client, _ = listener.accept()
        except BlockingIOError:
            return
        self.accepted += 1
        if self._cut:
            _reset(client)
            return
        try:
            server = socket.create_connection(self.target, timeout=_COMMAND_TIMEOUT)
        except OSError:
            _reset(client)
            return
        client.settimeout(_COMMAND_TIMEOUT)
        self._peers[client] = server
        self._peers[server] = client
        self._selector.register(client, selectors.EVENT_READ)
        self._selector.register(server, selectors.EVENT_READ)

    def _forward(self, sock: socket.socket) -> None:
        peer = self._peers[sock]
        try:
            data = sock.recv(_CHUNK)
            if data:
                peer.sendall(data)
                return
        except OSError:
            self._drop(sock, reset=True)
            return
        self._drop(sock, reset=False)  # one side closed: close the other

    def _drop(self, sock: socket.socket, *, reset: bool) -> None:
        peer = self._peers.pop(sock)
        del self._peers[peer]
        for end in (sock, peer):
            self._selector.unregister(end)
            if reset:
                _reset(end)
            else:
                end.close()

    def _do_cut(self) -> None:
        self._cut = True
        for sock in list(self._peers):
            if sock in self._peers:
                self._drop(sock, reset=True)

    def _do_restore(self) -> None:
        self._cut = False


def _reset(sock: socket.socket) -> None:
    """Closes with a TCP reset: the other end reads ECONNRESET, as when a node is killed."""
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    sock.close()

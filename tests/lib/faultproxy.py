"""A TCP proxy for tests that breaks connections on purpose.

It listens on a loopback port and forwards each connection to a target.
A plan says, connection by connection, when to cut: after n bytes from the
server to the client (say in the middle of a FETCH literal), or after n
bytes from the client to the server (in the middle of a command or an
APPEND). A cut is abrupt: both sockets are reset (SO_LINGER 0), as a
network failure would look. Connections beyond the plan pass untouched.

    with FaultProxy(dovecot_port) as fp:
        fp.plan(("down", 150000), ("up", 2000), None)
        ... point the client at fp.port ...
        fp.cuts          # how many cuts happened
        fp.sent[0]       # every byte the first client sent (for checking
                         # that nothing went out in plain text)
        fp.rewrite = [(b"SASL PLAIN LOGIN\r\n", b"X-NOTHING\r\n")]
                         # edit what the server says (plain text only; a
                         # pattern split across two reads is missed)
        fp.on_cut = fn   # called at a planned cut, before the sockets
                         # are reset: fn() may SIGKILL the client, so a
                         # crash lands at an exact byte of the protocol

It runs in threads of the test process; stop() (or leaving the with
block) closes everything.
"""
import select
import socket
import struct
import threading


class FaultProxy:
    def __init__(self, target_port, target_host="127.0.0.1"):
        self.target = (target_host, target_port)
        self.lsock = socket.socket()
        self.lsock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.lsock.bind(("127.0.0.1", 0))
        self.lsock.listen(16)
        self.port = self.lsock.getsockname()[1]
        self.lock = threading.Lock()
        self.plans = []
        self.cuts = 0
        self.connections = 0
        self.sent = []          # per connection: bytes client -> server
        self.received = []      # per connection: bytes server -> client
        self.stopping = False
        self.threads = []
        self.rewrite = []       # (old, new) applied server -> client
        self.on_cut = None      # called at a planned cut (see above)

    def plan(self, *steps):
        """Queue steps, one per future connection: None (pass through),
        ("down", n) or ("up", n)."""
        with self.lock:
            self.plans.extend(steps)

    def unplan(self):
        """Drop the steps no connection has taken yet."""
        with self.lock:
            self.plans = []

    def start(self):
        t = threading.Thread(target=self._accept, daemon=True)
        t.start()
        self.threads.append(t)
        return self

    def stop(self):
        self.stopping = True
        try:
            self.lsock.close()
        except OSError:
            pass

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.stop()
        return False

    def _accept(self):
        while not self.stopping:
            try:
                c, _ = self.lsock.accept()
            except OSError:
                return
            with self.lock:
                step = self.plans.pop(0) if self.plans else None
                idx = self.connections
                self.connections += 1
                self.sent.append(bytearray())
                self.received.append(bytearray())
            t = threading.Thread(target=self._serve, args=(c, step, idx),
                                 daemon=True)
            t.start()

    @staticmethod
    def _reset(s):
        try:
            s.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER,
                         struct.pack("ii", 1, 0))
        except OSError:
            pass
        s.close()

    def _serve(self, c, step, idx):
        try:
            s = socket.create_connection(self.target, timeout=10)
        except OSError:
            self._reset(c)
            return
        for x in (c, s):
            x.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        limit = {"down": None, "up": None}
        if step is not None:
            limit[step[0]] = step[1]
        count = {"down": 0, "up": 0}
        cut = False
        while not cut and not self.stopping:
            try:
                r, _, _ = select.select([c, s], [], [], 1.0)
            except (OSError, ValueError):
                break
            for src in r:
                way = "up" if src is c else "down"
                dst = s if src is c else c
                try:
                    data = src.recv(65536)
                except OSError:
                    data = b""
                if not data:
                    cut = True
                    break
                if way == "down":
                    for old, new in self.rewrite:
                        data = data.replace(old, new)
                lim = limit[way]
                if lim is not None and count[way] + len(data) >= lim:
                    data = data[:max(0, lim - count[way])]
                    cut = "fault"
                count[way] += len(data)
                (self.sent if way == "up" else self.received)[idx].extend(
                    data)
                try:
                    if data:
                        dst.sendall(data)
                except OSError:
                    cut = True
                if cut:
                    break
        if cut == "fault":
            with self.lock:
                self.cuts += 1
            if self.on_cut is not None:
                self.on_cut()
            self._reset(c)
            self._reset(s)
        else:
            for x in (c, s):
                try:
                    x.shutdown(socket.SHUT_RDWR)
                except OSError:
                    pass
                x.close()

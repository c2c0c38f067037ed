"""A minimal POP3 server without UIDL, for tests.

Dovecot always offers UIDL, so a client's fallback for servers that lack
it needs a server of its own: this one speaks RFC 1939 (USER/PASS, STAT,
LIST, RETR, TOP, DELE, NOOP, RSET, QUIT) and CAPA (RFC 2449) without
UIDL, and answers UIDL with -ERR. Plain text on loopback only; any user
logs in with the password given. One maildrop shared by all sessions;
DELE takes effect at QUIT, as RFC 1939 says.

    with Pop3NoUidl(password="x") as srv:
        srv.add(b"Subject: hi\\r\\n\\r\\nbody\\r\\n")
        ... srv.port ... srv.messages() ... srv.commands
"""
import socket
import threading


class Pop3NoUidl:
    def __init__(self, password="x"):
        self.password = password
        self.lock = threading.Lock()
        self.drop = []          # (id, bytes) of each message, CRLF lines
        self.next_id = 1
        self.commands = []      # every command line seen (PASS masked)
        self.sock = socket.socket()
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(8)
        self.port = self.sock.getsockname()[1]
        self.stopping = False
        self.thread = threading.Thread(target=self._accept, daemon=True)

    # ---- the test's side ----

    def add(self, data):
        """Append a message (bytes; LF line ends become CRLF)."""
        data = data.replace(b"\r\n", b"\n").replace(b"\n", b"\r\n")
        with self.lock:
            self.drop.append((self.next_id, data))
            self.next_id += 1

    def messages(self):
        """The bytes of every message in the maildrop, in order."""
        with self.lock:
            return [m for _, m in self.drop]

    def start(self):
        self.thread.start()
        return self

    def stop(self):
        self.stopping = True
        try:
            socket.create_connection(("127.0.0.1", self.port), 1).close()
        except OSError:
            pass
        self.thread.join(5)
        self.sock.close()

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.stop()
        return False

    # ---- the server ----

    def _accept(self):
        while not self.stopping:
            conn, _ = self.sock.accept()
            if self.stopping:
                conn.close()
                break
            threading.Thread(target=self._session, args=(conn,),
                             daemon=True).start()

    def _session(self, conn):
        f = conn.makefile("rwb", buffering=0)
        try:
            self._dialogue(f)
        except (OSError, ValueError):
            pass
        finally:
            conn.close()

    @staticmethod
    def _send(f, line):
        f.write(line.encode() + b"\r\n")

    @staticmethod
    def _multi(f, data):
        """A multi-line answer's body, dot-stuffed, and its end."""
        out = []
        for line in data.split(b"\r\n")[:-1] if data.endswith(b"\r\n") \
                else data.split(b"\r\n"):
            out.append(b"." + line if line.startswith(b".") else line)
        f.write(b"\r\n".join(out) + b"\r\n.\r\n")

    def _dialogue(self, f):
        self._send(f, "+OK test POP3 server without UIDL ready")
        user = None
        authed = False
        snap, deleted = [], set()
        while True:
            raw = f.readline()
            if not raw:
                return
            line = raw.rstrip(b"\r\n").decode("latin-1")
            word, _, arg = line.partition(" ")
            word = word.upper()
            self.commands.append("PASS ****" if word == "PASS" else line)
            if word == "QUIT":
                if authed:
                    with self.lock:
                        gone = set(snap[i][0] for i in deleted)
                        self.drop = [x for x in self.drop
                                     if x[0] not in gone]
                self._send(f, "+OK bye")
                return
            if word == "CAPA":
                self._send(f, "+OK capabilities follow")
                f.write(b"TOP\r\nUSER\r\nRESP-CODES\r\n.\r\n")
            elif word == "NOOP":
                self._send(f, "+OK")
            elif not authed and word == "USER":
                user = arg
                self._send(f, "+OK send PASS")
            elif not authed and word == "PASS":
                if user and arg == self.password:
                    authed = True
                    with self.lock:
                        snap = list(self.drop)
                    self._send(f, "+OK logged in")
                else:
                    self._send(f, "-ERR [AUTH] wrong password")
            elif not authed:
                self._send(f, "-ERR log in first")
            elif word == "UIDL":
                self._send(f, "-ERR UIDL is not supported here")
            elif word == "STAT":
                live = [i for i in range(len(snap)) if i not in deleted]
                self._send(f, "+OK %d %d" % (
                    len(live), sum(len(snap[i][1]) for i in live)))
            elif word == "LIST" and not arg:
                self._send(f, "+OK scan listing follows")
                f.write(b"".join(b"%d %d\r\n" % (i + 1, len(m))
                                 for i, (_, m) in enumerate(snap)
                                 if i not in deleted) + b".\r\n")
            elif word in ("LIST", "RETR", "TOP", "DELE"):
                args = arg.split()
                try:
                    n = int(args[0]) - 1
                    if n < 0 or n >= len(snap) or n in deleted:
                        raise ValueError
                except (ValueError, IndexError):
                    self._send(f, "-ERR no such message")
                    continue
                m = snap[n][1]
                if word == "LIST":
                    self._send(f, "+OK %d %d" % (n + 1, len(m)))
                elif word == "DELE":
                    deleted.add(n)
                    self._send(f, "+OK marked")
                elif word == "RETR":
                    self._send(f, "+OK %d octets" % len(m))
                    self._multi(f, m)
                else:
                    try:
                        k = int(args[1])
                    except (ValueError, IndexError):
                        self._send(f, "-ERR TOP needs a line count")
                        continue
                    head, sep, body = m.partition(b"\r\n\r\n")
                    lines = body.split(b"\r\n")[:k] if k > 0 else []
                    out = head + b"\r\n\r\n" + b"".join(
                        x + b"\r\n" for x in lines)
                    self._send(f, "+OK top of message follows")
                    self._multi(f, out)
            elif word == "RSET":
                deleted.clear()
                self._send(f, "+OK")
            else:
                self._send(f, "-ERR unknown command")

"""IMAP helpers for differential tests and benchmarks: a byte-level client,
a parser for IMAP response lines, and a normaliser that turns a server's
answer to one command into a value that can be compared with another
server's answer to the same command.

What the normaliser throws away is what RFC 3501 lets two correct servers
say differently: the human text after the status word or response code,
UIDVALIDITY values (and the UIDVALIDITY inside APPENDUID / COPYUID), MODSEQ
values, capability lists, ID answers, the order of untagged responses that
the protocol does not order (only EXPUNGE and VANISHED keep their order),
the order of items inside one FETCH response, whether a string went out as
a quoted string or a literal, the case of atoms and the order of flags.

    c = Client(port)                  # plain; Client(port, tls=ctx) for IMAPS
    c.login("user", "pw")
    untagged, tagged = c.cmd("FETCH 1 ENVELOPE")
    canon = normalise("FETCH 1 ENVELOPE", untagged, tagged)

Python 3 standard library only.
"""
import calendar
import re
import socket
import ssl


class Client:
    """A line-level IMAP client working in bytes. cmd() sends one command and
    returns (untagged responses, tagged response), each response a bytes
    object with any literals spliced in as `{n}\\r\\n<n bytes>`."""

    def __init__(self, port, host="127.0.0.1", tls=None, timeout=60):
        sock = socket.create_connection((host, port), timeout=timeout)
        if tls is not None:
            sock = tls.wrap_socket(sock, server_hostname=host)
        self.sock = sock
        self.buf = b""
        self.n = 0
        self.greeting = self.response()

    def _fill(self):
        d = self.sock.recv(1 << 20)
        if not d:
            raise EOFError("connection closed; buffered %r" % self.buf[:200])
        self.buf += d

    def _line(self):
        while True:
            i = self.buf.find(b"\r\n")
            if i >= 0:
                line, self.buf = self.buf[:i + 2], self.buf[i + 2:]
                return line
            self._fill()

    def response(self):
        """One whole response: a line, and the literals it announces."""
        out = []
        while True:
            line = self._line()
            out.append(line)
            m = re.search(rb"\{(\d+)\+?\}\r\n$", line)
            if not m:
                return b"".join(out)[:-2]
            n = int(m.group(1))
            while len(self.buf) < n:
                self._fill()
            out.append(self.buf[:n])
            self.buf = self.buf[n:]

    def send(self, data):
        if isinstance(data, str):
            data = data.encode()
        self.sock.sendall(data)

    def tag(self):
        self.n += 1
        return b"t%d" % self.n

    def cmd(self, text, literal=None):
        """Send `tag text`; with `literal`, text must end with {n} and the
        literal bytes follow after the continuation request."""
        if isinstance(text, str):
            text = text.encode()
        tag = self.tag()
        self.send(tag + b" " + text + b"\r\n")
        if literal is not None:
            r = self.response()
            if not r.startswith(b"+"):
                return [], r
            self.send(literal + b"\r\n")
        return self.until(tag)

    def until(self, tag):
        untagged = []
        while True:
            r = self.response()
            if r.startswith(tag + b" "):
                return untagged, r
            untagged.append(r)

    def ok(self, text, literal=None):
        untagged, tagged = self.cmd(text, literal)
        if status(tagged) != "OK":
            raise AssertionError("%r -> %r" % (text, tagged))
        return untagged

    def login(self, user, password):
        return self.ok('LOGIN "%s" "%s"' % (user, password))

    def append(self, mailbox, data, flags="", date=None):
        args = '"%s"' % mailbox
        if flags:
            args += " (%s)" % flags
        if date:
            args += ' "%s"' % date
        return self.cmd("APPEND %s {%d}" % (args, len(data)), literal=data)

    def close(self):
        try:
            self.sock.close()
        except OSError:
            pass


def status(tagged):
    """The status word of a tagged response: OK, NO or BAD."""
    parts = tagged.split(b" ", 2)
    return parts[1].decode("latin-1").upper() if len(parts) > 1 else ""


# --- parsing ----------------------------------------------------------------

class Str(bytes):
    """A string (quoted or literal), told apart from an atom."""

    def __repr__(self):
        return "S" + bytes.__repr__(self)


class ParseError(Exception):
    pass


def _parse_quoted(data, i):
    out = bytearray()
    i += 1
    while i < len(data):
        c = data[i]
        if c == 0x5C and i + 1 < len(data):
            out.append(data[i + 1])
            i += 2
        elif c == 0x22:
            return Str(bytes(out)), i + 1
        else:
            out.append(c)
            i += 1
    raise ParseError("unterminated quoted string")


def _parse_literal(data, i):
    m = re.compile(rb"\{(\d+)\+?\}\r\n").match(data, i)
    if not m:
        raise ParseError("bad literal at %d" % i)
    n = int(m.group(1))
    start = m.end()
    return Str(data[start:start + n]), start + n


def _parse_atom(data, i):
    """An atom, which may carry a bracketed section and a <partial>:
    BODY[HEADER.FIELDS (A B)]<0> is one token."""
    start = i
    depth = 0
    while i < len(data):
        c = data[i:i + 1]
        if c == b"[":
            depth += 1
        elif c == b"]":
            if depth == 0:
                break
            depth -= 1
        elif depth == 0 and c in b" ()":
            break
        i += 1
    if i == start:
        raise ParseError("empty atom at %d in %r" % (i, data[:80]))
    return data[start:i], i


def parse_list(data, i=0, close=None):
    """Parse a sequence of items up to `close` (b")" or b"]") or the end."""
    out = []
    while i < len(data):
        c = data[i:i + 1]
        if c == b" ":
            i += 1
        elif close is not None and c == close:
            return out, i + 1
        elif c == b"(":
            sub, i = parse_list(data, i + 1, b")")
            out.append(sub)
        elif c == b"[":
            sub, i = parse_list(data, i + 1, b"]")
            out.append(("[", sub))
        elif c == b'"':
            s, i = _parse_quoted(data, i)
            out.append(s)
        elif c == b"{":
            s, i = _parse_literal(data, i)
            out.append(s)
        else:
            a, i = _parse_atom(data, i)
            out.append(a)
    if close is not None:
        raise ParseError("missing %r" % close)
    return out, i


def parse(data):
    """Parse a whole response into a list of items."""
    return parse_list(data)[0]


# --- normalising ------------------------------------------------------------

def _upper(x):
    return x.upper() if isinstance(x, bytes) and not isinstance(x, Str) else x


def _flags(lst):
    return tuple(sorted(_upper(f) for f in lst))


def _section_key(atom):
    """BODY[header.fields (a  b)]<0> -> BODY[HEADER.FIELDS (A B)]<0>."""
    s = atom.upper()
    s = re.sub(rb"\s+", b" ", s)
    s = s.replace(b"( ", b"(").replace(b" )", b")")
    return s


def _tree(x):
    """Lists to tuples, atoms upper-cased, strings kept (quoted = literal)."""
    if isinstance(x, list):
        return tuple(_tree(y) for y in x)
    if isinstance(x, tuple) and x and x[0] == "[":
        return ("[",) + tuple(_tree(y) for y in x[1])
    if isinstance(x, Str):
        return ("S", bytes(x))
    if isinstance(x, bytes):
        return x.upper()
    return x


def imap_date(s):
    """An IMAP date-time as seconds since the epoch (a server may give the
    same instant in another zone)."""
    m = re.match(rb" ?(\d{1,2})-(\w{3})-(\d{4}) (\d\d):(\d\d):(\d\d) ([-+])(\d\d)(\d\d)$", s)
    if not m:
        return ("bad date", s)
    months = [b"JAN", b"FEB", b"MAR", b"APR", b"MAY", b"JUN", b"JUL", b"AUG",
              b"SEP", b"OCT", b"NOV", b"DEC"]
    t = calendar.timegm((int(m.group(3)), months.index(m.group(2).upper()) + 1,
                         int(m.group(1)), int(m.group(4)), int(m.group(5)),
                         int(m.group(6))))
    off = (int(m.group(8)) * 60 + int(m.group(9))) * 60
    return t - off if m.group(7) == b"+" else t + off


def _fetch_items(lst):
    """A FETCH data list as a sorted tuple of (key, value)."""
    items = {}
    i = 0
    while i + 1 < len(lst):
        key = lst[i]
        val = lst[i + 1]
        if not isinstance(key, bytes):
            raise ParseError("FETCH key %r" % (key,))
        key = _section_key(bytes(key))
        if key == b"FLAGS":
            val = ("FLAGS",) + _flags(val)
        elif key == b"MODSEQ":
            val = "modseq"
        elif key == b"INTERNALDATE":
            val = ("date", imap_date(bytes(val)))
        else:
            val = _tree(val)
        items[key] = val
        i += 2
    if len(lst) % 2:
        items[b"(a key without a value)"] = _tree(lst[-1])
    return tuple(sorted(items.items()))


def _code(code):
    """A response code [ATOM args] without the values that may differ."""
    if not code:
        return None
    name = _upper(code[0]) if isinstance(code[0], bytes) else code[0]
    args = code[1:]
    if name == b"CAPABILITY":
        return (b"CAPABILITY",)
    if name in (b"UIDVALIDITY", b"HIGHESTMODSEQ"):
        return (name,)
    if name in (b"APPENDUID", b"COPYUID"):
        return (name,) + tuple(_tree(a) for a in args[1:])
    if name == b"PERMANENTFLAGS" and args:
        return (name, _flags(args[0]))
    if name == b"BADCHARSET":
        return (name,)
    return (name,) + tuple(_tree(a) for a in args)


# Response codes that are hints to the reader, not protocol.
HINT_CODES = (b"CLIENTBUG",)


def _status_line(data):
    """`OK [code] text` -> (word, code). Only the code is parsed: the text
    is free and may hold anything, unbalanced brackets included."""
    word, _, rest = data.partition(b" ")
    code = None
    if rest.startswith(b"["):
        try:
            items, _ = parse_list(rest, 1, b"]")
        except ParseError:
            return (word.upper(), ("unparsable", rest))
        code = _code(items)
        if code and code[0] in HINT_CODES:
            code = None
    return (word.upper(), code)


def _numbers(items):
    return tuple(sorted(int(x) for x in items))


# Mailbox attributes a server may give or not as it likes (RFC 3501
# section 7.2.2: "interesting" is the server's opinion).
OPTIONAL_ATTRS = (b"\\MARKED", b"\\UNMARKED")


def canon_untagged(resp):
    """One untagged response as a comparable value, or None if it says
    nothing two correct servers must agree on (CAPABILITY, ID, text-only
    OK)."""
    word = resp[2:].split(b" ", 1)[0].upper()
    if word in (b"OK", b"NO", b"BAD", b"BYE", b"PREAUTH"):
        st = _status_line(resp[2:])
        head = word
        if head == b"OK" and st[1] is None:
            return None
        if st[1] and st[1][0] in (b"CAPABILITY", b"HIGHESTMODSEQ"):
            return None
        return st
    try:
        items = parse(resp[2:])
    except ParseError as e:
        return ("unparsable", resp, str(e))
    if not items:
        return ("empty",)
    head = _upper(items[0])
    if head in (b"CAPABILITY", b"ID", b"ENABLED"):
        return None
    if head in (b"SEARCH",):
        nums = [x for x in items[1:] if not isinstance(x, list)]
        return (b"SEARCH", _numbers([x for x in nums if x.isdigit()]))
    if head == b"FLAGS":
        return (b"FLAGS", _flags(items[1]))
    if head in (b"LIST", b"LSUB"):
        name = items[3] if len(items) > 3 else b""
        if isinstance(name, Str):
            name = bytes(name)
        attrs = [a for a in items[1] if _upper(a) not in OPTIONAL_ATTRS]
        return (head, _flags(attrs), _tree(items[2]), ("NAME", bytes(name))) + \
            tuple(_tree(x) for x in items[4:])
    if head == b"STATUS":
        name = bytes(items[1])
        d = {}
        lst = items[2]
        for k, v in zip(lst[0::2], lst[1::2]):
            k = _upper(k)
            if k in (b"UIDVALIDITY", b"HIGHESTMODSEQ"):
                v = b"x"
            d[k] = v
        return (b"STATUS", name, tuple(sorted(d.items())))
    if head == b"ESEARCH":
        out = [b"ESEARCH"]
        rest = [x for x in items[1:] if not (isinstance(x, list) and x and
                                             _upper(x[0]) == b"TAG")]
        i = 0
        while i < len(rest):
            key = _upper(rest[i])
            if key in (b"ALL", b"MIN", b"MAX", b"COUNT") and i + 1 < len(rest):
                val = rest[i + 1]
                out.append((key, seqset(val) if key == b"ALL" else bytes(val)))
                i += 2
            elif key == b"MODSEQ" and i + 1 < len(rest):
                out.append((key, "modseq"))
                i += 2
            else:
                out.append(_tree(rest[i]))
                i += 1
        return tuple(out)
    if len(items) >= 2 and isinstance(head, bytes) and head.isdigit():
        kind = _upper(items[1])
        if kind == b"FETCH":
            return (int(head), b"FETCH", _fetch_items(items[2]))
        return (int(head), kind) + tuple(_tree(x) for x in items[2:])
    return _tree(items)


def canon_tagged(resp):
    return _status_line(resp.split(b" ", 1)[1])


def seqset(s):
    """A sequence set without '*' as the sorted tuple of its numbers (1:3
    and 1,2,3 are the same answer)."""
    out = set()
    for part in bytes(s).split(b","):
        a, _, b = part.partition(b":")
        a, b = int(a), int(b or a)
        out.update(range(min(a, b), max(a, b) + 1))
    return tuple(sorted(out))


def expunged_positions(numbers):
    """The message numbers, as they were before the first EXPUNGE, that a
    run of `* n EXPUNGE` responses removed: servers may announce the same
    expunges in any order (2 3 4 and 6 4 2 both remove 2, 4 and 6)."""
    alive = list(range(1, max(numbers, default=0) + len(numbers) + 1))
    gone = []
    for n in numbers:
        gone.append(alive.pop(n - 1))
    return tuple(sorted(gone))


def normalise(untagged, tagged):
    """The comparable form of a whole answer: (tagged status and code, the
    messages EXPUNGE removed, VANISHED responses, the rest sorted). FETCH
    responses after an EXPUNGE keep the numbers they were sent with."""
    expunges, vanished, rest = [], [], []
    for r in untagged:
        c = canon_untagged(r)
        if c is None:
            continue
        if isinstance(c, tuple) and len(c) > 1 and c[1] == b"EXPUNGE":
            expunges.append(c[0])
        elif isinstance(c, tuple) and c and c[0] == b"VANISHED":
            vanished.append(c)
        else:
            rest.append(c)
    return (canon_tagged(tagged), expunged_positions(expunges), tuple(vanished),
            tuple(sorted(rest, key=repr)))


def diff_lines(a_untagged, a_tagged, b_untagged, b_tagged):
    """The responses that differ between two answers (as raw lines), for a
    report: [(line only in a or None, line only in b or None)]."""
    ca = {}
    for r in a_untagged + [a_tagged]:
        ca.setdefault(repr(canon_untagged(r) if r.startswith(b"* ")
                           else canon_tagged(r)), []).append(r)
    cb = {}
    for r in b_untagged + [b_tagged]:
        cb.setdefault(repr(canon_untagged(r) if r.startswith(b"* ")
                           else canon_tagged(r)), []).append(r)
    out = []
    for k, lines in ca.items():
        if k == "None":
            continue
        extra = len(lines) - len(cb.get(k, []))
        for l in lines[len(lines) - extra:] if extra > 0 else []:
            out.append((l, None))
    for k, lines in cb.items():
        if k == "None":
            continue
        extra = len(lines) - len(ca.get(k, []))
        for l in lines[len(lines) - extra:] if extra > 0 else []:
            out.append((None, l))
    return out


def short(line, n=300):
    s = line.decode("latin-1")
    s = s.replace("\r\n", "\\r\\n")
    return s if len(s) <= n else s[:n] + "...(%d bytes)" % len(line)


def tls_context(cafile=None, cadata=None):
    if cafile is None and cadata is None:
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
        ctx.check_hostname = False
        ctx.verify_mode = ssl.CERT_NONE
        return ctx
    return ssl.create_default_context(cafile=cafile, cadata=cadata)


def sdbox_dovecot(root, **kw):
    """A tests/lib/dovecot.py Dovecot keeping mail in sdbox with "/" as
    the hierarchy separator: unlike Maildir++ it renames INBOX the RFC 3501
    way and keeps a deleted parent as \\Noselect, so its mailbox semantics
    can be compared with mailvault's."""
    from dovecot import Dovecot

    class SdboxDovecot(Dovecot):
        def _write_conf(self):
            Dovecot._write_conf(self)
            with open(self.conf) as f:
                conf = f.read()
            conf = conf.replace("mail_location = maildir:", "mail_location = sdbox:")
            conf += "namespace inbox {\n  inbox = yes\n  separator = /\n  prefix =\n}\n"
            with open(self.conf, "w") as f:
                f.write(conf)

    return SdboxDovecot(root, **kw)

#!/usr/bin/env python3
"""make_fetch_vectors: record Dovecot's FETCH answers for tests/corpus/.

test_server_fetch compares mailvault's FETCH output with these, byte for
byte: ENVELOPE, BODYSTRUCTURE and BODY of every corpus message, and every
body section of every part (BODY[n], n.MIME, n.HEADER, n.TEXT, header
fields, partials, parts that do not exist), and the odd corners in ODD.

Regenerate (as root, with Debian's dovecot-imapd 2.3 installed):

    tests/unit/make_fetch_vectors.py              # starts a throwaway Dovecot
    tests/unit/make_fetch_vectors.py --port 143   # or use a running one
                                                  # (any user, password "x")

It APPENDs each tests/corpus/*.eml to a fresh mailbox, asks the FETCH
commands below, and writes tests/unit/fetch_vectors/NN-name.vec, one per
message, made of records

    C <fetch-att text>\\n
    R <byte count>\\n<the whole "* n FETCH (...)\\r\\n" response>\\n

Only BODY.PEEK and static items are asked, so the answers carry no flags and
do not depend on the order of the commands. Dovecot serves a message with
bare LF line ends as CRLF (a lone CR stays), so the test stores each message
converted that way (lib/maildir's maildir_to_crlf) before comparing.
Python 3 standard library only.
"""
import argparse
import glob
import os
import re
import shutil
import socket
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
CORPUS = os.path.join(ROOT, "tests", "corpus")
OUT = os.path.join(HERE, "fetch_vectors")
GROUP = 20		# items per FETCH command


class Imap:
	"""A minimal IMAP client that keeps the exact bytes of responses."""

	def __init__(self, port):
		self.s = socket.create_connection(("127.0.0.1", port))
		self.buf = b""
		self.n = 0
		self.read_resp()
		self.cmd(b"LOGIN vectors x")

	def line(self):
		while b"\r\n" not in self.buf:
			d = self.s.recv(65536)
			if not d:
				raise EOFError("connection closed")
			self.buf += d
		i = self.buf.index(b"\r\n") + 2
		l, self.buf = self.buf[:i], self.buf[i:]
		return l

	def read_resp(self):
		out = b""
		while True:
			l = self.line()
			out += l
			m = re.search(rb"\{(\d+)\}\r\n$", l)
			if not m:
				return out
			n = int(m.group(1))
			while len(self.buf) < n:
				d = self.s.recv(65536)
				if not d:
					raise EOFError("connection closed")
				self.buf += d
			out, self.buf = out + self.buf[:n], self.buf[n:]

	def cmd(self, c, lit=None):
		self.n += 1
		tag = b"v%d" % self.n
		if lit is not None:
			self.s.sendall(tag + b" " + c + b" {%d}\r\n" % len(lit))
			l = self.line()
			if not l.startswith(b"+"):
				raise RuntimeError(l)
			self.s.sendall(lit + b"\r\n")
		else:
			self.s.sendall(tag + b" " + c + b"\r\n")
		res = []
		while True:
			r = self.read_resp()
			if r.startswith(tag + b" "):
				if not r.startswith(tag + b" OK"):
					raise RuntimeError(b"%s: %s" % (c, r))
				return res
			res.append(r)


def sexp(data):
	"""Parse an IMAP parenthesised list (BODYSTRUCTURE) into Python lists."""
	pos = 0

	def val():
		nonlocal pos
		while data[pos:pos + 1] == b" ":
			pos += 1
		c = data[pos:pos + 1]
		if c == b"(":
			pos += 1
			items = []
			while True:
				while data[pos:pos + 1] == b" ":
					pos += 1
				if data[pos:pos + 1] == b")":
					pos += 1
					return items
				items.append(val())
		if c == b'"':
			pos += 1
			s = b""
			while data[pos:pos + 1] != b'"':
				if data[pos:pos + 1] == b"\\":
					pos += 1
				s += data[pos:pos + 1]
				pos += 1
			pos += 1
			return s
		if c == b"{":
			m = re.match(rb"\{(\d+)\}\r\n", data[pos:])
			pos += m.end()
			s = data[pos:pos + int(m.group(1))]
			pos += len(s)
			return s
		m = re.match(rb"[^ ()]+", data[pos:])
		pos += m.end()
		return None if m.group(0) == b"NIL" else m.group(0)

	return val()


def is_multi(b):
	return isinstance(b[0], list)


def is_message(b):
	return (not is_multi(b) and (b[0] or b"").lower() == b"message"
		and (b[1] or b"").lower() == b"rfc822" and len(b) > 8)


def parts_of_message(body, prefix, out):
	"""Sections of the message whose body is body (RFC 3501 6.4.5)."""
	if is_multi(body):
		parts_of_multipart(body, prefix, out)
	else:
		p = prefix + ["1"]
		out.append((".".join(p), body))
		if is_message(body):
			parts_of_message(body[8], p, out)


def parts_of_multipart(body, prefix, out):
	i = 0
	for child in body:
		if not isinstance(child, list):
			break
		i += 1
		p = prefix + [str(i)]
		out.append((".".join(p), child))
		if is_multi(child):
			parts_of_multipart(child, p, out)
		elif is_message(child):
			parts_of_message(child[8], p, out)


def sections(bodystructure):
	"""The section specs to ask for one message."""
	parts = []
	parts_of_message(bodystructure, [], parts)
	secs = ["", "HEADER", "TEXT", "HEADER.FIELDS (FROM TO SUBJECT DATE)",
		"HEADER.FIELDS.NOT (RECEIVED FROM CONTENT-TYPE)",
		"HEADER.FIELDS (X-NOT-THERE)", "9", "1.HEADER", "1.TEXT",
		"1.9"]
	for path, b in parts:
		secs += [path, path + ".MIME"]
		if is_message(b):
			secs += [path + ".HEADER", path + ".TEXT",
				 path + ".HEADER.FIELDS (SUBJECT FROM)",
				 path + ".HEADER.FIELDS.NOT (SUBJECT)"]
	if parts:
		last = parts[-1][0]
		secs += [last + ".7", last + ".7.MIME"]
	atts = ["BODY.PEEK[%s]" % s for s in secs]
	atts += ["BODY.PEEK[]<7.30>", "BODY.PEEK[TEXT]<0.10>",
		 "BODY.PEEK[1]<3.8>", "BODY.PEEK[HEADER]<100000.5>",
		 "BODY.PEEK[]<0.0>", "RFC822.SIZE", "RFC822.HEADER"]
	seen = set()
	uniq = [a for a in atts if not (a in seen or seen.add(a))]
	return [uniq[i:i + GROUP] for i in range(0, len(uniq), GROUP)] + ODD


# Corners where Dovecot's answer is not the obvious one: part 0 and part
# numbers wrapping at 2^32 (the first child of a multipart), n.1 of a leaf,
# quoted and empty field names (a line without a colon has the name ""),
# partials past the end or longer than 2^32.
ODD = [
	['BODY.PEEK[HEADER.FIELDS ("From" to "x y")]',
	 "BODY.PEEK[HEADER.FIELDS (From)]<0.20>", "BODY.PEEK[]<1.0>",
	 "BODY.PEEK[0]", "BODY.PEEK[1.0.2]", "BODY.PEEK[4294967296]",
	 "BODY.PEEK[]<4294967296.1>", "BODY.PEEK[TEXT]<0.4294967296>",
	 "BODY.PEEK[1.2.3.4.5.6.7.8.9.10]", "BODY.PEEK[2.1.HEADER]",
	 "BODY.PEEK[2.1.TEXT]", "BODY.PEEK[1.1.HEADER]", "BODY.PEEK[3.1]",
	 "BODY.PEEK[2.1.1]", "BODY.PEEK[1.1.1]", "BODY.PEEK[1.1]"],
	["BODY.PEEK[HEADER.FIELDS (Content-Type MIME-Version)]",
	 "BODY.PEEK[1.HEADER.FIELDS.NOT (Content-Type)]",
	 "BODY.PEEK[HEADER.FIELDS (X-Mailer References)]",
	 "BODY.PEEK[HEADER.FIELDS.NOT (X-Mailer References Date)]",
	 "BODY.PEEK[2.MIME]<3.10>", "BODY.PEEK[2.HEADER]<0.5>",
	 "BODY.PEEK[1.MIME]<0.0>", "BODY.PEEK[text]<5>",
	 'BODY.PEEK[HEADER.FIELDS ("")]', "BODY.PEEK[HEADER.FIELDS (subject:)]",
	 "BODY.PEEK[HEADER.FIELDS (SUBJECT SUBJECT)]",
	 'BODY.PEEK[HEADER.FIELDS.NOT ("x y" "a\\"b")]'],
]


def start_dovecot(port):
	d = tempfile.mkdtemp(prefix="fetchvec-")
	os.chmod(d, 0o755)
	conf = os.path.join(d, "dovecot.conf")
	with open(conf, "w") as f:
		f.write("""base_dir = {d}/run
log_path = {d}/log
protocols = imap
listen = 127.0.0.1
service imap-login {{
  inet_listener imap {{
    port = {port}
  }}
  inet_listener imaps {{
    port = 0
  }}
}}
mail_location = maildir:{d}/maildir
passdb {{
  driver = static
  args = password=x
}}
userdb {{
  driver = static
  args = uid=65534 gid=65534 home={d}/home
}}
ssl = no
""".format(d=d, port=port))
	for sub in ("maildir", "home"):
		os.mkdir(os.path.join(d, sub))
		os.chown(os.path.join(d, sub), 65534, 65534)
	subprocess.check_call(["dovecot", "-c", conf])
	for _ in range(50):
		try:
			socket.create_connection(("127.0.0.1", port)).close()
			break
		except OSError:
			time.sleep(0.1)
	return d, conf


def main():
	ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
	ap.add_argument("--port", type=int, help="use a running Dovecot")
	args = ap.parse_args()
	d = conf = None
	port = args.port
	if port is None:
		port = 24299
		d, conf = start_dovecot(port)
	try:
		c = Imap(port)
		box = b"vectors%d" % int(time.time())
		c.cmd(b"CREATE " + box)
		files = sorted(glob.glob(os.path.join(CORPUS, "*.eml")))
		for f in files:
			with open(f, "rb") as fp:
				c.cmd(b"APPEND " + box, fp.read())
		c.cmd(b"EXAMINE " + box)
		os.makedirs(OUT, exist_ok=True)
		for old in glob.glob(os.path.join(OUT, "*.vec")):
			os.unlink(old)
		for seq, f in enumerate(files, 1):
			write_vectors(c, seq, f)
	finally:
		if conf:
			subprocess.call(["doveadm", "-c", conf, "stop"])
			shutil.rmtree(d, ignore_errors=True)


def write_vectors(c, seq, path):
	name = os.path.basename(path)[:-4]
	groups = [["ENVELOPE BODYSTRUCTURE BODY"]]
	bs = fetch(c, seq, "BODYSTRUCTURE")
	pre = b"* %d FETCH (BODYSTRUCTURE " % seq
	groups += sections(sexp(bs[len(pre):-3]))
	with open(os.path.join(OUT, name + ".vec"), "wb") as out:
		for g in groups:
			att = "(" + " ".join(g) + ")"
			r = fetch(c, seq, att)
			out.write(b"C %s\n" % att.encode())
			out.write(b"R %d\n" % len(r) + r + b"\n")


def fetch(c, seq, att):
	res = c.cmd(b"FETCH %d %s" % (seq, att.encode()))
	res = [r for r in res if r.startswith(b"* %d FETCH" % seq)]
	if len(res) != 1:
		raise RuntimeError("FETCH %d %s: %r" % (seq, att, res))
	return res[0]


if __name__ == "__main__":
	sys.exit(main())

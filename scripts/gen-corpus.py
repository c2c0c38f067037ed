#!/usr/bin/env python3
"""gen-corpus: make realistic test mailboxes (mbox, Maildir) and big messages.

  gen-corpus.py mbox N OUT [--seed S]      N messages as an mboxrd file
  gen-corpus.py maildir N OUT [--seed S]   N messages as a Maildir (cur/new/tmp)
  gen-corpus.py big SIZE_MB OUT [--seed S] one CRLF message, SIZE_MB attachment

The mbox is written exactly as lib/mbox.c writes an export: LF line ends, a
From_ line "From SENDER DATE" (SENDER: the From header's address, or
MAILER-DAEMON when there is none; DATE: asctime form in UTC), the message
with mboxrd escaping (a line matching ^>*From  gets one more '>'), and one
empty line after every message. So importing it and exporting it again must
give the same file byte for byte. Output depends only on N and the seed.

Messages are made in wire form (CRLF) and vary: plain text, quoted-printable,
multipart/alternative, multipart/mixed with base64 attachments, encoded-word
subjects, threads (In-Reply-To, References), sizes from 1 KB to 200 KB.
Python 3 standard library only.
"""
import argparse
import base64
import os
import random
import re
import sys
import time

WORDS = (
    "the of and to in is that for it as with was on be at by this had not are "
    "but from or have an they which one you were her all she there would their "
    "we him been has when who will more no if out so said what up its about "
    "into than them can only other new some could time these two may then do "
    "first any my now such like our over man me even most made after also did "
    "many before must through back years where much your way well down should "
    "because each just those people how too little state good very make world "
    "still own see men work long get here between both life being under never "
    "day same another know while last might us great old year off come since "
    "against go came right used take three meeting budget report draft review "
    "project release schedule invoice shipment quarterly customer server backup "
    "deadline proposal contract agenda minutes summary feedback question update "
    "garden harbour lantern orchard meadow granite copper willow falcon marble "
    "velvet saffron juniper cobalt thistle ember quarry canyon glacier lagoon"
).split()
UTF8_WORDS = ["café", "naïve", "Zürich", "smörgås", "Ærø", "crème", "São",
              "Kraków", "Ålesund", "Größe", "niño", "déjà", "Straße", "Łódź"]
FIRST = ("Alice Bruno Chloe Dmitri Elena Farid Greta Hiro Ines Jonas Kasia Liam "
         "Maya Nils Olga Pavel Quinn Rosa Sami Tara Umar Vera Wen Xavier Yara "
         "Zoltan").split()
LAST = ("Anders Brook Costa Dubois Eriksen Fischer Garcia Hale Ivanova Jensen "
        "Kowalski Larsen Moreau Novak Okafor Petrov Quist Rossi Silva Tanaka "
        "Ueda Varga Weber Xu Young Zimmer").split()
DOMAINS = ["example.com", "example.net", "example.org", "mail.example",
           "corp.example", "lists.example", "uni.example", "shop.example"]
TOPICS = ["Quarterly report", "Budget review", "Release schedule", "Team offsite",
          "Server migration", "Invoice", "Meeting notes", "Project proposal",
          "Contract draft", "Holiday plans", "Backup failure", "Customer feedback",
          "Weekly update", "Conference travel", "Design review", "Hiring plan"]
DAYS = ["Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"]
MONTHS = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep",
          "Oct", "Nov", "Dec"]
ATTACH = [("application/pdf", "pdf"), ("image/png", "png"), ("image/jpeg", "jpg"),
          ("application/zip", "zip"), ("application/octet-stream", "bin"),
          ("text/csv", "csv")]


def rfc5322_date(t, tzmin):
    lt = time.gmtime(t + tzmin * 60)
    sign = "+" if tzmin >= 0 else "-"
    a = abs(tzmin)
    return "%s, %d %s %04d %02d:%02d:%02d %s%02d%02d" % (
        DAYS[lt.tm_wday], lt.tm_mday, MONTHS[lt.tm_mon - 1], lt.tm_year,
        lt.tm_hour, lt.tm_min, lt.tm_sec, sign, a // 60, a % 60)


def asctime_utc(t):
    g = time.gmtime(t)
    return "%s %s %2d %02d:%02d:%02d %04d" % (
        DAYS[g.tm_wday], MONTHS[g.tm_mon - 1], g.tm_mday, g.tm_hour,
        g.tm_min, g.tm_sec, g.tm_year)


def person(rng):
    f, l = rng.choice(FIRST), rng.choice(LAST)
    return "%s %s" % (f, l), "%s.%s@%s" % (f.lower(), l.lower(), rng.choice(DOMAINS))


def text_lines(rng, nbytes, utf8=False):
    """Paragraphs of wrapped words, about nbytes long; CRLF lines."""
    out, size = [], 0
    while size < nbytes:
        n = rng.randint(6, 13)
        words = rng.choices(WORDS, k=n)
        if utf8 and rng.random() < 0.3:
            words[rng.randrange(n)] = rng.choice(UTF8_WORDS)
        line = " ".join(words)
        r = rng.random()
        if r < 0.01:
            line = "From " + line          # mboxrd escaping food
        elif r < 0.015:
            line = ">From " + line
        elif r < 0.02:
            line = "." + line              # POP3 dot-stuffing food
        elif r < 0.08:
            line = ""                      # paragraph break
        out.append(line)
        size += len(line) + 2
    return "\r\n".join(out) + "\r\n"


def encode_word(s):
    return "=?UTF-8?B?%s?=" % base64.b64encode(s.encode()).decode()


def qp_encode(text):
    """Quoted-printable of CRLF text, soft breaks at 76."""
    lines = []
    for line in text.split("\r\n")[:-1]:
        enc = []
        for ch in line.encode("utf-8"):
            c = chr(ch)
            if ch == 61 or ch > 126 or (ch < 32 and ch != 9):
                enc.append("=%02X" % ch)
            else:
                enc.append(c)
        if enc and enc[-1] in (" ", "\t"):
            enc[-1] = "=%02X" % ord(enc[-1])
        cur, row = "", []
        for piece in enc:
            if len(cur) + len(piece) > 75:
                row.append(cur + "=")
                cur = ""
            cur += piece
        row.append(cur)
        lines.extend(row)
    return "\r\n".join(lines) + "\r\n"


def b64_body(data):
    return base64.encodebytes(data).replace(b"\n", b"\r\n").decode()


def pick_size(rng):
    r = rng.random()
    if r < 0.70:
        return rng.randint(1024, 8 * 1024)
    if r < 0.95:
        return rng.randint(8 * 1024, 50 * 1024)
    return rng.randint(50 * 1024, 200 * 1024)


class Gen:
    def __init__(self, seed):
        self.rng = random.Random(seed)
        self.seed = seed
        self.sent = []          # (message-id, subject, references) for threads
        self.t = 1420070400 + self.rng.randrange(86400 * 365)   # 2015

    def message(self, i):
        """One message in wire form: (bytes, sender, unix time)."""
        rng = self.rng
        self.t += rng.randint(60, 86400 // 4)
        t = self.t
        tz = rng.choice([0, 60, 120, -300, -420, 330, 540, -180])
        name, addr = person(rng)
        to_name, to_addr = person(rng)
        size = pick_size(rng)
        mid = "<%d.%d.%08x@%s>" % (self.seed, i, rng.getrandbits(32), addr.split("@")[1])

        subject, irt, refs = None, None, None
        if self.sent and rng.random() < 0.3:
            pmid, psubj, prefs = rng.choice(self.sent[-50:])
            subject = psubj if psubj.startswith("Re: ") else "Re: " + psubj
            irt = pmid
            refs = (prefs + [pmid])[-10:]
        else:
            subject = "%s %s %d" % (rng.choice(TOPICS), rng.choice(WORDS), rng.randint(1, 999))
            if rng.random() < 0.1:
                subject = encode_word(subject + " " + rng.choice(UTF8_WORDS))
        self.sent.append((mid, subject, refs or []))

        h = []
        h.append("Received: from mx%d.%s (mx%d.%s [192.0.2.%d])\r\n\tby mail.example.net"
                 " with ESMTPS id %08X\r\n\tfor <%s>; %s" % (
                     rng.randint(1, 9), addr.split("@")[1], rng.randint(1, 9),
                     addr.split("@")[1], rng.randint(1, 254), rng.getrandbits(32),
                     to_addr, rfc5322_date(t + 2, tz)))
        h.append("Date: %s" % rfc5322_date(t, tz))
        no_from = rng.random() < 0.01
        if not no_from:
            if rng.random() < 0.5:
                h.append("Return-Path: <%s>" % addr)
            h.append("From: %s <%s>" % (name, addr))
        h.append("To: %s <%s>" % (to_name, to_addr))
        if rng.random() < 0.2:
            cc = [person(rng) for _ in range(rng.randint(1, 4))]
            h.append("Cc: " + ",\r\n ".join("%s <%s>" % p for p in cc))
        h.append("Subject: %s" % subject)
        h.append("Message-ID: %s" % mid)
        if irt:
            h.append("In-Reply-To: %s" % irt)
            h.append("References: " + "\r\n ".join(refs))
        h.append("MIME-Version: 1.0")

        kind = rng.random()
        body_bytes = max(200, size - 800)
        if kind < 0.40:
            h.append("Content-Type: text/plain; charset=us-ascii")
            h.append("Content-Transfer-Encoding: 7bit")
            body = text_lines(rng, min(body_bytes, 60000))
        elif kind < 0.50:
            h.append("Content-Type: text/plain; charset=utf-8")
            h.append("Content-Transfer-Encoding: quoted-printable")
            body = qp_encode(text_lines(rng, min(body_bytes, 40000), utf8=True))
        elif kind < 0.75:
            b = "=_alt_%d_%d_%x" % (self.seed, i, rng.getrandbits(24))
            h.append('Content-Type: multipart/alternative; boundary="%s"' % b)
            txt = text_lines(rng, min(body_bytes // 2, 40000))
            html = "<html><body>\r\n" + "".join(
                "<p>%s</p>\r\n" % l for l in txt.split("\r\n")[:-1] if l) + "</body></html>\r\n"
            body = ("This is a multi-part message in MIME format.\r\n\r\n"
                    "--%s\r\nContent-Type: text/plain; charset=us-ascii\r\n\r\n%s\r\n"
                    "--%s\r\nContent-Type: text/html; charset=us-ascii\r\n\r\n%s\r\n"
                    "--%s--\r\n" % (b, txt, b, html, b))
        else:
            b = "----=_Part_%d_%d.%x" % (self.seed, i, rng.getrandbits(32))
            h.append('Content-Type: multipart/mixed; boundary="%s"' % b)
            parts = ["--%s\r\nContent-Type: text/plain; charset=us-ascii\r\n\r\n%s" % (
                b, text_lines(rng, rng.randint(200, 2000)))]
            natt = rng.randint(1, 3)
            for k in range(natt):
                ctype, ext = rng.choice(ATTACH)
                fname = "%s-%d-%d.%s" % (rng.choice(WORDS), i, k, ext)
                n = max(64, (size * 3 // 4) // natt)
                data = rng.randbytes(n)
                parts.append(
                    '--%s\r\nContent-Type: %s; name="%s"\r\n'
                    'Content-Disposition: attachment; filename="%s"\r\n'
                    "Content-Transfer-Encoding: base64\r\n\r\n%s" % (
                        b, ctype, fname, fname, b64_body(data)))
            body = "\r\n".join(parts) + "\r\n--%s--\r\n" % b
        msg = ("\r\n".join(h) + "\r\n\r\n" + body).encode("utf-8")
        return msg, ("MAILER-DAEMON" if no_from else addr), t


FROM_RE = re.compile(rb"^(>*From )", re.M)


def mbox_entry(msg, sender, t):
    text = FROM_RE.sub(rb">\1", msg.replace(b"\r\n", b"\n"))
    if not text.endswith(b"\n"):
        text += b"\n"
    return b"From %s %s\n" % (sender.encode(), asctime_utc(t).encode()) + text + b"\n"


def cmd_mbox(args):
    g = Gen(args.seed)
    with open(args.out, "wb") as f:
        for i in range(args.n):
            msg, sender, t = g.message(i)
            f.write(mbox_entry(msg, sender, t))


def cmd_maildir(args):
    g = Gen(args.seed)
    for sub in ("cur", "new", "tmp"):
        os.makedirs(os.path.join(args.out, sub), exist_ok=True)
    for i in range(args.n):
        msg, sender, t = g.message(i)
        data = msg.replace(b"\r\n", b"\n")
        base = "%d.M%dP%dQ%d.genhost,S=%d,W=%d" % (
            t, g.rng.randrange(1000000), 4242, i + 1, len(data), len(msg))
        if g.rng.random() < 0.1:
            path = os.path.join(args.out, "new", base)
        else:
            flags = "".join(c for c in "DFPRST" if g.rng.random() < (
                0.7 if c == "S" else 0.15 if c in "FR" else 0.04))
            path = os.path.join(args.out, "cur", base + ":2," + flags)
        with open(path, "wb") as f:
            f.write(data)
        os.utime(path, (t, t))


def cmd_big(args):
    rng = random.Random(args.seed)
    total = int(args.size_mb * 1024 * 1024)
    name, addr = person(rng)
    b = "big-boundary-%x" % rng.getrandbits(48)
    head = ("Date: %s\r\nFrom: %s <%s>\r\nTo: big.receiver@example.net\r\n"
            "Subject: Big attachment of %s MB\r\nMessage-ID: <big.%d@example.net>\r\n"
            "MIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary=\"%s\"\r\n\r\n"
            "--%s\r\nContent-Type: text/plain; charset=us-ascii\r\n\r\n%s\r\n"
            "--%s\r\nContent-Type: application/octet-stream; name=\"big.bin\"\r\n"
            "Content-Disposition: attachment; filename=\"big.bin\"\r\n"
            "Content-Transfer-Encoding: base64\r\n\r\n") % (
                rfc5322_date(1700000000, 0), name, addr, args.size_mb, args.seed, b, b,
                text_lines(rng, 2000), b)
    block = rng.randbytes(57 * 16 * 1024)      # a whole number of b64 lines
    with open(args.out, "wb") as f:
        f.write(head.encode())
        left = total
        while left > 0:
            n = min(left, len(block))
            chunk = block[:n] if n < len(block) else block
            f.write(base64.encodebytes(chunk).replace(b"\n", b"\r\n"))
            left -= n
            block = block[1:] + block[:1]       # vary the bytes a little
        f.write(("\r\n--%s--\r\n" % b).encode())


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    sp = p.add_subparsers(dest="cmd", required=True)
    m = sp.add_parser("mbox", help="N messages as an mboxrd file")
    m.add_argument("n", type=int)
    m.add_argument("out")
    m.add_argument("--seed", type=int, default=1)
    m.set_defaults(func=cmd_mbox)
    d = sp.add_parser("maildir", help="N messages as a Maildir")
    d.add_argument("n", type=int)
    d.add_argument("out")
    d.add_argument("--seed", type=int, default=1)
    d.set_defaults(func=cmd_maildir)
    b = sp.add_parser("big", help="one message with a SIZE_MB attachment")
    b.add_argument("size_mb", type=float)
    b.add_argument("out")
    b.add_argument("--seed", type=int, default=1)
    b.set_defaults(func=cmd_big)
    args = p.parse_args()
    args.func(args)


if __name__ == "__main__":
    sys.exit(main())

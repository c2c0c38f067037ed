/*
 * up_pop3: the POP3 upstream driver (sync/driver.h): POP3S or STLS,
 * APOP / SASL PLAIN / USER+PASS, UIDL and LIST, RETR streamed, DELE, and
 * QUIT to commit the deletions.
 *
 * Responses go through lib/pop3_resp, which needs to be told what each
 * response will look like; p3_send() queues that expectation with every
 * command, so pipelined commands (RFC 2449 PIPELINING) read back in
 * order. A message from RETR is dot-unstuffed by the parser and handed to
 * the engine piece by piece, never gathered.
 *
 * Without UIDL, a message's identity is a hash of its header (TOP n 0):
 * stable across sessions as long as the server does not rewrite headers,
 * which is the best a UIDL-less server allows; the log says so once per
 * session. Messages whose headers are identical (a message delivered
 * twice) are told apart by their order among themselves: "hdr:H", then
 * "hdr:H.2", and so on. Logins never fall back to plain text: the
 * connection is TLS, or plain only on loopback (sync/up_imap_conn.c
 * enforces both). If APOP is refused, the other methods are tried once,
 * over that same channel.
 */
#include "sync/up_int.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lib/base64.h"
#include "lib/buf.h"
#include "lib/digest.h"
#include "lib/pop3_resp.h"
#include "lib/tls.h"
#include "lib/util.h"

#define P3_LINE_MAX	8192
#define P3_UIDL_MAX	70
#define P3_MSGS_MAX	10000000
#define P3_PIPE_BATCH	64

enum {
	P3_STLS = 1 << 0,
	P3_UIDL = 1 << 1,
	P3_TOP = 1 << 2,
	P3_PIPELINING = 1 << 3,
	P3_SASL_PLAIN = 1 << 4,
	P3_CAPA = 1 << 5,		/* CAPA worked at all */
};

struct up_pop3 {
	struct sync_driver base;	/* first: the engine sees this */
	const struct sync_account_cfg *cfg;
	struct up_conn	 conn;
	struct pop3_resp_parser *rp;
	unsigned	 caps;		/* P3_* */
	char		 apop[256];	/* the greeting's timestamp, or "" */
	uint64_t	*sizes;		/* from the last LIST, by msgno */
	size_t		 nsizes;
	char		 doing[200];
	int		 hash_logged;
};

static void
doing(struct up_pop3 *d, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static void
doing(struct up_pop3 *d, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(d->doing, sizeof(d->doing), fmt, ap);
	va_end(ap);
}

static void
drop(struct up_pop3 *d)
{
	up_conn_close(&d->conn);
	pop3_resp_free(&d->rp);
}

static int
not_connected(struct up_pop3 *d, struct sync_error *err)
{
	if (d->rp != NULL && d->conn.s != NULL)
		return 0;
	return sync_error_set(err, SYNC_SCOPE_ACCOUNT, SYNC_RETRY_NOW,
	    SYNC_EK_NET, "not connected to %s", d->conn.where);
}

/* Queue a command line and the shape of its answer (not flushed). */
static int
p3_send(struct up_pop3 *d, enum pop3_expect e, struct sync_error *err,
    const char *fmt, ...) __attribute__((format(printf, 4, 5)));

static int
p3_send(struct up_pop3 *d, enum pop3_expect e, struct sync_error *err,
    const char *fmt, ...)
{
	struct buf b;
	va_list ap;
	int rc;

	buf_init(&b, 4096);
	va_start(ap, fmt);
	rc = buf_vprintf(&b, fmt, ap);
	va_end(ap);
	if (rc == 0)
		rc = buf_adds(&b, "\r\n");
	if (rc == 0 && pop3_resp_expect(d->rp, e) < 0)
		rc = -1;
	if (rc < 0) {
		buf_free(&b);
		drop(d);
		return sync_error_set(err, SYNC_SCOPE_ACCOUNT,
		    SYNC_RETRY_NEVER, SYNC_EK_LOCAL, "a POP3 command too long "
		    "or too many at once while %s", d->doing);
	}
	rc = up_conn_write(&d->conn, b.data, b.len, err);
	explicit_bzero(b.data, b.len);
	buf_free(&b);
	if (rc < 0)
		drop(d);
	return rc;
}

static int
flush(struct up_pop3 *d, struct sync_error *err)
{
	if (up_conn_flush(&d->conn, err) < 0) {
		drop(d);
		return -1;
	}
	return 0;
}

/* The next event: 1, or -1 and *err (the connection is then dropped). */
static int
next_event(struct up_pop3 *d, struct pop3_resp *ev, struct sync_error *err)
{
	const char *p;
	size_t len;
	int rc;

	for (;;) {
		if (d->rp == NULL)
			return not_connected(d, err);
		rc = pop3_resp_next(d->rp, ev);
		if (rc == 1)
			return 1;
		if (rc < 0) {
			sync_error_set(err, SYNC_SCOPE_ACCOUNT, SYNC_RETRY_LATER,
			    SYNC_EK_PROTOCOL, "%s while %s: %s", d->conn.where,
			    d->doing, pop3_resp_error(d->rp));
			drop(d);
			return -1;
		}
		p = up_conn_read(&d->conn, &len, -1, NULL, d->doing, err);
		if (p == NULL) {
			drop(d);
			return -1;
		}
		if (pop3_resp_feed(d->rp, p, len) < 0)
			abort();	/* fed only when the parser is empty */
		up_conn_consume(&d->conn, len);
	}
}

/* Read a one-line answer: 0 for +OK, 1 for -ERR (text in msg), -1. */
static int
answer(struct up_pop3 *d, char *msg, size_t msglen, struct sync_error *err)
{
	struct pop3_resp ev;

	if (next_event(d, &ev, err) < 0)
		return -1;
	if (msg != NULL)
		snprintf(msg, msglen, "%s%s%s%s", ev.code[0] ? "[" : "",
		    ev.code, ev.code[0] ? "] " : "", ev.text);
	if (ev.kind == POP3_RESP_OK)
		return 0;
	if (ev.kind == POP3_RESP_ERR)
		return 1;
	drop(d);
	return sync_error_set(err, SYNC_SCOPE_ACCOUNT, SYNC_RETRY_LATER,
	    SYNC_EK_PROTOCOL, "%s answered out of turn while %s",
	    d->conn.where, d->doing);
}

/* Read the rest of a multi-line answer, handing its lines to fn. */
static int
lines(struct up_pop3 *d, void (*fn)(struct up_pop3 *, const struct
    pop3_resp *, void *), void *arg, struct sync_error *err)
{
	struct pop3_resp ev;

	for (;;) {
		if (next_event(d, &ev, err) < 0)
			return -1;
		if (ev.kind == POP3_RESP_END)
			return 0;
		if (ev.kind == POP3_RESP_LINE && fn != NULL)
			fn(d, &ev, arg);
	}
}

/* ---- connecting -------------------------------------------------------- */

static void
capa_line(struct up_pop3 *d, const struct pop3_resp *ev, void *arg)
{
	const char *t = ev->text;

	if (ascii_strcasecmp(t, "STLS") == 0)
		d->caps |= P3_STLS;
	else if (ascii_strcasecmp(t, "UIDL") == 0)
		d->caps |= P3_UIDL;
	else if (ascii_strcasecmp(t, "TOP") == 0)
		d->caps |= P3_TOP;
	else if (ascii_strcasecmp(t, "PIPELINING") == 0)
		d->caps |= P3_PIPELINING;
	else if (ascii_strncasecmp(t, "SASL ", 5) == 0) {
		/* "SASL PLAIN LOGIN": look for the word PLAIN */
		for (t += 4; *t != '\0'; t++)
			if (t[-1] == ' ' && ascii_strncasecmp(t, "PLAIN", 5) ==
			    0 && (t[5] == ' ' || t[5] == '\0'))
				d->caps |= P3_SASL_PLAIN;
	}
}

static int
capa(struct up_pop3 *d, struct sync_error *err)
{
	int rc;

	doing(d, "asking for capabilities");
	d->caps = 0;
	if (p3_send(d, POP3_EXPECT_LINES, err, "CAPA") < 0 || flush(d, err) < 0)
		return -1;
	rc = answer(d, NULL, 0, err);
	if (rc != 0)
		return rc < 0 ? -1 : 0;		/* no CAPA: assume little */
	d->caps |= P3_CAPA;
	return lines(d, capa_line, NULL, err);
}

static int
greeting(struct up_pop3 *d, struct sync_error *err)
{
	struct pop3_resp ev;

	doing(d, "waiting for the greeting");
	pop3_resp_expect(d->rp, POP3_EXPECT_GREETING);
	if (next_event(d, &ev, err) < 0)
		return -1;
	if (ev.kind != POP3_RESP_OK) {
		drop(d);
		return sync_error_set(err, SYNC_SCOPE_ACCOUNT,
		    SYNC_RETRY_LATER, SYNC_EK_CONNECT, "%s does not accept "
		    "POP3 connections now: %s", d->conn.where, ev.text);
	}
	snprintf(d->apop, sizeof(d->apop), "%s", ev.apop ? ev.apop : "");
	return 0;
}

static int
stls(struct up_pop3 *d, struct sync_error *err)
{
	char msg[300];
	int rc;

	if (capa(d, err) < 0)
		return -1;
	if (!(d->caps & P3_STLS)) {
		drop(d);
		return sync_error_set(err, SYNC_SCOPE_ACCOUNT,
		    SYNC_RETRY_NEVER, SYNC_EK_TLS, "%s does not offer STLS; "
		    "mailvault does not log in without TLS (use --tls implicit "
		    "if the server has POP3S on port 995)", d->conn.where);
	}
	doing(d, "starting TLS");
	if (p3_send(d, POP3_EXPECT_SINGLE, err, "STLS") < 0 || flush(d, err) < 0)
		return -1;
	rc = answer(d, msg, sizeof(msg), err);
	if (rc != 0) {
		drop(d);
		return rc < 0 ? -1 : sync_error_set(err, SYNC_SCOPE_ACCOUNT,
		    SYNC_RETRY_NEVER, SYNC_EK_TLS, "%s refused STLS: %s",
		    d->conn.where, msg);
	}
	if (pop3_resp_unread(d->rp) > 0) {
		drop(d);
		return sync_error_set(err, SYNC_SCOPE_ACCOUNT,
		    SYNC_RETRY_NEVER, SYNC_EK_TLS, "%s sent data in plain text "
		    "after agreeing to STLS (an attack?)", d->conn.where);
	}
	if (up_conn_starttls(&d->conn, err) < 0) {
		drop(d);
		return -1;
	}
	pop3_resp_free(&d->rp);
	d->rp = pop3_resp_new(P3_LINE_MAX);
	return 0;
}

static int
try_apop(struct up_pop3 *d, char *msg, size_t msglen, struct sync_error *err)
{
	unsigned char dig[DIGEST_MD5_LEN];
	char hex[DIGEST_MD5_HEX_LEN];
	struct digest_md5 *m = digest_md5_new();
	int rc;

	digest_md5_update(m, d->apop, strlen(d->apop));
	digest_md5_update(m, d->cfg->password, strlen(d->cfg->password));
	if (digest_md5_final(&m, dig) < 0) {
		/* As if refused: the other logins do not need MD5. */
		snprintf(msg, msglen, "this OpenSSL does not offer MD5");
		return 1;
	}
	digest_hex(dig, sizeof(dig), hex);
	explicit_bzero(dig, sizeof(dig));
	rc = p3_send(d, POP3_EXPECT_SINGLE, err, "APOP %s %s", d->cfg->user, hex);
	explicit_bzero(hex, sizeof(hex));
	if (rc < 0 || flush(d, err) < 0)
		return -1;
	return answer(d, msg, msglen, err);
}

static int
try_plain(struct up_pop3 *d, char *msg, size_t msglen, struct sync_error *err)
{
	const char *u = d->cfg->user, *p = d->cfg->password;
	size_t ul = strlen(u), pl = strlen(p), n = ul + pl + 2;
	struct pop3_resp ev;
	char *raw = xmalloc(n);
	struct buf b;
	int rc;

	raw[0] = '\0';
	memcpy(raw + 1, u, ul);
	raw[ul + 1] = '\0';
	memcpy(raw + ul + 2, p, pl);
	buf_init(&b, BASE64_ENCODED_LEN(n) + 1);
	base64_encode(raw, n, &b);
	explicit_bzero(raw, n);
	free(raw);
	rc = p3_send(d, POP3_EXPECT_SASL, err, "AUTH PLAIN %s", b.data);
	if (rc == 0)
		rc = flush(d, err);
	/* a server that ignores the initial response asks with "+ " */
	while (rc == 0 && (rc = next_event(d, &ev, err)) == 1 &&
	    ev.kind == POP3_RESP_CONT) {
		rc = up_conn_printf(&d->conn, err, "%s\r\n", b.data);
		if (rc == 0)
			rc = flush(d, err);
	}
	explicit_bzero(b.data, b.len);
	buf_free(&b);
	if (rc < 0)
		return -1;
	snprintf(msg, msglen, "%s", ev.text);
	return ev.kind == POP3_RESP_OK ? 0 : 1;
}

static int
try_user(struct up_pop3 *d, char *msg, size_t msglen, struct sync_error *err)
{
	int rc;

	if (p3_send(d, POP3_EXPECT_SINGLE, err, "USER %s", d->cfg->user) < 0)
		return -1;
	if (!(d->caps & P3_PIPELINING)) {
		if (flush(d, err) < 0)
			return -1;
		rc = answer(d, msg, msglen, err);
		if (rc != 0)
			return rc;
	}
	if (p3_send(d, POP3_EXPECT_SINGLE, err, "PASS %s", d->cfg->password) < 0 ||
	    flush(d, err) < 0)
		return -1;
	if (d->caps & P3_PIPELINING) {
		rc = answer(d, msg, msglen, err);
		if (rc != 0) {
			/* the PASS answer must still be read */
			if (rc > 0 && answer(d, NULL, 0, err) < 0)
				return -1;
			return rc;
		}
	}
	return answer(d, msg, msglen, err);
}

static int
login(struct up_pop3 *d, struct sync_error *err)
{
	char msg[300] = "";
	int rc = 1;

	doing(d, "logging in as %s", d->cfg->user);
	if (d->cfg->password == NULL) {
		drop(d);
		return sync_error_set(err, SYNC_SCOPE_ACCOUNT,
		    SYNC_RETRY_NEVER, SYNC_EK_AUTH, "POP3 needs a password for "
		    "%s (OAuth is for IMAP accounts)", d->cfg->user);
	}
	if (d->apop[0] != '\0') {
		rc = try_apop(d, msg, sizeof(msg), err);
		if (rc > 0)
			up_log(d->cfg, SYNC_LOG_INFO, "%s: APOP refused by %s "
			    "(%s); trying other logins", d->cfg->name,
			    d->conn.where, msg);
	}
	if (rc > 0 && (d->caps & P3_SASL_PLAIN))
		rc = try_plain(d, msg, sizeof(msg), err);
	else if (rc > 0)
		rc = try_user(d, msg, sizeof(msg), err);
	if (rc < 0)
		return -1;
	if (rc > 0) {
		drop(d);
		return sync_error_set(err, SYNC_SCOPE_ACCOUNT,
		    SYNC_RETRY_NEVER, SYNC_EK_AUTH, "authentication refused by "
		    "%s for %s: %s", d->conn.where, d->cfg->user, msg);
	}
	return 0;
}

static int
pop3_connect(struct sync_driver *drv, struct sync_error *err)
{
	struct up_pop3 *d = (struct up_pop3 *)drv;

	drop(d);
	d->caps = 0;
	d->hash_logged = 0;
	doing(d, "connecting");
	if (up_conn_open(&d->conn, d->cfg, "POP3", 110, 995, err) < 0)
		return -1;
	d->rp = pop3_resp_new(P3_LINE_MAX);
	if (greeting(d, err) < 0)
		return -1;
	if (d->cfg->tls == SYNC_TLS_STARTTLS && stls(d, err) < 0)
		return -1;
	if (capa(d, err) < 0 || login(d, err) < 0)
		return -1;
	/* capabilities may grow after login (RFC 2449 6) */
	if (capa(d, err) < 0)
		return -1;
	d->base.caps = 0;
	if (d->caps & P3_UIDL || !(d->caps & P3_CAPA))
		d->base.caps |= SYNC_CAP_POP3_UIDL;
	if (d->caps & P3_TOP || !(d->caps & P3_CAPA))
		d->base.caps |= SYNC_CAP_POP3_TOP;
	up_log(d->cfg, SYNC_LOG_DEBUG, "%s: connected to %s (%s)",
	    d->cfg->name, d->conn.where, tls_stream_describe(d->conn.s));
	return 0;
}

static void
pop3_disconnect(struct sync_driver *drv)
{
	struct up_pop3 *d = (struct up_pop3 *)drv;
	struct sync_error err;

	if (d->rp != NULL && d->conn.s != NULL) {
		doing(d, "logging out");
		if (p3_send(d, POP3_EXPECT_SINGLE, &err, "QUIT") == 0 &&
		    flush(d, &err) == 0)
			answer(d, NULL, 0, &err);
	}
	drop(d);
}

static void
pop3_free(struct sync_driver **drvp)
{
	struct up_pop3 *d = (struct up_pop3 *)*drvp;

	if (d == NULL)
		return;
	pop3_disconnect(&d->base);
	up_conn_free(&d->conn);
	free(d->sizes);
	free(d);
	*drvp = NULL;
}

/* ---- listing ------------------------------------------------------------ */

struct listing {
	struct sync_pop3_msg *v;
	size_t		 n;
};

static int
valid_uidl(const char *s)
{
	size_t n = strlen(s);

	if (n == 0 || n > P3_UIDL_MAX)
		return 0;
	for (; *s != '\0'; s++)
		if ((unsigned char)*s < 0x21 || (unsigned char)*s > 0x7e)
			return 0;
	return 1;
}

static void
list_line(struct up_pop3 *d, const struct pop3_resp *ev, void *arg)
{
	struct listing *l = arg;

	if (ev->msg == 0 || l->n >= P3_MSGS_MAX)
		return;
	l->v = xreallocarray(l->v, l->n + 1, sizeof(*l->v));
	memset(&l->v[l->n], 0, sizeof(l->v[l->n]));
	l->v[l->n].msgno = ev->msg;
	l->v[l->n].size = ev->num;
	l->n++;
}

static void
uidl_line(struct up_pop3 *d, const struct pop3_resp *ev, void *arg)
{
	struct listing *l = arg;
	size_t lo = 0, hi = l->n;

	if (ev->msg == 0 || !valid_uidl(ev->arg))
		return;
	/* LIST gave the messages in ascending order: search */
	while (lo < hi) {
		size_t mid = (lo + hi) / 2;

		if (l->v[mid].msgno < ev->msg)
			lo = mid + 1;
		else
			hi = mid;
	}
	if (lo < l->n && l->v[lo].msgno == ev->msg && l->v[lo].uidl == NULL)
		l->v[lo].uidl = xstrdup(ev->arg);
}

static int
cmp_msgno(const void *a, const void *b)
{
	const struct sync_pop3_msg *x = a, *y = b;

	return x->msgno < y->msgno ? -1 : x->msgno > y->msgno;
}

static int
cmp_uidl_msgno(const void *a, const void *b)
{
	const struct sync_pop3_msg *x = *(const struct sync_pop3_msg *const *)a;
	const struct sync_pop3_msg *y = *(const struct sync_pop3_msg *const *)b;
	int c = strcmp(x->uidl, y->uidl);

	if (c != 0)
		return c;
	return x->msgno < y->msgno ? -1 : x->msgno > y->msgno;
}

/* Make header-hash stand-ins unique: the 2nd, 3rd... message with the
 * same header gets ".2", ".3"... */
static void
number_duplicates(struct listing *l)
{
	struct sync_pop3_msg **v = xcalloc(l->n + 1, sizeof(*v));
	size_t i, k = 0, run = 1;
	char *nu;

	for (i = 0; i < l->n; i++)
		if (l->v[i].uidl != NULL)
			v[k++] = &l->v[i];
	if (k > 0)
		qsort(v, k, sizeof(*v), cmp_uidl_msgno);
	for (i = 1; i < k; i++) {
		if (strncmp(v[i]->uidl, v[i - 1]->uidl, 4 + 32) != 0) {
			run = 1;
			continue;
		}
		nu = xasprintf("%.36s.%zu", v[i]->uidl, ++run);
		free(v[i]->uidl);
		v[i]->uidl = nu;
	}
	free(v);
}

/* A stand-in UIDL from the header of each message (TOP n 0). */
static int
hash_headers(struct up_pop3 *d, struct listing *l, struct sync_error *err)
{
	size_t i, sent = 0, got = 0, batch;
	struct pop3_resp ev;
	uint64_t h1 = 0, h2 = 0;

	if (!d->hash_logged) {
		up_log(d->cfg, SYNC_LOG_WARN, "%s: %s has no UIDL; messages "
		    "are told apart by a hash of their headers",
		    d->cfg->name, d->conn.where);
		d->hash_logged = 1;
	}
	batch = d->caps & P3_PIPELINING ? P3_PIPE_BATCH : 1;
	while (got < l->n) {
		while (sent < l->n && sent - got < batch)
			if (p3_send(d, POP3_EXPECT_DATA, err, "TOP %u 0",
			    l->v[sent++].msgno) < 0)
				return -1;
		if (flush(d, err) < 0 || next_event(d, &ev, err) < 0)
			return -1;
		if (ev.kind == POP3_RESP_ERR) {
			got++;
			continue;
		}
		h1 = 0xcbf29ce484222325ULL;
		h2 = 0x84222325cbf29ce4ULL;
		while (next_event(d, &ev, err) == 1 &&
		    ev.kind == POP3_RESP_DATA)
			for (i = 0; i < ev.len; i++) {
				h1 = (h1 ^ (unsigned char)ev.data[i]) *
				    0x100000001b3ULL;
				h2 = (h2 ^ (unsigned char)ev.data[i]) *
				    0x100000001b3ULL + 0x9e3779b97f4a7c15ULL;
			}
		if (d->rp == NULL)
			return -1;
		l->v[got].uidl = xasprintf("hdr:%016llx%016llx",
		    (unsigned long long)h1, (unsigned long long)h2);
		got++;
	}
	number_duplicates(l);
	return 0;
}

static int
pop3_list(struct sync_driver *drv, struct sync_pop3_msg **list_r,
    size_t *n_r, struct sync_error *err)
{
	struct up_pop3 *d = (struct up_pop3 *)drv;
	struct listing l = { NULL, 0 };
	size_t i, k = 0;
	int rc;

	if (not_connected(d, err) < 0)
		return -1;
	doing(d, "listing messages");
	if (p3_send(d, POP3_EXPECT_LINES, err, "LIST") < 0 ||
	    p3_send(d, POP3_EXPECT_LINES, err, "UIDL") < 0 || flush(d, err) < 0)
		return -1;
	rc = answer(d, NULL, 0, err);
	if (rc == 0)
		rc = lines(d, list_line, &l, err);
	else if (rc > 0)
		rc = sync_error_set(err, SYNC_SCOPE_ACCOUNT, SYNC_RETRY_LATER,
		    SYNC_EK_PROTOCOL, "%s refused LIST", d->conn.where);
	if (rc == 0) {
		qsort(l.v, l.n, sizeof(*l.v), cmp_msgno);
		rc = answer(d, NULL, 0, err);
		if (rc == 0)
			rc = lines(d, uidl_line, &l, err);
		else if (rc > 0)
			rc = hash_headers(d, &l, err);
	} else if (d->rp != NULL)
		drop(d);	/* the UIDL answer is still on its way */
	if (rc < 0) {
		sync_pop3_list_free(&l.v, l.n);
		return -1;
	}
	/* a message without a usable UIDL cannot be tracked: left out */
	for (i = 0; i < l.n; i++) {
		if (l.v[i].uidl != NULL)
			l.v[k++] = l.v[i];
	}
	free(d->sizes);
	d->nsizes = l.n ? l.v[l.n - 1].msgno + 1 : 0;
	d->sizes = xcalloc(d->nsizes + 1, sizeof(*d->sizes));
	for (i = 0; i < k; i++)
		if (l.v[i].msgno < d->nsizes)
			d->sizes[l.v[i].msgno] = l.v[i].size;
	*list_r = l.v;
	*n_r = k;
	return 0;
}

/* ---- RETR and DELE ----------------------------------------------------- */

static int
stopped(struct up_pop3 *d, struct sync_error *err)
{
	drop(d);
	return sync_error_set(err, SYNC_SCOPE_ACCOUNT, SYNC_RETRY_NOW,
	    SYNC_EK_STOPPED, "stopped while %s", d->doing);
}

static int
pop3_retr(struct sync_driver *drv, uint32_t msgno,
    const struct sync_fetch_cb *cb, struct sync_error *err)
{
	struct up_pop3 *d = (struct up_pop3 *)drv;
	struct sync_msg_info mi;
	struct pop3_resp ev;
	char msg[300];
	int rc;

	if (not_connected(d, err) < 0)
		return -1;
	doing(d, "fetching message %u", msgno);
	if (p3_send(d, POP3_EXPECT_DATA, err, "RETR %u", msgno) < 0 ||
	    flush(d, err) < 0)
		return -1;
	rc = answer(d, msg, sizeof(msg), err);
	if (rc != 0)
		return rc < 0 ? -1 : sync_error_set(err, SYNC_SCOPE_MESSAGE,
		    SYNC_RETRY_LATER, SYNC_EK_NONEXISTENT, "%s cannot give "
		    "message %u: %s", d->conn.where, msgno, msg);
	memset(&mi, 0, sizeof(mi));
	mi.uid = msgno;
	mi.size = msgno < d->nsizes ? d->sizes[msgno] : 0;
	if (cb->msg != NULL && cb->msg(cb->arg, &mi) < 0)
		return stopped(d, err);
	for (;;) {
		if (next_event(d, &ev, err) < 0)
			return -1;
		if (ev.kind == POP3_RESP_END)
			break;
		if (ev.kind == POP3_RESP_DATA && cb->body != NULL &&
		    cb->body(cb->arg, ev.data, ev.len) < 0)
			return stopped(d, err);
	}
	if (cb->end != NULL && cb->end(cb->arg) < 0)
		return stopped(d, err);
	return 0;
}

static int
pop3_dele(struct sync_driver *drv, uint32_t msgno, struct sync_error *err)
{
	struct up_pop3 *d = (struct up_pop3 *)drv;
	char msg[300];
	int rc;

	if (not_connected(d, err) < 0)
		return -1;
	doing(d, "deleting message %u", msgno);
	if (p3_send(d, POP3_EXPECT_SINGLE, err, "DELE %u", msgno) < 0 ||
	    flush(d, err) < 0)
		return -1;
	rc = answer(d, msg, sizeof(msg), err);
	if (rc > 0)
		return sync_error_set(err, SYNC_SCOPE_MESSAGE,
		    SYNC_RETRY_LATER, SYNC_EK_NONEXISTENT, "%s would not "
		    "delete message %u: %s", d->conn.where, msgno, msg);
	return rc;
}

static const struct sync_driver_ops pop3_ops = {
	.connect = pop3_connect,
	.disconnect = pop3_disconnect,
	.free = pop3_free,
	.pop3_list = pop3_list,
	.pop3_retr = pop3_retr,
	.pop3_dele = pop3_dele,
};

struct sync_driver *
sync_driver_pop3(const struct sync_account_cfg *cfg)
{
	struct up_pop3 *d = xcalloc(1, sizeof(*d));

	d->base.ops = &pop3_ops;
	d->base.proto = SYNC_PROTO_POP3;
	d->cfg = cfg;
	d->conn.cfg = cfg;
	snprintf(d->conn.where, sizeof(d->conn.where), "%s", cfg->host);
	snprintf(d->doing, sizeof(d->doing), "starting");
	return &d->base;
}

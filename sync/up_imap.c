/*
 * up_imap: the IMAP upstream driver (sync/driver.h): connecting, TLS,
 * logging in, and the machinery every operation uses: tagged commands,
 * reading responses through lib/imap_resp, turning NO and BAD into
 * classified errors, folder names and flags in the server's terms. The
 * operations themselves are in sync/up_imap_ops.c.
 *
 * Commands are queued into the TLS stream's write buffer and leave at a
 * flush, so an operation sends all of its pipelined commands at once and
 * then reads the completions in order (servers answer pipelined commands
 * in order; one that does not is treated as broken).
 *
 * Login order, so nothing secret is ever sent in the clear: greeting,
 * then with --tls starttls CAPABILITY and STARTTLS (the server must offer
 * it, and no byte that came before the handshake is trusted), then the
 * capabilities again over TLS, then AUTHENTICATE PLAIN or XOAUTH2 /
 * OAUTHBEARER (initial response when SASL-IR is offered), or LOGIN unless
 * LOGINDISABLED. After login: ENABLE QRESYNC when offered, LIST "" ""
 * for the hierarchy delimiter and NAMESPACE for the personal prefix,
 * pipelined.
 *
 * Folder names: local names are '/'-separated UTF-8 relative to the
 * personal namespace, as in mbsync. On a server whose prefix is "INBOX."
 * (Cyrus by default, Courier) the local folder Work is INBOX.Work
 * upstream, where the server lets a person make folders (a top-level
 * CREATE is refused there); INBOX stays INBOX, and a folder outside the
 * prefix (another user's, a shared one) has no local name.
 */
#include "sync/up_int.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lib/base64.h"
#include "lib/buf.h"
#include "lib/imap_resp.h"
#include "lib/tls.h"
#include "lib/utf7.h"
#include "lib/util.h"
#include "store/store.h"

#define CMD_MAX		(256 * 1024)
#define NAME_MAX_LEN	4096

/* ---- plumbing ---------------------------------------------------------- */

void
up_imap_doing(struct up_imap *d, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(d->doingbuf, sizeof(d->doingbuf), fmt, ap);
	va_end(ap);
	d->doing = d->doingbuf;
}

void
up_imap_drop(struct up_imap *d)
{
	up_conn_close(&d->conn);
	imap_resp_free(&d->rp);
	free(d->selected);
	d->selected = NULL;
}

unsigned
up_imap_send(struct up_imap *d, struct sync_error *err, const char *fmt,
    ...)
{
	struct buf b;
	va_list ap;
	int rc;

	buf_init(&b, CMD_MAX);
	buf_printf(&b, "t%u ", d->tagn + 1);
	va_start(ap, fmt);
	rc = buf_vprintf(&b, fmt, ap);
	va_end(ap);
	if (rc < 0 || buf_adds(&b, "\r\n") < 0) {
		buf_free(&b);
		sync_error_set(err, SYNC_SCOPE_FOLDER, SYNC_RETRY_NEVER,
		    SYNC_EK_LOCAL, "an IMAP command for %s would be too long",
		    d->doing);
		return 0;
	}
	rc = up_conn_write(&d->conn, b.data, b.len, err);
	buf_free(&b);
	if (rc < 0) {
		up_imap_drop(d);
		return 0;
	}
	return ++d->tagn;
}

/* The next event: 1, or -1 and *err (the connection is then dropped). */
static int
next_event(struct up_imap *d, struct imap_resp *ev, struct sync_error *err)
{
	const char *p;
	size_t len;
	int rc;

	for (;;) {
		rc = imap_resp_next(d->rp, ev);
		if (rc == 1)
			return 1;
		if (rc < 0) {
			sync_error_set(err, SYNC_SCOPE_ACCOUNT, SYNC_RETRY_LATER,
			    SYNC_EK_PROTOCOL, "%s while %s: %s",
			    d->conn.where, d->doing, imap_resp_error(d->rp));
			up_imap_drop(d);
			return -1;
		}
		p = up_conn_read(&d->conn, &len, -1, NULL, d->doing, err);
		if (p == NULL) {
			if (d->bye[0] != '\0')
				sync_error_set(err, SYNC_SCOPE_ACCOUNT,
				    SYNC_RETRY_LATER, SYNC_EK_NET, "%s closed "
				    "the connection while %s: %s",
				    d->conn.where, d->doing, d->bye);
			up_imap_drop(d);
			return -1;
		}
		if (imap_resp_feed(d->rp, p, len) < 0)
			abort();	/* fed only when the parser is empty */
		up_conn_consume(&d->conn, len);
	}
}

static const struct {
	const char	*name;
	unsigned	 bit;
} capnames[] = {
	{ "STARTTLS", IC_STARTTLS }, { "LOGINDISABLED", IC_LOGINDISABLED },
	{ "AUTH=PLAIN", IC_AUTH_PLAIN }, { "AUTH=XOAUTH2", IC_AUTH_XOAUTH2 },
	{ "AUTH=OAUTHBEARER", IC_AUTH_OAUTHBEARER },
	{ "SASL-IR", IC_SASL_IR }, { "LITERAL+", IC_LITERAL_PLUS },
	{ "LITERAL-", IC_LITERAL_MINUS }, { "UIDPLUS", IC_UIDPLUS },
	{ "CONDSTORE", IC_CONDSTORE }, { "QRESYNC", IC_QRESYNC },
	{ "ENABLE", IC_ENABLE }, { "MOVE", IC_MOVE }, { "IDLE", IC_IDLE },
	{ "SPECIAL-USE", IC_SPECIAL_USE }, { "ESEARCH", IC_ESEARCH },
	{ "LIST-EXTENDED", IC_LIST_EXTENDED }, { "IMAP4rev1", IC_IMAP4REV1 },
	{ "LIST-STATUS", IC_LIST_STATUS }, { "NAMESPACE", IC_NAMESPACE },
	{ "UNSELECT", IC_UNSELECT },
};

static void
set_caps(struct up_imap *d, const char *const *items, size_t n)
{
	size_t i, j;

	d->rcaps = 0;
	for (i = 0; i < n; i++)
		for (j = 0; j < ARRAY_SIZE(capnames); j++)
			if (ascii_strcasecmp(items[i], capnames[j].name) == 0)
				d->rcaps |= capnames[j].bit;
}

/* What every command's untagged responses may carry. */
static void
common_untagged(struct up_imap *d, const struct imap_resp *ev)
{
	if (ev->kind == IMAP_RESP_CAPABILITY)
		set_caps(d, ev->items, ev->nitems);
	else if (ev->kind == IMAP_RESP_STATUS &&
	    ev->code == IMAP_CODE_CAPABILITY)
		set_caps(d, ev->items, ev->nitems);
	else if (ev->kind == IMAP_RESP_STATUS && ev->status == IMAP_RESP_BYE)
		snprintf(d->bye, sizeof(d->bye), "%s", ev->text);
}

static void
done_fill(struct imap_done *done, const struct imap_resp *ev)
{
	done->status = ev->status;
	done->code = (int)ev->code;
	done->code_num = ev->code_num;
	done->code_set = xstrdup(ev->code_set);
	done->code_set2 = xstrdup(ev->code_set2);
	snprintf(done->code_name, sizeof(done->code_name), "%s",
	    ev->code_name);
	snprintf(done->text, sizeof(done->text), "%s", ev->text);
}

void
up_imap_done_clear(struct imap_done *done)
{
	free(done->code_set);
	free(done->code_set2);
	done->code_set = done->code_set2 = NULL;
}

static int
tag_number(const char *tag, unsigned *n_r)
{
	uint64_t v;

	if (tag[0] != 't' || parse_u64(tag + 1, UINT32_MAX, &v) < 0)
		return -1;
	*n_r = (unsigned)v;
	return 0;
}

int
up_imap_wait(struct up_imap *d, unsigned tag, up_imap_fn fn, void *arg,
    struct imap_done *done, int *cont_r, struct sync_error *err)
{
	struct imap_resp ev;
	unsigned got;

	memset(done, 0, sizeof(*done));
	if (cont_r != NULL)
		*cont_r = 0;
	for (;;) {
		if (d->rp == NULL)
			return sync_error_set(err, SYNC_SCOPE_ACCOUNT,
			    SYNC_RETRY_NOW, SYNC_EK_NET, "not connected");
		if (next_event(d, &ev, err) < 0)
			return -1;
		if (ev.kind == IMAP_RESP_CONTINUE) {
			if (cont_r != NULL) {
				*cont_r = 1;
				snprintf(done->text, sizeof(done->text), "%s",
				    ev.text);
				return 0;
			}
			sync_error_set(err, SYNC_SCOPE_ACCOUNT,
			    SYNC_RETRY_LATER, SYNC_EK_PROTOCOL, "%s asked for "
			    "more while %s", d->conn.where, d->doing);
			up_imap_drop(d);
			return -1;
		}
		if (ev.kind == IMAP_RESP_STATUS && ev.tag != NULL) {
			if (tag_number(ev.tag, &got) < 0 || got != tag) {
				sync_error_set(err, SYNC_SCOPE_ACCOUNT,
				    SYNC_RETRY_LATER, SYNC_EK_PROTOCOL,
				    "%s answered tag %s while t%u was "
				    "expected", d->conn.where, ev.tag, tag);
				up_imap_drop(d);
				return -1;
			}
			if (ev.code == IMAP_CODE_CAPABILITY)
				set_caps(d, ev.items, ev.nitems);
			done_fill(done, &ev);
			return 0;
		}
		common_untagged(d, &ev);
		if (fn != NULL && fn(d, &ev, arg, err) < 0)
			return -1;
	}
}

static const struct {
	enum imap_resp_code code;
	enum sync_errkind kind;
	enum sync_retry	 retry;
} code_kinds[] = {
	{ IMAP_CODE_NONEXISTENT, SYNC_EK_NONEXISTENT, SYNC_RETRY_NEVER },
	{ IMAP_CODE_TRYCREATE, SYNC_EK_NONEXISTENT, SYNC_RETRY_NEVER },
	{ IMAP_CODE_ALREADYEXISTS, SYNC_EK_EXISTS, SYNC_RETRY_NEVER },
	{ IMAP_CODE_NOPERM, SYNC_EK_NOPERM, SYNC_RETRY_NEVER },
	{ IMAP_CODE_READ_ONLY, SYNC_EK_NOPERM, SYNC_RETRY_NEVER },
	{ IMAP_CODE_OVERQUOTA, SYNC_EK_QUOTA, SYNC_RETRY_LATER },
	{ IMAP_CODE_LIMIT, SYNC_EK_TOOBIG, SYNC_RETRY_NEVER },
	{ IMAP_CODE_AUTHENTICATIONFAILED, SYNC_EK_AUTH, SYNC_RETRY_NEVER },
	{ IMAP_CODE_AUTHORIZATIONFAILED, SYNC_EK_AUTH, SYNC_RETRY_NEVER },
	{ IMAP_CODE_EXPIRED, SYNC_EK_AUTH, SYNC_RETRY_NEVER },
	{ IMAP_CODE_CANNOT, SYNC_EK_OTHER, SYNC_RETRY_NEVER },
	{ IMAP_CODE_CLIENTBUG, SYNC_EK_PROTOCOL, SYNC_RETRY_NEVER },
};

int
up_imap_done_err(struct up_imap *d, const struct imap_done *done,
    enum sync_scope scope, struct sync_error *err)
{
	enum sync_errkind kind = SYNC_EK_OTHER;
	enum sync_retry retry = SYNC_RETRY_LATER;
	size_t i;

	if (done->status == IMAP_RESP_BAD) {
		kind = SYNC_EK_PROTOCOL;
		retry = SYNC_RETRY_NEVER;
	}
	for (i = 0; i < ARRAY_SIZE(code_kinds); i++)
		if (done->code == (int)code_kinds[i].code) {
			kind = code_kinds[i].kind;
			retry = code_kinds[i].retry;
		}
	if (done->code == IMAP_CODE_OTHER &&
	    ascii_strcasecmp(done->code_name, "TOOBIG") == 0) {
		kind = SYNC_EK_TOOBIG;
		retry = SYNC_RETRY_NEVER;
	}
	return sync_error_set(err, scope, retry, kind, "%s said %s while %s: "
	    "%s%s%s%s", d->conn.where, imap_resp_status_name(done->status),
	    d->doing, done->code_name[0] ? "[" : "", done->code_name,
	    done->code_name[0] ? "] " : "", done->text);
}

/* Send a command, flush, and wait for its completion; 0 only for OK. */
static int
simple(struct up_imap *d, up_imap_fn fn, void *arg, struct imap_done *done,
    struct sync_error *err, const char *cmd)
{
	unsigned tag = up_imap_send(d, err, "%s", cmd);

	if (tag == 0 || up_conn_flush(&d->conn, err) < 0)
		return -1;
	return up_imap_wait(d, tag, fn, arg, done, NULL, err);
}

/* ---- names and flags --------------------------------------------------- */

int
up_imap_quote(struct buf *out, const char *s)
{
	if (strpbrk(s, "\r\n") != NULL)
		return -1;
	buf_addc(out, '"');
	for (; *s != '\0'; s++) {
		if (*s == '"' || *s == '\\')
			buf_addc(out, '\\');
		buf_addc(out, *s);
	}
	return buf_addc(out, '"');
}

static int
is_inbox(const char *s, size_t n)
{
	return n == 5 && ascii_strncasecmp(s, "INBOX", 5) == 0;
}

/* The components of local joined by the server's delimiter into raw
 * (UTF-8). 0, or -1 when a component is empty or holds the delimiter. */
static int
join_components(struct up_imap *d, const char *local, struct buf *raw)
{
	const char *p = local, *slash;
	size_t n;
	int rc = 0;

	while (rc == 0) {
		slash = strchr(p, '/');
		n = slash != NULL ? (size_t)(slash - p) : strlen(p);
		if (n == 0 || (d->delim != '/' && d->delim != '\0' &&
		    memchr(p, d->delim, n) != NULL) ||
		    (d->delim == '\0' && slash != NULL))
			rc = -1;
		else if (p == local && is_inbox(p, n))
			rc = buf_adds(raw, "INBOX");
		else
			rc = buf_add(raw, p, n);
		if (slash == NULL)
			break;
		if (rc == 0)
			rc = buf_addc(raw, d->delim);
		p = slash + 1;
	}
	return rc;
}

int
up_imap_name_out(struct up_imap *d, const char *local, struct buf *out,
    struct sync_error *err)
{
	struct buf raw, enc;
	int rc = 0;

	buf_init(&raw, NAME_MAX_LEN);
	buf_init(&enc, 4 * NAME_MAX_LEN + UP_NSPREFIX_MAX);
	/* INBOX is INBOX in every namespace; the prefix is in the server's
	 * encoding already. */
	if (d->nsprefix[0] != '\0' && !is_inbox(local, strlen(local)))
		rc = buf_adds(&enc, d->nsprefix);
	if (rc == 0)
		rc = join_components(d, local, &raw);
	if (rc == 0)
		rc = utf7_encode(raw.data, raw.len, &enc);
	if (rc == 0)
		rc = up_imap_quote(out, enc.data);
	buf_free(&raw);
	buf_free(&enc);
	if (rc < 0)
		return sync_error_set(err, SYNC_SCOPE_FOLDER, SYNC_RETRY_NEVER,
		    SYNC_EK_BADNAME, "the folder name \"%s\" cannot be made "
		    "on %s (its hierarchy delimiter is '%c')", local,
		    d->conn.where, d->delim ? d->delim : ' ');
	return 0;
}

/* 1 if remote starts with prefix (n bytes); INBOX at the start of a
 * prefix is case-blind, as INBOX is. */
static int
has_prefix(const char *remote, const char *prefix, size_t n)
{
	if (n >= 5 && ascii_strncasecmp(prefix, "INBOX", 5) == 0)
		return ascii_strncasecmp(remote, prefix, 5) == 0 &&
		    strncmp(remote + 5, prefix + 5, n - 5) == 0;
	return strncmp(remote, prefix, n) == 0;
}

/* remote without the personal prefix; NULL if it lies outside. */
static const char *
unprefixed(const struct up_imap *d, const char *remote)
{
	size_t n = strlen(d->nsprefix);

	if (n == 0 || is_inbox(remote, strlen(remote)))
		return remote;
	if (!has_prefix(remote, d->nsprefix, n) || remote[n] == '\0')
		return NULL;
	/* "INBOX.INBOX" would be taken for the INBOX */
	if (is_inbox(remote + n, strlen(remote + n)))
		return NULL;
	return remote + n;
}

char *
up_imap_name_in(struct up_imap *d, const char *remote)
{
	struct buf dec;
	char *s, *p;
	size_t len;

	if ((remote = unprefixed(d, remote)) == NULL)
		return NULL;
	buf_init(&dec, 4 * NAME_MAX_LEN);
	if (utf7_decode(remote, strlen(remote), &dec) < 0 || dec.len == 0) {
		buf_free(&dec);
		return NULL;
	}
	s = buf_steal(&dec, &len);
	if (strlen(s) != len)
		goto bad;	/* a NUL inside */
	if (d->delim != '/' && strchr(s, '/') != NULL)
		goto bad;
	for (p = s; *p != '\0'; p++)
		if (*p == d->delim && d->delim != '\0')
			*p = '/';
	if (ascii_strncasecmp(s, "INBOX", 5) == 0 &&
	    (s[5] == '\0' || s[5] == '/'))
		memcpy(s, "INBOX", 5);
	/* empty components ("a//b", "a/") have no local form */
	if (s[0] == '/' || strstr(s, "//") != NULL || s[strlen(s) - 1] == '/')
		goto bad;
	return s;
bad:
	free(s);
	return NULL;
}

static const struct {
	const char	*name;
	uint32_t	 bit;
} sysflags[] = {
	{ "\\Seen", STORE_F_SEEN }, { "\\Answered", STORE_F_ANSWERED },
	{ "\\Flagged", STORE_F_FLAGGED }, { "\\Deleted", STORE_F_DELETED },
	{ "\\Draft", STORE_F_DRAFT },
};

void
up_imap_flags_out(struct buf *out, uint32_t flags, const char *const *kw,
    size_t nkw)
{
	size_t i;
	int first = 1;

	buf_addc(out, '(');
	for (i = 0; i < ARRAY_SIZE(sysflags); i++)
		if (flags & sysflags[i].bit) {
			buf_printf(out, "%s%s", first ? "" : " ",
			    sysflags[i].name);
			first = 0;
		}
	for (i = 0; i < nkw; i++) {
		buf_printf(out, "%s%s", first ? "" : " ", kw[i]);
		first = 0;
	}
	buf_addc(out, ')');
}

uint32_t
up_imap_flags_in(const char *const *items, size_t n, const char **kw,
    size_t *nkw_r)
{
	uint32_t flags = 0;
	size_t i, j, nkw = 0;

	for (i = 0; i < n; i++) {
		if (items[i][0] != '\\') {
			if (kw != NULL)
				kw[nkw++] = items[i];
			continue;
		}
		for (j = 0; j < ARRAY_SIZE(sysflags); j++)
			if (ascii_strcasecmp(items[i], sysflags[j].name) == 0)
				flags |= sysflags[j].bit;
	}
	if (nkw_r != NULL)
		*nkw_r = nkw;
	return flags;
}

/* ---- connecting and logging in ---------------------------------------- */

static int
greeting(struct up_imap *d, int *preauth_r, struct sync_error *err)
{
	struct imap_resp ev;

	up_imap_doing(d, "waiting for the greeting");
	if (next_event(d, &ev, err) < 0)
		return -1;
	if (ev.kind != IMAP_RESP_STATUS || ev.tag != NULL ||
	    (ev.status != IMAP_RESP_OK && ev.status != IMAP_RESP_PREAUTH)) {
		sync_error_set(err, SYNC_SCOPE_ACCOUNT, SYNC_RETRY_LATER,
		    ev.kind == IMAP_RESP_STATUS && ev.status == IMAP_RESP_BYE ?
		    SYNC_EK_CONNECT : SYNC_EK_PROTOCOL, "%s is not an IMAP "
		    "server that accepts us: \"%s\"", d->conn.where, ev.text);
		up_imap_drop(d);
		return -1;
	}
	common_untagged(d, &ev);
	*preauth_r = ev.status == IMAP_RESP_PREAUTH;
	return 0;
}

static int
ask_caps(struct up_imap *d, struct sync_error *err)
{
	struct imap_done done;
	int rc;

	up_imap_doing(d, "asking for capabilities");
	rc = simple(d, NULL, NULL, &done, err, "CAPABILITY");
	if (rc == 0 && done.status != IMAP_RESP_OK)
		rc = up_imap_done_err(d, &done, SYNC_SCOPE_ACCOUNT, err);
	up_imap_done_clear(&done);
	return rc;
}

static int
starttls(struct up_imap *d, int preauth, struct sync_error *err)
{
	struct imap_done done;
	int rc;

	if (!preauth && d->rcaps == 0 && ask_caps(d, err) < 0)
		return -1;
	if (preauth || !(d->rcaps & IC_STARTTLS)) {
		up_imap_drop(d);
		return sync_error_set(err, SYNC_SCOPE_ACCOUNT,
		    SYNC_RETRY_NEVER, SYNC_EK_TLS, "%s does not offer "
		    "STARTTLS; mailvault does not log in without TLS (use "
		    "--tls implicit if the server has IMAPS on port 993)",
		    d->conn.where);
	}
	up_imap_doing(d, "starting TLS");
	rc = simple(d, NULL, NULL, &done, err, "STARTTLS");
	if (rc == 0 && done.status != IMAP_RESP_OK) {
		rc = sync_error_set(err, SYNC_SCOPE_ACCOUNT, SYNC_RETRY_NEVER,
		    SYNC_EK_TLS, "%s refused STARTTLS: %s", d->conn.where,
		    done.text);
		up_imap_drop(d);
	}
	up_imap_done_clear(&done);
	if (rc < 0)
		return -1;
	if (imap_resp_pending(d->rp) > 0) {
		up_imap_drop(d);
		return sync_error_set(err, SYNC_SCOPE_ACCOUNT,
		    SYNC_RETRY_NEVER, SYNC_EK_TLS, "%s sent data in plain text "
		    "after agreeing to STARTTLS (an attack?)", d->conn.where);
	}
	if (up_conn_starttls(&d->conn, err) < 0) {
		up_imap_drop(d);
		return -1;
	}
	/* nothing learnt before TLS counts */
	imap_resp_free(&d->rp);
	d->rp = imap_resp_new(NULL);
	d->rcaps = 0;
	return ask_caps(d, err);
}

/*
 * An OAuth failure comes as a continuation carrying base64 JSON
 * ({"status":"invalid_token",...}): keep its status for the error
 * sentence (d->sasl_status).
 */
static void
oauth_status(struct up_imap *d, const char *text)
{
	struct buf b;
	const char *p, *e;

	d->sasl_status[0] = '\0';
	buf_init(&b, 4096);
	if (text != NULL && base64_decode(text, strlen(text), &b) == 0 &&
	    buf_adds(&b, "") == 0 && b.data != NULL &&
	    (p = strstr(b.data, "\"status\"")) != NULL &&
	    (p = strchr(p + 8, '"')) != NULL &&
	    (e = strchr(p + 1, '"')) != NULL)
		snprintf(d->sasl_status, sizeof(d->sasl_status), "%.*s",
		    (int)(e - p - 1), p + 1);
	buf_free(&b);
}

/* The AUTHENTICATE exchange for one mechanism and initial response. */
static int
authenticate(struct up_imap *d, const char *mech, const char *ir,
    struct imap_done *done, struct sync_error *err)
{
	/* RFC 7628 3.2.3: after an OAUTHBEARER error the client answers
	 * with a lone %x01; XOAUTH2 takes an empty line. */
	const char *after = strcmp(mech, "OAUTHBEARER") == 0 ? "AQ==" : "";
	unsigned tag;
	int cont, sent = 0;

	if (d->rcaps & IC_SASL_IR) {
		tag = up_imap_send(d, err, "AUTHENTICATE %s %s", mech,
		    ir[0] ? ir : "=");
		sent = 1;
	} else
		tag = up_imap_send(d, err, "AUTHENTICATE %s", mech);
	if (tag == 0 || up_conn_flush(&d->conn, err) < 0)
		return -1;
	for (;;) {
		if (up_imap_wait(d, tag, NULL, NULL, done, &cont, err) < 0)
			return -1;
		if (!cont)
			return 0;
		/* the first "+" asks for the response; a later one is an
		 * error report (XOAUTH2, OAUTHBEARER) */
		if (sent)
			oauth_status(d, done->text);
		if (up_conn_printf(&d->conn, err, "%s\r\n", sent ? after :
		    ir) < 0 || up_conn_flush(&d->conn, err) < 0) {
			up_imap_drop(d);
			return -1;
		}
		sent = 1;
	}
}

static char *
b64(const void *p, size_t n)
{
	struct buf b;

	buf_init(&b, BASE64_ENCODED_LEN(n) + 1);
	base64_encode(p, n, &b);
	return buf_steal(&b, NULL);
}

/* "\0user\0password" in base64, the copies wiped. */
static char *
plain_ir(const char *user, const char *pass)
{
	size_t ul = strlen(user), pl = strlen(pass), n = ul + pl + 2;
	char *raw = xmalloc(n), *out;

	raw[0] = '\0';
	memcpy(raw + 1, user, ul);
	raw[ul + 1] = '\0';
	memcpy(raw + ul + 2, pass, pl);
	out = b64(raw, n);
	explicit_bzero(raw, n);
	free(raw);
	return out;
}

static char *
gs2_name(const char *s)
{
	struct buf b;

	buf_init(&b, 4 * strlen(s) + 1);
	for (; *s != '\0'; s++)
		if (*s == ',')
			buf_adds(&b, "=2C");
		else if (*s == '=')
			buf_adds(&b, "=3D");
		else
			buf_addc(&b, *s);
	buf_adds(&b, "");
	return buf_steal(&b, NULL);
}

/* The SASL initial response for mech, base64, or NULL and *err. */
static char *
sasl_ir(struct up_imap *d, const char *mech, struct sync_error *err)
{
	const struct sync_account_cfg *cfg = d->cfg;
	char *token = NULL, *raw, *out;

	if (strcmp(mech, "PLAIN") == 0)
		return plain_ir(cfg->user, cfg->password);
	token = up_oauth_token(cfg, err);
	if (token == NULL)
		return NULL;
	if (strcmp(mech, "XOAUTH2") == 0)
		raw = xasprintf("user=%s\001auth=Bearer %s\001\001", cfg->user,
		    token);
	else {
		/* RFC 7628: the GS2 header's authzid is a saslname, with
		 * ',' and '=' written =2C and =3D */
		char *who = gs2_name(cfg->user);

		raw = xasprintf("n,a=%s,\001auth=Bearer %s\001\001", who,
		    token);
		free(who);
	}
	up_secret_free(&token);
	out = b64(raw, strlen(raw));
	up_secret_free(&raw);
	return out;
}

/* 1 if s can go in a quoted string: 7-bit, no CR or LF. */
static int
quotable(const char *s)
{
	for (; *s != '\0'; s++)
		if ((unsigned char)*s >= 0x80 || *s == '\r' || *s == '\n')
			return 0;
	return 1;
}

/* LOGIN user password, each quoted, or a literal when it must be. */
static int
login_cmd(struct up_imap *d, struct imap_done *done, struct sync_error *err)
{
	const char *args[2] = { d->cfg->user, d->cfg->password };
	unsigned tag = d->tagn + 1;
	struct buf b;
	size_t i;
	int cont, rc = 0;

	buf_init(&b, CMD_MAX);
	buf_printf(&b, "t%u LOGIN", tag);
	for (i = 0; i < 2 && rc == 0; i++) {
		const char *s = args[i];
		int plain = quotable(s);

		buf_addc(&b, ' ');
		if (plain) {
			up_imap_quote(&b, s);
			continue;
		}
		buf_printf(&b, "{%zu%s}\r\n", strlen(s),
		    d->rcaps & IC_LITERAL_PLUS ? "+" : "");
		if (!(d->rcaps & IC_LITERAL_PLUS)) {
			rc = up_conn_write(&d->conn, b.data, b.len, err);
			if (rc == 0)
				rc = up_conn_flush(&d->conn, err);
			if (rc == 0)
				rc = up_imap_wait(d, tag, NULL, NULL, done,
				    &cont, err);
			if (rc == 0 && !cont)
				rc = 1;	/* refused */
			buf_reset(&b);
		}
		buf_adds(&b, s);
	}
	if (rc == 0) {
		d->tagn = tag;
		buf_adds(&b, "\r\n");
		rc = up_conn_write(&d->conn, b.data, b.len, err);
		if (rc == 0)
			rc = up_conn_flush(&d->conn, err);
		if (rc == 0)
			rc = up_imap_wait(d, tag, NULL, NULL, done, NULL, err);
	} else if (rc == 1) {
		d->tagn = tag;
		rc = 0;
	}
	explicit_bzero(b.data, b.len);
	buf_free(&b);
	return rc;
}

static int
login(struct up_imap *d, struct sync_error *err)
{
	const char *mech = NULL;
	struct imap_done done;
	char *ir;
	int rc;

	up_imap_doing(d, "logging in as %s", d->cfg->user);
	d->sasl_status[0] = '\0';
	if (d->cfg->oauth_token_command != NULL) {
		if (d->rcaps & IC_AUTH_XOAUTH2)
			mech = "XOAUTH2";
		else if (d->rcaps & IC_AUTH_OAUTHBEARER)
			mech = "OAUTHBEARER";
	} else if (d->cfg->password == NULL)
		mech = NULL;
	else if (d->rcaps & IC_AUTH_PLAIN)
		mech = "PLAIN";
	else if (!(d->rcaps & IC_LOGINDISABLED))
		mech = "LOGIN";
	if (mech == NULL) {
		up_imap_drop(d);
		return sync_error_set(err, SYNC_SCOPE_ACCOUNT,
		    SYNC_RETRY_NEVER, SYNC_EK_AUTH, "%s offers no login "
		    "mechanism mailvault can use%s", d->conn.where,
		    d->cfg->oauth_token_command != NULL ? " with an OAuth "
		    "token (no XOAUTH2 or OAUTHBEARER)" : d->rcaps &
		    IC_LOGINDISABLED ? " (LOGINDISABLED and no AUTH=PLAIN)" :
		    "");
	}
	if (strcmp(mech, "LOGIN") == 0)
		rc = login_cmd(d, &done, err);
	else {
		ir = sasl_ir(d, mech, err);
		if (ir == NULL) {
			up_imap_drop(d);
			return -1;
		}
		rc = authenticate(d, mech, ir, &done, err);
		up_secret_free(&ir);
	}
	if (rc < 0)
		return -1;
	if (done.status != IMAP_RESP_OK) {
		rc = sync_error_set(err, SYNC_SCOPE_ACCOUNT, SYNC_RETRY_NEVER,
		    SYNC_EK_AUTH, "authentication refused by %s for %s%s%s: "
		    "%s%s%s%s%s%s%s", d->conn.where, d->cfg->user,
		    strcmp(mech, "LOGIN") == 0 || strcmp(mech, "PLAIN") == 0 ?
		    "" : " with ", strcmp(mech, "LOGIN") == 0 ||
		    strcmp(mech, "PLAIN") == 0 ? "" : mech,
		    done.code_name[0] ? "[" : "", done.code_name,
		    done.code_name[0] ? "] " : "", done.text,
		    d->sasl_status[0] ? " (OAuth status " : "",
		    d->sasl_status[0] ? d->sasl_status : "",
		    d->sasl_status[0] ? ": the token has expired or is not "
		    "valid)" : "");
		up_imap_drop(d);
	}
	up_imap_done_clear(&done);
	return rc;
}

static int
list_delim(struct up_imap *d, const struct imap_resp *ev, void *arg,
    struct sync_error *err)
{
	if (ev->kind == IMAP_RESP_LIST)
		d->delim = ev->delim;
	return 0;
}

/* The personal prefix; one too long to be a folder's is not used. */
static int
namespace(struct up_imap *d, const struct imap_resp *ev, void *arg,
    struct sync_error *err)
{
	if (ev->kind == IMAP_RESP_NAMESPACE && ev->num > 0 &&
	    strlen(ev->mailbox) < sizeof(d->nsprefix) &&
	    strpbrk(ev->mailbox, "\"\\") == NULL)
		snprintf(d->nsprefix, sizeof(d->nsprefix), "%s", ev->mailbox);
	return 0;
}

static int
enabled(struct up_imap *d, const struct imap_resp *ev, void *arg,
    struct sync_error *err)
{
	size_t i;

	if (ev->kind == IMAP_RESP_ENABLED)
		for (i = 0; i < ev->nitems; i++)
			if (ascii_strcasecmp(ev->items[i], "QRESYNC") == 0)
				d->qresync_on = 1;
	return 0;
}

/* ENABLE QRESYNC and LIST "" "", pipelined; then d->base.caps. */
static int
after_login(struct up_imap *d, struct sync_error *err)
{
	struct imap_done done;
	unsigned t1 = 0, t2, t3 = 0;
	int rc;

	if (!(d->rcaps & IC_IMAP4REV1) && ask_caps(d, err) < 0)
		return -1;
	up_imap_doing(d, "setting up the session");
	if ((d->rcaps & (IC_QRESYNC | IC_ENABLE)) == (IC_QRESYNC | IC_ENABLE) &&
	    (t1 = up_imap_send(d, err, "ENABLE QRESYNC")) == 0)
		return -1;
	t2 = up_imap_send(d, err, "LIST \"\" \"\"");
	if (t2 == 0 || ((d->rcaps & IC_NAMESPACE) &&
	    (t3 = up_imap_send(d, err, "NAMESPACE")) == 0) ||
	    up_conn_flush(&d->conn, err) < 0)
		return -1;
	d->delim = '/';
	d->nsprefix[0] = '\0';
	if (t1 != 0) {
		if (up_imap_wait(d, t1, enabled, NULL, &done, NULL, err) < 0)
			return -1;
		up_imap_done_clear(&done);
	}
	rc = up_imap_wait(d, t2, list_delim, NULL, &done, NULL, err);
	up_imap_done_clear(&done);
	if (rc == 0 && t3 != 0) {
		/* A server that answers NO has no namespaces to tell. */
		rc = up_imap_wait(d, t3, namespace, NULL, &done, NULL, err);
		up_imap_done_clear(&done);
	}
	if (rc < 0)
		return -1;
	d->base.caps = 0;
	if (d->rcaps & IC_UIDPLUS)
		d->base.caps |= SYNC_CAP_UIDPLUS;
	if (d->rcaps & (IC_CONDSTORE | IC_QRESYNC))
		d->base.caps |= SYNC_CAP_CONDSTORE;
	if (d->qresync_on)
		d->base.caps |= SYNC_CAP_QRESYNC;
	if (d->rcaps & IC_MOVE)
		d->base.caps |= SYNC_CAP_MOVE;
	if (d->rcaps & IC_IDLE)
		d->base.caps |= SYNC_CAP_IDLE;
	if (d->rcaps & IC_SPECIAL_USE)
		d->base.caps |= SYNC_CAP_SPECIAL_USE;
	if (d->rcaps & IC_ESEARCH)
		d->base.caps |= SYNC_CAP_ESEARCH;
	if (d->rcaps & IC_LIST_STATUS)
		d->base.caps |= SYNC_CAP_LIST_STATUS;
	up_log(d->cfg, SYNC_LOG_DEBUG, "%s: connected to %s (%s)%s%s",
	    d->cfg->name, d->conn.where, tls_stream_describe(d->conn.s),
	    d->qresync_on ? ", QRESYNC" : d->rcaps & IC_CONDSTORE ?
	    ", CONDSTORE" : "", d->rcaps & IC_UIDPLUS ? ", UIDPLUS" : "");
	return 0;
}

static int
imap_connect(struct sync_driver *drv, struct sync_error *err)
{
	struct up_imap *d = (struct up_imap *)drv;
	int preauth = 0;

	up_imap_drop(d);
	d->rcaps = 0;
	d->qresync_on = 0;
	d->bye[0] = '\0';
	up_imap_doing(d, "connecting");
	if (up_conn_open(&d->conn, d->cfg, "IMAP", 143, 993, err) < 0)
		return -1;
	d->rp = imap_resp_new(NULL);
	if (greeting(d, &preauth, err) < 0)
		return -1;
	if (d->cfg->tls == SYNC_TLS_STARTTLS && starttls(d, preauth, err) < 0)
		return -1;
	if (!preauth) {
		if (d->rcaps == 0 && ask_caps(d, err) < 0)
			return -1;
		d->rcaps &= ~IC_IMAP4REV1;	/* ask again after login */
		if (login(d, err) < 0)
			return -1;
	}
	return after_login(d, err);
}

static void
imap_disconnect(struct sync_driver *drv)
{
	struct up_imap *d = (struct up_imap *)drv;
	struct sync_error err;
	struct imap_done done;

	if (d->rp != NULL && d->conn.s != NULL) {
		up_imap_doing(d, "logging out");
		if (simple(d, NULL, NULL, &done, &err, "LOGOUT") == 0)
			up_imap_done_clear(&done);
	}
	up_imap_drop(d);
}

static void
imap_free(struct sync_driver **drvp)
{
	struct up_imap *d = (struct up_imap *)*drvp;

	if (d == NULL)
		return;
	imap_disconnect(&d->base);
	up_conn_free(&d->conn);
	free(d);
	*drvp = NULL;
}

static const struct sync_driver_ops imap_ops = {
	.connect = imap_connect,
	.disconnect = imap_disconnect,
	.free = imap_free,
	.list_folders = up_imap_list_folders,
	.select = up_imap_select,
	.fetch = up_imap_fetch,
	.list_uids = up_imap_list_uids,
	.search_msgid = up_imap_search_msgid,
	.store_flags = up_imap_store_flags,
	.expunge = up_imap_expunge,
	.copy = up_imap_copy,
	.append = up_imap_append,
	.create_folder = up_imap_create_folder,
	.rename_folder = up_imap_rename_folder,
	.delete_folder = up_imap_delete_folder,
	.idle = up_imap_idle,
};

struct sync_driver *
sync_driver_imap(const struct sync_account_cfg *cfg)
{
	struct up_imap *d = xcalloc(1, sizeof(*d));

	d->base.ops = &imap_ops;
	d->base.proto = SYNC_PROTO_IMAP;
	d->cfg = cfg;
	d->conn.cfg = cfg;
	snprintf(d->conn.where, sizeof(d->conn.where), "%s", cfg->host);
	d->doing = "starting";
	return &d->base;
}

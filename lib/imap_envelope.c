/*
 * imap_envelope: the ENVELOPE structure (RFC 3501 7.4.2) and the IMAP
 * string writers FETCH responses share.
 *
 * The output follows Dovecot 2.3 byte for byte, because clients cache it
 * and a differential test compares the two servers:
 *  - Date, In-Reply-To and Message-ID are the raw values with line breaks
 *    removed; Subject and display names are "for humans" (whitespace runs
 *    collapsed, a literal as soon as anything had to change or a byte is
 *    8-bit or quoted-special); route, mailbox and host are plain strings.
 *  - A field that occurs twice: the last Date, Subject, In-Reply-To and
 *    Message-ID win, and the addresses of repeated From, To, ... headers
 *    are joined in order.
 *  - Sender and Reply-To default to From.
 * Address parsing itself is lib/rfc822's (it mimics Dovecot's parser).
 *
 * It lives in lib/ (moved from server/imap/envelope.c) so the store can
 * keep each message's ENVELOPE in its summary at ingest (lib/msg_summary)
 * and the server write those bytes as they are.
 */
#include "lib/imap_envelope.h"

#include <stdlib.h>
#include <string.h>

#include "lib/rfc822.h"
#include "lib/util.h"

/* Dovecot writes a quoted string with up to this many escapes. */
#define QUOTED_MAX_ESCAPES	4

enum env_str { E_DATE, E_SUBJECT, E_IN_REPLY_TO, E_MESSAGE_ID, E_NSTR };
enum env_addr { A_FROM, A_SENDER, A_REPLY_TO, A_TO, A_CC, A_BCC, A_NADDR };

/* Address lists of one envelope, grown as repeated headers come. */
struct env_addrs {
	struct rfc822_addr *list;
	size_t		 n;
};

static const char *const addr_names[A_NADDR] = {
	"From", "Sender", "Reply-To", "To", "Cc", "Bcc",
};
static const char *const str_names[E_NSTR] = {
	"Date", "Subject", "In-Reply-To", "Message-ID",
};

static int
append_literal(struct buf *out, const char *s, size_t len)
{
	if (buf_printf(out, "{%zu}\r\n", len) < 0)
		return -1;
	return buf_add(out, s, len);
}

int
imap_envelope_string(struct buf *out, const char *s, size_t len)
{
	size_t i, run, esc = 0;
	unsigned char c;

	for (i = 0; i < len; i++) {
		c = (unsigned char)s[i];
		if (c == '"' || c == '\\') {
			if (++esc > QUOTED_MAX_ESCAPES)
				return append_literal(out, s, len);
		} else if (c == '\r' || c == '\n' || c == '\0' || c >= 0x80)
			return append_literal(out, s, len);
	}
	if (buf_addc(out, '"') < 0)
		return -1;
	/* runs between escapes go out whole: this is hot in FETCH ENVELOPE */
	run = 0;
	for (i = 0; esc > 0 && i < len; i++) {
		if (s[i] != '"' && s[i] != '\\')
			continue;
		if (buf_add(out, s + run, i - run) < 0 || buf_addc(out, '\\') < 0)
			return -1;
		run = i;
	}
	if (buf_add(out, s + run, len - run) < 0)
		return -1;
	return buf_addc(out, '"');
}

int
imap_envelope_nstring(struct buf *out, const char *s)
{
	if (s == NULL)
		return buf_adds(out, "NIL");
	return imap_envelope_string(out, s, strlen(s));
}

int
imap_envelope_nstring_nolf(struct buf *out, const char *s)
{
	struct buf tmp;
	int rc;

	if (s == NULL || strpbrk(s, "\r\n") == NULL)
		return imap_envelope_nstring(out, s);
	buf_init(&tmp, strlen(s) + 1);
	for (; *s != '\0'; s++)
		if (*s != '\r' && *s != '\n')
			(void)buf_addc(&tmp, *s);
	rc = imap_envelope_string(out, tmp.data != NULL ? tmp.data : "",
	    tmp.len);
	buf_free(&tmp);
	return rc;
}

/* 1 if human text can go out as it is, in a quoted string. */
static int
human_as_is(const char *s, size_t len)
{
	int lwsp = 1, prefix = 1;
	size_t i;
	unsigned char c;

	for (i = 0; i < len; i++) {
		c = (unsigned char)s[i];
		if (c == '\0' || c == '\t' || c == '\r' || c == '\n' ||
		    c == '"' || c == '\\' || c >= 0x80)
			return 0;
		if (c == ' ') {
			if (lwsp)
				return 0;	/* leading or doubled space */
			lwsp = 1;
		} else
			lwsp = 0;
		if (!lwsp)
			prefix = 0;
	}
	return !(lwsp && len > 0 && !prefix);	/* no trailing space */
}

int
imap_envelope_human(struct buf *out, const char *s, size_t len)
{
	struct buf tmp;
	int lwsp = 1, rc;
	size_t i;
	unsigned char c;

	if (human_as_is(s, len)) {
		if (buf_addc(out, '"') < 0 || buf_add(out, s, len) < 0)
			return -1;
		return buf_addc(out, '"');
	}
	buf_init(&tmp, len + 1);
	for (i = 0; i < len; i++) {
		c = (unsigned char)s[i];
		if (c == '\r' || c == '\n')
			continue;
		if (c == ' ' || c == '\t') {
			if (!lwsp)
				(void)buf_addc(&tmp, ' ');
			lwsp = 1;
			continue;
		}
		(void)buf_addc(&tmp, c == '\0' ? (char)0x80 : (char)c);
		lwsp = 0;
	}
	if (lwsp && tmp.len > 0)
		tmp.len--;			/* the trailing space */
	if (tmp.len == 0)
		rc = buf_adds(out, "\"\"");
	else
		rc = append_literal(out, tmp.data, tmp.len);
	buf_free(&tmp);
	return rc;
}

static int
write_addrs(struct buf *out, const struct rfc822_addr *a, size_t n)
{
	size_t i;

	if (n == 0)
		return buf_adds(out, "NIL");
	if (buf_addc(out, '(') < 0)
		return -1;
	for (i = 0; i < n; i++) {
		if (buf_addc(out, '(') < 0)
			return -1;
		if (a[i].name == NULL) {
			if (buf_adds(out, "NIL") < 0)
				return -1;
		} else if (imap_envelope_human(out, a[i].name,
		    strlen(a[i].name)) < 0)
			return -1;
		if (buf_addc(out, ' ') < 0 ||
		    imap_envelope_nstring(out, a[i].route) < 0 ||
		    buf_addc(out, ' ') < 0 ||
		    imap_envelope_nstring(out, a[i].mailbox) < 0 ||
		    buf_addc(out, ' ') < 0 ||
		    imap_envelope_nstring(out, a[i].host) < 0 ||
		    buf_addc(out, ')') < 0)
			return -1;
	}
	return buf_addc(out, ')');
}

/* Parse value as an address list and add its entries to a. */
static void
add_addrs(struct env_addrs *a, const char *value, size_t len)
{
	struct rfc822_addr *list;
	size_t n;

	if ((n = rfc822_addr_parse(value, len, &list)) == 0)
		return;
	a->list = xreallocarray(a->list, a->n + n, sizeof(*a->list));
	memcpy(a->list + a->n, list, n * sizeof(*list));
	a->n += n;
	free(list);	/* the entries' strings moved into a->list */
}

/* Write "(date subject from sender reply-to to cc bcc irt msgid)". */
static int
write_envelope(struct buf *out, char *const str[E_NSTR],
    const struct env_addrs addr[A_NADDR])
{
	const struct env_addrs *from = &addr[A_FROM];
	const struct env_addrs *a;
	int i;

	if (buf_addc(out, '(') < 0 ||
	    imap_envelope_nstring_nolf(out, str[E_DATE]) < 0 ||
	    buf_addc(out, ' ') < 0)
		return -1;
	if (str[E_SUBJECT] == NULL) {
		if (buf_adds(out, "NIL") < 0)
			return -1;
	} else if (imap_envelope_human(out, str[E_SUBJECT],
	    strlen(str[E_SUBJECT])) < 0)
		return -1;
	for (i = 0; i < A_NADDR; i++) {
		a = &addr[i];
		if ((i == A_SENDER || i == A_REPLY_TO) && a->n == 0)
			a = from;
		if (buf_addc(out, ' ') < 0 || write_addrs(out, a->list,
		    a->n) < 0)
			return -1;
	}
	if (buf_addc(out, ' ') < 0 ||
	    imap_envelope_nstring_nolf(out, str[E_IN_REPLY_TO]) < 0 ||
	    buf_addc(out, ' ') < 0 ||
	    imap_envelope_nstring_nolf(out, str[E_MESSAGE_ID]) < 0)
		return -1;
	return buf_addc(out, ')');
}

static int
field_is(const struct rfc822_field *f, const char *name)
{
	size_t n = strlen(name);

	return f->name_len == n && ascii_strncasecmp(f->name, name, n) == 0;
}

static void
env_clear(char *str[E_NSTR], struct env_addrs addr[A_NADDR])
{
	int i;

	for (i = 0; i < E_NSTR; i++)
		free(str[i]);
	for (i = 0; i < A_NADDR; i++)
		rfc822_addr_free(&addr[i].list, addr[i].n);
}

int
imap_envelope_write(struct buf *out, const char *hdr, size_t hdrlen)
{
	char *str[E_NSTR] = { NULL };
	struct env_addrs addr[A_NADDR];
	struct rfc822_field f;
	size_t pos = 0;
	int i, rc;

	memset(addr, 0, sizeof(addr));
	while (rfc822_header_next(hdr, hdrlen, &pos, &f) == 1) {
		for (i = 0; i < E_NSTR; i++) {
			if (field_is(&f, str_names[i])) {
				free(str[i]);	/* the last one wins */
				str[i] = xstrndup(f.value, f.value_len);
			}
		}
		for (i = 0; i < A_NADDR; i++)
			if (field_is(&f, addr_names[i]))
				add_addrs(&addr[i], f.value, f.value_len);
	}
	rc = write_envelope(out, str, addr);
	env_clear(str, addr);
	return rc;
}

int
imap_envelope_write_part(struct buf *out, const struct mime_part *part)
{
	static const enum mime_env_field smap[E_NSTR] = {
		MIME_ENV_DATE, MIME_ENV_SUBJECT, MIME_ENV_IN_REPLY_TO,
		MIME_ENV_MESSAGE_ID,
	};
	static const enum mime_env_field amap[A_NADDR] = {
		MIME_ENV_FROM, MIME_ENV_SENDER, MIME_ENV_REPLY_TO,
		MIME_ENV_TO, MIME_ENV_CC, MIME_ENV_BCC,
	};
	char *str[E_NSTR] = { NULL };
	struct env_addrs addr[A_NADDR];
	const char *v;
	int i, rc;

	memset(addr, 0, sizeof(addr));
	for (i = 0; i < E_NSTR; i++)
		if ((v = part->env[smap[i]]) != NULL)
			str[i] = xstrdup(v);
	for (i = 0; i < A_NADDR; i++)
		if ((v = part->env[amap[i]]) != NULL)
			add_addrs(&addr[i], v, strlen(v));
	rc = write_envelope(out, str, addr);
	env_clear(str, addr);
	return rc;
}

int
imap_envelope_of(struct buf *out, const struct mime_part *msg)
{
	if (msg->header != NULL)
		return imap_envelope_write(out, msg->header, (size_t)msg->hdr_len);
	return imap_envelope_write_part(out, msg);
}

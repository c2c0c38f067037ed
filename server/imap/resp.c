/*
 * resp: pieces of responses shared by the handlers: the capability list,
 * the one mapping from store errors to RFC 5530 response codes, mailbox
 * names and strings in their wire forms, and flag lists (in Dovecot's
 * order, keywords by name from a per-session cache).
 */
#include "server/imap/imapd_int.h"

#include <stdlib.h>
#include <string.h>

#include "lib/utf7.h"
#include "lib/tls.h"
#include "lib/util.h"

void
imapd_capabilities(struct imapd_session *s, struct buf *out)
{
	buf_adds(out, "IMAP4rev1 LITERAL+ SASL-IR ID ENABLE IDLE");
	if (s->state == IMAPD_S_NOAUTH) {
		if (s->cfg->sh->tls != NULL && !tls_stream_is_tls(s->io))
			buf_adds(out, " STARTTLS");
		buf_adds(out, " AUTH=PLAIN AUTH=CRAM-MD5");
		return;
	}
	buf_adds(out, " NAMESPACE UNSELECT CHILDREN UIDPLUS MOVE SPECIAL-USE "
	    "LIST-EXTENDED LIST-STATUS CONDSTORE QRESYNC ESEARCH");
}

const char *
imapd_store_code(int rc)
{
	switch (rc) {
	case STORE_ENOENT:
		return "NONEXISTENT";
	case STORE_EEXIST:
		return "ALREADYEXISTS";
	case STORE_EINVAL:
		return "CANNOT";
	case STORE_ENOSPC:
		return "OVERQUOTA";
	case STORE_EBUSY:
		return "INUSE";
	case STORE_ECORRUPT:
		return "CORRUPTION";
	case STORE_ELOCKED:
		return "UNAVAILABLE";
	case STORE_EBADPASS:
		return "AUTHENTICATIONFAILED";
	case STORE_EMODIFIED:
		return "CANNOT";
	default:
		return "SERVERBUG";
	}
}

/* ATOM-CHAR (RFC 3501 9): what may stand unquoted. */
static int
atom_char(unsigned char ch)
{
	return ch > 0x20 && ch < 0x7f && strchr("(){%*\"\\]", ch) == NULL;
}

int
imapd_add_string(struct buf *out, const char *s, size_t len)
{
	size_t i;
	int quotable = len <= 1024;

	for (i = 0; i < len && quotable; i++) {
		unsigned char ch = (unsigned char)s[i];

		if (ch == '\r' || ch == '\n' || ch == '\0' || ch >= 0x80)
			quotable = 0;
	}
	if (!quotable) {
		if (buf_printf(out, "{%zu}\r\n", len) < 0)
			return -1;
		return buf_add(out, s, len);
	}
	if (buf_addc(out, '"') < 0)
		return -1;
	for (i = 0; i < len; i++) {
		if ((s[i] == '"' || s[i] == '\\') && buf_addc(out, '\\') < 0)
			return -1;
		if (buf_addc(out, s[i]) < 0)
			return -1;
	}
	return buf_addc(out, '"');
}

int
imapd_add_astring(struct buf *out, const char *s, size_t len)
{
	size_t i;

	if (len == 0 || (len == 3 && ascii_strncasecmp(s, "NIL", 3) == 0))
		return imapd_add_string(out, s, len);
	for (i = 0; i < len; i++)
		if (!atom_char((unsigned char)s[i]))
			return imapd_add_string(out, s, len);
	return buf_add(out, s, len);
}

int
imapd_add_mailbox(struct buf *out, const char *name)
{
	struct buf enc;
	int rc;

	buf_init(&enc, 8 * STORE_NAME_MAX);
	if (utf7_encode(name, strlen(name), &enc) != 0) {
		/* Not valid UTF-8 (it came from elsewhere): say it as is. */
		buf_free(&enc);
		return imapd_add_string(out, name, strlen(name));
	}
	rc = imapd_add_astring(out, enc.data != NULL ? enc.data : "",
	    enc.len);
	buf_free(&enc);
	return rc;
}

static const struct {
	uint32_t	 bit;
	const char	*name;
} system_flags[] = {
	{ STORE_F_ANSWERED, "\\Answered" },
	{ STORE_F_FLAGGED, "\\Flagged" },
	{ STORE_F_DELETED, "\\Deleted" },
	{ STORE_F_SEEN, "\\Seen" },
	{ STORE_F_DRAFT, "\\Draft" },
};

int
imapd_parse_flag(const char *atom, uint32_t *bit_r)
{
	size_t i;

	if (atom[0] != '\\')
		return 0;
	for (i = 0; i < ARRAY_SIZE(system_flags); i++) {
		if (ascii_strcasecmp(atom, system_flags[i].name) == 0) {
			*bit_r = system_flags[i].bit;
			return 1;
		}
	}
	return -1;
}

const char *
imapd_keyword_name(struct imapd_session *s, uint32_t id)
{
	size_t n;
	char *name;

	if (id < s->nkwname && s->kwname[id] != NULL)
		return s->kwname[id];
	if (id > 1000000 || s->acct < 0)
		return NULL;
	if (store_keyword_name(s->st, s->acct, id, &name) != 0)
		return NULL;
	if (id >= s->nkwname) {
		n = (size_t)id + 16;
		s->kwname = xreallocarray(s->kwname, n, sizeof(*s->kwname));
		memset(s->kwname + s->nkwname, 0,
		    (n - s->nkwname) * sizeof(*s->kwname));
		s->nkwname = n;
	}
	s->kwname[id] = name;
	return name;
}

int
imapd_add_flags(struct imapd_session *s, struct buf *out, uint32_t flags,
    const uint32_t *kw, uint32_t nkw, int recent)
{
	const char *name;
	size_t start = out->len, i;

	for (i = 0; i < ARRAY_SIZE(system_flags); i++) {
		if (!(flags & system_flags[i].bit))
			continue;
		if ((out->len > start && buf_addc(out, ' ') < 0) ||
		    buf_adds(out, system_flags[i].name) < 0)
			return -1;
	}
	if (recent && ((out->len > start && buf_addc(out, ' ') < 0) ||
	    buf_adds(out, "\\Recent") < 0))
		return -1;
	for (i = 0; i < nkw; i++) {
		if ((name = imapd_keyword_name(s, kw[i])) == NULL)
			continue;
		if ((out->len > start && buf_addc(out, ' ') < 0) ||
		    buf_adds(out, name) < 0)
			return -1;
	}
	return 0;
}

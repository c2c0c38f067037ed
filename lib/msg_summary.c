/*
 * msg_summary: building and parsing a content's summary record (see
 * msg_summary.h for what it holds and its byte layout).
 *
 * The texts are made by the same functions SEARCH runs on a header
 * (search_norm_field) over the same fields (every occurrence in the root
 * header, in order), and the ENVELOPE by the writer FETCH uses, so a
 * summary answers exactly as the MIME tree would. Work buffers are bounded
 * well above MSG_SUMMARY_MAX: a text cut short by one of them would be
 * larger than a record may be anyway, so it only ever means "no record".
 */
#include "lib/msg_summary.h"

#include <stdint.h>
#include <string.h>

#include "lib/imap_envelope.h"
#include "lib/rfc822.h"
#include "lib/util.h"

#define HEAD_LEN	(1 + 2 * MSG_SUMMARY_NFIELDS)
#define WORK_MAX	(1024 * 1024)	/* a scratch buffer of the texts */

/* The header fields the texts come from, and how SEARCH reads each. */
static const struct {
	const char	*name;
	enum search_norm_mode mode;
} text_fields[MSG_SUMMARY_NFIELDS] = {
	[MSG_SUMMARY_FROM] =	{ "From",	SEARCH_NORM_ADDRESS },
	[MSG_SUMMARY_TO] =	{ "To",		SEARCH_NORM_ADDRESS },
	[MSG_SUMMARY_CC] =	{ "Cc",		SEARCH_NORM_ADDRESS },
	[MSG_SUMMARY_BCC] =	{ "Bcc",	SEARCH_NORM_ADDRESS },
	[MSG_SUMMARY_SUBJECT] =	{ "Subject",	SEARCH_NORM_LWSP },
};

int
msg_summary_text_field(const char *name, enum search_norm_mode mode)
{
	int i;

	for (i = 0; i < MSG_SUMMARY_NFIELDS; i++)
		if (text_fields[i].name != NULL && mode == text_fields[i].mode &&
		    ascii_strcasecmp(name, text_fields[i].name) == 0)
			return i;
	return -1;
}

static int
name_is(const struct rfc822_field *f, const char *name)
{
	size_t n = strlen(name);

	return f->name_len == n && ascii_strncasecmp(f->name, name, n) == 0;
}

/* Every text field's occurrences, each text followed by a NUL. */
static int
build_texts(const struct mime_part *root, struct buf *text)
{
	struct rfc822_field f;
	struct buf t1, t2;
	size_t pos = 0;
	int i, rc = 0;

	buf_init(&t1, WORK_MAX);
	buf_init(&t2, WORK_MAX);
	while (rc == 0 && rfc822_header_next(root->header,
	    (size_t)root->hdr_len, &pos, &f) == 1) {
		for (i = 0; rc == 0 && i < MSG_SUMMARY_NFIELDS; i++) {
			if (text_fields[i].name == NULL ||
			    !name_is(&f, text_fields[i].name))
				continue;
			if (search_norm_field(text_fields[i].mode, f.value,
			    f.value_len, &text[i], &t1, &t2) < 0 ||
			    buf_addc(&text[i], '\0') < 0)
				rc = -1;
		}
	}
	buf_free(&t1);
	buf_free(&t2);
	return rc;
}

static int
assemble(struct buf *field, struct buf *out)
{
	unsigned char head[HEAD_LEN];
	size_t total = HEAD_LEN, start = out->len;
	int i;

	head[0] = MSG_SUMMARY_VERSION;
	for (i = 0; i < MSG_SUMMARY_NFIELDS; i++) {
		total += field[i].len + 1;
		if (field[i].len > UINT16_MAX || total > MSG_SUMMARY_MAX)
			return -1;
		head[1 + 2 * i] = (unsigned char)(field[i].len & 0xff);
		head[2 + 2 * i] = (unsigned char)(field[i].len >> 8);
	}
	if (buf_add(out, head, sizeof(head)) < 0)
		return -1;
	for (i = 0; i < MSG_SUMMARY_NFIELDS; i++) {
		if (buf_add(out, field[i].data == NULL ? "" : field[i].data,
		    field[i].len) < 0 || buf_addc(out, '\0') < 0) {
			out->len = start;
			return -1;
		}
	}
	return 0;
}

int
msg_summary_build(const struct mime_part *root, struct buf *out)
{
	struct buf field[MSG_SUMMARY_NFIELDS];
	const char *date;
	int i, rc;

	if (root == NULL || root->header == NULL)
		return -1;	/* SEARCH would read the header from content */
	for (i = 0; i < MSG_SUMMARY_NFIELDS; i++)
		buf_init(&field[i], MSG_SUMMARY_MAX);
	date = root->env[MIME_ENV_DATE];
	rc = imap_envelope_of(&field[MSG_SUMMARY_ENVELOPE], root);
	if (rc == 0)
		rc = build_texts(root, field);
	if (rc == 0 && date != NULL)
		rc = buf_adds(&field[MSG_SUMMARY_DATE], date);
	if (rc == 0)
		rc = assemble(field, out);
	for (i = 0; i < MSG_SUMMARY_NFIELDS; i++)
		buf_free(&field[i]);
	return rc;
}

int
msg_summary_parse(const void *rec, size_t len, struct msg_summary *sum_r)
{
	const unsigned char *p = rec;
	size_t off = HEAD_LEN, n;
	int i;

	if (len < HEAD_LEN || p[0] != MSG_SUMMARY_VERSION)
		return -1;
	for (i = 0; i < MSG_SUMMARY_NFIELDS; i++) {
		n = (size_t)p[1 + 2 * i] | (size_t)p[2 + 2 * i] << 8;
		if (n >= len - off || p[off + n] != '\0')
			return -1;
		sum_r->v[i] = (const char *)p + off;
		sum_r->len[i] = n;
		off += n + 1;
	}
	return off == len ? 0 : -1;
}

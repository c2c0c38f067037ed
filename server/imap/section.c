/*
 * section: what bytes a BODY[section] names (RFC 3501 6.4.5).
 *
 * A section becomes a byte range of the stored message, taken from the
 * offsets the MIME tree recorded at ingest, so the writer can stream it
 * from the store without holding the message; only HEADER.FIELDS is
 * built in memory, bounded by the size of one header block.
 *
 * Part numbers follow the RFC and Dovecot: part 1 of a message that is not
 * multipart is its body, and n.MIME of it is the message header; inside a
 * message/rfc822 part, n.HEADER and n.TEXT are the encapsulated message's
 * header and body, and n.1 counts in its body; Dovecot's quirks (part 0,
 * n.1 of a leaf) are kept, see imapd_section_part(). A part that does not
 * exist, or HEADER/TEXT of a part that is not a message, is an empty
 * string, as Dovecot answers.
 */
#include <string.h>

#include "lib/util.h"
#include "server/imap/fetch_int.h"
#include "store/store.h"

/*
 * Child idx (1-based) of a multipart. Like Dovecot, which counts down to
 * the child, 0 names the first one too (part numbers wrap at 2^32 when
 * parsed, so 4294967296 is 0 as well).
 */
static const struct mime_part *
multipart_child(const struct mime_part *mp, uint32_t idx)
{
	if (idx == 0)
		idx = 1;
	return idx <= mp->nchildren ? &mp->children[idx - 1] : NULL;
}

const struct mime_part *
imapd_section_part(const struct mime_part *root, const uint32_t *path,
    size_t npath)
{
	const struct mime_part *p = root;
	size_t i;
	int more;

	/*
	 * As Dovecot walks it: a number picks a child of a multipart; any
	 * other part is its own part 1, as the last number only (so [1] of
	 * a single-part message is its body, [3.1] of a leaf is [3], and
	 * [1.1] of a single-part message is nothing); a message/rfc822
	 * followed by more numbers stands for the message it encapsulates.
	 */
	for (i = 0; i < npath && p != NULL; i++) {
		more = i + 1 < npath;
		if (imapd_part_is_multipart(p))
			p = multipart_child(p, path[i]);
		else if (path[i] != 1 || (more && !imapd_part_is_rfc822(p)))
			p = NULL;
		if (p != NULL && more && imapd_part_is_rfc822(p))
			p = &p->children[0];
	}
	return p;
}

/*
 * The name of the field starting at s: up to ':', trailing WSP cut. A
 * line without a colon has the empty name, as in Dovecot's header parser
 * (so HEADER.FIELDS ("") picks such lines).
 */
static size_t
field_name_len(const char *s, size_t n)
{
	size_t i;

	for (i = 0; i < n && s[i] != ':' && s[i] != '\n'; i++)
		;
	if (i == n || s[i] != ':')
		return 0;
	while (i > 0 && (s[i - 1] == ' ' || s[i - 1] == '\t'))
		i--;
	return i;
}

static int
name_listed(const char *name, size_t len, char *const *names, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (strlen(names[i]) == len &&
		    ascii_strncasecmp(names[i], name, len) == 0)
			return 1;
	return 0;
}

/*
 * Dovecot's header filter, as observed: a line without a colon is a field
 * named "" (kept by .NOT unless "" is listed); a last line without
 * a line break is copied as it is; the empty line ending the header is
 * kept by .NOT only if the header had one, while HEADER.FIELDS always
 * ends with one (Dovecot adds the missing end of header there).
 */
int
imapd_header_fields(struct buf *out, const char *hdr, size_t len,
    char *const *names, size_t nnames, int not_)
{
	size_t pos = 0, end, nlen;
	const char *lf;
	int eoh = 0, listed;

	while (pos < len) {
		/* the empty line ends the header */
		if (hdr[pos] == '\n' || (hdr[pos] == '\r' && pos + 1 < len &&
		    hdr[pos + 1] == '\n')) {
			eoh = 1;
			break;
		}
		/* the field: its first line and every continuation line */
		end = pos;
		do {
			lf = memchr(hdr + end, '\n', len - end);
			end = lf != NULL ? (size_t)(lf - hdr) + 1 : len;
		} while (end < len && (hdr[end] == ' ' || hdr[end] == '\t'));
		nlen = field_name_len(hdr + pos, end - pos);
		listed = name_listed(hdr + pos, nlen, names, nnames);
		if (listed != not_ && buf_add(out, hdr + pos, end - pos) < 0)
			return -1;
		pos = end;
	}
	if (!not_ || eoh)
		return buf_adds(out, "\r\n");
	return 0;
}

void
imapd_fetch_range_clear(struct fetch_range *r)
{
	buf_free(&r->mem);
	memset(r, 0, sizeof(*r));
}

static void
set_range(struct fetch_range *r, uint64_t off, uint64_t len)
{
	r->in_mem = 0;
	r->off = off;
	r->len = len;
}

static int
build_fields(const struct fetch_section *sec, const struct mime_part *msg,
    int (*read_hdr)(void *, uint64_t, uint64_t, struct buf *), void *arg,
    struct fetch_range *r)
{
	struct buf hdr;
	int rc;

	r->in_mem = 1;
	/* the fields of a header, and an empty line: bounded by the header */
	buf_init(&r->mem, (size_t)(msg->hdr_len < FETCH_HDR_READ_MAX ?
	    msg->hdr_len : FETCH_HDR_READ_MAX) + 4);
	if (msg->header != NULL)
		return imapd_header_fields(&r->mem, msg->header,
		    (size_t)msg->hdr_len, sec->fields, sec->nfields,
		    sec->spec == SPEC_FIELDS_NOT) < 0 ? STORE_ERR : 0;
	buf_init(&hdr, FETCH_HDR_READ_MAX);
	rc = read_hdr(arg, msg->hdr_off, msg->hdr_len < FETCH_HDR_READ_MAX ?
	    msg->hdr_len : FETCH_HDR_READ_MAX, &hdr);
	if (rc == 0 && imapd_header_fields(&r->mem, hdr.data != NULL ?
	    hdr.data : "", hdr.len, sec->fields, sec->nfields,
	    sec->spec == SPEC_FIELDS_NOT) < 0)
		rc = STORE_ERR;
	buf_free(&hdr);
	return rc;
}

int
imapd_section_resolve(const struct fetch_section *sec,
    const struct mime_part *root, uint64_t size,
    int (*read_hdr)(void *, uint64_t, uint64_t, struct buf *), void *arg,
    struct fetch_range *r)
{
	const struct mime_part *p, *msg;

	memset(r, 0, sizeof(*r));
	buf_init(&r->mem, 0);
	if (sec->npath == 0 && sec->spec == SPEC_ALL) {
		set_range(r, 0, size);
		return 0;
	}
	if ((p = imapd_section_part(root, sec->path, sec->npath)) == NULL)
		return 0;			/* no such part: empty */
	if (sec->spec == SPEC_ALL) {
		set_range(r, p->body_off, p->body_len);
		return 0;
	}
	if (sec->spec == SPEC_MIME) {
		set_range(r, p->hdr_off, p->hdr_len);
		return 0;
	}
	/* HEADER, TEXT and the fields address a message */
	if (sec->npath == 0)
		msg = root;
	else if (imapd_part_is_rfc822(p))
		msg = &p->children[0];
	else
		return 0;
	if (sec->spec == SPEC_HEADER)
		set_range(r, msg->hdr_off, msg->hdr_len);
	else if (sec->spec == SPEC_TEXT)
		set_range(r, msg->body_off, msg->body_len);
	else
		return build_fields(sec, msg, read_hdr, arg, r);
	return 0;
}

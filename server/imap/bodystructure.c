/*
 * bodystructure: BODY and BODYSTRUCTURE (RFC 3501 7.4.2) from the MIME
 * tree that lib/mime made at ingest.
 *
 * The layout follows Dovecot 2.3 exactly, since clients cache it and a
 * differential test compares the two servers byte for byte:
 *  - a part without Content-Type is "text" "plain"; a text part without a
 *    charset parameter gets ("charset" "us-ascii") after its own ones;
 *  - types, subtypes, parameter names and the disposition keep the case
 *    they had in the header (lib/mime keeps it in raw_*), strings go out
 *    quoted or as literals as imap_envelope_string() decides, and absent
 *    values are NIL; the transfer encoding defaults to "7bit";
 *  - sizes and line counts are those of the body as stored;
 *  - a multipart without any part is written as one empty text/plain;
 *  - message/rfc822 carries the envelope, the structure and the line count
 *    of the encapsulated message.
 * The tree's depth is bounded by MIME_MAX_DEPTH, so recursion is bounded.
 */
#include <string.h>

#include "lib/imap_envelope.h"
#include "lib/util.h"
#include "server/imap/fetch.h"
#include "server/imap/fetch_int.h"

#define EMPTY_BODY \
	"(\"text\" \"plain\" (\"charset\" \"us-ascii\") NIL NIL \"7bit\" 0 0"

int
imapd_part_is_multipart(const struct mime_part *part)
{
	const struct mime_param *b;

	if (strcmp(part->type, "multipart") != 0)
		return 0;
	b = mime_param_get(part->params, part->nparams, "boundary");
	return b != NULL && b->value[0] != '\0';
}

int
imapd_part_is_rfc822(const struct mime_part *part)
{
	return strcmp(part->type, "message") == 0 &&
	    strcmp(part->subtype, "rfc822") == 0 && part->nchildren == 1;
}

/* The parameter list, NIL when empty (unless a charset must be added). */
static int
write_params(struct buf *out, const struct mime_param *p, size_t n,
    int default_charset)
{
	int seen_charset = 0;
	size_t i;
	const char *name;

	if (n == 0 && !default_charset)
		return buf_adds(out, "NIL");
	if (buf_addc(out, '(') < 0)
		return -1;
	for (i = 0; i < n; i++) {
		name = p[i].raw_name != NULL ? p[i].raw_name : p[i].name;
		if (ascii_strcasecmp(name, "charset") == 0)
			seen_charset = 1;
		if ((i > 0 && buf_addc(out, ' ') < 0) ||
		    imap_envelope_nstring(out, name) < 0 ||
		    buf_addc(out, ' ') < 0 ||
		    imap_envelope_nstring(out, p[i].value) < 0)
			return -1;
	}
	if (default_charset && !seen_charset &&
	    ((n > 0 && buf_addc(out, ' ') < 0) ||
	    buf_adds(out, "\"charset\" \"us-ascii\"") < 0))
		return -1;
	return buf_addc(out, ')');
}

/* Disposition, language and location: the tail both kinds share. */
static int
write_ext_common(struct buf *out, const struct mime_part *part)
{
	size_t i;

	if (buf_addc(out, ' ') < 0)
		return -1;
	if (part->disposition == NULL) {
		if (buf_adds(out, "NIL") < 0)
			return -1;
	} else if (buf_addc(out, '(') < 0 ||
	    imap_envelope_nstring(out, part->disposition) < 0 ||
	    buf_addc(out, ' ') < 0 ||
	    write_params(out, part->disp_params, part->ndisp_params, 0) < 0 ||
	    buf_addc(out, ')') < 0)
		return -1;
	if (buf_addc(out, ' ') < 0)
		return -1;
	if (part->nlanguages == 0) {
		if (buf_adds(out, "NIL") < 0)
			return -1;
	} else {
		if (buf_addc(out, '(') < 0)
			return -1;
		for (i = 0; i < part->nlanguages; i++)
			if ((i > 0 && buf_addc(out, ' ') < 0) ||
			    imap_envelope_nstring(out, part->languages[i]) < 0)
				return -1;
		if (buf_addc(out, ')') < 0)
			return -1;
	}
	if (buf_addc(out, ' ') < 0)
		return -1;
	return imap_envelope_nstring_nolf(out, part->location);
}

static int
write_multipart(struct buf *out, const struct mime_part *part, int ext)
{
	size_t i;

	if (part->nchildren == 0) {
		if (buf_adds(out, EMPTY_BODY) < 0 ||
		    (ext && buf_adds(out, " NIL NIL NIL NIL") < 0) ||
		    buf_addc(out, ')') < 0)
			return -1;
	}
	for (i = 0; i < part->nchildren; i++)
		if (imapd_bodystructure(out, &part->children[i], ext) < 0)
			return -1;
	if (buf_addc(out, ' ') < 0 ||
	    imap_envelope_nstring(out, part->raw_subtype != NULL ?
	    part->raw_subtype : part->subtype) < 0)
		return -1;
	if (!ext)
		return 0;
	if (buf_addc(out, ' ') < 0 ||
	    write_params(out, part->params, part->nparams, 0) < 0)
		return -1;
	return write_ext_common(out, part);
}

static int
write_single(struct buf *out, const struct mime_part *part, int ext)
{
	int rfc822 = imapd_part_is_rfc822(part);
	int text = !rfc822 && strcmp(part->type, "text") == 0;
	const struct mime_part *msg;

	if (rfc822) {
		if (buf_adds(out, "\"message\" \"rfc822\"") < 0)
			return -1;
	} else if (imap_envelope_nstring(out, part->raw_type != NULL ?
	    part->raw_type : part->type) < 0 || buf_addc(out, ' ') < 0 ||
	    imap_envelope_nstring(out, part->raw_subtype != NULL ?
	    part->raw_subtype : part->subtype) < 0)
		return -1;
	if (buf_addc(out, ' ') < 0 ||
	    write_params(out, part->params, part->nparams, text) < 0 ||
	    buf_addc(out, ' ') < 0 ||
	    imap_envelope_nstring_nolf(out, part->id) < 0 ||
	    buf_addc(out, ' ') < 0 ||
	    imap_envelope_nstring_nolf(out, part->description) < 0 ||
	    buf_addc(out, ' ') < 0)
		return -1;
	if (part->encoding != NULL) {
		if (imap_envelope_nstring(out, part->encoding) < 0)
			return -1;
	} else if (buf_adds(out, "\"7bit\"") < 0)
		return -1;
	if (buf_printf(out, " %llu", (unsigned long long)part->body_len) < 0)
		return -1;
	if (text) {
		if (buf_printf(out, " %llu",
		    (unsigned long long)part->body_lines) < 0)
			return -1;
	} else if (rfc822) {
		msg = &part->children[0];
		if (buf_addc(out, ' ') < 0 || imap_envelope_of(out, msg) < 0 ||
		    buf_addc(out, ' ') < 0 ||
		    imapd_bodystructure(out, msg, ext) < 0 ||
		    buf_printf(out, " %llu",
		    (unsigned long long)part->body_lines) < 0)
			return -1;
	}
	if (!ext)
		return 0;
	if (buf_addc(out, ' ') < 0 ||
	    imap_envelope_nstring_nolf(out, part->md5) < 0)
		return -1;
	return write_ext_common(out, part);
}

int
imapd_bodystructure(struct buf *out, const struct mime_part *part,
    int extended)
{
	if (buf_addc(out, '(') < 0)
		return -1;
	if ((imapd_part_is_multipart(part) ? write_multipart(out, part,
	    extended) : write_single(out, part, extended)) < 0)
		return -1;
	return buf_addc(out, ')');
}

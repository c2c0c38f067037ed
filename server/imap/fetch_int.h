/*
 * fetch_int: what fetch.c, section.c and bodystructure.c share and
 * nobody else sees: the parsed form of a BODY[section]<partial> and the
 * resolution of a section against a message's MIME tree. The IMAP string
 * writers (Dovecot's choices between quoted strings and literals) are
 * lib/imap_envelope.h's.
 */
#ifndef MAILVAULT_SERVER_IMAP_FETCH_INT_H
#define MAILVAULT_SERVER_IMAP_FETCH_INT_H

#include <stddef.h>
#include <stdint.h>

#include "lib/buf.h"
#include "lib/mime.h"

/* Part numbers deeper than this are refused as a bad section. */
#define FETCH_PATH_MAX		MIME_MAX_DEPTH
/* A header block read from content for HEADER.FIELDS is at most this. */
#define FETCH_HDR_READ_MAX	MIME_HDR_TOTAL_MAX

/* What a section names, after its part number (RFC 3501 6.4.5). */
enum fetch_spec {
	SPEC_ALL,		/* [] or [n]: the whole message or part */
	SPEC_HEADER,		/* [HEADER], [n.HEADER] */
	SPEC_TEXT,		/* [TEXT], [n.TEXT] */
	SPEC_MIME,		/* [n.MIME] */
	SPEC_FIELDS,		/* [HEADER.FIELDS (...)] */
	SPEC_FIELDS_NOT,	/* [HEADER.FIELDS.NOT (...)] */
};

struct fetch_section {
	uint32_t	*path;		/* part numbers; owned */
	size_t		 npath;
	enum fetch_spec	 spec;
	char		**fields;	/* header field names; owned */
	size_t		 nfields;
	int		 partial;	/* <off.len> or <off> was given */
	uint64_t	 poff, plen;	/* plen UINT64_MAX: to the end */
};

/*
 * A section resolved against one message: either bytes of the content
 * (off, len) or bytes built in memory (HEADER.FIELDS), before the partial
 * is applied. mem is owned and freed with imapd_fetch_range_clear().
 */
struct fetch_range {
	int		 in_mem;
	uint64_t	 off, len;
	struct buf	 mem;
};

/*
 * The part a section's numbers name, following RFC 3501: the first
 * number counts in the message's own body (part 1 of a non-multipart
 * message is its body), a number inside a message/rfc822 part counts in
 * the encapsulated message. NULL when there is no such part.
 */
const struct mime_part *imapd_section_part(const struct mime_part *root,
	    const uint32_t *path, size_t npath);

/*
 * 1 if part is a multipart with a boundary (Dovecot's multipart flag), or
 * a message/rfc822 with its encapsulated message.
 */
int	imapd_part_is_multipart(const struct mime_part *part);
int	imapd_part_is_rfc822(const struct mime_part *part);

/*
 * Resolve sec against a message of size bytes whose tree is root. For
 * HEADER.FIELDS the header block is taken from the tree when it was kept,
 * or read through read_hdr(arg, off, len, out), which returns 0 or a
 * negative store code. 0, or that code. r is cleared with
 * imapd_fetch_range_clear().
 */
int	imapd_section_resolve(const struct fetch_section *sec,
	    const struct mime_part *root, uint64_t size,
	    int (*read_hdr)(void *arg, uint64_t off, uint64_t len,
		struct buf *out), void *arg, struct fetch_range *r);
void	imapd_fetch_range_clear(struct fetch_range *r);

/*
 * Append the header fields of hdr (a header block, its ending empty line
 * optional) whose names are (not_ 0) or are not (not_ 1) among names,
 * raw with their folding, then the empty line "\r\n". 0, or -1 at limit.
 */
int	imapd_header_fields(struct buf *out, const char *hdr, size_t len,
	    char *const *names, size_t nnames, int not_);

#endif

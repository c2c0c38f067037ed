/*
 * imap_envelope: the ENVELOPE of a message (RFC 3501 7.4.2) and the IMAP
 * string writers it is made with, byte for byte as Dovecot 2.3 writes
 * them (see imap_envelope.c for the rules).
 *
 * Pure formatters: no store, no I/O. Each appends to out and returns 0,
 * or -1 if out's limit was hit (out then holds a prefix). The server's
 * FETCH writes them directly; the store keeps a message's ENVELOPE in its
 * summary at ingest (lib/msg_summary.h), built by these same functions.
 */
#ifndef MAILVAULT_LIB_IMAP_ENVELOPE_H
#define MAILVAULT_LIB_IMAP_ENVELOPE_H

#include <stddef.h>

#include "lib/buf.h"
#include "lib/mime.h"

/*
 * The ENVELOPE list "(date subject from ...)" of a header block (the last
 * Date/Subject/In-Reply-To/Message-ID, the addresses of repeated address
 * fields joined).
 */
int	imap_envelope_write(struct buf *out, const char *hdr, size_t hdrlen);
/* The same from the fields the MIME parser kept for a message part
 * (MIME_PART_MESSAGE; first occurrences only), used when its header was
 * too large to keep. */
int	imap_envelope_write_part(struct buf *out, const struct mime_part *part);
/* The ENVELOPE of a message part: of its kept header, else of its env
 * fields. */
int	imap_envelope_of(struct buf *out, const struct mime_part *msg);

/*
 * s as an IMAP string the way Dovecot writes it: a quoted string, or a
 * literal {n}\r\n... when s holds 8-bit bytes, CR, LF, NUL or more than
 * four quoted-specials; the nstring form writes NIL for NULL; nstring_nolf
 * drops CR and LF first (folded header values). human writes text for a
 * person (Subject, display names): whitespace runs become one space,
 * leading and trailing whitespace and line breaks go, NUL becomes 0x80,
 * and anything changed, quoted-special or 8-bit makes it a literal.
 */
int	imap_envelope_string(struct buf *out, const char *s, size_t len);
int	imap_envelope_nstring(struct buf *out, const char *s);
int	imap_envelope_nstring_nolf(struct buf *out, const char *s);
int	imap_envelope_human(struct buf *out, const char *s, size_t len);

#endif

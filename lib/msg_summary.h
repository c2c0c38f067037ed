/*
 * msg_summary: the small record the store keeps per content so that IMAP
 * metadata commands need not open the message's MIME tree.
 *
 * Built once at ingest from the parsed root part, it holds (1) the
 * ENVELOPE exactly as FETCH writes it (lib/imap_envelope.h), (2) the texts
 * SEARCH FROM, TO, CC, BCC and SUBJECT compare with, already in SEARCH's
 * normal form (lib/search_norm.h): every occurrence of the field, each
 * followed by a NUL so that a key never matches across two (the normal
 * form has no NUL; an absent field has an empty text, a present but
 * empty one a lone NUL), and (3) the raw Date value the MIME parser kept
 * (SENTBEFORE, SENTON, SENTSINCE parse it when asked).
 *
 * Record format, version MSG_SUMMARY_VERSION: one version byte, then the
 * lengths of the MSG_SUMMARY_NFIELDS fields as little-endian uint16, then
 * each field's bytes followed by a NUL (so every field is also a C
 * string). A record is at most MSG_SUMMARY_MAX bytes; a message whose
 * record would be larger gets none, and readers fall back to the MIME
 * tree. Change MSG_SUMMARY_VERSION whenever the ENVELOPE writer, the
 * normal form or this layout changes: records of another version are
 * then ignored (treated as absent), never misread.
 */
#ifndef MAILVAULT_LIB_MSG_SUMMARY_H
#define MAILVAULT_LIB_MSG_SUMMARY_H

#include <stddef.h>

#include "lib/buf.h"
#include "lib/mime.h"
#include "lib/search_norm.h"

#define MSG_SUMMARY_VERSION	1
#define MSG_SUMMARY_MAX		16384	/* bytes in a record */

enum msg_summary_field {
	MSG_SUMMARY_ENVELOPE,	/* "(date subject from ...)" */
	MSG_SUMMARY_FROM,	/* normal-form texts, NUL after each */
	MSG_SUMMARY_TO,
	MSG_SUMMARY_CC,
	MSG_SUMMARY_BCC,
	MSG_SUMMARY_SUBJECT,
	MSG_SUMMARY_DATE,	/* raw Date value, "" when absent */
	MSG_SUMMARY_NFIELDS
};

/* A parsed record: pointers into the record's bytes, each NUL-terminated
 * (len does not count the terminator). */
struct msg_summary {
	const char	*v[MSG_SUMMARY_NFIELDS];
	size_t		 len[MSG_SUMMARY_NFIELDS];
};

/*
 * Append the record of a message to out from its parsed root part. 0; or
 * -1 when the message gets no record: its header was too large to be kept
 * in the part, or the record would exceed MSG_SUMMARY_MAX or out's limit
 * (out is then as it was).
 */
int	msg_summary_build(const struct mime_part *root, struct buf *out);

/* Parse a record of len bytes: 0 and *sum_r pointing into rec, or -1 if
 * it is malformed or of another version. */
int	msg_summary_parse(const void *rec, size_t len, struct msg_summary *sum_r);

/*
 * The text field that holds header field name (case-insensitive) read in
 * mode, or -1 if the summary has no such text: SEARCH uses the summary
 * for a header key only when this says the summary holds exactly it.
 */
int	msg_summary_text_field(const char *name, enum search_norm_mode mode);

#endif

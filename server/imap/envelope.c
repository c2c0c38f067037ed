/*
 * envelope: the server's names for the ENVELOPE and string writers.
 *
 * The writers themselves live in lib/imap_envelope.c, where the store can
 * use them too (each message's ENVELOPE is kept in its summary at ingest,
 * lib/msg_summary.h). These forwarders keep the names that
 * bodystructure.c and the FETCH unit tests call; new code calls the
 * lib/imap_envelope.h functions directly.
 */
#include "lib/imap_envelope.h"
#include "server/imap/fetch.h"
#include "server/imap/fetch_int.h"

int
imapd_append_string(struct buf *out, const char *s, size_t len)
{
	return imap_envelope_string(out, s, len);
}

int
imapd_append_nstring(struct buf *out, const char *s)
{
	return imap_envelope_nstring(out, s);
}

int
imapd_append_nstring_nolf(struct buf *out, const char *s)
{
	return imap_envelope_nstring_nolf(out, s);
}

int
imapd_append_human(struct buf *out, const char *s, size_t len)
{
	return imap_envelope_human(out, s, len);
}

int
imapd_envelope_of(struct buf *out, const struct mime_part *msg)
{
	return imap_envelope_of(out, msg);
}

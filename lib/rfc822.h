/*
 * rfc822: the RFC 5322 pieces IMAP needs outside the MIME tree: header
 * fields in a raw header block, address lists for ENVELOPE, and the Date
 * field (its tokens; lib/date does the calendar).
 *
 * Everything here is lenient and pure (no I/O, no locale): a broken header
 * gives the best reading that Dovecot 2.3 would give, so ENVELOPE output
 * matches it, and only rfc822_date_parse() reports garbage (-1).
 */
#ifndef MAILVAULT_LIB_RFC822_H
#define MAILVAULT_LIB_RFC822_H

#include <stddef.h>
#include <time.h>

#include "lib/buf.h"

/* One header field as found in the block; pointers borrow from it. */
struct rfc822_field {
	const char	*name;		/* not NUL-terminated */
	size_t		 name_len;
	const char	*value;		/* raw (still folded), leading WSP and
					 * the final line break removed */
	size_t		 value_len;
};

/*
 * Iterate over the fields of a header block (the block may include the
 * empty line that ends it; iteration stops there). *pos starts at 0.
 * 1: *f is filled. 0: no more fields. A line without a colon is skipped.
 */
int	rfc822_header_next(const char *hdr, size_t len, size_t *pos,
	    struct rfc822_field *f);

/* Append the unfolded value (CR and LF removed) to out. 0, or -1 at limit. */
int	rfc822_unfold(const char *v, size_t n, struct buf *out);

/*
 * The unfolded value of the first field called name (ASCII
 * case-insensitive), as a new string the caller frees, or NULL if absent.
 */
char	*rfc822_header_get(const char *hdr, size_t len, const char *name);

/*
 * All occurrences of name, unfolded, in order: returns the count and sets
 * *values_r to a new NULL-terminated array (the caller frees it with
 * rfc822_strv_free()); 0 and NULL when absent.
 */
size_t	rfc822_header_get_all(const char *hdr, size_t len, const char *name,
	    char ***values_r);
void	rfc822_strv_free(char ***v);

/*
 * One ENVELOPE address. A group is a start entry (mailbox = group name,
 * host NULL) and an end entry (mailbox and host NULL). A missing local
 * part or domain is filled with "MISSING_MAILBOX" / "MISSING_DOMAIN", as
 * Dovecot does. name is the display name (quotes removed, words joined by
 * one space; a trailing comment when there is no phrase), still
 * RFC 2047-encoded, or NULL; route is the obsolete source route or NULL.
 */
struct rfc822_addr {
	char	*name, *route, *mailbox, *host;
};

/*
 * Parse an address-list header value (folded or not). Returns the number
 * of entries and sets *list_r (the caller frees it with
 * rfc822_addr_free()); 0 and NULL for an empty or unreadable list. Parsing
 * stops at the first entry that is not followed by a comma, like Dovecot.
 */
size_t	rfc822_addr_parse(const char *s, size_t len, struct rfc822_addr **list_r);
void	rfc822_addr_free(struct rfc822_addr **list, size_t n);

/*
 * Parse an RFC 5322 date-time, obsolete forms included (two-digit years,
 * named zones, missing seconds or day-of-week, comments). 0 and the UTC
 * time in *t_r and the zone in *tz_min_r (minutes east of UTC), or -1.
 */
int	rfc822_date_parse(const char *s, size_t len, time_t *t_r, int *tz_min_r);

#endif

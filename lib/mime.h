/*
 * mime: the MIME parser (RFC 5322, 2045, 2046, 2047, 2183, 2231).
 *
 * Pure: bytes in, part tree out, no I/O. The parser is incremental so a
 * message of any size is parsed with memory bounded by the size of its
 * headers, not its body: mailvault streams a message into the store and
 * feeds the same bytes here. It never fails on broken input: whatever
 * arrives is described as well as it can be (a missing boundary ends the
 * part at the end of the message, a bad header line is skipped, and so on).
 *
 * Offsets are byte offsets into the message exactly as fed (the store feeds
 * the CRLF wire form). The resulting tree is what IMAP needs for ENVELOPE,
 * BODYSTRUCTURE, BODY[section] and SEARCH, and it can be serialized so it is
 * computed once at ingest and cached.
 */
#ifndef MAILVAULT_LIB_MIME_H
#define MAILVAULT_LIB_MIME_H

#include <stddef.h>
#include <stdint.h>

#include "lib/buf.h"

/* A Content-Type or Content-Disposition parameter. */
struct mime_param {
	char	*name;		/* as in the header, lowercased; RFC 2231
				 * continuations joined, a trailing '*' kept
				 * when the value is extended (charset'lang'…) */
	char	*value;		/* raw joined value, as Dovecot shows it */
	char	*decoded;	/* value decoded to UTF-8 (RFC 2231/2047) */
	char	*raw_name;	/* name with its case kept, as Dovecot's
				 * BODYSTRUCTURE shows it ("Charset") */
};

/*
 * Header fields ENVELOPE and SORT need, kept for every message header
 * (the root and each message/rfc822 child) so they are there even when
 * the header block itself was too large to keep. Unfolded, raw (not
 * RFC 2047-decoded), NULL when absent; the first occurrence.
 */
enum mime_env_field {
	MIME_ENV_DATE, MIME_ENV_SUBJECT, MIME_ENV_FROM, MIME_ENV_SENDER,
	MIME_ENV_REPLY_TO, MIME_ENV_TO, MIME_ENV_CC, MIME_ENV_BCC,
	MIME_ENV_IN_REPLY_TO, MIME_ENV_MESSAGE_ID,
	MIME_ENV_COUNT
};

/* mime_part.flags */
#define MIME_PART_MESSAGE	0x01	/* a message header: env[] is set */
#define MIME_PART_LIMITED	0x02	/* a limit was hit: children not parsed */
#define MIME_PART_NO_BLANK	0x04	/* the header had no empty line */

/* Limits: beyond them the rest is an opaque body (see mime.c). */
#define MIME_MAX_PARTS		5000
#define MIME_MAX_DEPTH		100
#define MIME_HDR_KEEP_MAX	(64 * 1024)
#define MIME_HDR_TOTAL_MAX	(4 * 1024 * 1024)
#define MIME_BOUNDARY_MAX	512

struct mime_part {
	/* Where the part lies in the message. The header block runs from
	 * hdr_off for hdr_len bytes and includes the empty line ending it,
	 * if there is one; the body follows at body_off. */
	uint64_t	 hdr_off, hdr_len;
	uint64_t	 body_off, body_len;
	uint64_t	 body_lines;	/* lines in the body, as IMAP counts */

	/* The part's raw header block (hdr_len bytes, NUL-terminated) when
	 * it is small enough to keep; NULL when it was too large, and the
	 * caller reads it from the message at hdr_off instead. */
	char		*header;

	/* Content-Type, defaulted per RFC 2045/2046 (text/plain, or
	 * message/rfc822 inside multipart/digest). Lowercase. */
	char		*type, *subtype;
	struct mime_param *params;
	size_t		 nparams;

	char		*id;		/* Content-ID, raw, or NULL */
	char		*description;	/* Content-Description, raw, or NULL */
	char		*encoding;	/* Content-Transfer-Encoding, raw, or NULL */
	char		*md5;		/* Content-MD5, raw, or NULL */
	char		*disposition;	/* Content-Disposition value, or NULL */
	struct mime_param *disp_params;
	size_t		 ndisp_params;
	char		**languages;	/* Content-Language list */
	size_t		 nlanguages;
	char		*location;	/* Content-Location, raw, or NULL */

	/* A multipart's parts, or for message/rfc822 the one encapsulated
	 * message (whose own header block is its hdr_off/hdr_len). */
	struct mime_part *children;
	size_t		 nchildren;

	/* Added after the first interface: */
	char		*raw_type, *raw_subtype;  /* case kept, as Dovecot
						   * shows them; defaults too */
	unsigned int	 flags;		/* MIME_PART_* */
	char		*env[MIME_ENV_COUNT];	/* see enum mime_env_field */
};

/* Streaming parser. */
struct mime_parser;

/* A new parser for one message. Free with mime_parser_free(). */
struct mime_parser *mime_parser_new(void);
/* Feed the next n bytes of the message; any split is fine. */
void	mime_parser_feed(struct mime_parser *p, const void *data, size_t n);
/*
 * End of message: return the part tree (the root is the message itself).
 * The caller owns it and frees it with mime_part_free(). Never NULL.
 */
struct mime_part *mime_parser_finish(struct mime_parser *p);
void	mime_parser_free(struct mime_parser **p);

/* Parse a whole message held in memory. */
struct mime_part *mime_parse(const void *data, size_t n);

/* Free a tree returned by this module; accepts NULL and clears *part. */
void	mime_part_free(struct mime_part **part);

/*
 * Serialize a tree into out (appended). 0, or -1 if out's limit was hit.
 * mime_deserialize() rebuilds it: 0 and a tree the caller frees, or -1 if
 * the bytes are not a valid serialization. mime_deserialize_root() rebuilds
 * only the root part (its header, fields and envelope; nchildren is 0 and
 * the bytes after the root's own fields are not checked).
 */
int	mime_serialize(const struct mime_part *root, struct buf *out);
int	mime_deserialize(const void *data, size_t n, struct mime_part **root_r);
int	mime_deserialize_root(const void *data, size_t n,
	    struct mime_part **root_r);

/*
 * The parameter called name (ASCII case-insensitive; "name" also finds an
 * RFC 2231 "name*"), or NULL. Borrowed from the array.
 */
const struct mime_param *mime_param_get(const struct mime_param *params,
	    size_t n, const char *name);

/*
 * Decode a raw header value into UTF-8 (appended to out): unfold, decode
 * RFC 2047 encoded-words (B and Q, any charset lib/charset knows;
 * adjacent words joined, the space between them dropped) and replace
 * bytes that are not valid in their charset with U+FFFD. 0, or -1 if
 * out's limit was hit (out then holds a prefix).
 */
int	mime_decode_header(const char *raw, size_t len, struct buf *out);

/*
 * Incremental quoted-printable decoder (RFC 2045 6.7), lenient: a stray
 * '=' is kept. Any split of the input gives the same output.
 */
struct mime_qp_dec {
	int	state;
	char	hex;
};
void	mime_qp_dec_init(struct mime_qp_dec *d);
/* 0, or -1 if out's limit was hit. */
int	mime_qp_dec_feed(struct mime_qp_dec *d, const void *src, size_t n,
	    struct buf *out);
/* Flush what a pending '=' held back. 0, or -1 at limit. */
int	mime_qp_dec_finish(struct mime_qp_dec *d, struct buf *out);

#endif

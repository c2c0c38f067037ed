/*
 * mbox: an incremental reader and writer for mbox files (RFC 4155).
 *
 * Both are pure: bytes in, bytes or events out, no I/O. The reader takes
 * the file in pieces of any size and gives back, per message, a BEGIN
 * event (the From_ line's sender and date), DATA events (the message's
 * bytes in wire form: every LF-only line end made CRLF, a CRLF left as it
 * is, and in mboxrd one '>' taken off a ">From " / ">>From " line) and an
 * END event. Memory does not grow with the message or the line length: a
 * DATA piece is at most MBOX_DATA_MAX bytes and the reader holds only a
 * few bytes at each line start, so a 100 MB message or a 10 MB line goes
 * through in pieces.
 *
 * Framing, as the reader sees it: the file starts with a From_ line ("From
 * " at offset 0; anything else is "not an mbox file"). A later line that
 * starts with "From " ends the message only if it follows an empty line;
 * that one empty line belongs to the separator, not to the message, and so
 * does one empty line at the end of the file. An empty file has no
 * messages.
 *
 * The writer makes what the reader reads back: "From SENDER DATE\n", the
 * message with CRLF turned into LF and mboxrd escaping (a line matching
 * ^>*From  gets one more '>'), then exactly one empty line. A message that
 * does not end in a line break gets an LF added, so on reading it back it
 * ends in CRLF (a final CR becomes CRLF). Besides that, only a bare LF in
 * the message changes on the round trip: it comes back as CRLF. So export
 * -> import -> export gives the same file byte for byte. (A CRLF right
 * after a CR is written as CR LF, not LF, so no CR is lost.)
 */
#ifndef MAILVAULT_LIB_MBOX_H
#define MAILVAULT_LIB_MBOX_H

#include <stddef.h>
#include <time.h>

#include "lib/buf.h"

/* How '>From ' lines were escaped by the writer of the file. */
enum mbox_format {
	MBOX_MBOXRD = 0,	/* default: one '>' is removed before >*From  */
	MBOX_MBOXO,		/* lines are left alone: mboxo is not reversible */
};

enum mbox_event_type {
	MBOX_MSG_BEGIN = 1,
	MBOX_MSG_DATA,
	MBOX_MSG_END,
};

/* Longest DATA piece the reader hands out. */
#define MBOX_DATA_MAX		65536
/* A From_ line longer than this is cut (the rest is skipped, not an error). */
#define MBOX_FROMLINE_MAX	1024
/* "Thu Jan  1 00:00:00 1970" and its NUL. */
#define MBOX_DATE_LEN		25

struct mbox_event {
	enum mbox_event_type type;
	/* BEGIN: the From_ line's sender (NUL-terminated, maybe "") and date
	 * (UTC, or (time_t)-1 when the date does not parse). Borrowed from the
	 * reader; valid until the next mbox_read_next(). */
	const char	*sender;
	time_t		 date;
	/* DATA: a piece of the message, borrowed until the next call. */
	const char	*data;
	size_t		 len;
};

struct mbox_reader;

/* A new reader (never NULL). Free it with mbox_reader_free(). */
struct mbox_reader *mbox_reader_new(enum mbox_format fmt);
/* Free the reader; accepts NULL and clears the pointer. */
void	mbox_reader_free(struct mbox_reader **r);

/*
 * Give the reader the next n bytes of the file. The reader does not copy
 * them: p must stay valid until mbox_read_next() has returned 0, and feed
 * may only be called when the previous input has been used up (that is,
 * after mbox_read_next() returned 0).
 */
void	mbox_reader_feed(struct mbox_reader *r, const void *p, size_t n);
/* Say that the file ends here (after the last feed). */
void	mbox_reader_finish(struct mbox_reader *r);

/*
 * The next event. 1: *ev is filled. 0: all input given so far is used up;
 * feed more, or, after mbox_reader_finish(), the file is done. -1: the
 * input is not an mbox file; mbox_reader_error() says so, and every later
 * call returns -1. Events come as BEGIN, DATA*, END for each message.
 */
int	mbox_read_next(struct mbox_reader *r, struct mbox_event *ev);
/* The error, as a sentence; "" when there is none. Owned by the reader. */
const char *mbox_reader_error(const struct mbox_reader *r);
/* Messages begun so far. */
unsigned long mbox_reader_count(const struct mbox_reader *r);

struct mbox_writer;

/* A new writer (never NULL), always mboxrd. Free with mbox_writer_free(). */
struct mbox_writer *mbox_writer_new(void);
void	mbox_writer_free(struct mbox_writer **w);

/*
 * The writer appends its output to the caller's buffer; the caller writes
 * it out and empties it between calls. Each call returns 0, or -1 when out
 * would pass its maximum (out is then unchanged by the failing append but
 * the message is broken: give up on the file). A buffer of 2 * n + 2048
 * bytes is always enough for a call with n input bytes.
 *
 * begin: the From_ line. sender is used as given if it is a non-empty
 * token without whitespace or control bytes, else "MAILER-DAEMON".
 * write: a piece of the message, in wire form (CRLF); any split.
 * end: finish the message: an LF if it did not end in one, then the empty
 * separator line.
 */
int	mbox_writer_begin(struct mbox_writer *w, const char *sender, time_t date,
	    struct buf *out);
int	mbox_writer_write(struct mbox_writer *w, const void *p, size_t n,
	    struct buf *out);
int	mbox_writer_end(struct mbox_writer *w, struct buf *out);

/*
 * The From_ line sender for a message, from its header block (the first
 * hlen bytes of the message, or all of it): the Return-Path address, else
 * the first From address, else "MAILER-DAEMON". Always a token without
 * whitespace. Returns a new string the caller frees.
 */
char	*mbox_sender_from_header(const char *hdr, size_t hlen);

/*
 * asctime-style From_ dates in UTC: "Thu Jan  1 00:00:00 1970".
 * format: writes MBOX_DATE_LEN bytes with the NUL; 0, or -1 if the year
 * does not fit four digits or outlen is too small.
 * parse: s is the rest of the From_ line after the sender; extra fields
 * are tolerated (a zone before the year, "remote from ..." after it).
 * 0 and *t_r, or -1.
 */
int	mbox_date_format(time_t t, char *out, size_t outlen);
int	mbox_date_parse(const char *s, size_t len, time_t *t_r);

#endif

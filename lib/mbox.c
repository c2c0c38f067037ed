/*
 * mbox: the incremental mbox reader and the mboxrd writer (see mbox.h).
 *
 * The reader is a byte-level state machine. Inside a line, bytes are
 * copied to the output piece in runs; only at the start of a line does it
 * hold a few bytes back, because only there can it matter what follows:
 * an empty line may turn out to be the separator before a From_ line, a
 * "From " after an empty line starts the next message, and in mboxrd one
 * '>' of a ">>From " line must go. A run of '>' is never held: all but the
 * first go out as they come (they are identical bytes, so which one is
 * dropped does not matter), which keeps the held bytes at most six however
 * long the line. The writer mirrors this: at a line start it passes '>'
 * through and holds up to five bytes to see whether "From " follows.
 */
#include "lib/mbox.h"

#include <assert.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lib/date.h"
#include "lib/rfc822.h"
#include "lib/util.h"

static const char from_[] = "From ";
#define FROM_LEN 5

enum rstate {
	R_START,	/* before the first From_ line */
	R_FROMLINE,	/* inside a From_ line */
	R_LINESTART,	/* at the start of a message line, bytes may be held */
	R_MID,		/* inside a message line */
	R_DONE,
	R_ERROR,
};

struct mbox_reader {
	enum mbox_format	 fmt;
	enum rstate		 st;

	const unsigned char	*in;		/* borrowed from the caller */
	size_t			 inlen, inoff;
	int			 finished;	/* mbox_reader_finish() called */

	char			 out[MBOX_DATA_MAX + 32];
	size_t			 outlen;
	int			 out_given;	/* out went out as DATA */
	int			 prev_cr;	/* last byte put in out was CR */

	/* Held at a line start: head[] matched against "From " (or a lone
	 * "\r" that may begin a CRLF empty line), one '>' (mboxrd), and an
	 * empty line that may be a separator. */
	char			 head[FROM_LEN];
	size_t			 headlen;
	int			 held_gt;
	int			 pending_empty;

	char			 fromline[MBOX_FROMLINE_MAX + 1];
	size_t			 fromlen;
	char			 sender[MBOX_FROMLINE_MAX + 1];
	time_t			 date;

	/* Events waiting to be returned, in order (BEGIN and END only; any
	 * DATA in out goes before an END). */
	enum mbox_event_type	 q[4];
	size_t			 qhead, qlen;

	unsigned long		 count;
	char			 err[160];
};

struct mbox_reader *
mbox_reader_new(enum mbox_format fmt)
{
	struct mbox_reader *r = xcalloc(1, sizeof(*r));

	r->fmt = fmt;
	r->st = R_START;
	r->date = (time_t)-1;
	return r;
}

void
mbox_reader_free(struct mbox_reader **r)
{
	if (r == NULL || *r == NULL)
		return;
	free(*r);
	*r = NULL;
}

void
mbox_reader_feed(struct mbox_reader *r, const void *p, size_t n)
{
	/* Feeding before the last input is used up would lose it. */
	assert(r->inoff == r->inlen);
	r->in = p;
	r->inlen = n;
	r->inoff = 0;
}

void
mbox_reader_finish(struct mbox_reader *r)
{
	r->finished = 1;
}

const char *
mbox_reader_error(const struct mbox_reader *r)
{
	return r->err;
}

unsigned long
mbox_reader_count(const struct mbox_reader *r)
{
	return r->count;
}

static void
emit(struct mbox_reader *r, const void *p, size_t n)
{
	if (n == 0)
		return;
	memcpy(r->out + r->outlen, p, n);
	r->outlen += n;
	r->prev_cr = ((const char *)p)[n - 1] == '\r';
}

static void
push(struct mbox_reader *r, enum mbox_event_type t)
{
	r->q[(r->qhead + r->qlen) % ARRAY_SIZE(r->q)] = t;
	r->qlen++;
}

static void
flush_pending_empty(struct mbox_reader *r)
{
	if (r->pending_empty) {
		emit(r, "\r\n", 2);
		r->pending_empty = 0;
	}
}

/* Give back what a line start held: the line was an ordinary one. */
static void
flush_head(struct mbox_reader *r)
{
	flush_pending_empty(r);
	if (r->held_gt)
		emit(r, ">", 1);
	emit(r, r->head, r->headlen);
	r->held_gt = 0;
	r->headlen = 0;
}

/* Split the finished From_ line into sender and date. */
static void
parse_fromline(struct mbox_reader *r)
{
	const char *s = r->fromline + FROM_LEN, *e = r->fromline + r->fromlen;
	const char *tok;

	while (e > s && (e[-1] == '\r' || e[-1] == '\n'))
		e--;
	while (s < e && (*s == ' ' || *s == '\t'))
		s++;
	tok = s;
	while (s < e && *s != ' ' && *s != '\t')
		s++;
	memcpy(r->sender, tok, (size_t)(s - tok));
	r->sender[s - tok] = '\0';
	if (mbox_date_parse(s, (size_t)(e - s), &r->date) < 0)
		r->date = (time_t)-1;
}

static void
end_fromline(struct mbox_reader *r)
{
	parse_fromline(r);
	push(r, MBOX_MSG_BEGIN);
	r->st = R_LINESTART;
	r->prev_cr = 0;
}

/* An empty line at a line start: hold it, it may be a separator. */
static void
empty_line(struct mbox_reader *r)
{
	flush_pending_empty(r);
	r->pending_empty = 1;
	r->headlen = 0;
}

static void
head_matched(struct mbox_reader *r)
{
	r->headlen = 0;
	if (r->held_gt) {
		/* mboxrd: >From -> From, >>From -> >From (the others went
		 * out already). */
		r->held_gt = 0;
		emit(r, from_, FROM_LEN);
		r->st = R_MID;
	} else if (r->pending_empty) {
		r->pending_empty = 0;
		memcpy(r->fromline, from_, FROM_LEN);
		r->fromlen = FROM_LEN;
		push(r, MBOX_MSG_END);
		r->st = R_FROMLINE;
	} else {
		/* "From " without an empty line before: message text (an
		 * unescaped line from a careless writer). */
		emit(r, from_, FROM_LEN);
		r->st = R_MID;
	}
}

/* One byte at a line start. Returns 1 if it was consumed, 0 if the line
 * turned out ordinary and the byte is to be read again as R_MID. */
static int
step_linestart(struct mbox_reader *r, unsigned char c)
{
	if (r->headlen == 0 && !r->held_gt) {
		if (c == '\n') {
			empty_line(r);
			return 1;
		}
		if (c == '\r') {
			r->head[r->headlen++] = '\r';
			return 1;
		}
		if (c == '>' && r->fmt == MBOX_MBOXRD) {
			flush_pending_empty(r);
			r->held_gt = 1;
			return 1;
		}
	} else if (r->headlen == 1 && r->head[0] == '\r') {
		if (c == '\n') {
			empty_line(r);
			return 1;
		}
		flush_head(r);
		r->st = R_MID;
		return 0;
	} else if (r->held_gt && r->headlen == 0 && c == '>') {
		emit(r, ">", 1);
		return 1;
	}
	if (c == (unsigned char)from_[r->headlen]) {
		r->head[r->headlen++] = (char)c;
		if (r->headlen == FROM_LEN)
			head_matched(r);
		return 1;
	}
	flush_head(r);
	r->st = R_MID;
	return 0;
}

/* Copy a run of line bytes, up to the next LF or a full output piece. */
static void
step_mid(struct mbox_reader *r)
{
	const unsigned char *p = r->in + r->inoff;
	size_t room = MBOX_DATA_MAX - r->outlen;
	size_t avail = r->inlen - r->inoff;
	const unsigned char *nl;
	size_t n;

	if (*p == '\n') {
		if (!r->prev_cr)
			emit(r, "\r", 1);
		emit(r, "\n", 1);
		r->st = R_LINESTART;
		r->inoff++;
		return;
	}
	n = avail < room ? avail : room;
	nl = memchr(p, '\n', n);
	if (nl != NULL)
		n = (size_t)(nl - p);
	emit(r, p, n);
	r->inoff += n;
}

static void
step_start(struct mbox_reader *r, unsigned char c)
{
	if (c != (unsigned char)from_[r->fromlen]) {
		r->st = R_ERROR;
		snprintf(r->err, sizeof(r->err),
		    "not an mbox file: it does not begin with a \"From \" line");
		return;
	}
	r->fromline[r->fromlen++] = (char)c;
	if (r->fromlen == FROM_LEN)
		r->st = R_FROMLINE;
}

static void
step(struct mbox_reader *r)
{
	unsigned char c = r->in[r->inoff];

	switch (r->st) {
	case R_START:
		step_start(r, c);
		break;
	case R_FROMLINE:
		if (c == '\n')
			end_fromline(r);
		else if (r->fromlen < MBOX_FROMLINE_MAX)
			r->fromline[r->fromlen++] = (char)c;
		break;
	case R_LINESTART:
		if (!step_linestart(r, c))
			return;		/* read c again in R_MID */
		break;
	case R_MID:
		step_mid(r);
		return;
	case R_DONE:
	case R_ERROR:
		return;
	}
	r->inoff++;
}

/* The file ended: close what is open. */
static void
at_eof(struct mbox_reader *r)
{
	switch (r->st) {
	case R_START:
		if (r->fromlen == 0) {
			r->st = R_DONE;		/* empty file, no messages */
			return;
		}
		r->st = R_ERROR;
		snprintf(r->err, sizeof(r->err),
		    "not an mbox file: it does not begin with a \"From \" line");
		return;
	case R_FROMLINE:
		/* A From_ line cut off by the end of the file: an empty
		 * message. */
		parse_fromline(r);
		push(r, MBOX_MSG_BEGIN);
		push(r, MBOX_MSG_END);
		break;
	case R_LINESTART:
		/* Held bytes of a last line without LF are message text; a
		 * held empty line is the separator at the end of the file. */
		if (r->held_gt || r->headlen > 0)
			flush_head(r);
		r->pending_empty = 0;
		push(r, MBOX_MSG_END);
		break;
	case R_MID:
		push(r, MBOX_MSG_END);
		break;
	case R_DONE:
	case R_ERROR:
		return;
	}
	r->st = R_DONE;
}

static int
give_data(struct mbox_reader *r, struct mbox_event *ev)
{
	memset(ev, 0, sizeof(*ev));
	ev->type = MBOX_MSG_DATA;
	ev->data = r->out;
	ev->len = r->outlen;
	r->out_given = 1;
	return 1;
}

static int
give_queued(struct mbox_reader *r, struct mbox_event *ev)
{
	enum mbox_event_type t = r->q[r->qhead];

	if (t == MBOX_MSG_END && r->outlen > 0)
		return give_data(r, ev);
	r->qhead = (r->qhead + 1) % ARRAY_SIZE(r->q);
	r->qlen--;
	memset(ev, 0, sizeof(*ev));
	ev->type = t;
	if (t == MBOX_MSG_BEGIN) {
		r->count++;
		ev->sender = r->sender;
		ev->date = r->date;
	}
	return 1;
}

int
mbox_read_next(struct mbox_reader *r, struct mbox_event *ev)
{
	if (r->out_given) {
		r->outlen = 0;
		r->out_given = 0;
	}
	for (;;) {
		if (r->st == R_ERROR)
			return -1;
		if (r->qlen > 0)
			return give_queued(r, ev);
		if (r->outlen >= MBOX_DATA_MAX)
			return give_data(r, ev);
		if (r->inoff == r->inlen) {
			if (r->outlen > 0)
				return give_data(r, ev);
			if (!r->finished || r->st == R_DONE)
				return 0;
			at_eof(r);
			continue;
		}
		step(r);
	}
}

/* ---- writer -------------------------------------------------------------- */

struct mbox_writer {
	int	in_msg;
	int	at_bol;		/* at a line start, possibly after '>'s */
	char	head[FROM_LEN];	/* bytes matching "From " at a line start */
	size_t	headlen;
	int	pending_cr;	/* a CR that may begin a CRLF */
	int	last_lf;	/* the last byte written was an LF */
	int	last_cr;	/* the last byte written was a CR */
};

struct mbox_writer *
mbox_writer_new(void)
{
	return xcalloc(1, sizeof(struct mbox_writer));
}

void
mbox_writer_free(struct mbox_writer **w)
{
	if (w == NULL || *w == NULL)
		return;
	free(*w);
	*w = NULL;
}

static int
valid_sender(const char *s)
{
	if (s == NULL || *s == '\0')
		return 0;
	for (; *s != '\0'; s++)
		if ((unsigned char)*s <= ' ' || *s == 0x7f)
			return 0;
	return 1;
}

int
mbox_writer_begin(struct mbox_writer *w, const char *sender, time_t date,
    struct buf *out)
{
	char d[MBOX_DATE_LEN];

	if (mbox_date_format(date, d, sizeof(d)) < 0 &&
	    mbox_date_format(0, d, sizeof(d)) < 0)
		return -1;
	w->in_msg = 1;
	w->at_bol = 1;
	w->headlen = 0;
	w->pending_cr = 0;
	w->last_lf = 1;
	w->last_cr = 0;
	return buf_printf(out, "From %s %s\n",
	    valid_sender(sender) ? sender : "MAILER-DAEMON", d);
}

/* One byte of line text (or an LF) through the line-start logic. */
static int
put(struct mbox_writer *w, char c, struct buf *out)
{
	int rc = 0;

	if (w->at_bol) {
		if (c == '>' && w->headlen == 0) {
			w->last_lf = w->last_cr = 0;
			return buf_addc(out, '>');
		}
		if (c == from_[w->headlen]) {
			w->head[w->headlen++] = c;
			if (w->headlen < FROM_LEN)
				return 0;
			w->headlen = 0;
			w->at_bol = 0;
			w->last_lf = w->last_cr = 0;
			return buf_add(out, ">From ", FROM_LEN + 1);
		}
		rc = buf_add(out, w->head, w->headlen);
		w->headlen = 0;
		w->at_bol = 0;
	}
	if (buf_addc(out, c) < 0)
		return -1;
	w->last_lf = c == '\n';
	w->last_cr = c == '\r';
	w->at_bol = c == '\n';
	return rc;
}

/*
 * A CRLF of the message becomes an LF, which the reader turns back into
 * CRLF. But when the CR follows another CR, the reader would see the LF
 * after a CR and add nothing, and one CR would be lost: then the CRLF is
 * written as it is, and read back as it is.
 */
static int
put_line_end(struct mbox_writer *w, struct buf *out)
{
	if (w->last_cr && put(w, '\r', out) < 0)
		return -1;
	return put(w, '\n', out);
}

int
mbox_writer_write(struct mbox_writer *w, const void *p, size_t n,
    struct buf *out)
{
	const char *s = p, *e = s + n;

	while (s < e) {
		if (w->pending_cr) {
			w->pending_cr = 0;
			if (*s == '\n') {
				if (put_line_end(w, out) < 0)
					return -1;
				s++;
				continue;
			}
			if (put(w, '\r', out) < 0)
				return -1;
		}
		if (*s == '\r') {
			w->pending_cr = 1;
			s++;
		} else if (w->at_bol || *s == '\n') {
			if (put(w, *s++, out) < 0)
				return -1;
		} else {
			/* Inside a line: copy up to the next CR or LF. */
			const char *t = s;

			while (t < e && *t != '\r' && *t != '\n')
				t++;
			if (buf_add(out, s, (size_t)(t - s)) < 0)
				return -1;
			w->last_lf = w->last_cr = 0;
			s = t;
		}
	}
	return 0;
}

int
mbox_writer_end(struct mbox_writer *w, struct buf *out)
{
	/* A message ending in CR gets the LF that makes it a line end. */
	if (w->pending_cr) {
		w->pending_cr = 0;
		if (put_line_end(w, out) < 0)
			return -1;
	}
	if (w->headlen > 0) {
		if (buf_add(out, w->head, w->headlen) < 0)
			return -1;
		w->headlen = 0;
		w->last_lf = 0;
	}
	if (!w->last_lf && buf_addc(out, '\n') < 0)
		return -1;
	w->in_msg = 0;
	w->at_bol = 1;
	w->last_lf = 1;
	return buf_addc(out, '\n');
}

/* ---- From_ sender and date ----------------------------------------------- */

/*
 * The address of the first mailbox in a header value: the text in the
 * first <...> outside quotes and comments (a source route cut off), or
 * else the first list item with comments removed. A new string, or NULL.
 */
static char *
first_address(const char *v)
{
	struct buf b;
	const char *s;
	int depth = 0, quoted = 0;
	char *a, *colon;

	for (s = v; *s != '\0'; s++) {
		if (quoted) {
			if (*s == '\\' && s[1] != '\0')
				s++;
			else if (*s == '"')
				quoted = 0;
		} else if (depth > 0) {
			if (*s == '\\' && s[1] != '\0')
				s++;
			else if (*s == '(')
				depth++;
			else if (*s == ')')
				depth--;
		} else if (*s == '"') {
			quoted = 1;
		} else if (*s == '(') {
			depth = 1;
		} else if (*s == '<') {
			const char *e = strchr(s + 1, '>');

			if (e == NULL)
				return NULL;
			a = xstrndup(s + 1, (size_t)(e - s - 1));
			colon = strrchr(a, ':');
			if (colon != NULL)
				memmove(a, colon + 1, strlen(colon + 1) + 1);
			return a;
		}
	}

	/* No angle brackets: an addr-spec, maybe in a group, with comments. */
	buf_init(&b, strlen(v) + 1);
	depth = quoted = 0;
	for (s = v; *s != '\0'; s++) {
		if (depth > 0) {
			if (*s == '\\' && s[1] != '\0')
				s++;
			else if (*s == '(')
				depth++;
			else if (*s == ')')
				depth--;
			continue;
		}
		if (!quoted && *s == '(') {
			depth = 1;
			continue;
		}
		if (*s == '"')
			quoted = !quoted;
		else if (!quoted && (*s == ',' || *s == ';'))
			break;
		else if (!quoted && *s == ':') {
			buf_reset(&b);	/* a group name */
			continue;
		}
		if (!quoted && (*s == ' ' || *s == '\t'))
			continue;
		buf_addc(&b, *s);
	}
	return buf_steal(&b, NULL);
}

char *
mbox_sender_from_header(const char *hdr, size_t hlen)
{
	static const char *const fields[] = { "Return-Path", "From" };
	size_t i;

	for (i = 0; i < ARRAY_SIZE(fields); i++) {
		char *v = rfc822_header_get(hdr, hlen, fields[i]);
		char *a;

		if (v == NULL)
			continue;
		a = first_address(v);
		free(v);
		if (a != NULL && valid_sender(a))
			return a;
		free(a);
	}
	return xstrdup("MAILER-DAEMON");
}

static void
put_digits(char *p, unsigned v, int n)
{
	while (n-- > 0) {
		p[n] = (char)('0' + v % 10);
		v /= 10;
	}
}

int
mbox_date_format(time_t t, char *out, size_t outlen)
{
	struct date_tm tm;

	if (outlen < MBOX_DATE_LEN)
		return -1;
	date_split((int64_t)t, 0, &tm);
	if (tm.year < 0 || tm.year > 9999)
		return -1;
	/* "Thu Jan  1 00:00:00 1970" */
	memcpy(out, date_weekday_name(tm.wday), 3);
	out[3] = ' ';
	memcpy(out + 4, date_month_name(tm.mon), 3);
	out[7] = ' ';
	put_digits(out + 8, tm.day, 2);
	if (out[8] == '0')
		out[8] = ' ';
	out[10] = ' ';
	put_digits(out + 11, tm.hour, 2);
	out[13] = ':';
	put_digits(out + 14, tm.min, 2);
	out[16] = ':';
	put_digits(out + 17, tm.sec, 2);
	out[19] = ' ';
	put_digits(out + 20, (unsigned)tm.year, 4);
	out[24] = '\0';
	return 0;
}

/* The next whitespace-separated token of [*s, e): 0, or -1 at the end. */
static int
next_token(const char **s, const char *e, const char **tok, size_t *len)
{
	while (*s < e && (**s == ' ' || **s == '\t'))
		(*s)++;
	if (*s == e)
		return -1;
	*tok = *s;
	while (*s < e && **s != ' ' && **s != '\t')
		(*s)++;
	*len = (size_t)(*s - *tok);
	return 0;
}


/* A number of 1..maxdigits digits filling the token. */
static int
tok_number(const char *tok, size_t len, size_t maxdigits, int *v)
{
	size_t i;

	if (len == 0 || len > maxdigits)
		return -1;
	*v = 0;
	for (i = 0; i < len; i++) {
		if (tok[i] < '0' || tok[i] > '9')
			return -1;
		*v = *v * 10 + (tok[i] - '0');
	}
	return 0;
}

/* hh:mm or hh:mm:ss */
static int
tok_time(const char *tok, size_t len, struct date_tm *tm)
{
	int h, m, sec = 0;

	if ((len != 5 && len != 8) || tok[2] != ':' ||
	    tok_number(tok, 2, 2, &h) < 0 || tok_number(tok + 3, 2, 2, &m) < 0)
		return -1;
	if (len == 8 && (tok[5] != ':' || tok_number(tok + 6, 2, 2, &sec) < 0))
		return -1;
	if (h > 23 || m > 59 || sec > 60)
		return -1;
	tm->hour = (unsigned)h;
	tm->min = (unsigned)m;
	tm->sec = (unsigned)sec;
	return 0;
}

/* A numeric zone "+hhmm" / "-hhmm": its offset in seconds east. */
static int
tok_zone(const char *tok, size_t len, long *off)
{
	int v;

	if (len != 5 || (tok[0] != '+' && tok[0] != '-') ||
	    tok_number(tok + 1, 4, 4, &v) < 0)
		return -1;
	*off = (long)(v / 100 * 3600 + v % 100 * 60);
	if (tok[0] == '-')
		*off = -*off;
	return 0;
}

int
mbox_date_parse(const char *s, size_t len, time_t *t_r)
{
	const char *e = s + len, *tok;
	size_t tl;
	struct date_tm tm;
	int mon, v;
	long off = 0;

	memset(&tm, 0, sizeof(tm));
	if (next_token(&s, e, &tok, &tl) < 0)
		return -1;
	if (tl == 3 && date_weekday_from_name(tok) >= 0 &&
	    next_token(&s, e, &tok, &tl) < 0)
		return -1;
	if (tl != 3 || (mon = date_month_from_name(tok)) < 0)
		return -1;
	tm.mon = (unsigned)mon;
	if (next_token(&s, e, &tok, &tl) < 0 ||
	    tok_number(tok, tl, 2, &v) < 0 || v < 1 || v > 31)
		return -1;
	tm.day = (unsigned)v;
	if (next_token(&s, e, &tok, &tl) < 0 || tok_time(tok, tl, &tm) < 0)
		return -1;
	if (next_token(&s, e, &tok, &tl) < 0)
		return -1;
	/* A zone may come before the year: "... 12:00:00 +0200 2004" or
	 * "... 12:00:00 PDT 2004". */
	if (tok_number(tok, tl, 4, &v) < 0 || tl != 4) {
		if (tok_zone(tok, tl, &off) < 0)
			off = 0;
		if (next_token(&s, e, &tok, &tl) < 0 || tl != 4 ||
		    tok_number(tok, tl, 4, &v) < 0)
			return -1;
	}
	tm.year = v;
	*t_r = (time_t)(date_join(&tm, 0) - off);
	return 0;
}

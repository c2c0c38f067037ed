/*
 * pop3_resp: POP3 responses from bytes, resumable at any byte.
 *
 * Status lines and the lines of a LINES response are gathered in `line`
 * (bounded) and handed out whole. A message (DATA) is never gathered: it
 * is handed out as slices of the input buffer, each running up to a line
 * start that begins with '.', where the state machine looks at the dot:
 * "." CRLF ends the message, any other dot was stuffed by the server and
 * is dropped (RFC 1939 3). A slice may span many lines, so a large
 * message goes out in few events, each as large as what was read.
 */
#include "lib/pop3_resp.h"

#include <assert.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lib/buf.h"
#include "lib/util.h"

enum r_state {
	R_IDLE,		/* between responses */
	R_STATUS,	/* reading a status line */
	R_LINES,	/* reading a line of a LINES body */
	R_BOL,		/* DATA: at the start of a line */
	R_MID,		/* DATA: inside a line */
	R_DOT,		/* DATA: after a '.' at the start of a line */
	R_DOT_CR,	/* DATA: after ".\r" */
	R_FAILED,
};

struct pop3_resp_parser {
	enum r_state	 state;
	size_t		 max_line;
	struct buf	 in;		/* input; bytes before pos are used */
	size_t		 pos;
	struct buf	 line;		/* the line being gathered */
	int		 line_cr;	/* the last byte in line was a CR */
	unsigned char	 queue[POP3_RESP_QUEUE_MAX];
	size_t		 qhead, qlen;
	int		 line_done;	/* line holds a whole line: reset it */
	char		 apop[256];	/* the greeting's timestamp */
	char		 err[160];
};

struct pop3_resp_parser *
pop3_resp_new(size_t max_line)
{
	struct pop3_resp_parser *p = xcalloc(1, sizeof(*p));

	assert(max_line >= 64);
	p->max_line = max_line;
	buf_init(&p->in, POP3_RESP_FEED_MAX);
	buf_init(&p->line, max_line);
	p->state = R_IDLE;
	return p;
}

void
pop3_resp_free(struct pop3_resp_parser **pp)
{
	struct pop3_resp_parser *p = *pp;

	if (p == NULL)
		return;
	buf_free(&p->in);
	buf_free(&p->line);
	free(p);
	*pp = NULL;
}

int
pop3_resp_expect(struct pop3_resp_parser *p, enum pop3_expect e)
{
	if (p->qlen == POP3_RESP_QUEUE_MAX)
		return -1;
	p->queue[(p->qhead + p->qlen) % POP3_RESP_QUEUE_MAX] =
	    (unsigned char)e;
	p->qlen++;
	return 0;
}

size_t
pop3_resp_pending(const struct pop3_resp_parser *p)
{
	return p->qlen;
}

int
pop3_resp_feed(struct pop3_resp_parser *p, const void *data, size_t n)
{
	if (p->pos > 0) {
		buf_consume(&p->in, p->pos);
		p->pos = 0;
	}
	return buf_add(&p->in, data, n);
}

size_t
pop3_resp_unread(const struct pop3_resp_parser *p)
{
	return p->in.len - p->pos;
}

const char *
pop3_resp_error(const struct pop3_resp_parser *p)
{
	return p->err[0] != '\0' ? p->err : "no error";
}

static int
fail(struct pop3_resp_parser *p, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static int
fail(struct pop3_resp_parser *p, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(p->err, sizeof(p->err), fmt, ap);
	va_end(ap);
	p->state = R_FAILED;
	return -1;
}

static enum pop3_expect
expected(const struct pop3_resp_parser *p)
{
	assert(p->qlen > 0);
	return (enum pop3_expect)p->queue[p->qhead];
}

/* The response being read is over. */
static void
done(struct pop3_resp_parser *p)
{
	p->qhead = (p->qhead + 1) % POP3_RESP_QUEUE_MAX;
	p->qlen--;
	p->state = R_IDLE;
}

/*
 * Gather bytes into line up to and including a LF. 1: a whole line is in
 * `line` without its CRLF. 0: input used up. -1: too long.
 */
static int
gather(struct pop3_resp_parser *p)
{
	const char *s = p->in.data + p->pos;
	size_t avail = p->in.len - p->pos;
	const char *lf = memchr(s, '\n', avail);
	size_t n = lf != NULL ? (size_t)(lf - s) : avail;

	if (p->line_done) {
		buf_reset(&p->line);
		p->line_done = 0;
	}
	if (buf_add(&p->line, s, n) < 0)
		return fail(p, "the server sent a line longer than %zu bytes",
		    p->max_line);
	p->pos += n;
	if (lf == NULL)
		return 0;
	p->pos++;
	if (p->line.len > 0 && p->line.data[p->line.len - 1] == '\r')
		p->line.data[--p->line.len] = '\0';
	if (p->line.data == NULL)
		buf_add(&p->line, "", 0);
	p->line_done = 1;
	return 1;
}

/* "[CODE] text" at s: the code's length (brackets excluded) or 0. */
static size_t
code_len(const char *s)
{
	const char *close;

	if (s[0] != '[' || (close = strchr(s, ']')) == NULL)
		return 0;
	return (size_t)(close - s - 1);
}

/* Fill text and code from the status text at line + off. */
static void
split_code(struct pop3_resp_parser *p, size_t off, struct pop3_resp *ev)
{
	char *s = p->line.data + off;
	size_t n;

	while (*s == ' ')
		s++;
	n = code_len(s);
	if (n == 0) {
		ev->code = "";
		ev->text = s;
		return;
	}
	s[n + 1] = '\0';	/* the ']' */
	ev->code = s + 1;
	s += n + 2;
	while (*s == ' ')
		s++;
	ev->text = s;
}

/* The APOP timestamp in a greeting: "<" ... "@" ... ">", or NULL. */
static const char *
apop_stamp(struct pop3_resp_parser *p, const char *text)
{
	const char *lt = strrchr(text, '<');
	const char *gt = lt != NULL ? strchr(lt, '>') : NULL;
	size_t n;

	if (gt == NULL || memchr(lt, '@', (size_t)(gt - lt)) == NULL)
		return NULL;
	n = (size_t)(gt - lt + 1);
	if (n >= sizeof(p->apop))
		return NULL;
	memcpy(p->apop, lt, n);
	p->apop[n] = '\0';
	return p->apop;
}

static int end_event(struct pop3_resp_parser *p, struct pop3_resp *ev);

static int
status_line(struct pop3_resp_parser *p, struct pop3_resp *ev)
{
	const char *s = p->line.data;
	enum pop3_expect e = expected(p);

	memset(ev, 0, sizeof(*ev));
	if (strncmp(s, "+OK", 3) == 0 && (s[3] == ' ' || s[3] == '\0')) {
		ev->kind = POP3_RESP_OK;
		split_code(p, 3, ev);
		ev->multi = e == POP3_EXPECT_LINES || e == POP3_EXPECT_DATA;
		if (e == POP3_EXPECT_GREETING)
			ev->apop = apop_stamp(p, ev->text);
		if (e == POP3_EXPECT_LINES)
			p->state = R_LINES;
		else if (e == POP3_EXPECT_DATA)
			p->state = R_BOL;
		else
			done(p);
		return 1;
	}
	if (strncmp(s, "-ERR", 4) == 0 && (s[4] == ' ' || s[4] == '\0')) {
		ev->kind = POP3_RESP_ERR;
		split_code(p, 4, ev);
		done(p);
		return 1;
	}
	if (e == POP3_EXPECT_SASL && s[0] == '+' &&
	    (s[1] == ' ' || s[1] == '\0')) {
		ev->kind = POP3_RESP_CONT;
		ev->code = "";
		ev->text = s[1] == ' ' ? s + 2 : s + 1;
		p->state = R_IDLE;	/* still expecting the same */
		return 1;
	}
	return fail(p, "the server's response is not POP3: \"%.60s\"", s);
}

static int
list_line(struct pop3_resp_parser *p, struct pop3_resp *ev)
{
	const char *s = p->line.data;
	char num[12];
	size_t n;
	uint64_t v;

	memset(ev, 0, sizeof(*ev));
	ev->code = "";
	if (strcmp(s, ".") == 0)
		return end_event(p, ev);
	if (s[0] == '.')
		s++;
	ev->kind = POP3_RESP_LINE;
	ev->text = s;
	ev->arg = s;
	n = strspn(s, "0123456789");
	if (n > 0 && n < sizeof(num) && s[n] == ' ') {
		memcpy(num, s, n);
		num[n] = '\0';
		if (parse_u64(num, UINT32_MAX, &v) == 0 && v > 0) {
			ev->msg = (uint32_t)v;
			ev->arg = s + n + strspn(s + n, " ");
		}
	}
	if (parse_u64(ev->arg, UINT64_MAX, &v) == 0)
		ev->num = v;
	return 1;
}

static int
data_event(struct pop3_resp_parser *p, struct pop3_resp *ev,
    const char *data, size_t len)
{
	memset(ev, 0, sizeof(*ev));
	ev->kind = POP3_RESP_DATA;
	ev->data = data;
	ev->len = len;
	ev->text = ev->code = "";
	return 1;
}

static int
end_event(struct pop3_resp_parser *p, struct pop3_resp *ev)
{
	memset(ev, 0, sizeof(*ev));
	ev->kind = POP3_RESP_END;
	ev->text = ev->code = "";
	done(p);
	return 1;
}

/* R_MID: a slice up to the next line start that begins with a dot. */
static int
data_run(struct pop3_resp_parser *p, struct pop3_resp *ev)
{
	const char *s = p->in.data + p->pos;
	size_t avail = p->in.len - p->pos, i = 0;
	const char *lf;

	while ((lf = memchr(s + i, '\n', avail - i)) != NULL) {
		i = (size_t)(lf - s) + 1;
		if (i == avail || s[i] == '.') {
			p->state = R_BOL;
			break;
		}
	}
	if (lf == NULL)
		i = avail;
	p->pos += i;
	return data_event(p, ev, s, i);
}

static int
data_step(struct pop3_resp_parser *p, struct pop3_resp *ev)
{
	char c = p->in.data[p->pos];

	switch (p->state) {
	case R_BOL:
		if (c == '.') {
			p->pos++;
			p->state = R_DOT;
			return 0;
		}
		p->state = R_MID;
		return data_run(p, ev);
	case R_MID:
		return data_run(p, ev);
	case R_DOT:
		if (c == '\n') {
			p->pos++;
			return end_event(p, ev);
		}
		if (c == '\r') {
			p->pos++;
			p->state = R_DOT_CR;
			return 0;
		}
		p->state = R_MID;	/* a stuffed dot, now dropped */
		return data_run(p, ev);
	default:
		if (c == '\n') {
			p->pos++;
			return end_event(p, ev);
		}
		/* ".\r" then not LF: keep the CR that was held back */
		p->state = R_MID;
		return data_event(p, ev, "\r", 1);
	}
}

int
pop3_resp_next(struct pop3_resp_parser *p, struct pop3_resp *ev)
{
	int rc;

	for (;;) {
		if (p->state == R_FAILED)
			return -1;
		if (p->pos == p->in.len)
			return 0;
		switch (p->state) {
		case R_IDLE:
			if (p->qlen == 0)
				return fail(p, "the server sent data that no "
				    "command asked for");
			p->state = R_STATUS;
			continue;
		case R_STATUS:
			rc = gather(p);
			if (rc <= 0)
				return rc;
			return status_line(p, ev);
		case R_LINES:
			rc = gather(p);
			if (rc <= 0)
				return rc;
			return list_line(p, ev);
		default:
			rc = data_step(p, ev);
			if (rc != 0)
				return rc;
		}
	}
}

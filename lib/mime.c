/*
 * mime: the streaming MIME parser.
 *
 * The input is cut into lines at LF (a bare CR is an ordinary byte). A
 * stack of open parts says where we are; the innermost one is either
 * reading its header or its body. Header lines are kept (bounded) and
 * read when the header ends; body lines are only looked at for a
 * boundary, and only their first few bytes are buffered, so memory does
 * not grow with the body. Byte and line counts come from the running
 * offset and a running count of LFs.
 *
 * The offsets follow Dovecot 2.3's message parser, because IMAP
 * BODYSTRUCTURE and BODY[section] must match it: a boundary is any line
 * that starts with "--" and an open boundary (the longest match, the
 * innermost on a tie), the line break before a boundary line belongs to
 * the boundary and not to the part before it, a close delimiter retires
 * its boundary, and a boundary line also ends a header that is still
 * being read. Limits (parts, depth, header bytes) only ever make the
 * parser see less structure: the rest is body.
 */
#include "lib/mime.h"

#include <stdlib.h>
#include <string.h>

#include "lib/mime_int.h"
#include "lib/util.h"

/* The start of a header line kept to classify it; the rest is dropped. */
#define LINE_KEEP	(MIME_HDR_KEEP_MAX + 4)

enum node_state { N_HEADER, N_BODY };
enum line_kind { L_UNDECIDED, L_HEADER, L_BLANK, L_BOUNDARY, L_BODY };

struct node {
	struct mime_part part;
	struct node	*parent, *first, *last, *next;
	size_t		 nchildren;
	enum node_state	 state;
	char		*boundary;	/* while it can still be matched */
	size_t		 blen;
	int		 digest;	/* multipart/digest: children default */
	uint64_t	 body_lf0;	/* LFs before body_off */
};

struct mime_parser {
	uint64_t	 off, nlf;	/* bytes and LFs seen */
	struct node	*root, *cur;
	int		 depth;
	size_t		 nparts;
	size_t		 kept;		/* header bytes kept in the tree */

	/* the current line */
	int		 at_line_start;
	uint64_t	 line_off, line_lf;
	struct buf	 line;		/* its start */
	size_t		 need;		/* decide once this much is there */
	int		 line_trunc;
	enum line_kind	 kind;
	int		 last_cr;	/* the last byte was CR */
	int		 prev_nl;	/* length of the last line break */
	struct node	*pending;	/* start a child of it at next line */

	/* the header of cur while it is read */
	struct buf	 hdr;
	int		 hdr_over;	/* too large: only fields in ibuf */
	int		 ifield;	/* current field goes to ibuf */
	struct buf	 ibuf;
};

static struct node *
node_new(struct mime_parser *p, struct node *parent, uint64_t off)
{
	struct node *n = xcalloc(1, sizeof(*n));

	n->parent = parent;
	n->part.hdr_off = off;
	n->state = N_HEADER;
	if (parent != NULL) {
		if (parent->last != NULL)
			parent->last->next = n;
		else
			parent->first = n;
		parent->last = n;
		parent->nchildren++;
		/* an encapsulated message, or a digest's default part */
		if (parent->part.type != NULL &&
		    strcmp(parent->part.type, "message") == 0)
			n->part.flags |= MIME_PART_MESSAGE;
	} else {
		n->part.flags |= MIME_PART_MESSAGE;
	}
	p->nparts++;
	p->depth++;
	p->cur = n;
	buf_reset(&p->hdr);
	buf_reset(&p->ibuf);
	p->hdr_over = 0;
	p->ifield = 0;
	return n;
}

struct mime_parser *
mime_parser_new(void)
{
	struct mime_parser *p = xcalloc(1, sizeof(*p));

	buf_init(&p->line, LINE_KEEP);
	buf_init(&p->hdr, MIME_HDR_KEEP_MAX);
	buf_init(&p->ibuf, MIME_HDR_KEEP_MAX);
	p->at_line_start = 1;
	p->root = node_new(p, NULL, 0);
	return p;
}

/* The header of n ended; its body starts at body_off. */
static void
header_end(struct mime_parser *p, struct node *n, uint64_t body_off,
    uint64_t body_lf0, int closing)
{
	struct mime_part *part = &n->part;
	const struct mime_param *bp;
	int digest_child = n->parent != NULL && n->parent->digest;

	part->hdr_len = body_off - part->hdr_off;
	part->body_off = body_off;
	n->body_lf0 = body_lf0;
	n->state = N_BODY;
	/* the kept header, cut to whole lines if it overflowed */
	mime_hdr_fields(part, p->hdr.data != NULL ? p->hdr.data : "", p->hdr.len);
	if (p->hdr_over)
		mime_hdr_fields(part, p->ibuf.data != NULL ? p->ibuf.data : "",
		    p->ibuf.len);
	mime_hdr_defaults(part, digest_child &&
	    (part->type == NULL));
	if (!p->hdr_over && p->hdr.len == part->hdr_len &&
	    p->kept + p->hdr.len <= MIME_HDR_TOTAL_MAX) {
		part->header = xstrndup(p->hdr.data != NULL ? p->hdr.data : "",
		    p->hdr.len);
		p->kept += p->hdr.len;
	}
	buf_reset(&p->hdr);
	buf_reset(&p->ibuf);
	if (closing)
		return;
	if (strcmp(part->type, "multipart") == 0 && part->subtype[0] != '\0') {
		bp = mime_param_get(part->params, part->nparams, "boundary");
		if (bp == NULL || bp->value[0] == '\0' ||
		    p->depth >= MIME_MAX_DEPTH) {
			if (bp != NULL)
				part->flags |= MIME_PART_LIMITED;
			return;
		}
		n->blen = strlen(bp->value);
		if (n->blen > MIME_BOUNDARY_MAX) {
			part->flags |= MIME_PART_LIMITED;
			return;
		}
		n->boundary = xstrdup(bp->value);
		n->digest = strcmp(part->subtype, "digest") == 0;
	} else if (strcmp(part->type, "message") == 0 &&
	    strcmp(part->subtype, "rfc822") == 0) {
		if (p->depth >= MIME_MAX_DEPTH || p->nparts >= MIME_MAX_PARTS) {
			part->flags |= MIME_PART_LIMITED;
			return;
		}
		(void)node_new(p, n, body_off);
	}
}

/* Close n at end offset end (LF count end_lf). */
static void
node_close(struct mime_parser *p, struct node *n, uint64_t end,
    uint64_t end_lf)
{
	if (n->state == N_HEADER) {
		n->part.flags |= MIME_PART_NO_BLANK;
		if (n->part.hdr_off + p->hdr.len != end)
			p->hdr_over = 1;	/* not all of it is there */
		/* a message/rfc822 still gets its (empty) message, as in
		 * Dovecot; the caller's loop closes that child first */
		header_end(p, n, end, end_lf, 0);
		if (p->cur != n)
			return;
	}
	if (end < n->part.body_off) {
		end = n->part.body_off;
		end_lf = n->body_lf0;
	}
	n->part.body_len = end - n->part.body_off;
	n->part.body_lines = end_lf - n->body_lf0;
	free(n->boundary);
	n->boundary = NULL;
	p->cur = n->parent;
	p->depth--;
}

/* The longest open boundary that the current line starts with. */
static struct node *
find_boundary(struct mime_parser *p, int *close)
{
	const char *s = p->line.data;
	size_t len = p->line.len;
	struct node *n, *best = NULL;

	if (len < 2 || s[0] != '-' || s[1] != '-')
		return NULL;
	for (n = p->cur; n != NULL; n = n->parent) {
		if (n->boundary == NULL || n->blen + 2 > len ||
		    memcmp(s + 2, n->boundary, n->blen) != 0)
			continue;
		if (best == NULL || n->blen > best->blen)
			best = n;
	}
	if (best != NULL)
		*close = len >= best->blen + 4 && s[best->blen + 2] == '-' &&
		    s[best->blen + 3] == '-';
	return best;
}

/*
 * A boundary of a: close everything inside it. The line break before the
 * boundary belongs to the boundary, except that a part still reading its
 * header keeps its last line whole, and no part ends before a part it
 * contains (Dovecot's sizes, checked against its BODYSTRUCTURE).
 */
static void
on_boundary(struct mime_parser *p, struct node *a, int close)
{
	uint64_t end, end_lf, inner = 0, inner_lf = 0;
	struct node *n;

	while ((n = p->cur) != a) {
		if (n->state == N_BODY && p->line_off > n->part.body_off) {
			end = p->line_off - (uint64_t)p->prev_nl;
			end_lf = p->line_lf - 1;
		} else {
			end = p->line_off;
			end_lf = p->line_lf;
		}
		if (inner > end) {
			end = inner;
			end_lf = inner_lf;
		}
		node_close(p, n, end, end_lf);
		if (p->cur == n->parent) {
			inner = n->part.body_off + n->part.body_len;
			inner_lf = n->body_lf0 + n->part.body_lines;
		}
	}
	if (close) {
		free(a->boundary);
		a->boundary = NULL;	/* the epilogue follows */
	} else {
		p->pending = a;
	}
}

static size_t
max_boundary(const struct mime_parser *p)
{
	const struct node *n;
	size_t m = 0;

	for (n = p->cur; n != NULL; n = n->parent)
		if (n->boundary != NULL && n->blen > m)
			m = n->blen;
	return m;
}

static void
begin_line(struct mime_parser *p)
{
	size_t mb;

	p->at_line_start = 0;
	p->line_off = p->off;
	p->line_lf = p->nlf;
	p->line_trunc = 0;
	p->kind = L_UNDECIDED;
	p->last_cr = 0;
	buf_reset(&p->line);
	mb = max_boundary(p);
	if (p->cur != NULL && p->cur->state == N_HEADER) {
		p->need = LINE_KEEP;
	} else if (mb == 0) {
		p->need = 0;
		p->kind = L_BODY;
	} else {
		p->need = mb + 4;
	}
}

static void
decide(struct mime_parser *p)
{
	struct node *a;
	int close = 0;

	if ((a = find_boundary(p, &close)) != NULL) {
		p->kind = L_BOUNDARY;
		on_boundary(p, a, close);
	} else if (p->cur != NULL && p->cur->state == N_HEADER) {
		if ((p->line.len == 1 && p->line.data[0] == '\n') ||
		    (p->line.len == 2 && p->line.data[0] == '\r' &&
		    p->line.data[1] == '\n'))
			p->kind = L_BLANK;
		else
			p->kind = L_HEADER;
	} else {
		p->kind = L_BODY;
	}
}

/* Keep a header line: in the block, or if that is full, by field. */
static void
header_line(struct mime_parser *p)
{
	const char *s = p->line.data;
	size_t len = p->line.len, c;

	if (!p->hdr_over && !p->line_trunc && buf_add(&p->hdr, s, len) == 0)
		return;
	if (!p->hdr_over) {
		/* keep the whole fields already read that matter */
		struct buf keep;

		p->hdr_over = 1;
		buf_init(&keep, MIME_HDR_KEEP_MAX);
		(void)buf_add(&keep, p->hdr.data, p->hdr.len);
		buf_reset(&p->hdr);
		(void)buf_add(&p->hdr, keep.data, keep.len);
		buf_free(&keep);
	}
	if (len > 0 && s[0] != ' ' && s[0] != '\t') {
		for (c = 0; c < len && s[c] != ':'; c++)
			;
		p->ifield = c < len && mime_hdr_interesting(s, c);
	}
	if (p->ifield && !p->line_trunc)
		(void)buf_add(&p->ibuf, s, len);
}

static void start_pending(struct mime_parser *p);

static void
end_line(struct mime_parser *p)
{
	if (p->kind == L_UNDECIDED)
		decide(p);
	if (p->kind == L_HEADER) {
		header_line(p);
	} else if (p->kind == L_BLANK) {
		(void)buf_add(&p->hdr, p->line.data, p->line.len);
		header_end(p, p->cur, p->off, p->nlf, 0);
	}
	if (p->pending != NULL)
		start_pending(p);
	p->prev_nl = p->last_cr ? 2 : 1;
	p->at_line_start = 1;
}

void
mime_parser_feed(struct mime_parser *p, const void *data, size_t n)
{
	const char *d = data, *nl;
	size_t i = 0, seg, take;

	while (i < n) {
		if (p->at_line_start)
			begin_line(p);
		nl = memchr(d + i, '\n', n - i);
		seg = (nl != NULL ? (size_t)(nl - d) + 1 : n) - i;
		if (p->kind == L_UNDECIDED) {
			take = p->need - p->line.len;
			if (take > seg)
				take = seg;
			(void)buf_add(&p->line, d + i, take);
			if (take < seg) {
				if (p->cur->state == N_HEADER)
					p->line_trunc = 1;
				else
					decide(p);
			}
		}
		/* a CR right before the LF makes the break CRLF; a lone LF
		 * segment keeps what the previous chunk's last byte said */
		if (nl == NULL)
			p->last_cr = d[i + seg - 1] == '\r';
		else if (seg >= 2)
			p->last_cr = d[i + seg - 2] == '\r';
		p->off += seg;
		i += seg;
		if (nl != NULL) {
			p->nlf++;
			end_line(p);
		}
	}
}

static void
start_pending(struct mime_parser *p)
{
	struct node *a = p->pending;

	p->pending = NULL;
	if (p->nparts < MIME_MAX_PARTS)
		(void)node_new(p, a, p->off);
	else
		a->part.flags |= MIME_PART_LIMITED;
}

/* Move the node tree into mime_part arrays, freeing the nodes. */
static void
convert(struct node *n, struct mime_part *out)
{
	struct node *c, *next;
	size_t i = 0;

	*out = n->part;
	out->children = n->nchildren > 0 ?
	    xcalloc(n->nchildren, sizeof(struct mime_part)) : NULL;
	out->nchildren = n->nchildren;
	for (c = n->first; c != NULL; c = next) {
		next = c->next;
		convert(c, &out->children[i++]);
	}
	free(n->boundary);
	free(n);
}

static void
nodes_free(struct node *n)
{
	struct node *c, *next;

	for (c = n->first; c != NULL; c = next) {
		next = c->next;
		nodes_free(c);
	}
	mime_part_clear(&n->part);
	free(n->boundary);
	free(n);
}

struct mime_part *
mime_parser_finish(struct mime_parser *p)
{
	struct mime_part *root = xcalloc(1, sizeof(*root));

	if (!p->at_line_start) {
		if (p->kind == L_UNDECIDED)
			decide(p);
		if (p->kind == L_HEADER)
			header_line(p);
		p->at_line_start = 1;
	}
	/* a boundary line cut off by the end starts no part (Dovecot) */
	p->pending = NULL;
	while (p->cur != NULL)
		node_close(p, p->cur, p->off, p->nlf);
	convert(p->root, root);
	p->root = NULL;
	return root;
}

void
mime_parser_free(struct mime_parser **pp)
{
	struct mime_parser *p;

	if (pp == NULL || (p = *pp) == NULL)
		return;
	if (p->root != NULL)
		nodes_free(p->root);
	buf_free(&p->line);
	buf_free(&p->hdr);
	buf_free(&p->ibuf);
	free(p);
	*pp = NULL;
}

struct mime_part *
mime_parse(const void *data, size_t n)
{
	struct mime_parser *p = mime_parser_new();
	struct mime_part *root;

	mime_parser_feed(p, data, n);
	root = mime_parser_finish(p);
	mime_parser_free(&p);
	return root;
}

static void
part_free_contents(struct mime_part *part)
{
	size_t i;

	for (i = 0; i < part->nchildren; i++)
		part_free_contents(&part->children[i]);
	free(part->children);
	mime_part_clear(part);
}

void
mime_part_free(struct mime_part **part)
{
	if (part == NULL || *part == NULL)
		return;
	part_free_contents(*part);
	free(*part);
	*part = NULL;
}

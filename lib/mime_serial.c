/*
 * mime_serial: the part tree as compact bytes, cached sealed beside the
 * content so a message is parsed once.
 *
 * Format: "MVM" and a version byte, then each part depth-first: its
 * numbers as LEB128 varints, its strings as varint (length + 1) and bytes
 * (0 means NULL), its parameter and child counts. The reader trusts
 * nothing: every length is checked against what is left, counts and depth
 * are capped, and any inconsistency is -1.
 *
 * mime_deserialize_root() stops after the root's own fields: header
 * searches and ENVELOPE need nothing else, and the children are most of
 * the work (many small allocations) for a multipart message.
 */
#include "lib/mime.h"

#include <stdlib.h>
#include <string.h>

#include "lib/mime_int.h"
#include "lib/util.h"

#define SER_MAGIC	"MVM"
#define SER_VERSION	1

static int
put_u64(struct buf *out, uint64_t v)
{
	unsigned char b[10];
	size_t n = 0;

	do {
		b[n] = v & 0x7f;
		v >>= 7;
		if (v != 0)
			b[n] |= 0x80;
		n++;
	} while (v != 0);
	return buf_add(out, b, n);
}

static int
put_str(struct buf *out, const char *s, size_t len)
{
	if (s == NULL)
		return put_u64(out, 0);
	if (put_u64(out, (uint64_t)len + 1) < 0)
		return -1;
	return buf_add(out, s, len);
}

static int
put_cstr(struct buf *out, const char *s)
{
	return put_str(out, s, s != NULL ? strlen(s) : 0);
}

static int
put_params(struct buf *out, const struct mime_param *p, size_t n)
{
	size_t i;

	if (put_u64(out, n) < 0)
		return -1;
	for (i = 0; i < n; i++) {
		if (put_cstr(out, p[i].name) < 0 || put_cstr(out, p[i].raw_name) < 0 ||
		    put_cstr(out, p[i].value) < 0 || put_cstr(out, p[i].decoded) < 0)
			return -1;
	}
	return 0;
}

static int
put_part(struct buf *out, const struct mime_part *p)
{
	size_t i;

	if (put_u64(out, p->hdr_off) < 0 || put_u64(out, p->hdr_len) < 0 ||
	    put_u64(out, p->body_off) < 0 || put_u64(out, p->body_len) < 0 ||
	    put_u64(out, p->body_lines) < 0 || put_u64(out, p->flags) < 0 ||
	    put_str(out, p->header, p->header != NULL ? p->hdr_len : 0) < 0 ||
	    put_cstr(out, p->type) < 0 || put_cstr(out, p->subtype) < 0 ||
	    put_cstr(out, p->raw_type) < 0 || put_cstr(out, p->raw_subtype) < 0 ||
	    put_params(out, p->params, p->nparams) < 0 ||
	    put_cstr(out, p->id) < 0 || put_cstr(out, p->description) < 0 ||
	    put_cstr(out, p->encoding) < 0 || put_cstr(out, p->md5) < 0 ||
	    put_cstr(out, p->disposition) < 0 ||
	    put_params(out, p->disp_params, p->ndisp_params) < 0 ||
	    put_u64(out, p->nlanguages) < 0)
		return -1;
	for (i = 0; i < p->nlanguages; i++)
		if (put_cstr(out, p->languages[i]) < 0)
			return -1;
	if (put_cstr(out, p->location) < 0 || put_u64(out, MIME_ENV_COUNT) < 0)
		return -1;
	for (i = 0; i < MIME_ENV_COUNT; i++)
		if (put_cstr(out, p->env[i]) < 0)
			return -1;
	if (put_u64(out, p->nchildren) < 0)
		return -1;
	for (i = 0; i < p->nchildren; i++)
		if (put_part(out, &p->children[i]) < 0)
			return -1;
	return 0;
}

int
mime_serialize(const struct mime_part *root, struct buf *out)
{
	size_t start = out->len;

	if (buf_add(out, SER_MAGIC, 3) < 0 || buf_addc(out, SER_VERSION) < 0 ||
	    put_part(out, root) < 0) {
		out->len = start;	/* leave out as it was */
		if (out->data != NULL)
			out->data[start] = '\0';
		return -1;
	}
	return 0;
}

struct rd {
	const unsigned char *s;
	size_t		 n, p;
	size_t		 parts;
	int		 root_only;	/* stop before the root's children */
};

static int
get_u64(struct rd *r, uint64_t *v)
{
	uint64_t x = 0;
	int shift = 0;

	for (;;) {
		if (r->p >= r->n || shift > 63)
			return -1;
		x |= (uint64_t)(r->s[r->p] & 0x7f) << shift;
		if ((r->s[r->p++] & 0x80) == 0)
			break;
		shift += 7;
	}
	*v = x;
	return 0;
}

/* A count that cannot exceed max nor the bytes left (1 byte each at least). */
static int
get_count(struct rd *r, uint64_t max, size_t *v)
{
	uint64_t x;

	if (get_u64(r, &x) < 0 || x > max || x > r->n - r->p)
		return -1;
	*v = (size_t)x;
	return 0;
}

/* A string; strings other than the header may not hold NUL. */
static int
get_str(struct rd *r, char **s, size_t *len_r, int allow_nul)
{
	uint64_t x;

	*s = NULL;
	if (get_u64(r, &x) < 0)
		return -1;
	if (x == 0)
		return 0;
	x--;
	if (x > r->n - r->p)
		return -1;
	if (!allow_nul && memchr(r->s + r->p, 0, (size_t)x) != NULL)
		return -1;
	*s = xstrndup((const char *)r->s + r->p, (size_t)x);
	r->p += (size_t)x;
	if (len_r != NULL)
		*len_r = (size_t)x;
	return 0;
}

static int
get_params(struct rd *r, struct mime_param **pp, size_t *np)
{
	size_t n, i;

	if (get_count(r, 100000, &n) < 0)
		return -1;
	if (n == 0)
		return 0;
	*pp = xcalloc(n, sizeof(**pp));
	*np = n;
	for (i = 0; i < n; i++) {
		struct mime_param *p = &(*pp)[i];

		if (get_str(r, &p->name, NULL, 0) < 0 ||
		    get_str(r, &p->raw_name, NULL, 0) < 0 ||
		    get_str(r, &p->value, NULL, 0) < 0 ||
		    get_str(r, &p->decoded, NULL, 0) < 0 ||
		    p->name == NULL || p->raw_name == NULL ||
		    p->value == NULL || p->decoded == NULL)
			return -1;
	}
	return 0;
}

static int
get_part(struct rd *r, struct mime_part *p, int depth)
{
	uint64_t flags, nenv;
	size_t i, hlen = 0;

	if (depth > MIME_MAX_DEPTH + 2 || ++r->parts > MIME_MAX_PARTS + 2)
		return -1;
	if (get_u64(r, &p->hdr_off) < 0 || get_u64(r, &p->hdr_len) < 0 ||
	    get_u64(r, &p->body_off) < 0 || get_u64(r, &p->body_len) < 0 ||
	    get_u64(r, &p->body_lines) < 0 || get_u64(r, &flags) < 0 ||
	    flags > 0xffff)
		return -1;
	p->flags = (unsigned int)flags;
	if (p->hdr_len > UINT64_MAX - p->hdr_off ||
	    p->body_len > UINT64_MAX - p->body_off ||
	    p->hdr_off + p->hdr_len != p->body_off)
		return -1;
	if (get_str(r, &p->header, &hlen, 1) < 0 ||
	    (p->header != NULL && hlen != p->hdr_len))
		return -1;
	if (get_str(r, &p->type, NULL, 0) < 0 || get_str(r, &p->subtype, NULL, 0) < 0 ||
	    get_str(r, &p->raw_type, NULL, 0) < 0 ||
	    get_str(r, &p->raw_subtype, NULL, 0) < 0 ||
	    p->type == NULL || p->subtype == NULL ||
	    p->raw_type == NULL || p->raw_subtype == NULL)
		return -1;
	if (get_params(r, &p->params, &p->nparams) < 0 ||
	    get_str(r, &p->id, NULL, 0) < 0 ||
	    get_str(r, &p->description, NULL, 0) < 0 ||
	    get_str(r, &p->encoding, NULL, 0) < 0 ||
	    get_str(r, &p->md5, NULL, 0) < 0 ||
	    get_str(r, &p->disposition, NULL, 0) < 0 ||
	    get_params(r, &p->disp_params, &p->ndisp_params) < 0 ||
	    get_count(r, 100000, &p->nlanguages) < 0)
		return -1;
	if (p->nlanguages > 0) {
		p->languages = xcalloc(p->nlanguages, sizeof(char *));
		for (i = 0; i < p->nlanguages; i++)
			if (get_str(r, &p->languages[i], NULL, 0) < 0 ||
			    p->languages[i] == NULL)
				return -1;
	}
	if (get_str(r, &p->location, NULL, 0) < 0 || get_u64(r, &nenv) < 0 ||
	    nenv != MIME_ENV_COUNT)
		return -1;
	for (i = 0; i < MIME_ENV_COUNT; i++)
		if (get_str(r, &p->env[i], NULL, 0) < 0)
			return -1;
	if (get_count(r, MIME_MAX_PARTS + 2, &p->nchildren) < 0)
		return -1;
	if (r->root_only) {
		p->nchildren = 0;	/* the caller asked for the root alone */
		return 0;
	}
	if (p->nchildren == 0)
		return 0;
	p->children = xcalloc(p->nchildren, sizeof(*p->children));
	for (i = 0; i < p->nchildren; i++) {
		struct mime_part *c = &p->children[i];

		if (get_part(r, c, depth + 1) < 0)
			return -1;
		/* children lie inside their parent's body */
		if (c->hdr_off < p->body_off ||
		    c->body_off + c->body_len > p->body_off + p->body_len)
			return -1;
	}
	return 0;
}

static int
deserialize(const void *data, size_t n, int root_only,
    struct mime_part **root_r)
{
	struct rd r = { data, n, 4, 0, root_only };
	struct mime_part *root;

	if (n < 4 || memcmp(data, SER_MAGIC, 3) != 0 ||
	    ((const unsigned char *)data)[3] != SER_VERSION)
		return -1;
	root = xcalloc(1, sizeof(*root));
	if (get_part(&r, root, 0) < 0 || (!root_only && r.p != n)) {
		mime_part_free(&root);
		return -1;
	}
	*root_r = root;
	return 0;
}

int
mime_deserialize(const void *data, size_t n, struct mime_part **root_r)
{
	return deserialize(data, n, 0, root_r);
}

int
mime_deserialize_root(const void *data, size_t n, struct mime_part **root_r)
{
	return deserialize(data, n, 1, root_r);
}

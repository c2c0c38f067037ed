/*
 * maildir: Maildir file names, Maildir++ folder names and line-end
 * conversion (see maildir.h).
 *
 * The flag letters live in one table, so parsing and formatting cannot
 * disagree, and the table is in ASCII order, so formatting gives the
 * sorted order the Maildir spec asks for. Folder names go through
 * lib/utf7 as a whole: '.' and '/' are printable ASCII and so stand for
 * themselves in modified UTF-7, which makes swapping them before or after
 * the conversion safe.
 */
#include "lib/maildir.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lib/utf7.h"
#include "lib/util.h"

static const struct {
	char		letter;
	unsigned	flag;
} flag_letters[] = {
	/* ASCII order */
	{ 'D', MAILDIR_DRAFT },
	{ 'F', MAILDIR_FLAGGED },
	{ 'P', MAILDIR_PASSED },
	{ 'R', MAILDIR_REPLIED },
	{ 'S', MAILDIR_SEEN },
	{ 'T', MAILDIR_TRASHED },
};

/* Limit on names we build or convert: a path component fits in 255. */
#define NAME_MAX_LEN	1024

int
maildir_name_parse(const char *name, unsigned *flags_r, uint32_t *kw_r,
    size_t *unique_len_r)
{
	const char *colon, *p;
	unsigned flags = 0;
	uint32_t kw = 0;
	size_t i;

	if (name[0] == '\0' || name[0] == '.' || strchr(name, '/') != NULL)
		return MAILDIR_EINVAL;
	colon = strchr(name, ':');
	if (colon != NULL && colon[1] == '2' && colon[2] == ',') {
		for (p = colon + 3; *p != '\0'; p++) {
			if (*p >= 'a' && *p <= 'z') {
				kw |= (uint32_t)1 << (*p - 'a');
				continue;
			}
			for (i = 0; i < ARRAY_SIZE(flag_letters); i++)
				if (flag_letters[i].letter == *p)
					flags |= flag_letters[i].flag;
		}
	}
	if (flags_r != NULL)
		*flags_r = flags;
	if (kw_r != NULL)
		*kw_r = kw;
	if (unique_len_r != NULL)
		*unique_len_r = colon != NULL ? (size_t)(colon - name) :
		    strlen(name);
	return 0;
}

int
maildir_name_size(const char *name, char key, uint64_t *v_r)
{
	size_t ulen, i;
	uint64_t v;

	if (maildir_name_parse(name, NULL, NULL, &ulen) < 0)
		return -1;
	/* ",S=123" ends at the next ',' or at the end of the unique part. */
	for (i = 0; i + 3 <= ulen; i++) {
		size_t j;

		if (name[i] != ',' || name[i + 1] != key || name[i + 2] != '=')
			continue;
		v = 0;
		for (j = i + 3; j < ulen && name[j] != ','; j++) {
			if (name[j] < '0' || name[j] > '9' ||
			    v > (UINT64_MAX - 9) / 10)
				return -1;
			v = v * 10 + (uint64_t)(name[j] - '0');
		}
		if (j == i + 3)
			return -1;
		*v_r = v;
		return 0;
	}
	return -1;
}

size_t
maildir_flags_format(unsigned flags, uint32_t kw, char out[MAILDIR_FLAGS_MAX])
{
	size_t n = 0, i;

	for (i = 0; i < ARRAY_SIZE(flag_letters); i++)
		if (flags & flag_letters[i].flag)
			out[n++] = flag_letters[i].letter;
	for (i = 0; i < 26; i++)
		if (kw & ((uint32_t)1 << i))
			out[n++] = (char)('a' + i);
	out[n] = '\0';
	return n;
}

char *
maildir_name_new(time_t sec, long usec, long pid, unsigned long counter,
    const char *host, uint64_t size, int info, unsigned flags, uint32_t kw)
{
	struct buf b;
	char fl[MAILDIR_FLAGS_MAX];
	const char *h;

	buf_init(&b, NAME_MAX_LEN);
	buf_printf(&b, "%lld.M%ldP%ldQ%lu.", (long long)sec, usec, pid,
	    counter);
	for (h = host != NULL && *host != '\0' ? host : "localhost";
	    *h != '\0'; h++) {
		if (*h == '/')
			buf_adds(&b, "\\057");
		else if (*h == ':')
			buf_adds(&b, "\\072");
		else if (*h == ',')
			buf_adds(&b, "\\054");
		else
			buf_addc(&b, *h);
	}
	if (size != (uint64_t)-1)
		buf_printf(&b, ",S=%llu", (unsigned long long)size);
	if (info) {
		maildir_flags_format(flags, kw, fl);
		buf_printf(&b, ":2,%s", fl);
	}
	return buf_steal(&b, NULL);
}

char *
maildir_name_with_flags(const char *name, unsigned flags, uint32_t kw)
{
	char fl[MAILDIR_FLAGS_MAX];
	const char *colon = strchr(name, ':');
	size_t ulen = colon != NULL ? (size_t)(colon - name) : strlen(name);

	maildir_flags_format(flags, kw, fl);
	return xasprintf("%.*s:2,%s", (int)ulen, name, fl);
}

/* Swap every a for b in s (in place). */
static void
swap_char(char *s, size_t len, char a, char b)
{
	for (size_t i = 0; i < len; i++)
		if (s[i] == a)
			s[i] = b;
}

/* No empty part: not empty, no leading or trailing or double sep. */
static int
parts_ok(const char *s, size_t len, char sep)
{
	if (len == 0 || s[0] == sep || s[len - 1] == sep)
		return 0;
	for (size_t i = 1; i < len; i++)
		if (s[i] == sep && s[i - 1] == sep)
			return 0;
	return 1;
}

int
maildir_folder_to_mailbox(const char *dir, char **r)
{
	size_t len = strlen(dir);
	struct buf b;
	char *tmp;
	int rc;

	if (len < 2 || dir[0] != '.' || len > NAME_MAX_LEN ||
	    strchr(dir, '/') != NULL || !parts_ok(dir + 1, len - 1, '.'))
		return MAILDIR_EINVAL;
	tmp = xstrndup(dir + 1, len - 1);
	swap_char(tmp, len - 1, '.', '/');
	buf_init(&b, 4 * NAME_MAX_LEN);
	rc = utf7_decode(tmp, len - 1, &b);
	free(tmp);
	if (rc < 0) {
		buf_free(&b);
		return MAILDIR_EINVAL;
	}
	*r = buf_steal(&b, NULL);
	return 0;
}

int
maildir_mailbox_to_folder(const char *mailbox, char **r)
{
	size_t len = strlen(mailbox);
	struct buf b;
	int rc;

	if (len > NAME_MAX_LEN || strchr(mailbox, '.') != NULL ||
	    !parts_ok(mailbox, len, '/'))
		return MAILDIR_EINVAL;
	buf_init(&b, 4 * NAME_MAX_LEN);
	buf_addc(&b, '.');
	rc = utf7_encode(mailbox, len, &b);
	if (rc < 0) {
		buf_free(&b);
		return MAILDIR_EINVAL;
	}
	swap_char(b.data, b.len, '/', '.');
	*r = buf_steal(&b, NULL);
	return 0;
}

int
maildir_to_crlf(struct maildir_eol *st, const void *p, size_t n,
    struct buf *out)
{
	const char *s = p, *e = s + n;

	while (s < e) {
		const char *nl = memchr(s, '\n', (size_t)(e - s));
		size_t run = nl != NULL ? (size_t)(nl - s) : (size_t)(e - s);

		if (run > 0) {
			if (buf_add(out, s, run) < 0)
				return -1;
			st->cr = s[run - 1] == '\r';
			s += run;
		}
		if (nl == NULL)
			break;
		if (!st->cr && buf_addc(out, '\r') < 0)
			return -1;
		if (buf_addc(out, '\n') < 0)
			return -1;
		st->cr = 0;
		s++;
	}
	return 0;
}

int
maildir_to_lf(struct maildir_eol *st, const void *p, size_t n,
    struct buf *out)
{
	const char *s = p, *e = s + n;

	while (s < e) {
		const char *t;

		if (st->cr) {
			st->cr = 0;
			if (*s != '\n' && buf_addc(out, '\r') < 0)
				return -1;
		}
		if (*s == '\r') {
			st->cr = 1;
			s++;
			continue;
		}
		for (t = s; t < e && *t != '\r'; t++)
			;
		if (buf_add(out, s, (size_t)(t - s)) < 0)
			return -1;
		s = t;
	}
	return 0;
}

int
maildir_to_lf_end(struct maildir_eol *st, struct buf *out)
{
	if (!st->cr)
		return 0;
	st->cr = 0;
	return buf_addc(out, '\r');
}

/*
 * test_server_fetch: the FETCH parser and writer (server/imap/fetch.c,
 * section.c, envelope.c, bodystructure.c) over a real store.
 *
 * A store is made in a temporary folder (STORE_KDF_MIN) and filled with
 * the .eml files of tests/corpus, in name order, with their line ends made
 * CRLF as Dovecot serves them (lib/maildir's maildir_to_crlf), so message
 * n of the store is message n of the Dovecot mailbox the vectors in
 * tests/unit/fetch_vectors/ were recorded from (see make_fetch_vectors.py).
 * For every message and every recorded FETCH (ENVELOPE, BODYSTRUCTURE,
 * BODY, every section of every part, partials, missing parts) the whole
 * response must be Dovecot's, byte for byte. Then: parser vectors (good
 * ones with what they need, bad ones with Dovecot's error text), item
 * order and the items the session adds, partials against the raw bytes,
 * the string writers, store errors, the bulk path's bytes against the
 * per-message path's, and a 50 MB message fetched with bounded memory.
 */
#include <check.h>
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <unistd.h>

#include "lib/buf.h"
#include "lib/imap_envelope.h"
#include "lib/imap_lex.h"
#include "lib/maildir.h"
#include "lib/util.h"
#include "server/imap/fetch.h"
#include "server/imap/fetch_int.h"
#include "store/store.h"

#define PASS		"fetch test passphrase"
#define CORPUS		"tests/corpus"
#define VECTORS		"tests/unit/fetch_vectors"
#define CORPUS_MAX	200
#define INTERNALDATE	1678786012	/* 14-Mar-2023 09:26:52 UTC */
#define BIG_SIZE	(50 * 1024 * 1024)

/* ---- the store with the corpus, made once ----------------------------- */

struct corpus_msg {
	char		*name;		/* "01-plain-ascii" */
	char		*data;		/* CRLF form, as stored */
	size_t		 len;
};

static struct {
	char		 dir[64];
	char		*path;
	struct store	*st;
	int64_t		 inbox;
	struct corpus_msg msgs[CORPUS_MAX];
	size_t		 n;
	struct store_msg *list;		/* store_msg_list, seq order */
	size_t		 nlist;
} fx;

static int
cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* The corpus file names, sorted; count only when names is NULL. */
static size_t
corpus_names(char **names)
{
	DIR *d = opendir(CORPUS);
	struct dirent *de;
	size_t n = 0, len;

	if (d == NULL)
		return 0;
	while ((de = readdir(d)) != NULL && n < CORPUS_MAX) {
		len = strlen(de->d_name);
		if (len < 5 || strcmp(de->d_name + len - 4, ".eml") != 0)
			continue;
		if (names != NULL)
			names[n] = xstrdup(de->d_name);
		n++;
	}
	closedir(d);
	if (names != NULL)
		qsort(names, n, sizeof(*names), cmp_str);
	return n;
}

static char *
read_file(const char *path, size_t *len_r)
{
	FILE *fp = fopen(path, "rb");
	struct buf b;
	char tmp[8192];
	size_t n;

	ck_assert_msg(fp != NULL, "cannot open %s", path);
	buf_init(&b, 64 * 1024 * 1024);
	while ((n = fread(tmp, 1, sizeof(tmp), fp)) > 0)
		ck_assert_int_eq(buf_add(&b, tmp, n), 0);
	fclose(fp);
	return buf_steal(&b, len_r);
}

static void
fx_setup(void)
{
	char err[STORE_ERRMSG_MAX], *names[CORPUS_MAX], *raw, *path;
	struct store_append_opts opts;
	struct store_mailbox mb;
	struct maildir_eol eol;
	struct buf crlf;
	int64_t acct;
	uint32_t uid;
	size_t i, rawlen;

	memset(&fx, 0, sizeof(fx));
	snprintf(fx.dir, sizeof(fx.dir), "/tmp/mvfetch.XXXXXX");
	ck_assert_ptr_nonnull(mkdtemp(fx.dir));
	fx.path = xasprintf("%s/store.db", fx.dir);
	ck_assert_msg(store_create(fx.path, PASS, strlen(PASS),
	    STORE_KDF_MIN, err, sizeof(err)) == 0, "create: %s", err);
	ck_assert_msg(store_open(fx.path, PASS, strlen(PASS), &fx.st, err,
	    sizeof(err)) == 0, "open: %s", err);
	ck_assert_int_eq(store_account_create(fx.st, "fetch", &acct), 0);
	ck_assert_int_eq(store_mailbox_find(fx.st, acct, "INBOX", &mb), 0);
	fx.inbox = mb.id;
	store_mailbox_clear(&mb);

	fx.n = corpus_names(names);
	ck_assert_uint_gt(fx.n, 50);
	for (i = 0; i < fx.n; i++) {
		path = xasprintf("%s/%s", CORPUS, names[i]);
		raw = read_file(path, &rawlen);
		memset(&eol, 0, sizeof(eol));
		buf_init(&crlf, 2 * rawlen + 16);
		ck_assert_int_eq(maildir_to_crlf(&eol, raw, rawlen, &crlf), 0);
		fx.msgs[i].name = xstrndup(names[i], strlen(names[i]) - 4);
		fx.msgs[i].data = buf_steal(&crlf, &fx.msgs[i].len);
		memset(&opts, 0, sizeof(opts));
		opts.internaldate = INTERNALDATE + (int64_t)i;
		opts.tzoff = 60;
		opts.flags = i == 0 ? STORE_F_SEEN : 0;
		ck_assert_msg(store_append_mem(fx.st, fx.inbox, &opts,
		    fx.msgs[i].data, fx.msgs[i].len, &uid) == 0,
		    "append %s: %s", names[i], store_errmsg(fx.st));
		ck_assert_uint_eq(uid, i + 1);
		free(raw);
		free(path);
		free(names[i]);
	}
	ck_assert_int_eq(store_msg_list(fx.st, fx.inbox, 0, &fx.list,
	    &fx.nlist), 0);
	ck_assert_uint_eq(fx.nlist, fx.n);
}

static void
fx_teardown(void)
{
	char *cmd;
	size_t i;

	store_close(&fx.st);
	cmd = xasprintf("rm -rf '%s'", fx.dir);
	ck_assert_int_eq(system(cmd), 0);
	free(cmd);
	free(fx.path);
	for (i = 0; i < fx.n; i++) {
		free(fx.msgs[i].name);
		free(fx.msgs[i].data);
	}
	free(fx.list);
}

/* ---- a token source over a string, an output sink into a buffer ------- */

static int
src_next(void *arg, struct imap_tok *t)
{
	return imap_lex_next(arg, t) == 1 ? 1 : -1;
}

static int
src_astring(void *arg, struct imap_tok *t)
{
	return imap_lex_astring(arg, t) == 1 ? 1 : -1;
}

static int
src_collect(void *arg, size_t max)
{
	return imap_lex_literal_collect(arg, max);
}

/*
 * Parse args (what follows the sequence set) plus CRLF. On success the
 * parser must have read the line exactly through its CRLF.
 */
static int
parse(const char *args, int uid, struct imapd_fetch **f_r, char *err,
    size_t errlen)
{
	struct imap_lex_limits lim = { IMAP_LEX_LINE_AUTH, 1 << 20,
		IMAP_LEX_DEPTH_MAX };
	struct imap_lex *lx = imap_lex_new(&lim);
	struct imapd_toksrc src = { src_next, src_astring, src_collect, lx };
	struct imap_tok t;
	char *line = xasprintf("%s\r\n", args);
	int rc;

	ck_assert_int_eq(imap_lex_feed(lx, line, strlen(line)), 0);
	rc = imapd_fetch_parse(&src, uid, f_r, err, errlen);
	if (rc == 0)
		ck_assert_msg(imap_lex_next(lx, &t) == 0,
		    "'%s': the line was not read exactly to its end", args);
	imap_lex_free(&lx);
	free(line);
	return rc;
}

static struct imapd_fetch *
parse_ok(const char *args, int uid)
{
	struct imapd_fetch *f = NULL;
	char err[256];

	ck_assert_msg(parse(args, uid, &f, err, sizeof(err)) == 0,
	    "'%s': %s", args, err);
	return f;
}

struct sink {
	struct buf	 b;
	int		 fail;		/* every write fails */
	int		 hash_only;	/* keep no bytes: hash and count */
	uint64_t	 hash, total;
	size_t		 max_write;
};

static uint64_t
fnv(uint64_t h, const void *p, size_t n)
{
	const unsigned char *s = p;
	size_t i;

	for (i = 0; i < n; i++) {
		h ^= s[i];
		h *= 1099511628211ULL;
	}
	return h;
}

static int
sink_write(void *arg, const void *p, size_t n)
{
	struct sink *k = arg;

	if (k->fail)
		return -1;
	if (n > k->max_write)
		k->max_write = n;
	k->total += n;
	if (k->hash_only) {
		k->hash = fnv(k->hash, p, n);
		return 0;
	}
	return buf_add(&k->b, p, n);
}

struct msgopt {
	const char	*flags;
	int		 include_flags, include_modseq;
};

/* FETCH args for message seq (1-based); the response, NUL-terminated. */
static char *
fetch_opt(const char *args, int uid, uint32_t seq, const struct msgopt *o,
    size_t *len_r, int *rc_r)
{
	struct imapd_fetch *f = parse_ok(args, uid);
	struct sink k;
	struct imapd_out out = { sink_write, &k };
	struct imapd_fetch_msg m;
	int rc;

	memset(&k, 0, sizeof(k));
	buf_init(&k.b, 64 * 1024 * 1024);
	memset(&m, 0, sizeof(m));
	m.seq = seq;
	m.msg = &fx.list[seq - 1];
	m.flags = o != NULL && o->flags != NULL ? o->flags : "\\Seen";
	m.include_flags = o != NULL && o->include_flags;
	m.include_modseq = o != NULL && o->include_modseq;
	m.st = fx.st;
	rc = imapd_fetch_write(f, &m, &out);
	if (rc_r != NULL)
		*rc_r = rc;
	else
		ck_assert_msg(rc == 0, "'%s': %d %s", args, rc,
		    store_errmsg(fx.st));
	imapd_fetch_free(&f);
	ck_assert_ptr_null(f);
	return buf_steal(&k.b, len_r);
}

static char *
fetch(const char *args, int uid, uint32_t seq, size_t *len_r)
{
	return fetch_opt(args, uid, seq, NULL, len_r, NULL);
}

static void
expect(const char *args, int uid, uint32_t seq, const struct msgopt *o,
    const char *want)
{
	size_t len;
	char *got = fetch_opt(args, uid, seq, o, &len, NULL);

	ck_assert_msg(len == strlen(want) && memcmp(got, want, len) == 0,
	    "FETCH %u %s:\n got: %s\nwant: %s", seq, args, got, want);
	free(got);
}

/* ---- Dovecot's answers for the whole corpus --------------------------- */

/* Where two byte strings first differ, for a readable failure. */
static void
assert_same(const char *what, const char *got, size_t glen,
    const char *want, size_t wlen)
{
	size_t i, from;

	for (i = 0; i < glen && i < wlen && got[i] == want[i]; i++)
		;
	if (i == glen && i == wlen)
		return;
	from = i > 60 ? i - 60 : 0;
	ck_abort_msg("%s: differs at byte %zu (got %zu bytes, want %zu)\n"
	    " got: ...%.*s\nwant: ...%.*s", what, i, glen, wlen,
	    (int)((glen - from) < 160 ? glen - from : 160), got + from,
	    (int)((wlen - from) < 160 ? wlen - from : 160), want + from);
}

START_TEST(test_fetch_matches_dovecot_for_corpus)
{
	struct corpus_msg *cm = &fx.msgs[_i];
	char *path = xasprintf("%s/%s.vec", VECTORS, cm->name), *vec, *p, *e;
	char *att, *got, *what;
	size_t vlen, glen, rlen, records = 0;
	uint64_t v;

	vec = read_file(path, &vlen);
	p = vec;
	while (p < vec + vlen) {
		/* C <att>\n R <n>\n<n bytes>\n */
		ck_assert(strncmp(p, "C ", 2) == 0);
		e = memchr(p, '\n', (size_t)(vec + vlen - p));
		ck_assert_ptr_nonnull(e);
		att = xstrndup(p + 2, (size_t)(e - p - 2));
		p = e + 1;
		ck_assert(strncmp(p, "R ", 2) == 0);
		e = memchr(p, '\n', (size_t)(vec + vlen - p));
		ck_assert_ptr_nonnull(e);
		*e = '\0';
		ck_assert_int_eq(parse_u64(p + 2, vlen, &v), 0);
		rlen = (size_t)v;
		p = e + 1;
		ck_assert(p + rlen < vec + vlen + 1);
		got = fetch(att, 0, (uint32_t)_i + 1, &glen);
		what = xasprintf("%s: FETCH %d %s", cm->name, (int)_i + 1,
		    att);
		assert_same(what, got, glen, p, rlen);
		free(what);
		free(got);
		free(att);
		p += rlen + 1;
		records++;
	}
	ck_assert_uint_gt(records, 1);
	free(vec);
	free(path);
}
END_TEST

/* ---- the parser --------------------------------------------------------- */

static const struct {
	const char	*args;
	int		 uid;
	unsigned	 needs;
	uint64_t	 changedsince;
	int		 vanished;
} good_vectors[] = {
	{ "FLAGS", 0, 0, 0, 0 },
	{ "(FLAGS UID)", 0, 0, 0, 0 },
	{ "( UID  FLAGS )", 0, 0, 0, 0 },
	{ "fLaGs", 1, 0, 0, 0 },
	{ "ALL", 0, IMAPD_FETCH_MIME, 0, 0 },
	{ "FAST", 0, 0, 0, 0 },
	{ "FULL", 0, IMAPD_FETCH_MIME, 0, 0 },
	{ "ENVELOPE", 0, IMAPD_FETCH_MIME, 0, 0 },
	{ "(BODY BODYSTRUCTURE)", 0, IMAPD_FETCH_MIME, 0, 0 },
	{ "BODY[]", 0, IMAPD_FETCH_CONTENT | IMAPD_FETCH_SETS_SEEN, 0, 0 },
	{ "BODY.PEEK[]", 0, IMAPD_FETCH_CONTENT, 0, 0 },
	{ "body.peek[text]", 0, IMAPD_FETCH_CONTENT | IMAPD_FETCH_MIME, 0,
	    0 },
	{ "(BODY.PEEK[1.2.MIME] BODY.PEEK[3.HEADER]<0.10>)", 0,
	    IMAPD_FETCH_CONTENT | IMAPD_FETCH_MIME, 0, 0 },
	{ "BODY[HEADER.FIELDS (From \"To\" {2}\r\nCc)]", 0,
	    IMAPD_FETCH_CONTENT | IMAPD_FETCH_MIME | IMAPD_FETCH_SETS_SEEN,
	    0, 0 },
	{ "BODY.PEEK[2.HEADER.FIELDS.NOT (\"X-[A]\" B)]<5>", 0,
	    IMAPD_FETCH_CONTENT | IMAPD_FETCH_MIME, 0, 0 },
	{ "RFC822", 0, IMAPD_FETCH_CONTENT | IMAPD_FETCH_SETS_SEEN, 0, 0 },
	{ "RFC822.HEADER", 0, IMAPD_FETCH_CONTENT | IMAPD_FETCH_MIME, 0, 0 },
	{ "RFC822.TEXT", 0, IMAPD_FETCH_CONTENT | IMAPD_FETCH_MIME |
	    IMAPD_FETCH_SETS_SEEN, 0, 0 },
	{ "MODSEQ", 0, IMAPD_FETCH_MODSEQ, 0, 0 },
	{ "(RFC822.SIZE) (CHANGEDSINCE 5)", 0, IMAPD_FETCH_MODSEQ, 5, 0 },
	{ "FLAGS (CHANGEDSINCE 0)", 0, IMAPD_FETCH_MODSEQ, 0, 0 },
	{ "(FLAGS) (CHANGEDSINCE 7 VANISHED)", 1, IMAPD_FETCH_MODSEQ, 7, 1 },
	{ "(FLAGS) (VANISHED CHANGEDSINCE 7)", 1, IMAPD_FETCH_MODSEQ, 7, 1 },
	{ "(FLAGS) ()", 1, 0, 0, 0 },
	{ "BODY[0]<4294967296.1>", 0, IMAPD_FETCH_CONTENT | IMAPD_FETCH_MIME |
	    IMAPD_FETCH_SETS_SEEN, 0, 0 },
};

START_TEST(test_fetch_parse_good_vectors)
{
	struct imapd_fetch *f = parse_ok(good_vectors[_i].args,
	    good_vectors[_i].uid);

	ck_assert_msg(imapd_fetch_needs(f) == good_vectors[_i].needs,
	    "'%s': needs %#x, want %#x", good_vectors[_i].args,
	    imapd_fetch_needs(f), good_vectors[_i].needs);
	ck_assert_uint_eq(imapd_fetch_changedsince(f),
	    good_vectors[_i].changedsince);
	ck_assert_int_eq(imapd_fetch_vanished(f), good_vectors[_i].vanished);
	imapd_fetch_free(&f);
	imapd_fetch_free(&f);	/* NULL is fine */
}
END_TEST

/* The texts are Dovecot's (after "Error in IMAP command FETCH: "). */
static const struct {
	const char	*args;
	int		 uid;
	const char	*err;
} bad_vectors[] = {
	{ "()", 0, "FETCH list is empty" },
	{ "", 0, "Invalid arguments" },
	{ "(FLAGS", 0, "Missing ')'" },
	/* the lexer refuses an unbalanced ')' (Dovecot: "Unexpected ')'") */
	{ "FLAGS)", 0, "Could not read the FETCH arguments" },
	{ "(FLAGS) extra", 0, "Invalid arguments" },
	{ "(BODY[)", 0, "Invalid BODY[..] parameter: Missing ']'" },
	{ "(BODY[TEXT)", 0, "Invalid BODY[..] parameter: Missing ']'" },
	{ "(BODY[HEADER.FIELDS])", 0, "Invalid BODY[..] section" },
	{ "(BODY[HEADER.FIELDS ()])", 0, "Invalid BODY[..] section" },
	{ "(BODY[HEADER.FIELDS (a b])", 0, "Missing ')'" },
	{ "(BODY[]<1.2.3>)", 0,
	    "Invalid BODY[..] parameter: Missing '>' in partial" },
	{ "(BODY[]<a.2>)", 0,
	    "Invalid BODY[..] parameter: Too big partial start" },
	{ "(BODY[1.MIME.TEXT])", 0, "Invalid BODY[..] section" },
	{ "(BODY[MIME])", 0, "Invalid BODY[..] section" },
	{ "(BODY[foo])", 0, "Invalid BODY[..] section" },
	{ "(BODY[1.])", 0, "Invalid BODY[..] section" },
	{ "(BODY.PEEK)", 0, "Invalid BODY[..] parameter: Missing '['" },
	{ "(X)", 0, "Unknown parameter: X" },
	{ "(\"FLAGS\")", 0, "FETCH list contains non-atoms" },
	{ "(ENVELOPE ALL)", 0, "Unknown parameter: ALL" },
	{ "ALL FAST", 0, "Invalid arguments" },
	{ "(RFC822.PEEK)", 0, "Unknown parameter RFC822.PEEK" },
	{ "FLAGS (CHANGEDSINCE x)", 1, "Invalid CHANGEDSINCE modseq" },
	{ "FLAGS (FOO 1)", 1, "Unknown FETCH modifier" },
	{ "FLAGS (CHANGEDSINCE 1 VANISHED)", 0, "Unknown FETCH modifier" },
	{ "FLAGS (VANISHED)", 1, "VANISHED used without CHANGEDSINCE" },
	{ "FLAGS (CHANGEDSINCE 1) x", 1, "Invalid arguments" },
};

START_TEST(test_fetch_parse_bad_vectors)
{
	struct imapd_fetch *f = NULL;
	char err[256];

	ck_assert_int_eq(parse(bad_vectors[_i].args, bad_vectors[_i].uid, &f,
	    err, sizeof(err)), -1);
	ck_assert_ptr_null(f);
	ck_assert_str_eq(err, bad_vectors[_i].err);
}
END_TEST

START_TEST(test_fetch_parse_limits)
{
	struct imapd_fetch *f = NULL;
	struct buf b;
	char err[256];
	int i;

	buf_init(&b, 1 << 20);
	buf_adds(&b, "(");
	for (i = 0; i < IMAPD_FETCH_MAX_ITEMS; i++)
		buf_printf(&b, "%sBODY.PEEK[%d]", i ? " " : "", i + 1);
	buf_adds(&b, ")");
	f = parse_ok(b.data, 0);
	imapd_fetch_free(&f);
	b.len--;
	buf_adds(&b, " UID)");
	ck_assert_int_eq(parse(b.data, 0, &f, err, sizeof(err)), -1);
	ck_assert_str_eq(err, "Too many FETCH items");

	buf_reset(&b);
	buf_adds(&b, "BODY.PEEK[HEADER.FIELDS (");
	for (i = 0; i < IMAPD_FETCH_MAX_FIELDS; i++)
		buf_printf(&b, "%sX-F%d", i ? " " : "", i);
	buf_adds(&b, ")]");
	f = parse_ok(b.data, 0);
	imapd_fetch_free(&f);
	b.len -= 2;
	buf_adds(&b, " ONE-MORE)]");
	ck_assert_int_eq(parse(b.data, 0, &f, err, sizeof(err)), -1);
	ck_assert_str_eq(err, "Too many header fields");
	buf_free(&b);
}
END_TEST

/* ---- items, their order, what the session adds ------------------------- */

START_TEST(test_fetch_simple_items)
{
	char want[512];
	const struct store_msg *m = &fx.list[0];

	snprintf(want, sizeof(want), "* 1 FETCH (UID 1 FLAGS (\\Seen) "
	    "INTERNALDATE \"14-Mar-2023 10:26:52 +0100\" RFC822.SIZE %zu "
	    "MODSEQ (%llu))\r\n", fx.msgs[0].len,
	    (unsigned long long)m->modseq);
	expect("(UID FLAGS INTERNALDATE RFC822.SIZE MODSEQ)", 0, 1, NULL,
	    want);
	snprintf(want, sizeof(want), "* 1 FETCH (FLAGS (\\Seen) INTERNALDATE "
	    "\"14-Mar-2023 10:26:52 +0100\" RFC822.SIZE %zu)\r\n",
	    fx.msgs[0].len);
	expect("FAST", 0, 1, NULL, want);
	expect("(FLAGS)", 0, 1, &(struct msgopt){ "", 0, 0 },
	    "* 1 FETCH (FLAGS ())\r\n");
}
END_TEST

START_TEST(test_fetch_item_order_is_dovecots)
{
	char want[1024];
	unsigned long long ms = (unsigned long long)fx.list[0].modseq;

	/* UID FETCH returns UID first */
	expect("(FLAGS)", 1, 1, NULL, "* 1 FETCH (UID 1 FLAGS (\\Seen))\r\n");
	expect("(FLAGS UID)", 1, 1, NULL,
	    "* 1 FETCH (UID 1 FLAGS (\\Seen))\r\n");
	expect("(FLAGS UID)", 0, 1, NULL,
	    "* 1 FETCH (FLAGS (\\Seen) UID 1)\r\n");
	/* the cheap items first, in the order asked; duplicates once */
	expect("(BODY.PEEK[HEADER.FIELDS (to)] UID UID FLAGS RFC822.SIZE "
	    "FLAGS)", 0, 1, NULL, "* 1 FETCH (UID 1 FLAGS (\\Seen) "
	    "RFC822.SIZE 920 BODY[HEADER.FIELDS (TO)] {51}\r\n"
	    "To: Tobias Renwick <tobias.renwick@example.net>\r\n\r\n)\r\n");
	/* sections repeat, the other items do not */
	expect("(BODY.PEEK[1]<0.5> RFC822.TEXT BODY.PEEK[1]<0.5> "
	    "RFC822.TEXT)", 0, 1, NULL, "* 1 FETCH (BODY[1]<0> {5}\r\n"
	    "Hi To RFC822.TEXT {314}\r\n" "Hi Tobias,\r\n\r\nHere is the "
	    "rota for the Pembrey lighthouse weekend. Saturday morning is"
	    "\r\nyours, Sunday afternoon is mine; Gwilym takes the night "
	    "shifts as usual.\r\n\r\nPlease bring the spare lantern wicks "
	    "and the brass polish. The keeper\r\nasked us to log the "
	    "barometer readings every three hours.\r\n\r\nThanks,\r\n"
	    "Harriet\r\n BODY[1]<0> {5}\r\nHi To)\r\n");
	/* FLAGS added because \Seen was set goes after the cheap items */
	expect("(RFC822.SIZE BODY[]<0.4> UID)", 0, 1,
	    &(struct msgopt){ "\\Seen", 1, 0 }, "* 1 FETCH (RFC822.SIZE 920 "
	    "UID 1 FLAGS (\\Seen) BODY[]<0> {4}\r\nRetu)\r\n");
	expect("(FLAGS BODY[]<0.4>)", 0, 1,
	    &(struct msgopt){ "\\Seen", 1, 0 },
	    "* 1 FETCH (FLAGS (\\Seen) BODY[]<0> {4}\r\nRetu)\r\n");
	/* CHANGEDSINCE adds MODSEQ; so does CONDSTORE, after MODSEQ */
	snprintf(want, sizeof(want), "* 1 FETCH (UID 1 MODSEQ (%llu) "
	    "BODY[]<0> {3}\r\nRet)\r\n", ms);
	expect("(BODY.PEEK[]<0.3> UID) (CHANGEDSINCE 1)", 0, 1, NULL, want);
	snprintf(want, sizeof(want), "* 1 FETCH (MODSEQ (%llu) UID 1 "
	    "BODY[]<0> {3}\r\nRet)\r\n", ms);
	expect("(BODY.PEEK[]<0.3> MODSEQ UID) (CHANGEDSINCE 1)", 0, 1, NULL,
	    want);
	snprintf(want, sizeof(want), "* 1 FETCH (UID 1 MODSEQ (%llu) "
	    "FLAGS (\\Seen))\r\n", ms);
	expect("UID", 0, 1, &(struct msgopt){ "\\Seen", 1, 1 }, want);
}
END_TEST

/* Field names come back upper-cased, quoted if they were sent quoted or
 * as a literal, as Dovecot echoes them. */
START_TEST(test_fetch_field_names_echo)
{
	static const char from[] = "From: Harriet Quenby "
	    "<harriet.quenby@marrowfield.example>\r\n\r\n";
	char *want;

	want = xasprintf("* 1 FETCH (BODY[HEADER.FIELDS (\"FROM\" \"A\\\\B\" "
	    "\"C\\\"D\" TO-X)] {%zu}\r\n%s)\r\n", strlen(from), from);
	expect("BODY.PEEK[HEADER.FIELDS ({4}\r\nFrom \"a\\\\b\" \"c\\\"d\" "
	    "to-x)]", 0, 1, NULL, want);
	free(want);
	expect("FAST", 1, 1, NULL, "* 1 FETCH (UID 1 FLAGS (\\Seen) "
	    "INTERNALDATE \"14-Mar-2023 10:26:52 +0100\" RFC822.SIZE 920)\r\n");
}
END_TEST

/* ENVELOPE and BODY after the cheap ones, and ALL/FULL in their order. */
START_TEST(test_fetch_macros)
{
	static const char prefix[] = "* 44 FETCH (FLAGS (\\Seen) "
	    "INTERNALDATE \"14-Mar-2023 10:27:35 +0100\" RFC822.SIZE 296 "
	    "ENVELOPE (\"Mon, 24 Apr 2023 10:00:00 +0000\" ";
	size_t len;
	char *all = fetch("ALL", 0, 44, &len), *full;

	ck_assert_msg(strncmp(all, prefix, strlen(prefix)) == 0, "%s", all);
	full = fetch("FULL", 0, 44, &len);
	ck_assert(strncmp(full, all, strlen(all) - 3) == 0);
	ck_assert_str_eq(full + strlen(all) - 3, " BODY (\"text\" \"plain\" "
	    "(\"charset\" \"us-ascii\") NIL NIL \"7bit\" 0 0))\r\n");
	free(all);
	free(full);
}
END_TEST

/* Every partial of a few sections is the same bytes as the raw message. */
START_TEST(test_fetch_partials_are_byte_ranges)
{
	static const uint64_t lens[] = { 0, 1, 7, 100, 1000000 };
	struct corpus_msg *cm = &fx.msgs[9];	/* 10-forwarded-rfc822 */
	const char *hdr_end = strstr(cm->data, "\r\n\r\n");
	size_t hdrlen = (size_t)(hdr_end - cm->data) + 4, len, wlen, i, off;
	char args[128], *got, *want;

	ck_assert_ptr_nonnull(hdr_end);
	for (off = 0; off <= cm->len + 3; off += 29) {
		for (i = 0; i < ARRAY_SIZE(lens); i++) {
			snprintf(args, sizeof(args), "(BODY.PEEK[]<%zu.%llu> "
			    "BODY.PEEK[TEXT]<%zu.%llu>)", off,
			    (unsigned long long)lens[i], off,
			    (unsigned long long)lens[i]);
			got = fetch(args, 0, 10, &len);
			want = xasprintf("* 10 FETCH (BODY[]<%zu> {%zu}\r\n"
			    "%.*s BODY[TEXT]<%zu> {%zu}\r\n%.*s)\r\n", off,
			    off >= cm->len ? 0 : (size_t)(cm->len - off <
			    lens[i] ? cm->len - off : lens[i]),
			    off >= cm->len ? 0 : (int)(cm->len - off <
			    lens[i] ? cm->len - off : lens[i]),
			    off >= cm->len ? "" : cm->data + off, off,
			    off >= cm->len - hdrlen ? 0 : (size_t)(cm->len -
			    hdrlen - off < lens[i] ? cm->len - hdrlen - off :
			    lens[i]),
			    off >= cm->len - hdrlen ? 0 : (int)(cm->len -
			    hdrlen - off < lens[i] ? cm->len - hdrlen - off :
			    lens[i]),
			    off >= cm->len - hdrlen ? "" : cm->data + hdrlen +
			    off);
			wlen = strlen(want);
			assert_same(args, got, len, want, wlen);
			free(got);
			free(want);
		}
	}
}
END_TEST

/* Non-BINARY fetches never send NUL: Dovecot writes 0x80 instead. */
START_TEST(test_fetch_nul_becomes_0x80)
{
	size_t len, i;
	char *got = fetch("RFC822.TEXT", 0, 43, &len);
	size_t n80 = 0;

	for (i = 0; i < len; i++) {
		ck_assert_int_ne(got[i], '\0');
		n80 += (unsigned char)got[i] == 0x80;
	}
	ck_assert_uint_eq(n80, 3);
	free(got);
}
END_TEST

/* ---- failures ----------------------------------------------------------- */

START_TEST(test_fetch_store_error_writes_nothing)
{
	struct imapd_fetch *f = parse_ok("(UID BODY.PEEK[TEXT])", 0);
	struct store_msg msg = fx.list[0];
	struct sink k;
	struct imapd_out out = { sink_write, &k };
	struct imapd_fetch_msg m = { 1, &msg, "", 0, 0, fx.st };
	int rc;

	memset(&k, 0, sizeof(k));
	buf_init(&k.b, 1 << 20);
	msg.content = 987654321;
	rc = imapd_fetch_write(f, &m, &out);
	ck_assert_int_lt(rc, -1);
	ck_assert_uint_eq(k.total, 0);
	ck_assert_str_ne(store_errmsg(fx.st), "");
	/* a lost connection is -1 */
	k.fail = 1;
	ck_assert_int_eq(imapd_fetch_write(f, &(struct imapd_fetch_msg){ 1,
	    &fx.list[0], "", 0, 0, fx.st }, &out), -1);
	buf_free(&k.b);
	imapd_fetch_free(&f);
}
END_TEST

/* ---- the string writers ------------------------------------------------- */

START_TEST(test_fetch_string_writers)
{
	static const struct {
		const char *in, *nstring, *human;
	} v[] = {
		{ "abc", "\"abc\"", "\"abc\"" },
		{ "", "\"\"", "\"\"" },
		{ "a\"b\\c", "\"a\\\"b\\\\c\"", "{5}\r\na\"b\\c" },
		{ "\"\"\"\"\"", "{5}\r\n\"\"\"\"\"", "{5}\r\n\"\"\"\"\"" },
		{ "\"\"\"\"", "\"\\\"\\\"\\\"\\\"\"", "{4}\r\n\"\"\"\"" },
		{ "caf\xc3\xa9", "{5}\r\ncaf\xc3\xa9", "{5}\r\ncaf\xc3\xa9" },
		{ "a  b", "\"a  b\"", "{3}\r\na b" },
		{ " lead", "\" lead\"", "{4}\r\nlead" },
		{ "trail ", "\"trail \"", "{5}\r\ntrail" },
		{ "  ", "\"  \"", "\"\"" },
		{ "x\r\n\ty", "{5}\r\nx\r\n\ty", "{3}\r\nx y" },
	};
	struct buf b;
	size_t i;

	buf_init(&b, 1024);
	for (i = 0; i < ARRAY_SIZE(v); i++) {
		buf_reset(&b);
		ck_assert_int_eq(imap_envelope_string(&b, v[i].in,
		    strlen(v[i].in)), 0);
		ck_assert_str_eq(b.data, v[i].nstring);
		buf_reset(&b);
		ck_assert_int_eq(imap_envelope_human(&b, v[i].in,
		    strlen(v[i].in)), 0);
		ck_assert_str_eq(b.data, v[i].human);
	}
	buf_reset(&b);
	ck_assert_int_eq(imap_envelope_nstring(&b, NULL), 0);
	ck_assert_str_eq(b.data, "NIL");
	buf_free(&b);
}
END_TEST

/* ---- the bulk path ------------------------------------------------------ */

/*
 * imapd_fetch_format() (the session's bulk path for requests that ask
 * only for what the view holds) must write exactly what
 * imapd_fetch_write() writes for the same message: for every order of
 * every choice of those items, with and without UID FETCH, with and
 * without CHANGEDSINCE, for messages with values at their edges, flag
 * texts with \Recent, keywords and many flags, and with the MODSEQ and
 * FLAGS the session adds.
 */
static const char *const view_items[] = {
	"UID", "FLAGS", "MODSEQ", "INTERNALDATE", "RFC822.SIZE",
};
#define NVIEW	((int)ARRAY_SIZE(view_items))

static const struct store_msg bulk_msgs[] = {
	{ .uid = 1, .modseq = 1, .internaldate = 0, .size = 0, .tzoff = 0 },
	{ .uid = 4294967295u, .modseq = UINT64_MAX,
	  .internaldate = 253402300799LL, .size = UINT64_MAX,
	  .tzoff = -(99 * 60 + 59) },
	{ .uid = 99, .modseq = 100, .internaldate = -1, .size = 10,
	  .tzoff = 330 },
	{ .uid = 1000, .modseq = 4294967296ULL, .internaldate = 1678786012,
	  .size = 4294967296ULL, .tzoff = 24 * 60 },
	/* no IMAP date-time can hold these: INTERNALDATE NIL */
	{ .uid = 7, .modseq = 9, .internaldate = INT64_MAX, .size = 1,
	  .tzoff = 0 },
	{ .uid = 8, .modseq = 9, .internaldate = 0, .size = 1,
	  .tzoff = 100 * 60 },
};

/* Flag texts; the last is made long by bulk_flag_texts(). */
static void
bulk_flag_texts(const char *texts[6], struct buf *many)
{
	int i;

	texts[0] = "";
	texts[1] = "\\Seen";
	texts[2] = "\\Seen \\Recent";
	texts[3] = "\\Answered \\Flagged \\Deleted \\Seen \\Draft \\Recent";
	texts[4] = "\\Seen $Forwarded $Junk NonJunk Work \\Recent";
	buf_reset(many);
	buf_adds(many, "\\Answered \\Flagged");
	for (i = 0; i < 400; i++)
		buf_printf(many, " $keyword-number-%d", i);
	texts[5] = many->data;
}

/* "(items...)mod", the items in the order given. */
static void
bulk_args(struct buf *b, const int *order, int n, const char *mod)
{
	int i;

	buf_reset(b);
	buf_addc(b, '(');
	for (i = 0; i < n; i++)
		buf_printf(b, "%s%s", i > 0 ? " " : "", view_items[order[i]]);
	buf_printf(b, ")%s", mod);
}

/* Both paths for every message and flag text of one request. */
static long
bulk_compare(const char *args, int uid, struct buf *many)
{
	struct imapd_fetch *f = parse_ok(args, uid);
	const char *texts[6];
	struct imapd_fetch_msg m;
	struct sink k;
	struct imapd_out out = { sink_write, &k };
	char *mem, *end;
	size_t i, t, room;
	long n = 0;
	int add;

	ck_assert_msg(imapd_fetch_in_view(f), "%s", args);
	bulk_flag_texts(texts, many);
	memset(&k, 0, sizeof(k));
	buf_init(&k.b, 1 << 20);
	for (i = 0; i < ARRAY_SIZE(bulk_msgs); i++)
	for (t = 0; t < ARRAY_SIZE(texts); t++)
	for (add = 0; add < 4; add++, n++) {
		m = (struct imapd_fetch_msg){ (uint32_t)(i * 1000000007u + 1),
		    &bulk_msgs[i], texts[t], add & 1, add >> 1, NULL };
		buf_reset(&k.b);
		ck_assert_int_eq(imapd_fetch_write(f, &m, &out), 0);
		room = IMAPD_FETCH_VIEW_MAX + strlen(texts[t]);
		mem = xmalloc(room + 16);
		memset(mem, 0x5a, room + 16);
		end = imapd_fetch_format(f, &m, strlen(texts[t]), mem);
		ck_assert_uint_le((size_t)(end - mem), room);
		ck_assert_int_eq(mem[room], 0x5a);
		assert_same(args, mem, (size_t)(end - mem), k.b.data, k.b.len);
		free(mem);
	}
	buf_free(&k.b);
	imapd_fetch_free(&f);
	return n;
}

/* Every ordered choice of the items: the next k-permutation of 0..NVIEW-1
 * after order (lexicographic); 0 after the last. */
static int
next_order(int *order, int k)
{
	int used[NVIEW], i, v;

	for (i = k - 1; i >= 0; i--) {
		memset(used, 0, sizeof(used));
		for (v = 0; v < i; v++)
			used[order[v]] = 1;
		for (v = order[i] + 1; v < NVIEW && used[v]; v++)
			;
		if (v == NVIEW)
			continue;
		order[i] = v;
		used[v] = 1;
		for (i++; i < k; i++) {
			for (v = 0; used[v]; v++)
				;
			order[i] = v;
			used[v] = 1;
		}
		return 1;
	}
	return 0;
}

START_TEST(test_fetch_bulk_equals_per_message)
{
	static const char *const mods[] = {
		"", " (CHANGEDSINCE 1)", " (CHANGEDSINCE 0)",
	};
	int order[NVIEW], k, i, uid;
	long orders = 0, compared = 0;
	struct buf args, many;
	size_t mi;

	buf_init(&args, 1024);
	buf_init(&many, 1 << 16);
	for (k = 1; k <= NVIEW; k++) {
		for (i = 0; i < k; i++)
			order[i] = i;
		do {
			orders++;
			for (uid = 0; uid <= 1; uid++)
			for (mi = 0; mi < ARRAY_SIZE(mods); mi++) {
				bulk_args(&args, order, k, mods[mi]);
				compared += bulk_compare(args.data, uid, &many);
			}
		} while (next_order(order, k));
	}
	/* 5 + 20 + 60 + 120 + 120 orders of the five items */
	ck_assert_int_eq(orders, 325);
	ck_assert_int_eq(compared, 325L * 2 * 3 * 6 * 6 * 4);
	/* an item asked twice, and the macro that is all view */
	compared += bulk_compare("(FLAGS UID FLAGS MODSEQ UID)", 0, &many);
	compared += bulk_compare("FAST", 1, &many);
	compared += bulk_compare("UID", 1, &many);
	buf_free(&args);
	buf_free(&many);
}
END_TEST

/* Only requests that read nothing more take the bulk path. */
START_TEST(test_fetch_in_view_only_for_view_items)
{
	static const struct {
		const char	*args;
		int		 in_view;
	} v[] = {
		{ "(UID FLAGS)", 1 },
		{ "FAST", 1 },
		{ "(MODSEQ) (CHANGEDSINCE 5)", 1 },
		{ "ALL", 0 },
		{ "(UID ENVELOPE)", 0 },
		{ "(FLAGS BODY)", 0 },
		{ "(FLAGS BODYSTRUCTURE)", 0 },
		{ "(UID BODY.PEEK[])", 0 },
		{ "(UID RFC822.HEADER)", 0 },
		{ "RFC822", 0 },
	};
	struct imapd_fetch *f;
	size_t i;

	for (i = 0; i < ARRAY_SIZE(v); i++) {
		f = parse_ok(v[i].args, 1);
		ck_assert_msg(imapd_fetch_in_view(f) == v[i].in_view, "%s",
		    v[i].args);
		imapd_fetch_free(&f);
	}
}
END_TEST

/* ---- a 50 MB message --------------------------------------------------- */

static const char big_head[] =
	"From: Big Sender <big@example.org>\r\n"
	"To: me@example.org\r\n"
	"Subject: fifty megabytes\r\n"
	"MIME-Version: 1.0\r\n"
	"Content-Type: application/octet-stream\r\n"
	"Content-Transfer-Encoding: base64\r\n"
	"\r\n";

/* Byte i of the big message's body: 76-character lines and CRLF. */
static void
big_body(uint64_t off, char *p, size_t n)
{
	static const char b64[] =
	    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
	size_t i;
	uint64_t col;

	for (i = 0; i < n; i++) {
		col = (off + i) % 78;
		p[i] = col == 76 ? '\r' : col == 77 ? '\n' :
		    b64[((off + i) * 7 + (off + i) / 78) % 64];
	}
}

static long
max_rss_kb(void)
{
	struct rusage ru;

	getrusage(RUSAGE_SELF, &ru);
	return ru.ru_maxrss;
}

START_TEST(test_fetch_50mb_message_bounded_memory)
{
	struct store_append_opts opts;
	struct store_append *ap;
	struct store_msg msg;
	struct imapd_fetch *f;
	struct sink k;
	struct imapd_out out = { sink_write, &k };
	struct imapd_fetch_msg m;
	static char piece[1 << 20];
	uint64_t body = BIG_SIZE - (sizeof(big_head) - 1), off, n, want;
	char head[128];
	uint32_t uid;
	long before;

	memset(&opts, 0, sizeof(opts));
	ck_assert_int_eq(store_append_begin(fx.st, fx.inbox, &opts, &ap), 0);
	ck_assert_int_eq(store_append_write(ap, big_head,
	    sizeof(big_head) - 1), 0);
	for (off = 0; off < body; off += n) {
		n = body - off < sizeof(piece) ? body - off : sizeof(piece);
		big_body(off, piece, (size_t)n);
		ck_assert_int_eq(store_append_write(ap, piece, (size_t)n), 0);
	}
	ck_assert_int_eq(store_append_commit(&ap, &uid), 0);
	ck_assert_int_eq(store_msg_get(fx.st, fx.inbox, uid, &msg), 0);
	ck_assert_uint_eq(msg.size, BIG_SIZE);

	/* BODY.PEEK[1]<1000.40000000>: the body part, from a partial */
	f = parse_ok("(RFC822.SIZE BODY.PEEK[1]<1000.40000000>)", 0);
	memset(&k, 0, sizeof(k));
	k.hash_only = 1;
	k.hash = 14695981039346656037ULL;
	memset(&m, 0, sizeof(m));
	m.seq = 99;
	m.msg = &msg;
	m.flags = "";
	m.st = fx.st;
	before = max_rss_kb();
	ck_assert_int_eq(imapd_fetch_write(f, &m, &out), 0);
	/* memory: a chunk or two, nowhere near the 40 MB sent */
	ck_assert_msg(max_rss_kb() - before < 16 * 1024,
	    "max RSS grew by %ld kB", max_rss_kb() - before);
	ck_assert_uint_le(k.max_write, 2 * STORE_CHUNK_SIZE);
	imapd_fetch_free(&f);

	want = 14695981039346656037ULL;
	snprintf(head, sizeof(head), "* 99 FETCH (RFC822.SIZE %d "
	    "BODY[1]<1000> {40000000}\r\n", BIG_SIZE);
	want = fnv(want, head, strlen(head));
	for (off = 1000; off < 1000 + 40000000; off += n) {
		n = 1000 + 40000000 - off < sizeof(piece) ?
		    1000 + 40000000 - off : sizeof(piece);
		big_body(off, piece, (size_t)n);
		want = fnv(want, piece, (size_t)n);
	}
	want = fnv(want, ")\r\n", 3);
	ck_assert_uint_eq(k.total, strlen(head) + 40000000 + 3);
	ck_assert(k.hash == want);

	/* and the whole of it */
	f = parse_ok("BODY.PEEK[]", 0);
	memset(&k, 0, sizeof(k));
	k.hash_only = 1;
	ck_assert_int_eq(imapd_fetch_write(f, &m, &out), 0);
	ck_assert_uint_eq(k.total, strlen("* 99 FETCH (BODY[] {52428800}\r\n")
	    + BIG_SIZE + 3);
	ck_assert_uint_le(k.max_write, 2 * STORE_CHUNK_SIZE);
	imapd_fetch_free(&f);
	ck_assert_int_eq(store_msg_expunge(fx.st, fx.inbox, &uid, 1), 0);
}
END_TEST

/* ---- the suite ---------------------------------------------------------- */

static Suite *
fetch_suite(void)
{
	Suite *s = suite_create("server_fetch");
	TCase *tc;
	int n = (int)corpus_names(NULL);

	tc = tcase_create("parse");
	tcase_add_loop_test(tc, test_fetch_parse_good_vectors, 0,
	    (int)ARRAY_SIZE(good_vectors));
	tcase_add_loop_test(tc, test_fetch_parse_bad_vectors, 0,
	    (int)ARRAY_SIZE(bad_vectors));
	tcase_add_test(tc, test_fetch_parse_limits);
	tcase_add_test(tc, test_fetch_string_writers);
	suite_add_tcase(s, tc);

	tc = tcase_create("bulk");
	tcase_set_timeout(tc, 120);
	tcase_add_test(tc, test_fetch_bulk_equals_per_message);
	tcase_add_test(tc, test_fetch_in_view_only_for_view_items);
	suite_add_tcase(s, tc);

	tc = tcase_create("write");
	tcase_add_unchecked_fixture(tc, fx_setup, fx_teardown);
	tcase_set_timeout(tc, 300);
	tcase_add_loop_test(tc, test_fetch_matches_dovecot_for_corpus, 0, n);
	tcase_add_test(tc, test_fetch_simple_items);
	tcase_add_test(tc, test_fetch_item_order_is_dovecots);
	tcase_add_test(tc, test_fetch_macros);
	tcase_add_test(tc, test_fetch_field_names_echo);
	tcase_add_test(tc, test_fetch_partials_are_byte_ranges);
	tcase_add_test(tc, test_fetch_nul_becomes_0x80);
	tcase_add_test(tc, test_fetch_store_error_writes_nothing);
	tcase_add_test(tc, test_fetch_50mb_message_bounded_memory);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	SRunner *sr = srunner_create(fetch_suite());
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? 0 : 1;
}

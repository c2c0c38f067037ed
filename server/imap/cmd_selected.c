/*
 * cmd_selected: the commands of the selected state (RFC 3501 6.4): CHECK,
 * CLOSE, UNSELECT (RFC 3691), EXPUNGE and UID EXPUNGE (RFC 4315), STORE
 * (with UNCHANGEDSINCE, RFC 7162), COPY and MOVE (RFC 6851) with UIDPLUS
 * answers, and the session's half of FETCH and SEARCH: the arguments
 * are parsed, evaluated and written by fetch.c and search.c; here the
 * sequence sets are resolved against the view, \Seen is set before a
 * body is fetched from a read-write mailbox, and flag changes that are
 * still to be reported ride along in the FETCH responses.
 */
#include "server/imap/imapd_int.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lib/imap_seqset.h"
#include "lib/util.h"
#include "server/imap/fetch.h"
#include "server/imap/search.h"

#define FETCH_SNAPSHOT	1024	/* messages per read snapshot */

#define STORE_MAX_FLAGS		(STORE_MAX_KEYWORDS + 8)
#define UIDSET_MAX		(16 * 1024 * 1024)

/* Read the sequence-set atom into a new string. */
static int
read_set(struct imapd_session *s, struct imapd_cmdctx *c, char **set_r)
{
	struct imap_tok tok;

	if (imapd_tok(s, &tok) < 0)
		return imapd_bad(c, "Bad sequence set.");
	if (tok.kind == IMAP_TOK_CRLF)
		return imapd_bad(c, "Missing the sequence set.");
	if (tok.kind != IMAP_TOK_ATOM || tok.sp == 0)
		return imapd_bad(c, "Bad sequence set.");
	*set_r = xstrdup(tok.s);
	return 0;
}

/* Resolve set into view indexes; BAD on a bad set. */
static int
resolve(struct imapd_session *s, struct imapd_cmdctx *c, const char *set,
    size_t **idx_r, size_t *n_r)
{
	char err[256];

	if (imapd_view_resolve(s->view, set, c->uid, idx_r, n_r, err,
	    sizeof(err)) < 0)
		return imapd_bad(c, "%s", err);
	return 0;
}

/* The UIDs of the indexes that are not expunged; *n_r of them. */
static uint32_t *
live_uids(const struct imapd_view *v, const size_t *idx, size_t n,
    size_t *n_r)
{
	uint32_t *uids = xreallocarray(NULL, n + 1, sizeof(*uids));
	size_t i, k = 0;

	for (i = 0; i < n; i++)
		if (!(v->mark[idx[i]] & IMAPD_V_GONE))
			uids[k++] = v->msgs[idx[i]].uid;
	*n_r = k;
	return uids;
}

/* ---- CHECK, CLOSE, UNSELECT, EXPUNGE ------------------------------------ */

int
imapd_cmd_check(struct imapd_session *s, struct imapd_cmdctx *c)
{
	int rc;

	if ((rc = imapd_arg_end(s, c)) != 0)
		return rc;
	return imapd_ok(c, NULL, "Check completed.");
}

/* Expunge the \Deleted messages (of the indexes, or all when idx is
 * NULL). 0 or a store code. */
static int
expunge_deleted(struct imapd_session *s, const size_t *idx, size_t n)
{
	struct imapd_view *v = s->view;
	uint32_t *uids;
	size_t i, k = 0, j;
	int rc = 0;

	if (idx == NULL)
		n = v->n;
	uids = xreallocarray(NULL, n + 1, sizeof(*uids));
	for (i = 0; i < n; i++) {
		j = idx != NULL ? idx[i] : i;
		if ((v->msgs[j].flags & STORE_F_DELETED) &&
		    !(v->mark[j] & IMAPD_V_GONE))
			uids[k++] = v->msgs[j].uid;
	}
	if (k > 0)
		rc = store_msg_expunge(s->st, v->mbox, uids, k);
	free(uids);
	return rc;
}

int
imapd_cmd_close(struct imapd_session *s, struct imapd_cmdctx *c)
{
	int rc;

	if ((rc = imapd_arg_end(s, c)) != 0)
		return rc;
	/* CLOSE expunges silently; a failure still closes. */
	if (!s->view->readonly && (rc = expunge_deleted(s, NULL, 0)) != 0)
		imapd_log(s, "CLOSE could not expunge: %s",
		    store_errmsg(s->st));
	imapd_unselect(s);
	return imapd_ok(c, NULL, "Close completed.");
}

int
imapd_cmd_unselect(struct imapd_session *s, struct imapd_cmdctx *c)
{
	int rc;

	if ((rc = imapd_arg_end(s, c)) != 0)
		return rc;
	imapd_unselect(s);
	return imapd_ok(c, NULL, "Unselect completed.");
}

int
imapd_cmd_expunge(struct imapd_session *s, struct imapd_cmdctx *c)
{
	size_t *idx = NULL, n = 0;
	char *set = NULL;
	int rc = 0;

	if (c->uid)
		rc = read_set(s, c, &set);
	if (rc == 0)
		rc = imapd_arg_end(s, c);
	if (rc == 0 && set != NULL)
		rc = resolve(s, c, set, &idx, &n);
	if (rc == 0) {
		if (s->view->readonly)
			rc = imapd_no(c, "CANNOT", "Mailbox is read-only.");
		else if ((rc = expunge_deleted(s, set != NULL ? idx : NULL,
		    n)) != 0)
			rc = imapd_no_store(s, c, rc);
		else {
			rc = imapd_ok(c, NULL, "Expunge completed.");
			/* RFC 7162 3.2.10: a QRESYNC client learns the new
			 * HIGHESTMODSEQ (the sync reads it). */
			if (s->qresync && imapd_view_sync(s) == 0)
				snprintf(c->code, sizeof(c->code),
				    "HIGHESTMODSEQ %llu",
				    (unsigned long long)s->view->modseq);
		}
	}
	free(set);
	free(idx);
	return rc;
}

/* ---- STORE ---------------------------------------------------------------- */

struct store_req {
	struct store_flag_change ch;
	const char	*kw[STORE_MAX_FLAGS];
	size_t		 nkw;
	char		*kwbuf[STORE_MAX_FLAGS];	/* owned copies */
	int		 silent;
	int		 unchanged;	/* UNCHANGEDSINCE was given */
};

static void
store_req_free(struct store_req *r)
{
	size_t i;

	for (i = 0; i < r->nkw; i++)
		free(r->kwbuf[i]);
}

/* "(UNCHANGEDSINCE n)" after the set; the '(' was read. */
static int
read_store_modifiers(struct imapd_session *s, struct imapd_cmdctx *c,
    struct store_req *r)
{
	struct imap_tok tok;
	uint64_t v;

	for (;;) {
		if (imapd_tok(s, &tok) < 0)
			return imapd_bad(c, "Bad STORE modifier.");
		if (tok.kind == IMAP_TOK_RPAREN)
			return 0;
		if (!imap_tok_atom_is(&tok, "UNCHANGEDSINCE"))
			return imapd_bad(c, "Unknown STORE modifier.");
		if (imapd_tok(s, &tok) < 0 || tok.kind != IMAP_TOK_ATOM ||
		    parse_u64(tok.s, INT64_MAX, &v) < 0)
			return imapd_bad(c, "UNCHANGEDSINCE needs a number.");
		r->ch.unchangedsince = v;
		r->unchanged = 1;
	}
}

static int
add_flag(struct imapd_cmdctx *c, struct store_req *r, const char *atom)
{
	uint32_t bit;
	int kind = imapd_parse_flag(atom, &bit);
	size_t i;

	if (kind < 0)
		return imapd_bad(c, "Invalid system flag %.40s.", atom);
	if (kind == 1) {
		r->ch.flags |= bit;
		return 0;
	}
	if (strpbrk(atom, "%*]") != NULL || strlen(atom) > STORE_KEYWORD_MAX)
		return imapd_bad(c, "Invalid keyword %.40s.", atom);
	for (i = 0; i < r->nkw; i++)
		if (ascii_strcasecmp(r->kwbuf[i], atom) == 0)
			return 0;
	if (r->nkw == STORE_MAX_FLAGS)
		return imapd_bad(c, "Too many keywords.");
	r->kwbuf[r->nkw] = xstrdup(atom);
	r->kw[r->nkw] = r->kwbuf[r->nkw];
	r->nkw++;
	return 0;
}

/* The flags: "(f1 f2)" or "f1 f2" up to the end of the line. */
static int
read_store_flags(struct imapd_session *s, struct imapd_cmdctx *c,
    struct store_req *r)
{
	struct imap_tok tok;
	int paren, rc;

	if (imapd_tok(s, &tok) < 0)
		return imapd_bad(c, "Bad flag list.");
	if (tok.sp == 0 || tok.kind == IMAP_TOK_CRLF)
		return imapd_bad(c, "Missing the flag list.");
	paren = tok.kind == IMAP_TOK_LPAREN;
	if (paren && imapd_tok(s, &tok) < 0)
		return imapd_bad(c, "Bad flag list.");
	for (;;) {
		if (paren && tok.kind == IMAP_TOK_RPAREN)
			return imapd_arg_end(s, c);
		if (!paren && tok.kind == IMAP_TOK_CRLF)
			return 0;
		if (tok.kind != IMAP_TOK_ATOM)
			return imapd_bad(c, "Bad flag list.");
		if ((rc = add_flag(c, r, tok.s)) != 0)
			return rc;
		if (imapd_tok(s, &tok) < 0)
			return imapd_bad(c, "Bad flag list.");
	}
}

static int
read_store_args(struct imapd_session *s, struct imapd_cmdctx *c,
    struct store_req *r)
{
	struct imap_tok tok;
	const char *item;
	int rc;

	if (imapd_tok(s, &tok) < 0 || tok.sp == 0)
		return imapd_bad(c, "Bad STORE arguments.");
	if (tok.kind == IMAP_TOK_LPAREN) {
		if ((rc = read_store_modifiers(s, c, r)) != 0)
			return rc;
		if (imapd_tok(s, &tok) < 0 || tok.sp == 0)
			return imapd_bad(c, "Bad STORE arguments.");
	}
	if (tok.kind != IMAP_TOK_ATOM)
		return imapd_bad(c, "Bad STORE data item.");
	item = tok.s;
	r->ch.op = STORE_FLAGS_SET;
	if (*item == '+' || *item == '-') {
		r->ch.op = *item == '+' ? STORE_FLAGS_ADD : STORE_FLAGS_REMOVE;
		item++;
	}
	if (ascii_strcasecmp(item, "FLAGS.SILENT") == 0)
		r->silent = 1;
	else if (ascii_strcasecmp(item, "FLAGS") != 0)
		return imapd_bad(c, "Unknown STORE data item.");
	return read_store_flags(s, c, r);
}

/* Answer STORE for the indexes: FETCH FLAGS (MODSEQ) as RFC 3501 and
 * RFC 7162 3.1.3 ask. */
static int
store_answer(struct imapd_session *s, struct imapd_cmdctx *c,
    const struct store_req *r, const size_t *idx, size_t n,
    const uint32_t *changed, size_t nchanged, const uint32_t *failed,
    size_t nfailed)
{
	struct imapd_view *v = s->view;
	size_t i, j;
	uint32_t uid;
	int was;

	for (i = 0; i < n; i++) {
		j = idx[i];
		uid = v->msgs[j].uid;
		if ((v->mark[j] & IMAPD_V_GONE) ||
		    u32_sorted_has(failed, nfailed, uid))
			continue;
		if (!r->silent) {
			if (imapd_view_fetch_flags(s, j, c->uid ?
			    IMAPD_FF_UID : 0) < 0)
				return -1;
			continue;
		}
		if (!u32_sorted_has(changed, nchanged, uid))
			continue;
		/* Silent: the client knows the flags it set, but a
		 * CONDSTORE client still needs the new MODSEQ. */
		was = (v->mark[j] & IMAPD_V_FLAGS) != 0;
		if (s->condstore) {
			if (imapd_view_fetch_flags(s, j,
			    IMAPD_FF_NOFLAGS | (c->uid ? IMAPD_FF_UID : 0)) < 0)
				return -1;
		} else if (was) {
			v->mark[j] &= (unsigned char)~IMAPD_V_FLAGS;
			v->nflags--;
		}
	}
	return 0;
}

/* The MODIFIED code: sequence numbers, or UIDs for UID STORE. */
static void
modified_code(struct imapd_session *s, struct imapd_cmdctx *c,
    const uint32_t *failed, size_t nfailed)
{
	uint32_t *nums = xreallocarray(NULL, nfailed + 1, sizeof(*nums));
	struct buf b;
	size_t i;
	long at;

	for (i = 0; i < nfailed; i++) {
		at = imapd_view_find(s->view, failed[i]);
		nums[i] = c->uid ? failed[i] : (uint32_t)(at + 1);
	}
	buf_init(&b, sizeof(c->code) - 16);
	if (imap_seqset_format(nums, nfailed, &b) == 0)
		snprintf(c->code, sizeof(c->code), "MODIFIED %s", b.data);
	buf_free(&b);
	free(nums);
}

int
imapd_cmd_store(struct imapd_session *s, struct imapd_cmdctx *c)
{
	struct store_req r;
	uint32_t *uids = NULL, *changed = NULL, *failed = NULL;
	size_t *idx = NULL, n = 0, nuids = 0, nchanged = 0, nfailed = 0;
	char *set = NULL;
	int rc;

	memset(&r, 0, sizeof(r));
	rc = read_set(s, c, &set);
	if (rc == 0)
		rc = read_store_args(s, c, &r);
	if (rc == 0)
		rc = resolve(s, c, set, &idx, &n);
	if (rc != 0)
		goto out;
	if (s->view->readonly) {
		rc = imapd_no(c, "CANNOT", "Mailbox is read-only.");
		goto out;
	}
	if (r.unchanged)
		imapd_enable_condstore(s);
	r.ch.keywords = r.kw;
	r.ch.nkeywords = r.nkw;
	uids = live_uids(s->view, idx, n, &nuids);
	/* UNCHANGEDSINCE 0 fails for every message (MODSEQs start at 1);
	 * the store reads 0 as "no test", so it is answered here. */
	if (r.unchanged && r.ch.unchangedsince == 0) {
		failed = xreallocarray(NULL, nuids + 1, sizeof(*failed));
		memcpy(failed, uids, nuids * sizeof(*uids));
		nfailed = nuids;
	} else if (nuids > 0 && (rc = store_msg_set_flags(s->st, s->view->mbox, uids,
	    nuids, &r.ch, &changed, &nchanged, &failed, &nfailed)) != 0) {
		rc = imapd_no_store(s, c, rc);
		goto out;
	}
	/* Read our own change back: new MODSEQs, new keywords. */
	(void)imapd_view_sync(s);
	if (s->view->kw_changed)
		imapd_view_write_flags(s);
	if (store_answer(s, c, &r, idx, n, changed, nchanged, failed,
	    nfailed) < 0) {
		rc = IMAPD_CLOSE;
		goto out;
	}
	rc = imapd_ok(c, NULL, nfailed > 0 ? "Conditional STORE failed." :
	    "Store completed.");
	if (nfailed > 0)
		modified_code(s, c, failed, nfailed);
out:
	store_req_free(&r);
	free(set);
	free(idx);
	free(uids);
	free(changed);
	free(failed);
	return rc;
}

/* ---- COPY and MOVE ------------------------------------------------------ */

/* "COPYUID uidvalidity src dst" for the pairs that were copied. */
static void
copyuid_code(uint32_t uidvalidity, const uint32_t *uids,
    const uint32_t *newuids, size_t n, char *code, size_t codelen)
{
	uint32_t *src = xreallocarray(NULL, n + 1, sizeof(*src));
	uint32_t *dst = xreallocarray(NULL, n + 1, sizeof(*dst));
	struct buf b;
	size_t i, k = 0;

	for (i = 0; i < n; i++) {
		if (newuids[i] == 0)
			continue;
		src[k] = uids[i];
		dst[k++] = newuids[i];
	}
	buf_init(&b, UIDSET_MAX);
	buf_printf(&b, "COPYUID %u ", uidvalidity);
	imap_seqset_format(src, k, &b);
	buf_addc(&b, ' ');
	imap_seqset_format(dst, k, &b);
	code[0] = '\0';
	if (k > 0 && b.len < codelen)
		memcpy(code, b.data, b.len + 1);
	buf_free(&b);
	free(src);
	free(dst);
}

static int
copy_move(struct imapd_session *s, struct imapd_cmdctx *c, int move)
{
	struct store_mailbox dest;
	uint32_t *uids = NULL, *newuids = NULL;
	size_t *idx = NULL, n = 0, nuids = 0;
	char *set = NULL, *name = NULL;
	int rc;

	rc = read_set(s, c, &set);
	if (rc == 0)
		rc = imapd_arg_mailbox(s, c, &name);
	if (rc == 0)
		rc = imapd_arg_end(s, c);
	if (rc == 0)
		rc = resolve(s, c, set, &idx, &n);
	if (rc != 0)
		goto out;
	if (move && s->view->readonly) {
		rc = imapd_no(c, "CANNOT", "Mailbox is read-only.");
		goto out;
	}
	rc = store_mailbox_find(s->st, s->acct, name, &dest);
	if (rc == STORE_ENOENT) {
		rc = imapd_no(c, "TRYCREATE", "Mailbox doesn't exist: %.200s",
		    name);
		goto out;
	}
	if (rc != 0) {
		rc = imapd_no_store(s, c, rc);
		goto out;
	}
	uids = live_uids(s->view, idx, n, &nuids);
	newuids = xcalloc(nuids + 1, sizeof(*newuids));
	rc = nuids == 0 ? 0 : move ? store_msg_move(s->st, s->view->mbox, uids,
	    nuids, dest.id, newuids) : store_msg_copy(s->st, s->view->mbox,
	    uids, nuids, dest.id, newuids);
	if (rc != 0)
		rc = imapd_no_store(s, c, rc);
	else if (nuids == 0)
		rc = imapd_ok(c, NULL, "No messages found.");
	else {
		copyuid_code(dest.uidvalidity, uids, newuids, nuids, c->code,
		    sizeof(c->code));
		if (move && c->code[0] != '\0') {
			imapd_printf(s, "* OK [%s] Moved UIDs.\r\n", c->code);
			c->code[0] = '\0';
		}
		snprintf(c->text, sizeof(c->text), "%s completed.",
		    move ? "Move" : "Copy");
		rc = IMAPD_OK;
	}
	store_mailbox_clear(&dest);
out:
	free(set);
	free(name);
	free(idx);
	free(uids);
	free(newuids);
	return rc;
}

int
imapd_cmd_copy(struct imapd_session *s, struct imapd_cmdctx *c)
{
	return copy_move(s, c, 0);
}

int
imapd_cmd_move(struct imapd_session *s, struct imapd_cmdctx *c)
{
	return copy_move(s, c, 1);
}

/* ---- FETCH ------------------------------------------------------------- */


/* UID FETCH ... (CHANGEDSINCE n VANISHED): what of the set vanished. */
static int
fetch_vanished(struct imapd_session *s, const char *set, uint64_t since)
{
	struct imap_seqset *want;
	uint32_t *uids = NULL;
	size_t n = 0, i, k = 0;
	struct buf b;
	int rc;

	if (imap_seqset_parse(set, s->view->uidnext > 0 ?
	    s->view->uidnext - 1 : 0, &want, NULL, 0) != 0)
		return 0;
	rc = store_msg_vanished(s->st, s->view->mbox, since, &uids, &n);
	for (i = 0; rc == 0 && i < n; i++)
		if (imap_seqset_contains(want, uids[i]))
			uids[k++] = uids[i];
	imap_seqset_free(&want);
	if (rc == 0 && k > 0) {
		buf_init(&b, UIDSET_MAX);
		buf_adds(&b, "* VANISHED (EARLIER) ");
		if (imap_seqset_format(uids, k, &b) == 0) {
			buf_adds(&b, "\r\n");
			imapd_write(s, b.data, b.len);
		}
		buf_free(&b);
	}
	free(uids);
	return rc;
}

/* Set \Seen on the unseen messages among idx before their bodies go. */
static int
fetch_set_seen(struct imapd_session *s, const size_t *idx, size_t n)
{
	struct store_flag_change ch = { STORE_FLAGS_ADD, STORE_F_SEEN, NULL,
	    0, 0 };
	struct imapd_view *v = s->view;
	uint32_t *uids;
	size_t i, k = 0;
	int rc = 0;

	uids = xreallocarray(NULL, n + 1, sizeof(*uids));
	for (i = 0; i < n; i++)
		if (!(v->msgs[idx[i]].flags & STORE_F_SEEN) &&
		    !(v->mark[idx[i]] & IMAPD_V_GONE))
			uids[k++] = v->msgs[idx[i]].uid;
	if (k > 0)
		rc = store_msg_set_flags(s->st, v->mbox, uids, k, &ch, NULL,
		    NULL, NULL, NULL);
	free(uids);
	/* Read it back: the new flags and MODSEQs are marked to go out
	 * with the FETCH responses. */
	if (rc == 0 && k > 0)
		rc = imapd_view_sync(s);
	return rc;
}

/* One message through fetch.c, with the flag change it folds in. 0, or
 * as imapd_fetch_write(); a message expunged meanwhile counts in *gone_r. */
static int
fetch_one(struct imapd_session *s, struct imapd_fetch *f, size_t j,
    struct buf *flags, size_t *gone_r)
{
	struct imapd_view *v = s->view;
	struct imapd_fetch_msg fm;
	int rc;

	buf_reset(flags);
	imapd_add_flags(s, flags, v->msgs[j].flags, v->msgs[j].kw,
	    v->msgs[j].nkw, (v->mark[j] & IMAPD_V_RECENT) != 0);
	memset(&fm, 0, sizeof(fm));
	fm.seq = (uint32_t)(j + 1);
	fm.msg = &v->msgs[j];
	fm.flags = flags->data != NULL ? flags->data : "";
	fm.include_flags = (v->mark[j] & IMAPD_V_FLAGS) != 0;
	/* MODSEQ only when asked (RFC 7162 3.2.4 spares FETCHes that do not
	 * ask); a flag change folded in gets its MODSEQ in a FETCH of its
	 * own right after, as Dovecot sends it. */
	fm.include_modseq = 0;
	fm.st = s->st;
	rc = imapd_fetch_write(f, &fm, &s->out);
	if (rc == 0 && fm.include_flags) {
		if (s->condstore)
			rc = imapd_view_fetch_flags(s, j, IMAPD_FF_NOFLAGS);
		else {
			v->mark[j] &= (unsigned char)~IMAPD_V_FLAGS;
			v->nflags--;
		}
	}
	/* Expunged by another session, known to the view or not yet: skip
	 * it, send the rest, and answer EXPUNGEISSUED. */
	if (rc == STORE_ENOENT || (rc < -1 && (v->mark[j] & IMAPD_V_GONE))) {
		++*gone_r;
		rc = 0;
	}
	return rc;
}

static int
fetch_run(struct imapd_session *s, struct imapd_fetch *f, const size_t *idx,
    size_t n, size_t *gone_r)
{
	struct imapd_view *v = s->view;
	uint64_t since = imapd_fetch_changedsince(f);
	struct buf flags;
	size_t i, j;
	int rc = 0;

	buf_init(&flags, 64 * 1024);
	/* One read snapshot per FETCH_SNAPSHOT messages: a lock per message
	 * would cost more than the reading, and a snapshot held for a whole
	 * 100,000-message FETCH to a slow client would hold back the WAL. */
	store_snapshot_begin(s->st);
	for (i = 0; i < n && rc == 0; i++) {
		j = idx[i];
		if (i > 0 && i % FETCH_SNAPSHOT == 0) {
			store_snapshot_end(s->st);
			store_snapshot_begin(s->st);
		}
		if (since != 0 && v->msgs[j].modseq <= since)
			continue;
		rc = fetch_one(s, f, j, &flags, gone_r);
	}
	store_snapshot_end(s->st);
	buf_free(&flags);
	return rc;
}

/* ---- FETCH of what the view holds ----------------------------------------- */

/*
 * "UID FETCH 1:* (UID FLAGS)" is what a client sends on every reconnect,
 * and on a big mailbox it is only formatting: everything it asks for is in
 * the view. When imapd_fetch_in_view() says a request asks for nothing
 * else, fetch.c's imapd_fetch_format() writes the answers (the same bytes
 * as imapd_fetch_write(), which the FETCH unit suite proves for every
 * order of those items) straight into one large buffer that is handed to
 * the session in big pieces, without a writer per message or a read
 * snapshot (nothing is read). The FLAGS text of a message without
 * keywords is made once per set of flags. A message whose flag change is
 * folded in (IMAPD_V_FLAGS) still goes through fetch_one(), which knows
 * what to add and what to mark as sent.
 */
#define BULK_OUT	(256 * 1024)	/* bytes handed to the session at once */
#define BULK_NFLAGS	64		/* system flag sets x \Recent */

struct bulk {
	char		*out;		/* BULK_OUT bytes */
	size_t		 len;
	char		*flags[BULK_NFLAGS];	/* flag texts without keywords */
	size_t		 flagslen[BULK_NFLAGS];
	struct buf	 kwflags;	/* a text with keywords */
};

static void
bulk_free(struct bulk *b)
{
	size_t i;

	for (i = 0; i < BULK_NFLAGS; i++)
		free(b->flags[i]);
	free(b->out);
	buf_free(&b->kwflags);
}

/* The FLAGS text of message j (borrowed until the next call). */
static const char *
bulk_flags(struct imapd_session *s, struct bulk *b, size_t j, size_t *len_r)
{
	const struct store_msg *m = &s->view->msgs[j];
	int recent = (s->view->mark[j] & IMAPD_V_RECENT) != 0;
	unsigned key = (m->flags & 0x1f) | (recent ? 0x20 : 0);
	struct buf t;

	if (m->nkw > 0) {
		buf_reset(&b->kwflags);
		imapd_add_flags(s, &b->kwflags, m->flags, m->kw, m->nkw,
		    recent);
		*len_r = b->kwflags.len;
		return b->kwflags.data != NULL ? b->kwflags.data : "";
	}
	if (b->flags[key] == NULL) {
		buf_init(&t, 1024);
		imapd_add_flags(s, &t, m->flags, NULL, 0, recent);
		b->flags[key] = buf_steal(&t, &b->flagslen[key]);
	}
	*len_r = b->flagslen[key];
	return b->flags[key];
}

static int
bulk_flush(struct imapd_session *s, struct bulk *b)
{
	int rc = 0;

	if (b->len > 0)
		rc = imapd_write(s, b->out, b->len);
	b->len = 0;
	return rc;
}

/*
 * Run f over the indexes through the bulk path. 0, -1 (connection gone),
 * or 1 if f asks for more than the view holds (nothing was written).
 */
static int
fetch_run_bulk(struct imapd_session *s, struct imapd_fetch *f,
    const size_t *idx, size_t n, size_t *gone_r)
{
	struct imapd_view *v = s->view;
	uint64_t since = imapd_fetch_changedsince(f);
	struct imapd_fetch_msg fm;
	struct buf flags;
	struct bulk b;
	size_t i, j, ftlen;
	int rc = 0;

	if (!imapd_fetch_in_view(f))
		return 1;
	memset(&b, 0, sizeof(b));
	memset(&fm, 0, sizeof(fm));
	b.out = xmalloc(BULK_OUT);
	buf_init(&b.kwflags, 1024 * 1024);
	buf_init(&flags, 64 * 1024);
	for (i = 0; i < n && rc == 0; i++) {
		j = idx[i];
		if (since != 0 && v->msgs[j].modseq <= since)
			continue;
		fm.flags = bulk_flags(s, &b, j, &ftlen);
		if ((v->mark[j] & IMAPD_V_FLAGS) ||
		    ftlen > BULK_OUT - IMAPD_FETCH_VIEW_MAX) {
			if ((rc = bulk_flush(s, &b)) == 0)
				rc = fetch_one(s, f, j, &flags, gone_r);
			continue;
		}
		if (b.len + IMAPD_FETCH_VIEW_MAX + ftlen > BULK_OUT &&
		    (rc = bulk_flush(s, &b)) != 0)
			break;
		fm.seq = (uint32_t)(j + 1);
		fm.msg = &v->msgs[j];
		b.len = (size_t)(imapd_fetch_format(f, &fm, ftlen,
		    b.out + b.len) - b.out);
	}
	if (rc == 0)
		rc = bulk_flush(s, &b);
	buf_free(&flags);
	bulk_free(&b);
	return rc;
}

int
imapd_cmd_fetch(struct imapd_session *s, struct imapd_cmdctx *c)
{
	struct imapd_fetch *f = NULL;
	size_t *idx = NULL, n = 0, gone = 0;
	char *set = NULL, err[256];
	unsigned needs;
	int rc;

	if ((rc = read_set(s, c, &set)) != 0)
		return rc;
	err[0] = '\0';
	/* The parser reads through the CRLF. */
	if (imapd_fetch_parse(&s->src, c->uid, &f, err, sizeof(err)) < 0) {
		rc = imapd_bad(c, "Error in IMAP command FETCH: %s",
		    err[0] != '\0' ? err : "Bad arguments.");
		goto out;
	}
	if ((rc = resolve(s, c, set, &idx, &n)) != 0)
		goto out;
	if (imapd_fetch_vanished(f) && !s->qresync) {
		rc = imapd_bad(c, "VANISHED needs QRESYNC enabled.");
		goto out;
	}
	needs = imapd_fetch_needs(f);
	if (needs & IMAPD_FETCH_MODSEQ)
		imapd_enable_condstore(s);
	if (imapd_fetch_vanished(f) && (rc = fetch_vanished(s, set,
	    imapd_fetch_changedsince(f))) != 0) {
		rc = imapd_no_store(s, c, rc);
		goto out;
	}
	if ((needs & IMAPD_FETCH_SETS_SEEN) && !s->view->readonly &&
	    (rc = fetch_set_seen(s, idx, n)) != 0) {
		rc = imapd_no_store(s, c, rc);
		goto out;
	}
	if ((rc = fetch_run_bulk(s, f, idx, n, &gone)) == 1)
		rc = fetch_run(s, f, idx, n, &gone);
	if (rc == -1 || s->dead) {
		rc = IMAPD_CLOSE;
		goto out;
	}
	if (rc < 0) {
		rc = imapd_no_store(s, c, rc);
		goto out;
	}
	if (gone > 0)
		rc = imapd_no(c, "EXPUNGEISSUED", "Some of the requested "
		    "messages no longer exist.");
	else
		rc = imapd_ok(c, NULL, "Fetch completed.");
out:
	imapd_fetch_free(&f);
	free(set);
	free(idx);
	return rc;
}

/* ---- SEARCH ------------------------------------------------------------ */

int
imapd_cmd_search(struct imapd_session *s, struct imapd_cmdctx *c)
{
	struct imapd_view *v = s->view;
	struct imapd_search_ctx ctx;
	struct imapd_search *srch = NULL;
	size_t *idx = NULL, n = 0;
	uint64_t hms = 0;
	char err[256];
	int rc;

	memset(&ctx, 0, sizeof(ctx));
	ctx.st = s->st;
	ctx.acct = s->acct;
	ctx.mbox = v->mbox;
	ctx.msgs = v->msgs;
	ctx.nmsgs = v->n;
	ctx.first_recent = imapd_view_first_recent(v);
	err[0] = '\0';
	rc = imapd_search_parse(&s->src, &ctx, &srch, err, sizeof(err));
	if (rc == IMAPD_SEARCH_EBADCHARSET)
		return imapd_no(c, "BADCHARSET (UTF-8 US-ASCII)", "Unknown "
		    "charset.");
	if (rc != 0)
		return imapd_bad(c, "%s", err[0] != '\0' ? err :
		    "Bad SEARCH arguments.");
	if (imapd_search_uses_modseq(srch))
		imapd_enable_condstore(s);
	store_snapshot_begin(s->st);
	rc = imapd_search_run(srch, &ctx, &idx, &n, &hms);
	store_snapshot_end(s->st);
	if (rc != 0)
		rc = imapd_no_store(s, c, rc);
	else if (imapd_search_write(srch, &ctx, c->tag, c->uid, idx, n, hms,
	    &s->out) < 0)
		rc = IMAPD_CLOSE;
	else
		rc = imapd_ok(c, NULL, "Search completed.");
	free(idx);
	imapd_search_free(&srch);
	return rc;
}

/*
 * cmd_append: APPEND (RFC 3501 6.3.11) with UIDPLUS's APPENDUID (RFC
 * 4315) and LITERAL+ (RFC 7888).
 *
 * The message literal is never held in memory: the lexer hands it out in
 * pieces, and each piece goes straight into store_append_write(), which
 * hashes, chunks, compresses and seals as it goes. Everything that can be
 * refused is refused before the literal is accepted (no "+" is sent for
 * a synchronizing literal that would be thrown away): a missing mailbox
 * (NO [TRYCREATE]), bad flags or date (BAD), a literal over the limit
 * (the lexer's NO [TOOBIG]). A LITERAL+ that is refused is skipped by the
 * lexer, so the connection stays usable either way.
 */
#include "server/imap/imapd_int.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lib/date.h"
#include "lib/util.h"

#define APPEND_MAX_KEYWORDS	STORE_MAX_KEYWORDS

struct append_req {
	uint32_t	 flags;
	char		*kw[APPEND_MAX_KEYWORDS];
	size_t		 nkw;
	int64_t		 date;
	int32_t		 tzoff;
};

static void
append_req_free(struct append_req *r)
{
	size_t i;

	for (i = 0; i < r->nkw; i++)
		free(r->kw[i]);
}

static int
read_flags(struct imapd_session *s, struct imapd_cmdctx *c,
    struct append_req *r)
{
	struct imap_tok tok;
	uint32_t bit;
	int kind;

	for (;;) {
		if (imapd_tok(s, &tok) < 0)
			return imapd_bad(c, "Bad flag list.");
		if (tok.kind == IMAP_TOK_RPAREN)
			return 0;
		if (tok.kind != IMAP_TOK_ATOM)
			return imapd_bad(c, "Bad flag list.");
		kind = imapd_parse_flag(tok.s, &bit);
		if (kind < 0)
			return imapd_bad(c, "Invalid system flag %.40s.",
			    tok.s);
		if (kind == 1)
			r->flags |= bit;
		else if (strpbrk(tok.s, "%*]") != NULL)
			return imapd_bad(c, "Invalid keyword %.40s.", tok.s);
		else if (r->nkw == APPEND_MAX_KEYWORDS)
			return imapd_bad(c, "Too many keywords.");
		else
			r->kw[r->nkw++] = xstrdup(tok.s);
	}
}

/* Read up to the literal's LITERAL_START token. */
static int
read_args(struct imapd_session *s, struct imapd_cmdctx *c,
    struct append_req *r, struct imap_tok *tok)
{
	int rc;

	if (imapd_tok(s, tok) < 0)
		return imapd_bad(c, "Bad APPEND arguments.");
	if (tok->kind == IMAP_TOK_LPAREN && tok->sp > 0) {
		if ((rc = read_flags(s, c, r)) != 0)
			return rc;
		if (imapd_tok(s, tok) < 0)
			return imapd_bad(c, "Bad APPEND arguments.");
	}
	if (tok->kind == IMAP_TOK_QUOTED && tok->sp > 0) {
		if (date_imap_parse(tok->s, tok->len, &r->date, &r->tzoff) < 0)
			return imapd_bad(c, "Invalid date-time.");
		if (imapd_tok(s, tok) < 0)
			return imapd_bad(c, "Bad APPEND arguments.");
	}
	if (tok->kind != IMAP_TOK_LITERAL_START || tok->sp == 0)
		return imapd_bad(c, "APPEND needs the message as a literal.");
	return 0;
}

/*
 * Stream the literal into ap (which may be NULL after a store error:
 * the bytes are then read and dropped). 0, or -1 if the connection
 * failed. *werr_r gets the first store error.
 */
static int
stream_literal(struct imapd_session *s, struct store_append **ap,
    int *werr_r)
{
	struct imap_tok tok;
	int rc;

	imap_lex_literal_stream(s->lx);
	if (s->lit_sync && imapd_continue(s, "OK") < 0)
		return -1;
	for (;;) {
		if (imapd_tok(s, &tok) < 0 || tok.kind != IMAP_TOK_LITERAL_DATA)
			return -1;
		if (*ap != NULL && tok.len > 0 &&
		    (rc = store_append_write(*ap, tok.s, tok.len)) != 0) {
			*werr_r = rc;
			store_append_abort(ap);
		}
		if (tok.lit_left == 0)
			return 0;
	}
}

int
imapd_cmd_append(struct imapd_session *s, struct imapd_cmdctx *c)
{
	struct store_append_opts opts;
	struct store_append *ap = NULL;
	struct store_mailbox mb;
	struct append_req r;
	struct imap_tok tok;
	char *name = NULL;
	uint32_t uid = 0;
	int rc, werr = 0;

	memset(&r, 0, sizeof(r));
	rc = imapd_arg_mailbox(s, c, &name);
	if (rc == 0)
		rc = read_args(s, c, &r, &tok);
	if (rc != 0)
		goto out;
	rc = store_mailbox_find(s->st, s->acct, name, &mb);
	if (rc != 0) {
		rc = rc == STORE_ENOENT ? imapd_no(c, "TRYCREATE", "Mailbox "
		    "doesn't exist: %.200s", name) : imapd_no_store(s, c, rc);
		goto out;
	}
	memset(&opts, 0, sizeof(opts));
	opts.flags = r.flags;
	opts.keywords = (const char *const *)r.kw;
	opts.nkeywords = r.nkw;
	opts.internaldate = r.date;
	opts.tzoff = r.tzoff;
	if ((rc = store_append_begin(s->st, mb.id, &opts, &ap)) != 0) {
		rc = imapd_no_store(s, c, rc);
		goto out_mb;
	}
	if (stream_literal(s, &ap, &werr) < 0) {
		store_append_abort(&ap);
		rc = s->dead ? IMAPD_CLOSE : imapd_bad(c, "Bad literal.");
		goto out_mb;
	}
	/* One message per APPEND (no MULTIAPPEND). */
	if (imapd_tok(s, &tok) < 0 || tok.kind != IMAP_TOK_CRLF) {
		store_append_abort(&ap);
		rc = s->dead ? IMAPD_CLOSE : imapd_bad(c, "One message per "
		    "APPEND.");
		goto out_mb;
	}
	if (werr != 0)
		rc = imapd_no_store(s, c, werr);
	else if ((rc = store_append_commit(&ap, &uid)) != 0)
		rc = imapd_no_store(s, c, rc);
	else
		rc = imapd_ok(c, NULL, "Append completed.");
	if (rc == IMAPD_OK)
		snprintf(c->code, sizeof(c->code), "APPENDUID %u %u",
		    mb.uidvalidity, uid);
out_mb:
	store_mailbox_clear(&mb);
out:
	append_req_free(&r);
	free(name);
	return rc;
}

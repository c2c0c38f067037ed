/*
 * search_text: the IMAP SEARCH evaluator for callers without a session,
 * the CLI's `rm --search`, `mv --search` and friends (server_search_uids()
 * in server/server.h).
 *
 * The query is the text a client would write after "UID SEARCH": it is
 * fed, with a CRLF, to a lexer of its own, and search.c parses it against
 * the mailbox's messages as a session that has just selected it would see
 * them (sequence numbers count them in UID order, nothing is \Recent),
 * then evaluates it. So a query means in the CLI exactly what it means to
 * an IMAP client, text matching and all, with one implementation.
 */
#include "server/server.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lib/imap_lex.h"
#include "lib/util.h"
#include "server/imap/search.h"
#include "store/store.h"

/* A token source over a lexer holding the whole query. */
static int
text_next(void *arg, struct imap_tok *tok)
{
	return imap_lex_next(arg, tok) == 1 ? 1 : -1;
}

static int
text_astring(void *arg, struct imap_tok *tok)
{
	return imap_lex_astring(arg, tok) == 1 ? 1 : -1;
}

static int
text_collect(void *arg, size_t max)
{
	return imap_lex_literal_collect(arg, max);
}

/* Parse query against ctx: 0 and *s_r, or -1 with err filled. */
static int
parse_query(const char *query, const struct imapd_search_ctx *ctx,
    struct imapd_search **s_r, char *err, size_t errlen)
{
	struct imap_lex_limits lim = { IMAP_LEX_LINE_AUTH,
	    IMAPD_SEARCH_MAX_STRING, IMAP_LEX_DEPTH_MAX };
	struct imapd_toksrc src = { text_next, text_astring, text_collect,
	    NULL };
	struct imap_lex *lx;
	char *line, why[256];
	int rc;

	if (strpbrk(query, "\r\n") != NULL)
		return seterr(err, errlen, -1, "a search is one line");
	lx = imap_lex_new(&lim);
	src.arg = lx;
	line = xasprintf("%s\r\n", query);
	rc = imap_lex_feed(lx, line, strlen(line));
	free(line);
	why[0] = '\0';
	if (rc == 0)
		rc = imapd_search_parse(&src, ctx, s_r, why, sizeof(why));
	if (rc == IMAPD_SEARCH_ELEX || (rc != 0 && why[0] == '\0'))
		snprintf(why, sizeof(why), "%s", imap_lex_error(lx));
	imap_lex_free(&lx);
	if (rc == IMAPD_SEARCH_EBADCHARSET)
		return seterr(err, errlen, -1, "the search names a charset "
		    "other than UTF-8 or US-ASCII");
	if (rc != 0)
		return seterr(err, errlen, -1, "the search '%s' is not IMAP "
		    "SEARCH syntax: %s", query, why);
	return 0;
}

int
server_search_uids(struct store *st, int64_t acct, int64_t mbox,
    const char *query, uint32_t **uids_r, size_t *n_r, char *err,
    size_t errlen)
{
	struct imapd_search_ctx ctx;
	struct imapd_search *s = NULL;
	struct store_msg *msgs = NULL;
	uint32_t *uids = NULL;
	uint64_t hms;
	size_t *idx = NULL, n = 0, nmsgs = 0, i;
	int rc;

	if (store_msg_list(st, mbox, 0, &msgs, &nmsgs) != 0)
		return seterr(err, errlen, -1, "%s", store_errmsg(st));
	memset(&ctx, 0, sizeof(ctx));
	ctx.st = st;
	ctx.acct = acct;
	ctx.mbox = mbox;
	ctx.msgs = msgs;
	ctx.nmsgs = nmsgs;
	rc = parse_query(query, &ctx, &s, err, errlen);
	if (rc == 0 && imapd_search_run(s, &ctx, &idx, &n, &hms) != 0)
		rc = seterr(err, errlen, -1, "%s", store_errmsg(st));
	if (rc == 0 && n > 0) {
		uids = xreallocarray(NULL, n, sizeof(*uids));
		for (i = 0; i < n; i++)
			uids[i] = msgs[idx[i]].uid;
	}
	imapd_search_free(&s);
	free(idx);
	free(msgs);
	if (rc != 0)
		return -1;
	*uids_r = uids;
	*n_r = rc == 0 ? n : 0;
	return 0;
}

/*
 * fuzz_server_imap_cmd: the IMAP command parsers that read a client's
 * arguments. The input is lexed as a command line and handed to the FETCH
 * parser and to the SEARCH parser through the same token source a session
 * uses; whatever the bytes, they must return (a request or an error with a
 * sentence) without touching memory they should not.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "lib/imap_lex.h"
#include "server/imap/fetch.h"
#include "server/imap/imapd_io.h"
#include "server/imap/search.h"
#include "store/store.h"

int	LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* The whole input is fed at once, so "need more" means the input ended. */
static int
src_next(void *arg, struct imap_tok *tok)
{
	return imap_lex_next(arg, tok) == 1 ? 1 : -1;
}

static int
src_astring(void *arg, struct imap_tok *tok)
{
	return imap_lex_astring(arg, tok) == 1 ? 1 : -1;
}

static int
src_collect(void *arg, size_t max)
{
	return imap_lex_literal_collect(arg, max);
}

static struct imap_lex *
lexer(const uint8_t *data, size_t size)
{
	struct imap_lex_limits lim = { IMAP_LEX_LINE_AUTH, 1 << 20,
	    IMAP_LEX_DEPTH_MAX };
	struct imap_lex *lx = imap_lex_new(&lim);

	if (imap_lex_feed(lx, data, size) < 0) {
		imap_lex_free(&lx);
		return NULL;
	}
	return lx;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct imapd_search_ctx ctx;
	struct imapd_toksrc src = { src_next, src_astring, src_collect, NULL };
	struct imapd_fetch *f = NULL;
	struct imapd_search *s = NULL;
	struct store_msg msgs[3];
	char err[256];
	int i;

	if (size < 1)
		return 0;
	for (i = 0; i < 2; i++) {
		if ((src.arg = lexer(data + 1, size - 1)) == NULL)
			return 0;
		if (i == 0) {
			if (imapd_fetch_parse(&src, data[0] & 1, &f, err,
			    sizeof(err)) == 0)
				imapd_fetch_free(&f);
			else if (err[0] == '\0')
				abort();	/* an error must say why */
		} else {
			memset(msgs, 0, sizeof(msgs));
			msgs[0].uid = 1;
			msgs[1].uid = 5;
			msgs[2].uid = 9;
			memset(&ctx, 0, sizeof(ctx));
			ctx.msgs = msgs;
			ctx.nmsgs = data[0] % 4;
			if (imapd_search_parse(&src, &ctx, &s, err,
			    sizeof(err)) == 0)
				imapd_search_free(&s);
		}
		imap_lex_free((struct imap_lex **)&src.arg);
	}
	return 0;
}

/*
 * cmd_idle: IDLE (RFC 2177). After "+ idling" the session waits on three
 * things at once: the socket (for DONE), its store handle's change
 * descriptor (a commit by any session of this process wakes it at once)
 * and a one-second tick, at which the view's sync asks the store whether
 * another process (a `mailvault import`) committed, so such a change
 * shows within about a second. Each wake-up reports what changed in the
 * selected mailbox, EXPUNGEs included, and flushes. The idle timeout
 * (30 minutes) applies to IDLE as to any other silence.
 */
#include "server/imap/imapd_int.h"

#include <string.h>

#include "lib/util.h"

#define IDLE_TICK_MS	1000

/* Report and flush; -1 if the session must end. */
static int
idle_report(struct imapd_session *s)
{
	if (s->view != NULL && imapd_view_report(s, 1) < 0)
		return -1;
	return imapd_flush(s);
}

/* The next token while idling; 1, or -1 (lexer error or session end). */
static int
idle_token(struct imapd_session *s, struct imap_tok *tok, int64_t deadline)
{
	int64_t left;
	int r, wait;

	for (;;) {
		r = imap_lex_next(s->lx, tok);
		if (r != 0)
			return r > 0 ? 1 : -1;
		left = deadline - now_ms();
		if (left <= 0) {
			imapd_log(s, "IDLE timed out");
			imapd_bye(s, "Disconnected for inactivity.");
			s->dead = 1;
			return -1;
		}
		wait = left < IDLE_TICK_MS ? (int)left : IDLE_TICK_MS;
		r = imapd_wait_input(s, wait, store_change_fd(s->st));
		if (r > 0)
			continue;
		if (r == NET_EWAKE || r == 0) {
			/* The view's sync takes the notice (and asks
			 * data_version); without a view, drop it. */
			if (s->view == NULL)
				store_change_ack(s->st);
			if (idle_report(s) < 0)
				return -1;
		} else
			return -1;
	}
}

int
imapd_cmd_idle(struct imapd_session *s, struct imapd_cmdctx *c)
{
	int64_t deadline = now_ms() + s->cfg->timeout_ms;
	struct imap_tok tok;
	int rc;

	if ((rc = imapd_arg_end(s, c)) != 0)
		return rc;
	if (imapd_continue(s, "idling") < 0 || idle_report(s) < 0)
		return IMAPD_CLOSE;
	if (idle_token(s, &tok, deadline) < 0)
		return s->dead ? IMAPD_CLOSE : imapd_bad(c, "Bad IDLE end.");
	if (!imap_tok_atom_is(&tok, "DONE"))
		return imapd_bad(c, "Expected DONE.");
	if (idle_token(s, &tok, deadline) < 0)
		return s->dead ? IMAPD_CLOSE : imapd_bad(c, "Bad IDLE end.");
	if (tok.kind != IMAP_TOK_CRLF)
		return imapd_bad(c, "Expected DONE alone on its line.");
	return imapd_ok(c, NULL, "Idle completed.");
}

/*
 * session: one IMAP connection, from greeting to goodbye, on its own
 * thread.
 *
 * Input: bytes arrive in the TLS stream's read buffer and are fed to the
 * lexer only when it has used up what it had, so the lexer never holds
 * more than one read's worth; tokens are pulled by the dispatcher and the
 * handlers through imapd_tok() and the imapd_toksrc the FETCH and SEARCH
 * parsers use. Output: everything goes into the stream's write buffer and
 * leaves when it fills or when the session is about to wait for input, so
 * a pipelined batch of commands is answered in few writes and a large
 * FETCH in 64 KiB pieces, and nothing is left unsent while we sleep.
 *
 * Waiting is bounded: the idle timeout (30 minutes by default) ends a
 * session that sends nothing, and the server's shutdown descriptor (the
 * stream's cancel descriptor) ends it at once with a BYE.
 */
#include "server/imap/imapd_int.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lib/tls.h"
#include "lib/utf7.h"
#include "lib/util.h"
#include "server/imap/imapd.h"

#define TLS_HANDSHAKE_MS	30000

static pthread_mutex_t log_lock = PTHREAD_MUTEX_INITIALIZER;

/* ---- logging ------------------------------------------------------------- */

void
imapd_log_line(const char *fmt, ...)
{
	va_list ap;

	pthread_mutex_lock(&log_lock);
	fputs("mailvault: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	fflush(stderr);
	pthread_mutex_unlock(&log_lock);
}

void
imapd_log(struct imapd_session *s, const char *fmt, ...)
{
	char line[1024], *p;
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	/* Client text (a user name, ID fields) must not forge log lines. */
	for (p = line; *p != '\0'; p++)
		if ((unsigned char)*p < 0x20 || *p == 0x7f)
			*p = '?';
	imapd_log_line("imap[%u] %s: %s", s->id, s->peer, line);
}

/* ---- output --------------------------------------------------------------- */

int
imapd_write(struct imapd_session *s, const void *p, size_t n)
{
	if (s->dead)
		return -1;
	if (tls_stream_write(s->io, p, n) != 0) {
		s->dead = 1;
		return -1;
	}
	return 0;
}

int
imapd_puts(struct imapd_session *s, const char *str)
{
	return imapd_write(s, str, strlen(str));
}

int
imapd_printf(struct imapd_session *s, const char *fmt, ...)
{
	va_list ap;
	int rc;

	if (s->dead)
		return -1;
	va_start(ap, fmt);
	rc = tls_stream_vprintf(s->io, fmt, ap);
	va_end(ap);
	if (rc != 0) {
		s->dead = 1;
		return -1;
	}
	return 0;
}

int
imapd_flush(struct imapd_session *s)
{
	if (s->dead)
		return -1;
	if (tls_stream_flush(s->io) != 0) {
		s->dead = 1;
		return -1;
	}
	return 0;
}

void
imapd_bye(struct imapd_session *s, const char *text)
{
	if (s->bye)
		return;
	s->bye = 1;
	imapd_printf(s, "* BYE %s\r\n", text);
	imapd_flush(s);
}

static int
out_write(void *arg, const void *p, size_t n)
{
	return imapd_write(arg, p, n);
}

/* ---- input ---------------------------------------------------------------- */

int
imapd_input_pending(struct imapd_session *s)
{
	size_t len;

	if (imap_lex_pending(s->lx) > 0)
		return 1;
	tls_stream_rdata(s->io, &len);
	return len > 0;
}

/* Feed the lexer what the stream holds; 1 if anything was fed. */
static int
feed_buffered(struct imapd_session *s)
{
	const char *p;
	size_t len;

	p = tls_stream_rdata(s->io, &len);
	if (len == 0)
		return 0;
	/* The lexer asked for input, so it holds nothing unread and a
	 * stream buffer's worth always fits. */
	if (imap_lex_feed(s->lx, p, len) < 0) {
		s->dead = 1;
		return -1;
	}
	tls_stream_consume(s->io, len);
	return 1;
}

int
imapd_wait_input(struct imapd_session *s, int timeout_ms, int wake_fd)
{
	long r;
	int fed;

	if (s->dead)
		return -1;
	if ((fed = feed_buffered(s)) != 0)
		return fed;
	/* Never sleep on unsent output. */
	if (imapd_flush(s) < 0)
		return -1;
	r = tls_stream_fill(s->io, timeout_ms, wake_fd);
	if (r > 0)
		return feed_buffered(s);
	switch (r) {
	case TLS_ETIMEOUT:
		return 0;
	case TLS_EWAKE:
		return NET_EWAKE;
	case TLS_ECANCEL:
		imapd_bye(s, server_shared_locking(s->cfg->sh) ? "mailvault "
		    "was locked: run \"mailvault unlock\" to read mail again." :
		    "Server shutting down.");
		break;
	case 0:
		break;
	default:
		imapd_log(s, "connection failed: %s",
		    tls_stream_errmsg(s->io));
		break;
	}
	s->dead = 1;
	return -1;
}

/* Wait for more input with the session's idle timeout. 0 or -1. */
static int
read_more(struct imapd_session *s)
{
	int r = imapd_wait_input(s, s->cfg->timeout_ms, -1);

	if (r > 0)
		return 0;
	if (r == 0) {
		imapd_log(s, "disconnected after %d s without a command",
		    s->cfg->timeout_ms / 1000);
		imapd_bye(s, "Disconnected for inactivity.");
		s->dead = 1;
	}
	return -1;
}

static int
get_tok(struct imapd_session *s, struct imap_tok *tok, int astring)
{
	int r;

	for (;;) {
		if (s->dead)
			return -1;
		r = astring ? imap_lex_astring(s->lx, tok) :
		    imap_lex_next(s->lx, tok);
		if (r > 0) {
			if (tok->kind == IMAP_TOK_LITERAL_START)
				s->lit_sync = tok->lit_sync;
			return 1;
		}
		if (r < 0)
			return -1;
		if (read_more(s) < 0)
			return -1;
	}
}

int
imapd_tok(struct imapd_session *s, struct imap_tok *tok)
{
	return get_tok(s, tok, 0);
}

int
imapd_tok_astring(struct imapd_session *s, struct imap_tok *tok)
{
	return get_tok(s, tok, 1);
}

int
imapd_read_line(struct imapd_session *s, char **line_r)
{
	struct imap_tok tok;
	int r;

	for (;;) {
		if (s->dead)
			return -1;
		r = imap_lex_text(s->lx, &tok);
		if (r < 0)
			return -1;
		if (r > 0)
			break;
		if (read_more(s) < 0)
			return -1;
	}
	*line_r = xstrndup(tok.s, tok.len);
	if (imapd_tok(s, &tok) < 0 || tok.kind != IMAP_TOK_CRLF) {
		free(*line_r);
		*line_r = NULL;
		return -1;
	}
	return 0;
}

int
imapd_continue(struct imapd_session *s, const char *text)
{
	if (imapd_printf(s, "+ %s\r\n", text) < 0)
		return -1;
	return imapd_flush(s);
}

int
imapd_collect(struct imapd_session *s, size_t max)
{
	if (imap_lex_literal_collect(s->lx, max) < 0)
		return -1;
	if (s->lit_sync && imapd_continue(s, "OK") < 0)
		return -1;
	return 0;
}

static int
src_next(void *arg, struct imap_tok *tok)
{
	return imapd_tok(arg, tok);
}

static int
src_astring(void *arg, struct imap_tok *tok)
{
	return imapd_tok_astring(arg, tok);
}

static int
src_collect(void *arg, size_t max)
{
	return imapd_collect(arg, max);
}

/* ---- arguments ------------------------------------------------------------ */

int
imapd_ok(struct imapd_cmdctx *c, const char *code, const char *fmt, ...)
{
	va_list ap;

	snprintf(c->code, sizeof(c->code), "%s", code != NULL ? code : "");
	va_start(ap, fmt);
	vsnprintf(c->text, sizeof(c->text), fmt, ap);
	va_end(ap);
	return IMAPD_OK;
}

int
imapd_no(struct imapd_cmdctx *c, const char *code, const char *fmt, ...)
{
	va_list ap;

	snprintf(c->code, sizeof(c->code), "%s", code != NULL ? code : "");
	va_start(ap, fmt);
	vsnprintf(c->text, sizeof(c->text), fmt, ap);
	va_end(ap);
	return IMAPD_NO;
}

int
imapd_bad(struct imapd_cmdctx *c, const char *fmt, ...)
{
	va_list ap;

	c->code[0] = '\0';
	va_start(ap, fmt);
	vsnprintf(c->text, sizeof(c->text), fmt, ap);
	va_end(ap);
	return IMAPD_BAD;
}

int
imapd_no_store(struct imapd_session *s, struct imapd_cmdctx *c, int rc)
{
	const char *msg = store_errmsg(s->st);
	char first[IMAPD_TEXT_MAX];

	/* Store messages are sentences starting in lower case. */
	snprintf(first, sizeof(first), "%s", msg);
	if (first[0] >= 'a' && first[0] <= 'z')
		first[0] = (char)(first[0] - 'a' + 'A');
	if (rc == STORE_ERR || rc == STORE_ECORRUPT)
		imapd_log(s, "%s failed: %s", c->cmd != NULL ? c->cmd->name :
		    "command", msg);
	return imapd_no(c, imapd_store_code(rc), "%s", first);
}

int
imapd_tok_string(struct imapd_session *s, struct imapd_cmdctx *c,
    struct imap_tok *tok, int atom_ok, char **str_r, size_t *len_r)
{
	if (tok->kind == IMAP_TOK_LITERAL_START) {
		if (imapd_collect(s, IMAPD_STRING_MAX) < 0)
			return imapd_bad(c, "The literal is too long (at most "
			    "%d bytes here).", IMAPD_STRING_MAX);
		if (imapd_tok(s, tok) < 0)
			return imapd_bad(c, "Bad literal.");
	}
	if (tok->kind == IMAP_TOK_CRLF)
		return imapd_bad(c, "Missing argument.");
	if (tok->kind != IMAP_TOK_QUOTED && tok->kind != IMAP_TOK_LITERAL &&
	    !(atom_ok && tok->kind == IMAP_TOK_ATOM))
		return imapd_bad(c, "Expected a string, not %s.",
		    imap_tok_kind_name(tok->kind));
	*str_r = xstrndup(tok->s, tok->len);
	if (len_r != NULL)
		*len_r = tok->len;
	return 0;
}

int
imapd_arg_astring(struct imapd_session *s, struct imapd_cmdctx *c,
    char **str_r, size_t *len_r)
{
	struct imap_tok tok;

	if (imapd_tok_astring(s, &tok) < 0)
		return imapd_bad(c, "Bad argument.");
	if (tok.kind == IMAP_TOK_CRLF)
		return imapd_bad(c, "Missing argument.");
	if (tok.sp == 0)
		return imapd_bad(c, "Missing space before an argument.");
	return imapd_tok_string(s, c, &tok, 1, str_r, len_r);
}

int
imapd_arg_mailbox(struct imapd_session *s, struct imapd_cmdctx *c,
    char **name_r)
{
	struct buf b;
	char *raw;
	size_t len;
	int rc;

	if ((rc = imapd_arg_astring(s, c, &raw, &len)) != 0)
		return rc;
	buf_init(&b, 4 * STORE_NAME_MAX);
	rc = utf7_decode(raw, len, &b);
	if (rc != 0) {
		buf_free(&b);
		rc = imapd_no(c, "CANNOT", "Mailbox name is not valid "
		    "modified UTF-7: %.100s", raw);
		free(raw);
		/* The rest of the line still has to be read. */
		return rc;
	}
	free(raw);
	raw = buf_steal(&b, &len);
	if (ascii_strncasecmp(raw, "INBOX", 5) == 0 &&
	    (raw[5] == '\0' || raw[5] == '/'))
		memcpy(raw, "INBOX", 5);
	*name_r = raw;
	return 0;
}

int
imapd_arg_atom(struct imapd_session *s, struct imapd_cmdctx *c, char *buf,
    size_t bufsize)
{
	struct imap_tok tok;

	if (imapd_tok(s, &tok) < 0)
		return imapd_bad(c, "Bad argument.");
	if (tok.kind == IMAP_TOK_CRLF)
		return imapd_bad(c, "Missing argument.");
	if (tok.sp == 0)
		return imapd_bad(c, "Missing space before an argument.");
	if (tok.kind != IMAP_TOK_ATOM)
		return imapd_bad(c, "Expected an atom, not %s.",
		    imap_tok_kind_name(tok.kind));
	if (tok.len >= bufsize)
		return imapd_bad(c, "Argument too long.");
	memcpy(buf, tok.s, tok.len + 1);
	return 0;
}

int
imapd_arg_end(struct imapd_session *s, struct imapd_cmdctx *c)
{
	struct imap_tok tok;

	if (imapd_tok(s, &tok) < 0)
		return imapd_bad(c, "Bad argument.");
	if (tok.kind != IMAP_TOK_CRLF)
		return imapd_bad(c, "Unexpected argument: %s.",
		    tok.kind == IMAP_TOK_ATOM ? tok.s :
		    imap_tok_kind_name(tok.kind));
	return 0;
}

/* ---- the session ------------------------------------------------------------ */

/* The session's own store handle; none while mailvault is locked. */
static int
open_store(struct imapd_session *s)
{
	char err[STORE_ERRMSG_MAX];

	if (server_shared_open_store(s->cfg->sh, &s->st, err,
	    sizeof(err)) >= 0)
		return 0;
	imapd_log(s, "%s", err);
	return -1;
}

static int
greet(struct imapd_session *s)
{
	struct buf caps;
	int rc;

	buf_init(&caps, 4096);
	imapd_capabilities(s, &caps);
	rc = imapd_printf(s, "* OK [CAPABILITY %s] mailvault ready.\r\n",
	    caps.data);
	buf_free(&caps);
	return rc;
}

static void
session_end(struct imapd_session *s)
{
	size_t i;

	imapd_view_free(&s->view);
	store_close(&s->st);
	imap_lex_free(&s->lx);
	tls_stream_free(&s->io);
	for (i = 0; i < s->nkwname; i++)
		free(s->kwname[i]);
	free(s->kwname);
	free(s->user);
}

void
imapd_config_init(struct imapd_config *cfg, struct server_shared *sh)
{
	memset(cfg, 0, sizeof(*cfg));
	cfg->sh = sh;
	cfg->timeout_ms = server_env_int("MAILVAULT_IMAP_TIMEOUT",
	    IMAPD_TIMEOUT_MS / 1000, 86400) * 1000;
	cfg->debug = server_env_int("MAILVAULT_IMAP_DEBUG", 0, 1);
}

void
imapd_session_run(struct imapd_config *cfg, int fd, int implicit_tls,
    int shutdown_fd, const struct sockaddr *peer)
{
	struct imap_lex_limits lim = { IMAP_LEX_LINE_NOAUTH,
	    IMAP_LEX_LINE_NOAUTH, IMAP_LEX_DEPTH_MAX };
	struct server_shared *sh = cfg->sh;
	struct imapd_session s;

	memset(&s, 0, sizeof(s));
	s.cfg = cfg;
	s.state = IMAPD_S_NOAUTH;
	s.implicit_tls = implicit_tls;
	s.shutdown_fd = shutdown_fd;
	s.acct = -1;
	s.id = server_shared_session_id(sh);
	net_format_addr(peer, s.peer, sizeof(s.peer));
	s.io = tls_stream_new(fd);
	tls_stream_set_cancel_fd(s.io, shutdown_fd);
	s.lx = imap_lex_new(&lim);
	s.src = (struct imapd_toksrc){ src_next, src_astring, src_collect,
	    &s };
	s.out = (struct imapd_out){ out_write, &s };
	imapd_log(&s, "connected (%s)", implicit_tls ? "IMAPS" : "IMAP");

	if (implicit_tls && (sh->tls == NULL ||
	    tls_stream_starttls_server(s.io, sh->tls, TLS_HANDSHAKE_MS) != 0)) {
		imapd_log(&s, "TLS handshake failed: %s", sh->tls == NULL ?
		    "no certificate" : tls_stream_errmsg(s.io));
		goto out;
	}
	if (open_store(&s) != 0) {
		imapd_bye(&s, "Internal error: the store cannot be opened.");
		goto out;
	}
	if (greet(&s) != 0)
		goto out;
	while (!s.dead && s.state != IMAPD_S_LOGOUT)
		if (imapd_dispatch(&s) < 0)
			break;
	imapd_flush(&s);
out:
	imapd_log(&s, "disconnected%s%s", s.user != NULL ? ", user " : "",
	    s.user != NULL ? s.user : "");
	session_end(&s);
}

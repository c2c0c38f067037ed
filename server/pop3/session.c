/*
 * session: one POP3 connection, from the greeting to QUIT (RFC 1939),
 * on its own thread with blocking I/O.
 *
 * The loop reads one line at a time out of the stream's buffer, parses
 * it (lib/pop3_cmd.c), checks the command against the table's states and
 * calls its handler. Replies are buffered and leave when no complete
 * command is waiting any more, so a pipelining client (RFC 2449) gets
 * its answers in few writes. Input is bounded: a line longer than
 * POP3_CMD_LINE_MAX is skipped up to its line end and answered -ERR,
 * and the connection goes on.
 *
 * A session ends on QUIT (after the UPDATE state in TRANSACTION), on end
 * of stream, after the inactivity timeout, or when the server stops
 * (the stream's cancel descriptor). Only QUIT carries out deletions.
 */
#include "server/pop3/pop3d_int.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lib/tls.h"
#include "lib/util.h"
#include "store/store.h"

#define IMPLEMENTATION	"mailvault"
#define POP3D_SNAPSHOT_CMDS	256	/* commands per read snapshot */

struct pop3d_cmd {
	enum pop3_cmd_id id;
	int		(*fn)(struct pop3d_session *, struct pop3_cmd *);
	unsigned	 states;	/* POP3D_S_* where it is valid */
};

static int	cmd_capa(struct pop3d_session *, struct pop3_cmd *);
static int	cmd_noop(struct pop3d_session *, struct pop3_cmd *);
static int	cmd_quit(struct pop3d_session *, struct pop3_cmd *);
static int	cmd_stls(struct pop3d_session *, struct pop3_cmd *);

#define S_ANY	(POP3D_S_AUTHZ | POP3D_S_TRANS)

static const struct pop3d_cmd commands[] = {
	/* id		handler		valid in */
	{ POP3_CMD_APOP, pop3d_cmd_apop, POP3D_S_AUTHZ },
	{ POP3_CMD_AUTH, pop3d_cmd_auth, POP3D_S_AUTHZ },
	{ POP3_CMD_CAPA, cmd_capa, S_ANY },
	{ POP3_CMD_DELE, pop3d_cmd_dele, POP3D_S_TRANS },
	{ POP3_CMD_LIST, pop3d_cmd_list, POP3D_S_TRANS },
	{ POP3_CMD_NOOP, cmd_noop, POP3D_S_TRANS },
	{ POP3_CMD_PASS, pop3d_cmd_pass, POP3D_S_AUTHZ },
	{ POP3_CMD_QUIT, cmd_quit, S_ANY },
	{ POP3_CMD_RETR, pop3d_cmd_retr, POP3D_S_TRANS },
	{ POP3_CMD_RSET, pop3d_cmd_rset, POP3D_S_TRANS },
	{ POP3_CMD_STAT, pop3d_cmd_stat, POP3D_S_TRANS },
	{ POP3_CMD_STLS, cmd_stls, POP3D_S_AUTHZ },
	{ POP3_CMD_TOP, pop3d_cmd_top, POP3D_S_TRANS },
	{ POP3_CMD_UIDL, pop3d_cmd_uidl, POP3D_S_TRANS },
	{ POP3_CMD_USER, pop3d_cmd_user, POP3D_S_AUTHZ },
};

/* ---- configuration ----------------------------------------------------- */

void
pop3d_config_init(struct pop3d_config *cfg, struct server_shared *sh)
{
	memset(cfg, 0, sizeof(*cfg));
	cfg->sh = sh;
	cfg->delete_mode = POP3D_DELETE_SETTING;
	cfg->timeout_ms = server_env_int("MAILVAULT_POP3_TIMEOUT",
	    POP3D_TIMEOUT_MS / 1000, 86400) * 1000;
	cfg->debug = server_env_int("MAILVAULT_POP3_DEBUG", 0, 1);
}

/* ---- output ------------------------------------------------------------ */

void
pop3d_write(struct pop3d_session *s, const void *p, size_t n)
{
	if (s->broken)
		return;
	if (tls_stream_write(s->io, p, n) != 0) {
		pop3d_log(s, "write failed: %s", tls_stream_errmsg(s->io));
		s->broken = 1;
	}
}

void
pop3d_reply(struct pop3d_session *s, const char *fmt, ...)
{
	va_list ap;
	int rc;

	if (s->broken)
		return;
	va_start(ap, fmt);
	rc = tls_stream_vprintf(s->io, fmt, ap);
	va_end(ap);
	if (rc == 0)
		rc = tls_stream_write(s->io, "\r\n", 2);
	if (rc != 0) {
		pop3d_log(s, "write failed: %s", tls_stream_errmsg(s->io));
		s->broken = 1;
	}
}

void
pop3d_flush(struct pop3d_session *s)
{
	if (s->broken)
		return;
	if (tls_stream_flush(s->io) != 0) {
		pop3d_log(s, "write failed: %s", tls_stream_errmsg(s->io));
		s->broken = 1;
	}
}

void
pop3d_log(struct pop3d_session *s, const char *fmt, ...)
{
	char line[1024];
	va_list ap;
	int n;

	n = snprintf(line, sizeof(line), "mailvault: pop3 #%u %s: ", s->id,
	    s->peer);
	if (n < 0 || (size_t)n >= sizeof(line))
		n = 0;
	va_start(ap, fmt);
	vsnprintf(line + n, sizeof(line) - (size_t)n, fmt, ap);
	va_end(ap);
	/* One stdio call, so lines of concurrent sessions never mix. */
	fprintf(stderr, "%s\n", line);
}

/* ---- input ------------------------------------------------------------- */

/* Say why the session ends, unless the connection is gone. */
static int
end_wait(struct pop3d_session *s, long rc)
{
	switch (rc) {
	case 0:
		pop3d_log(s, "connection closed by the client");
		break;
	case TLS_ETIMEOUT:
		pop3d_reply(s, "-ERR Disconnected for inactivity");
		pop3d_log(s, "idle for %d ms, disconnected",
		    s->cfg->timeout_ms);
		break;
	case TLS_ECANCEL:
		if (server_shared_locking(s->cfg->sh)) {
			pop3d_reply(s, "-ERR [SYS/TEMP] mailvault was locked: "
			    "run \"mailvault unlock\" to read mail again");
			pop3d_log(s, "ended by a lock");
		} else {
			pop3d_reply(s, "-ERR [SYS/TEMP] The server is shutting "
			    "down");
			pop3d_log(s, "server shutting down");
		}
		break;
	default:
		pop3d_log(s, "connection lost: %s",
		    tls_stream_errmsg(s->io));
		s->broken = 1;
		break;
	}
	pop3d_flush(s);
	return POP3D_LINE_END;
}

int
pop3d_read_line(struct pop3d_session *s)
{
	const char *p, *lf;
	size_t len, n;
	int skipping = 0;
	long rc;

	for (;;) {
		p = tls_stream_rdata(s->io, &len);
		if ((lf = memchr(p, '\n', len)) != NULL) {
			n = (size_t)(lf - p) + 1;
			if (skipping || n > POP3_CMD_LINE_MAX) {
				tls_stream_consume(s->io, n);
				return POP3D_LINE_TOO_LONG;
			}
			memcpy(s->line, p, n);
			s->linelen = n;
			tls_stream_consume(s->io, n);
			return POP3D_LINE_OK;
		}
		if (len >= POP3_CMD_LINE_MAX) {
			/* Drop what is there; keep dropping to the LF. */
			tls_stream_consume(s->io, len);
			skipping = 1;
		}
		/* Nothing complete is waiting: answers leave now. */
		pop3d_flush(s);
		if (s->broken)
			return POP3D_LINE_END;
		rc = tls_stream_fill(s->io, s->cfg->timeout_ms, -1);
		if (rc <= 0)
			return end_wait(s, rc);
	}
}

/* ---- commands of any state --------------------------------------------- */

static int
cmd_capa(struct pop3d_session *s, struct pop3_cmd *cmd)
{
	(void)cmd;
	pop3d_reply(s, "+OK Capability list follows");
	pop3d_reply(s, "TOP");
	pop3d_reply(s, "UIDL");
	pop3d_reply(s, "RESP-CODES");
	pop3d_reply(s, "AUTH-RESP-CODE");
	pop3d_reply(s, "PIPELINING");
	if (s->state == POP3D_S_AUTHZ) {
		pop3d_reply(s, "USER");
		pop3d_reply(s, "SASL PLAIN");
		if (s->cfg->sh->tls != NULL && !tls_stream_is_tls(s->io))
			pop3d_reply(s, "STLS");
	}
	pop3d_reply(s, "IMPLEMENTATION " IMPLEMENTATION);
	pop3d_reply(s, ".");
	return 0;
}

static int
cmd_noop(struct pop3d_session *s, struct pop3_cmd *cmd)
{
	(void)cmd;
	pop3d_reply(s, "+OK");
	return 0;
}

static int
cmd_quit(struct pop3d_session *s, struct pop3_cmd *cmd)
{
	(void)cmd;
	s->done = 1;
	if (s->state == POP3D_S_TRANS) {
		pop3d_maildrop_update(s);
		/* Free the maildrop before the reply leaves: a client that
		 * logs in again as soon as it reads +OK must not get
		 * IN-USE. */
		pop3d_auth_release(s);
		return 0;
	}
	pop3d_reply(s, "+OK " IMPLEMENTATION " POP3 server signing off");
	return 0;
}

/* RFC 2595 section 4: only before login, only once. */
static int
cmd_stls(struct pop3d_session *s, struct pop3_cmd *cmd)
{
	(void)cmd;
	if (tls_stream_is_tls(s->io)) {
		pop3d_reply(s, "-ERR TLS is already active");
		return 0;
	}
	if (s->cfg->sh->tls == NULL) {
		pop3d_reply(s, "-ERR [SYS/PERM] TLS is not available: the "
		    "server has no certificate");
		return 0;
	}
	pop3d_reply(s, "+OK Begin TLS negotiation now");
	/* starttls_server flushes the reply and drops any input that was
	 * pipelined in the clear behind STLS (CVE-2011-0411). */
	if (tls_stream_starttls_server(s->io, s->cfg->sh->tls,
	    POP3D_TLS_HANDSHAKE_MS) != 0) {
		pop3d_log(s, "TLS handshake failed: %s",
		    tls_stream_errmsg(s->io));
		s->broken = 1;
		s->done = 1;
		return 0;
	}
	/* What was said in the clear does not count (RFC 2595 4). */
	free(s->user);
	s->user = NULL;
	pop3d_log(s, "STLS: %s", tls_stream_describe(s->io));
	return 0;
}

/* ---- dispatch ---------------------------------------------------------- */

static const struct pop3d_cmd *
find_command(enum pop3_cmd_id id)
{
	size_t i;

	for (i = 0; i < ARRAY_SIZE(commands); i++)
		if (commands[i].id == id)
			return &commands[i];
	return NULL;
}

static void
dispatch(struct pop3d_session *s)
{
	const struct pop3d_cmd *c;
	struct pop3_cmd cmd;
	const char *why;
	int rc;

	rc = pop3_cmd_parse(s->line, s->linelen, &cmd, &why);
	if (s->cfg->debug)
		pop3d_log(s, "command %s", cmd.keyword);
	if (rc == POP3_CMD_EUNKNOWN) {
		if (cmd.keyword[0] == '\0')
			pop3d_reply(s, "-ERR Empty command line");
		else
			pop3d_reply(s, "-ERR Unknown command: %s", cmd.keyword);
		return;
	}
	if ((c = find_command(cmd.id)) == NULL) {
		pop3d_reply(s, "-ERR Unknown command: %s", cmd.keyword);
		return;
	}
	if (!(c->states & s->state)) {
		pop3d_reply(s, "-ERR %s is not valid %s", pop3_cmd_name(cmd.id),
		    s->state == POP3D_S_AUTHZ ? "before login" :
		    "after login");
		return;
	}
	if (rc != POP3_CMD_OK) {
		pop3d_reply(s, "-ERR %s", why);
		return;
	}
	c->fn(s, &cmd);
}

/* ---- the session ------------------------------------------------------- */

/* The session's own store handle; none while mailvault is locked. */
static int
open_store(struct pop3d_session *s)
{
	char err[STORE_ERRMSG_MAX];

	if (server_shared_open_store(s->cfg->sh, &s->st, err,
	    sizeof(err)) >= 0)
		return 0;
	pop3d_log(s, "%s", err);
	return -1;
}

static void
session_free(struct pop3d_session *s)
{
	pop3d_maildrop_close(s);
	pop3d_auth_release(s);
	free(s->user);
	free(s->login);
	free(s->rbuf);
	tls_stream_free(&s->io);
	store_close(&s->st);
}

/* 1 if a whole command line is buffered already (a pipelining client). */
static int
line_waiting(struct pop3d_session *s)
{
	const char *p;
	size_t len;

	p = tls_stream_rdata(s->io, &len);
	return len > 0 && memchr(p, '\n', len) != NULL;
}

/*
 * Commands that arrive pipelined run under one read snapshot of the
 * store: RETR and TOP read two rows per message, and a read transaction
 * for each (four fcntl calls and a WAL read lock per message) cost more
 * than a tenth of the server's time for a pipelined download. The
 * snapshot ends before the session waits for the client, and after
 * POP3D_SNAPSHOT_CMDS commands, so it never holds back a WAL checkpoint
 * for long.
 */
void
pop3d_session_run(const struct pop3d_config *cfg, int fd, int implicit_tls,
    int shutdown_fd, const struct sockaddr *peer)
{
	struct pop3d_session *s;
	int rc, held = 0;	/* commands run under the snapshot */

	s = xcalloc(1, sizeof(*s));
	s->cfg = cfg;
	s->shutdown_fd = shutdown_fd;
	s->state = POP3D_S_AUTHZ;
	s->id = server_shared_session_id(cfg->sh);
	if (peer != NULL)
		net_format_addr(peer, s->peer, sizeof(s->peer));
	else
		snprintf(s->peer, sizeof(s->peer), "-");
	s->io = tls_stream_new(fd);
	tls_stream_set_cancel_fd(s->io, shutdown_fd);
	pop3d_log(s, "connected%s", implicit_tls ? " (POP3S)" : "");
	if (implicit_tls && (cfg->sh->tls == NULL ||
	    tls_stream_starttls_server(s->io, cfg->sh->tls,
	    POP3D_TLS_HANDSHAKE_MS) != 0)) {
		pop3d_log(s, "TLS handshake failed: %s", cfg->sh->tls == NULL ?
		    "no certificate" : tls_stream_errmsg(s->io));
		goto out;
	}
	if (open_store(s) < 0) {
		pop3d_reply(s, "-ERR [SYS/TEMP] The mail store cannot be "
		    "opened; try again later");
		pop3d_flush(s);
		goto out;
	}
	pop3d_auth_timestamp(s);
	pop3d_reply(s, "+OK " IMPLEMENTATION " POP3 server ready %s",
	    s->timestamp);
	while (!s->done && !s->broken) {
		if (held > 0 && (!line_waiting(s) ||
		    held > POP3D_SNAPSHOT_CMDS)) {
			store_snapshot_end(s->st);
			held = 0;
		}
		rc = pop3d_read_line(s);
		if (rc == POP3D_LINE_END)
			break;
		if (held > 0)
			held++;
		else if (s->state == POP3D_S_TRANS && s->st != NULL &&
		    store_snapshot_begin(s->st) == 0)
			held = 1;
		if (rc == POP3D_LINE_TOO_LONG)
			pop3d_reply(s, "-ERR Command line too long (at most "
			    "%d octets)", POP3_CMD_LINE_MAX);
		else
			dispatch(s);
	}
	if (held > 0)
		store_snapshot_end(s->st);
	pop3d_flush(s);
	pop3d_log(s, "disconnected%s", s->done ? "" : " without QUIT");
out:
	session_free(s);
	free(s);
}

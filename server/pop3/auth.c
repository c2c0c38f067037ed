/*
 * auth: POP3 logins. The user name is an account's name and the password
 * the store's local password (DESIGN.md 3), for USER/PASS, APOP (RFC 1939
 * section 7) and AUTH PLAIN (RFC 5034, with or without an initial
 * response). This file reads the commands and answers them; the checks,
 * their constant-time comparisons, the growing delay after a failure
 * (counted together with IMAP's) and the cap of SERVER_LOGIN_MAX_FAILURES
 * tries per connection are server/login.c's. The last failure's
 * -ERR [AUTH] says it was the last and the connection is closed (a
 * guesser must reconnect, and pays the growing delay again). Passwords
 * are never logged, and wiped from the command line once checked.
 *
 * Locked (server.c): a session made while mailvault was locked has no
 * store handle; at its first login it takes one if mailvault has been
 * unlocked since, else every login command gets -ERR [SYS/TEMP] with how
 * to unlock, which is not counted as a failure.
 *
 * The registry: RFC 1939 lets a server refuse a second session on a
 * locked maildrop. Each successful login claims its (store, account)
 * here, process-wide, and the session gives it back when it ends; a
 * second login gets -ERR [IN-USE] (RFC 2449). IMAP sessions do not
 * take part.
 */
#include "server/pop3/pop3d_int.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "lib/base64.h"
#include "lib/buf.h"
#include "lib/tls.h"
#include "lib/util.h"
#include "store/store.h"

#define SASL_MAX		1024	/* decoded AUTH PLAIN message */
#define LOCKED_REPLY	"-ERR [SYS/TEMP] mailvault is locked: run " \
			"\"mailvault unlock\""

struct claim {
	char	*path;		/* store_path() of the session's store */
	int64_t	 acct;
};

static pthread_mutex_t auth_lock = PTHREAD_MUTEX_INITIALIZER;
static struct claim *claims;		/* under auth_lock */
static size_t nclaims;
static unsigned stamp_counter;		/* under auth_lock */

/* ---- the maildrop registry --------------------------------------------- */

static int
claim(struct pop3d_session *s, int64_t acct)
{
	const char *path = store_path(s->st);
	size_t i;

	pthread_mutex_lock(&auth_lock);
	for (i = 0; i < nclaims; i++)
		if (claims[i].acct == acct &&
		    strcmp(claims[i].path, path) == 0) {
			pthread_mutex_unlock(&auth_lock);
			return -1;
		}
	claims = xreallocarray(claims, nclaims + 1, sizeof(*claims));
	claims[nclaims].path = xstrdup(path);
	claims[nclaims].acct = acct;
	nclaims++;
	pthread_mutex_unlock(&auth_lock);
	s->registered = 1;
	s->acct = acct;
	return 0;
}

void
pop3d_auth_release(struct pop3d_session *s)
{
	const char *path;
	size_t i;

	if (!s->registered)
		return;
	path = store_path(s->st);
	pthread_mutex_lock(&auth_lock);
	for (i = 0; i < nclaims; i++)
		if (claims[i].acct == s->acct &&
		    strcmp(claims[i].path, path) == 0) {
			free(claims[i].path);
			claims[i] = claims[--nclaims];
			break;
		}
	if (nclaims == 0) {
		free(claims);
		claims = NULL;
	}
	pthread_mutex_unlock(&auth_lock);
	s->registered = 0;
}

/* ---- the greeting's timestamp ------------------------------------------ */

void
pop3d_auth_timestamp(struct pop3d_session *s)
{
	char host[64];
	unsigned n;

	if (gethostname(host, sizeof(host)) != 0 || host[0] == '\0')
		snprintf(host, sizeof(host), "localhost");
	host[sizeof(host) - 1] = '\0';
	pthread_mutex_lock(&auth_lock);
	n = ++stamp_counter;
	pthread_mutex_unlock(&auth_lock);
	/* <pid.clock@host>, with a counter so two greetings in the same
	 * millisecond still differ (RFC 1939 wants each one unique). */
	snprintf(s->timestamp, sizeof(s->timestamp), "<%ld.%lld.%u@%s>",
	    (long)getpid(), (long long)now_ms(), n, host);
}

/* ---- checking ---------------------------------------------------------- */

/* Log the failure, wait the growing delay, then answer -ERR [AUTH]. */
static void
fail(struct pop3d_session *s, const char *user, int result)
{
	int delay, last;

	if (result == SERVER_LOGIN_EUNAVAIL)
		pop3d_log(s, "cannot read the local password: %s",
		    store_errmsg(s->st));
	last = server_login_failed(s->cfg->sh, &s->auth_failures, &delay);
	pop3d_log(s, "login failed for user '%.64s' (%s), waiting %d ms",
	    user, server_login_why(result), delay);
	pop3d_flush(s);
	server_login_wait(delay, s->shutdown_fd);
	if (last) {
		pop3d_log(s, "%u failed logins: closing the connection",
		    s->auth_failures);
		pop3d_reply(s, "-ERR [AUTH] Authentication failed; too many "
		    "attempts, closing the connection");
		s->done = 1;
		return;
	}
	pop3d_reply(s, "-ERR [AUTH] Authentication failed");
}

/*
 * Before a login: the session's own store handle, taken now if the
 * session began while mailvault was locked. 0, or -1 with the -ERR sent.
 */
static int
need_store(struct pop3d_session *s)
{
	char err[STORE_ERRMSG_MAX];
	int rc = server_shared_open_store(s->cfg->sh, &s->st, err,
	    sizeof(err));

	if (rc == 0)
		return 0;
	pop3d_log(s, "login refused: %s", err);
	pop3d_reply(s, "%s", rc > 0 ? LOCKED_REPLY : "-ERR [SYS/TEMP] The "
	    "mail store cannot be opened; try again later");
	return -1;
}

/* Logged in: claim the maildrop, take the snapshot, answer. */
static void
login(struct pop3d_session *s, const char *user, int64_t acct,
    const char *how)
{
	server_login_succeeded(s->cfg->sh);
	free(s->user);
	s->user = NULL;
	if (claim(s, acct) < 0) {
		pop3d_log(s, "%s is already in use by another POP3 session",
		    user);
		pop3d_reply(s, "-ERR [IN-USE] Another POP3 session is using "
		    "this maildrop; try again when it has ended");
		return;
	}
	s->login = xstrdup(user);
	if (pop3d_maildrop_open(s) < 0) {
		pop3d_auth_release(s);
		free(s->login);
		s->login = NULL;
		return;
	}
	s->state = POP3D_S_TRANS;
	pop3d_log(s, "logged in as %s (%s, %s): %zu messages", user, how,
	    tls_stream_is_tls(s->io) ? "TLS" : "plain text", s->nmsgs);
	pop3d_reply(s, "+OK %s's maildrop has %zu messages (%llu octets)",
	    user, s->nlive, (unsigned long long)s->live_bytes);
}

/*
 * Check a name and password. 1 with *acct_r, or 0 (the failure already
 * answered after its delay).
 */
static int
check_password(struct pop3d_session *s, const char *authz, size_t authzlen,
    const char *user, const char *pass, size_t passlen, int64_t *acct_r)
{
	int rc = server_login_password(s->st, authz, authzlen, user, pass,
	    passlen, acct_r);

	if (rc == SERVER_LOGIN_OK)
		return 1;
	fail(s, user, rc);
	return 0;
}

/* ---- USER / PASS ------------------------------------------------------- */

int
pop3d_cmd_user(struct pop3d_session *s, struct pop3_cmd *cmd)
{
	if (need_store(s) < 0)
		return 0;
	free(s->user);
	s->user = xstrdup(cmd->arg[0]);
	pop3d_reply(s, "+OK Now give PASS");
	return 0;
}

int
pop3d_cmd_pass(struct pop3d_session *s, struct pop3_cmd *cmd)
{
	int64_t acct;
	char *user;

	if (need_store(s) < 0) {
		store_wipe(cmd->arg[0], cmd->arglen[0]);
		return 0;
	}
	if (s->user == NULL) {
		pop3d_reply(s, "-ERR Give USER first");
		return 0;
	}
	/* RFC 1939: after a failed PASS the client starts over with USER. */
	user = s->user;
	s->user = NULL;
	if (check_password(s, NULL, 0, user, cmd->arg[0], cmd->arglen[0],
	    &acct))
		login(s, user, acct, "USER/PASS");
	store_wipe(cmd->arg[0], cmd->arglen[0]);
	free(user);
	return 0;
}

/* ---- APOP -------------------------------------------------------------- */

int
pop3d_cmd_apop(struct pop3d_session *s, struct pop3_cmd *cmd)
{
	int64_t acct;
	int rc;

	if (need_store(s) < 0)
		return 0;
	rc = server_login_apop(s->st, s->timestamp, cmd->arg[0], cmd->arg[1],
	    &acct);
	if (rc == SERVER_LOGIN_OK)
		login(s, cmd->arg[0], acct, "APOP");
	else
		fail(s, cmd->arg[0], rc);
	return 0;
}

/* ---- AUTH (RFC 5034) --------------------------------------------------- */

/* Decode and check a PLAIN response of len bytes at b64. */
static void
auth_plain(struct pop3d_session *s, const char *b64, size_t len)
{
	struct pop3_cmd_plain pl;
	struct buf msg;
	char *user;
	int64_t acct;

	buf_init(&msg, SASL_MAX);
	if (len == 1 && b64[0] == '=')
		len = 0;	/* an empty initial response */
	if (base64_decode(b64, len, &msg) < 0) {
		if (msg.data != NULL)
			store_wipe(msg.data, msg.len);
		buf_free(&msg);
		pop3d_reply(s, "-ERR The response is not valid base64");
		return;
	}
	if (msg.len == 0 || pop3_cmd_sasl_plain(msg.data, msg.len, &pl) < 0) {
		if (msg.data != NULL)
			store_wipe(msg.data, msg.len);
		buf_free(&msg);
		fail(s, "?", SERVER_LOGIN_MALFORMED);
		return;
	}
	user = xstrndup(pl.authcid, pl.authcid_len);
	if (check_password(s, pl.authzid, pl.authzid_len, user, pl.passwd,
	    pl.passwd_len, &acct))
		login(s, user, acct, "AUTH PLAIN");
	if (msg.data != NULL)
		store_wipe(msg.data, msg.len);
	buf_free(&msg);
	free(user);
}

int
pop3d_cmd_auth(struct pop3d_session *s, struct pop3_cmd *cmd)
{
	int rc;

	if (cmd->nargs == 0) {
		/* RFC 1734-style listing, still asked for by some clients. */
		pop3d_reply(s, "+OK Supported mechanisms follow");
		pop3d_reply(s, "PLAIN");
		pop3d_reply(s, ".");
		return 0;
	}
	if (need_store(s) < 0) {
		if (cmd->nargs == 2)
			store_wipe(cmd->arg[1], cmd->arglen[1]);
		return 0;
	}
	if (ascii_strcasecmp(cmd->arg[0], "PLAIN") != 0) {
		pop3d_reply(s, "-ERR Unsupported authentication mechanism; "
		    "use PLAIN");
		return 0;
	}
	if (cmd->nargs == 2) {
		auth_plain(s, cmd->arg[1], cmd->arglen[1]);
		store_wipe(cmd->arg[1], cmd->arglen[1]);
		return 0;
	}
	pop3d_reply(s, "+ ");
	rc = pop3d_read_line(s);
	if (rc == POP3D_LINE_END) {
		s->broken = 1;	/* already said goodbye */
		return 0;
	}
	if (rc == POP3D_LINE_TOO_LONG) {
		pop3d_reply(s, "-ERR The response is too long");
		return 0;
	}
	while (s->linelen > 0 && (s->line[s->linelen - 1] == '\n' ||
	    s->line[s->linelen - 1] == '\r'))
		s->linelen--;
	if (s->linelen == 1 && s->line[0] == '*') {
		pop3d_reply(s, "-ERR Authentication cancelled");
		return 0;
	}
	auth_plain(s, s->line, s->linelen);
	store_wipe(s->line, s->linelen);
	return 0;
}

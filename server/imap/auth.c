/*
 * auth: what a login check means for an IMAP session. The checks
 * themselves (LOGIN, AUTHENTICATE PLAIN and CRAM-MD5), their constant-time
 * comparisons and the growing delay after a failure are server/login.c's,
 * shared with POP3; here a success becomes the authenticated state (with
 * its larger input limits) and a failure a log line and the wait, before
 * cmd_noauth.c answers. Passwords are never logged.
 */
#include "server/imap/imapd_int.h"

#include <stdlib.h>
#include <string.h>

#include "lib/tls.h"
#include "lib/util.h"

static void
login_done(struct imapd_session *s, const char *user, int64_t acct,
    const char *how)
{
	struct imap_lex_limits lim = { IMAP_LEX_LINE_AUTH, IMAPD_APPEND_MAX,
	    IMAP_LEX_DEPTH_MAX };

	s->state = IMAPD_S_AUTH;
	s->acct = acct;
	free(s->user);
	s->user = xstrdup(user);
	imap_lex_set_limits(s->lx, &lim);
	server_login_succeeded(s->cfg->sh);
	imapd_log(s, "logged in as %s (%s, %s)", user, how,
	    tls_stream_is_tls(s->io) ? "TLS" : "plain text");
}

/* Log the failure and wait the growing delay (the shutdown cuts it). */
static void
failure_wait(struct imapd_session *s, const char *user, int result)
{
	int delay;

	if (result == SERVER_LOGIN_EUNAVAIL)
		imapd_log(s, "cannot read the local password: %s",
		    store_errmsg(s->st));
	(void)server_login_failed(s->cfg->sh, &s->auth_failures, &delay);
	imapd_log(s, "login failed for user '%.64s' (%s), waiting %d ms",
	    user, server_login_why(result), delay);
	imapd_flush(s);
	server_login_wait(delay, s->shutdown_fd);
}

int
imapd_auth_check(struct imapd_session *s, const char *authz,
    const char *user, const char *pass, size_t passlen)
{
	int64_t acct;
	int rc;

	rc = server_login_password(s->st, authz, authz != NULL ?
	    strlen(authz) : 0, user, pass, passlen, &acct);
	if (rc == SERVER_LOGIN_OK) {
		login_done(s, user, acct, "password");
		return 0;
	}
	failure_wait(s, user, rc);
	return -1;
}

int
imapd_auth_cram(struct imapd_session *s, const char *challenge,
    const char *resp, size_t resplen)
{
	char *user = NULL;
	int64_t acct;
	int rc;

	rc = server_login_cram(s->st, challenge, resp, resplen, &user, &acct);
	if (rc == SERVER_LOGIN_OK)
		login_done(s, user, acct, "CRAM-MD5");
	else
		failure_wait(s, user != NULL ? user : "?", rc);
	free(user);
	return rc == SERVER_LOGIN_OK ? 0 : -1;
}

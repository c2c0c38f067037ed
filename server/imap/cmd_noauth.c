/*
 * cmd_noauth: the commands of the not-authenticated state (RFC 3501
 * 6.2): STARTTLS, LOGIN and AUTHENTICATE with PLAIN (RFC 4616) and
 * CRAM-MD5 (RFC 2195), each with SASL-IR (RFC 4959) where it applies.
 *
 * Plain-text logins are allowed on the plain port: the server only ever
 * listens on loopback (Dovecot's default for local connections), so
 * LOGINDISABLED is never announced. Three failures end the connection.
 *
 * Locked (server.c): a session made while mailvault was locked has no
 * store handle. Its first login takes one if mailvault has been unlocked
 * since; otherwise LOGIN and AUTHENTICATE get NO [UNAVAILABLE] with how
 * to unlock, which does not count as a failed login.
 */
#include "server/imap/imapd_int.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>

#include "lib/base64.h"
#include "lib/tls.h"
#include "lib/util.h"

#define TLS_HANDSHAKE_MS	30000
#define SASL_MAX		4096

/*
 * Before a login: the session's own store handle, taken now if the
 * session began while mailvault was locked. 0, or the tagged NO to give
 * (locked, or the store does not open).
 */
static int
need_store(struct imapd_session *s, struct imapd_cmdctx *c)
{
	char err[STORE_ERRMSG_MAX];
	int rc = server_shared_open_store(s->cfg->sh, &s->st, err,
	    sizeof(err));

	if (rc == 0)
		return 0;
	imapd_log(s, "login refused: %s", err);
	return imapd_no(c, "UNAVAILABLE", "%s", rc > 0 ? "mailvault is "
	    "locked: run \"mailvault unlock\"" : "The mail store cannot be "
	    "opened; try again later.");
}

/* The tagged OK after a login, with the new capabilities. */
static int
logged_in(struct imapd_session *s, struct imapd_cmdctx *c)
{
	struct buf caps;

	buf_init(&caps, 4096);
	imapd_capabilities(s, &caps);
	snprintf(c->code, sizeof(c->code), "CAPABILITY %s", caps.data);
	buf_free(&caps);
	snprintf(c->text, sizeof(c->text), "Logged in");
	return IMAPD_OK;
}

/* After a failed login: NO, and after too many, BYE. */
static int
login_failed(struct imapd_session *s, struct imapd_cmdctx *c)
{
	if (s->auth_failures < SERVER_LOGIN_MAX_FAILURES)
		return imapd_no(c, "AUTHENTICATIONFAILED",
		    "Authentication failed.");
	imapd_printf(s, "%s NO [AUTHENTICATIONFAILED] Authentication "
	    "failed.\r\n", c->tag);
	imapd_bye(s, "Too many invalid authentication attempts.");
	return IMAPD_CLOSE;
}

int
imapd_cmd_starttls(struct imapd_session *s, struct imapd_cmdctx *c)
{
	int rc;

	if ((rc = imapd_arg_end(s, c)) != 0)
		return rc;
	if (s->cfg->sh->tls == NULL)
		return imapd_no(c, "UNAVAILABLE", "TLS is not available: the "
		    "server has no certificate.");
	if (tls_stream_is_tls(s->io))
		return imapd_bad(c, "TLS is already active.");
	/* Anything sent after STARTTLS and before the handshake was sent
	 * in the clear and could have been injected (CVE-2011-0411). */
	if (imapd_input_pending(s))
		return imapd_bad(c, "STARTTLS must not be followed by more "
		    "input before the TLS handshake.");
	imapd_printf(s, "%s OK Begin TLS negotiation now.\r\n", c->tag);
	if (tls_stream_starttls_server(s->io, s->cfg->sh->tls,
	    TLS_HANDSHAKE_MS) != 0) {
		imapd_log(s, "STARTTLS handshake failed: %s",
		    tls_stream_errmsg(s->io));
		s->dead = 1;
		return IMAPD_CLOSE;
	}
	return IMAPD_DONE;
}

int
imapd_cmd_login(struct imapd_session *s, struct imapd_cmdctx *c)
{
	char *user = NULL, *pass = NULL;
	size_t passlen = 0;
	int rc;

	rc = imapd_arg_astring(s, c, &user, NULL);
	if (rc == 0)
		rc = imapd_arg_astring(s, c, &pass, &passlen);
	if (rc == 0)
		rc = imapd_arg_end(s, c);
	if (rc == 0)
		rc = need_store(s, c);
	if (rc == 0)
		rc = imapd_auth_check(s, NULL, user, pass, passlen) == 0 ?
		    logged_in(s, c) : login_failed(s, c);
	free(user);
	if (pass != NULL) {
		store_wipe(pass, passlen);
		free(pass);
	}
	return rc;
}

/* Decode a SASL message (base64, "=" for empty) into out. 0 or -1. */
static int
sasl_decode(const char *b64, struct buf *out)
{
	if (strcmp(b64, "=") == 0)
		return 0;
	return base64_decode(b64, strlen(b64), out);
}

/* The client's next SASL line; IMAPD_BAD when it cancels with "*". */
static int
sasl_read(struct imapd_session *s, struct imapd_cmdctx *c, struct buf *out)
{
	char *line;
	int rc = 0;

	if (imapd_read_line(s, &line) < 0)
		return s->dead ? IMAPD_CLOSE : imapd_bad(c, "Bad SASL line.");
	if (strcmp(line, "*") == 0)
		rc = imapd_bad(c, "Authentication canceled.");
	else if (sasl_decode(line, out) < 0)
		rc = imapd_bad(c, "Invalid base64 data in the SASL response.");
	store_wipe(line, strlen(line));
	free(line);
	return rc;
}

static int
auth_plain(struct imapd_session *s, struct imapd_cmdctx *c, const char *ir)
{
	const char *authz, *user, *pass, *end;
	struct buf msg;
	int rc = 0;

	buf_init(&msg, SASL_MAX);
	if (ir != NULL) {
		if (sasl_decode(ir, &msg) < 0)
			rc = imapd_bad(c, "Invalid base64 data in the "
			    "initial response.");
	} else if (imapd_continue(s, "") < 0)
		rc = IMAPD_CLOSE;
	else
		rc = sasl_read(s, c, &msg);
	if (rc != 0)
		goto out;
	/* authzid NUL authcid NUL passwd */
	authz = msg.data != NULL ? msg.data : "";
	end = authz + msg.len;
	user = memchr(authz, '\0', msg.len);
	pass = user != NULL ? memchr(user + 1, '\0',
	    (size_t)(end - user - 1)) : NULL;
	if (user == NULL || pass == NULL) {
		rc = imapd_bad(c, "Malformed PLAIN message.");
		goto out;
	}
	user++;
	pass++;
	if (imapd_auth_check(s, authz, user, pass, (size_t)(end - pass)) != 0)
		rc = login_failed(s, c);
	else
		rc = logged_in(s, c);
out:
	if (msg.data != NULL)
		store_wipe(msg.data, msg.len);
	buf_free(&msg);
	return rc;
}

static int
auth_cram(struct imapd_session *s, struct imapd_cmdctx *c)
{
	char challenge[128];
	struct buf enc, msg;
	uint64_t rnd = 0;
	int rc = 0;

	if (getrandom(&rnd, sizeof(rnd), 0) != sizeof(rnd))
		rnd = (uint64_t)now_ms() * 2654435761u;
	snprintf(challenge, sizeof(challenge), "<%llu.%lld@mailvault>",
	    (unsigned long long)rnd, (long long)time(NULL));
	buf_init(&enc, SASL_MAX);
	base64_encode(challenge, strlen(challenge), &enc);
	if (imapd_continue(s, enc.data) < 0)
		rc = IMAPD_CLOSE;
	buf_free(&enc);
	if (rc != 0)
		return rc;
	buf_init(&msg, SASL_MAX);
	rc = sasl_read(s, c, &msg);
	if (rc == 0)
		rc = imapd_auth_cram(s, challenge, msg.data != NULL ?
		    msg.data : "", msg.len) == 0 ? logged_in(s, c) :
		    login_failed(s, c);
	buf_free(&msg);
	return rc;
}

int
imapd_cmd_authenticate(struct imapd_session *s, struct imapd_cmdctx *c)
{
	char mech[64];
	struct imap_tok tok;
	char *ir = NULL;
	int rc;

	if ((rc = imapd_arg_atom(s, c, mech, sizeof(mech))) != 0)
		return rc;
	if (imapd_tok(s, &tok) < 0)
		return imapd_bad(c, "Bad initial response.");
	if (tok.kind != IMAP_TOK_CRLF) {
		if (tok.kind != IMAP_TOK_ATOM || tok.sp == 0)
			return imapd_bad(c, "Bad initial response.");
		ir = xstrdup(tok.s);
		if ((rc = imapd_arg_end(s, c)) != 0) {
			free(ir);
			return rc;
		}
	}
	if ((rc = need_store(s, c)) != 0)
		;
	else if (ascii_strcasecmp(mech, "PLAIN") == 0)
		rc = auth_plain(s, c, ir);
	else if (ascii_strcasecmp(mech, "CRAM-MD5") == 0)
		rc = ir != NULL ? imapd_bad(c, "CRAM-MD5 has no initial "
		    "response.") : auth_cram(s, c);
	else
		rc = imapd_no(c, "CANNOT", "Unsupported authentication "
		    "mechanism.");
	if (ir != NULL) {
		store_wipe(ir, strlen(ir));
		free(ir);
	}
	return rc;
}

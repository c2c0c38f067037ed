/*
 * auth: checking a login. The user name is an account's name and the
 * password the store's local password (DESIGN.md 3), for LOGIN,
 * AUTHENTICATE PLAIN and CRAM-MD5 alike.
 *
 * Comparisons take the same time whether the account exists and however
 * much of the password matched. A failure waits before it is answered,
 * and the wait doubles with each failure across the whole server (a
 * guesser reconnects; the count resets after a quiet minute or a
 * success), from MAILVAULT_AUTH_DELAY_MS (500 ms) up to 16 times that.
 * Passwords are never logged.
 *
 * CRAM-MD5 (RFC 2195) is HMAC-MD5 of our challenge under the password,
 * in hex (lib/md5.h).
 */
#include "server/imap/imapd_int.h"

#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lib/md5.h"
#include "lib/tls.h"
#include "lib/util.h"

#define FAILURE_MEMORY_MS	60000
#define MAX_DOUBLINGS		4

/* ---- checking ----------------------------------------------------------------- */

/*
 * 1 if a (alen bytes) equals b (blen bytes), in time that depends only
 * on blen (the secret's length is not hidden, its content is).
 */
static int
ct_equal(const unsigned char *a, size_t alen, const unsigned char *b,
    size_t blen)
{
	volatile unsigned char diff = alen != blen;
	size_t i;

	for (i = 0; i < blen; i++)
		diff |= (unsigned char)((alen > 0 ? a[i % alen] : 0) ^ b[i]);
	return diff == 0;
}

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
	pthread_mutex_lock(&s->sh->lock);
	s->sh->auth_failures = 0;
	pthread_mutex_unlock(&s->sh->lock);
	imapd_log(s, "logged in as %s (%s, %s)", user, how,
	    tls_stream_is_tls(s->io) ? "TLS" : "plain text");
}

/* Wait the growing delay, cut short by the server's shutdown. */
static void
failure_delay(struct imapd_session *s, const char *user, const char *how)
{
	struct pollfd pfd;
	unsigned n, shift;
	int64_t now = now_ms();
	int delay;

	pthread_mutex_lock(&s->sh->lock);
	if (now - s->sh->last_failure_ms > FAILURE_MEMORY_MS)
		s->sh->auth_failures = 0;
	n = ++s->sh->auth_failures;
	s->sh->last_failure_ms = now;
	pthread_mutex_unlock(&s->sh->lock);
	s->auth_failures++;
	if (s->auth_failures > n)
		n = s->auth_failures;
	shift = n - 1 > MAX_DOUBLINGS ? MAX_DOUBLINGS : n - 1;
	delay = s->sh->auth_delay_ms << shift;
	imapd_log(s, "login failed for user '%.64s' (%s), waiting %d ms",
	    user, how, delay);
	imapd_flush(s);
	pfd.fd = s->shutdown_fd;
	pfd.events = POLLIN;
	pfd.revents = 0;
	(void)poll(&pfd, 1, delay);
}

/* Does the account exist? Looked up whatever the password says. */
static int
find_account(struct imapd_session *s, const char *user, int64_t *acct_r)
{
	return store_account_find(s->st, user, acct_r) == 0;
}

int
imapd_auth_check(struct imapd_session *s, const char *user, const char *pass,
    size_t passlen)
{
	int64_t acct = -1;
	char *pw = NULL;
	int ok, known;

	known = find_account(s, user, &acct);
	if (store_local_password(s->st, &pw) != 0) {
		imapd_log(s, "cannot read the local password: %s",
		    store_errmsg(s->st));
		failure_delay(s, user, "password unavailable");
		return -1;
	}
	ok = ct_equal((const unsigned char *)pass, passlen,
	    (const unsigned char *)pw, strlen(pw));
	store_secret_free(&pw);
	if (ok && known) {
		login_done(s, user, acct, "password");
		return 0;
	}
	failure_delay(s, user, known ? "wrong password" : "no such account");
	return -1;
}

int
imapd_auth_cram(struct imapd_session *s, const char *challenge,
    const char *resp, size_t resplen)
{
	unsigned char mac[MD5_DIGEST_LEN];
	char hex[MD5_HEX_LEN], digest[32], *pw = NULL, *user;
	const char *sp;
	int64_t acct = -1;
	int ok, known;
	size_t i;

	sp = memchr(resp, ' ', resplen);
	if (sp == NULL || (size_t)(resp + resplen - sp - 1) != 32) {
		failure_delay(s, "?", "malformed CRAM-MD5 response");
		return -1;
	}
	user = xstrndup(resp, (size_t)(sp - resp));
	known = find_account(s, user, &acct);
	if (store_local_password(s->st, &pw) != 0) {
		failure_delay(s, user, "password unavailable");
		free(user);
		return -1;
	}
	md5_hmac(pw, strlen(pw), challenge, strlen(challenge), mac);
	store_secret_free(&pw);
	md5_hex(mac, hex);
	/* Some clients send the hex digits in upper case. */
	for (i = 0; i < 32; i++)
		digest[i] = (char)(sp[1 + i] >= 'A' && sp[1 + i] <= 'F' ?
		    sp[1 + i] + 32 : sp[1 + i]);
	ok = ct_equal((const unsigned char *)digest, 32,
	    (const unsigned char *)hex, 32);
	memset(hex, 0, sizeof(hex));
	memset(mac, 0, sizeof(mac));
	if (ok && known) {
		login_done(s, user, acct, "CRAM-MD5");
		free(user);
		return 0;
	}
	failure_delay(s, user, known ? "wrong password" : "no such account");
	free(user);
	return -1;
}

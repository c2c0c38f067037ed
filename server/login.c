/*
 * login: checking a login, for IMAP and POP3 alike. The user name is an
 * account's name and the password the store's local password (DESIGN.md
 * 3), given as is (IMAP LOGIN and AUTHENTICATE PLAIN, POP3 USER/PASS and
 * AUTH PLAIN) or proved by a digest over a challenge (CRAM-MD5, APOP).
 *
 * Constant time. The account is looked up and the whole secret compared
 * whatever the other finds, and the comparison (store_mem_equal, that is
 * sodium_memcmp) takes a time that depends on the stored secret's length
 * only: a guess of another length is compared as the secret against
 * itself. Copies of the password and of digests made from it are wiped
 * (store_wipe, store_secret_free) as soon as they are used.
 *
 * The throttle. A failure waits before it is answered, and the wait
 * doubles with each failure, counted in the epoch's struct
 * server_shared for both protocols together (a guesser reconnects, or
 * moves from IMAP to POP3; the count resets after a quiet minute or a
 * success) and on the connection, from sh->auth_delay_ms up to 16 times
 * that. A connection gets SERVER_LOGIN_MAX_FAILURES tries; the answer to
 * the last says so and the protocol closes the connection. The server's
 * shutdown descriptor cuts a wait short.
 */
#include "server/server_int.h"

#include <poll.h>
#include <stdlib.h>
#include <string.h>

#include "lib/digest.h"
#include "lib/util.h"
#include "store/store.h"

#define FAILURE_MEMORY_MS	60000
#define MAX_DOUBLINGS		4

/* ---- comparing ---------------------------------------------------------- */

/* 1 if given (glen bytes) is secret (slen bytes), in time set by slen. */
static int
secret_equal(const void *given, size_t glen, const void *secret, size_t slen)
{
	int same = store_mem_equal(glen == slen ? given : secret, secret,
	    slen);

	return same && glen == slen;
}

/* Lower-case hex digits, as digest_hex() writes them. */
static void
hex_lower(const char *in, char *out, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		out[i] = (char)(in[i] >= 'A' && in[i] <= 'F' ? in[i] - 'A' +
		    'a' : in[i]);
}

/*
 * The end of every check: the account and the secret both right. The
 * account's lookup happened before, whatever the secret said.
 */
static int
verdict(int known, int same, int64_t acct, int64_t *acct_r)
{
	if (!known)
		return SERVER_LOGIN_NOUSER;
	if (!same)
		return SERVER_LOGIN_WRONG;
	*acct_r = acct;
	return SERVER_LOGIN_OK;
}

const char *
server_login_why(int result)
{
	switch (result) {
	case SERVER_LOGIN_OK:
		return "logged in";
	case SERVER_LOGIN_NOUSER:
		return "no such account";
	case SERVER_LOGIN_WRONG:
		return "wrong password";
	case SERVER_LOGIN_AUTHZ:
		return "authorization identity differs";
	case SERVER_LOGIN_MALFORMED:
		return "malformed response";
	case SERVER_LOGIN_ENOMD5:
		return "MD5 is not available";
	default:
		return "password unavailable";
	}
}

/* ---- the checks ---------------------------------------------------------- */

int
server_login_password(struct store *st, const char *authz, size_t authzlen,
    const char *user, const void *pass, size_t passlen, int64_t *acct_r)
{
	int64_t acct = -1;
	char *pw = NULL;
	int known, same;

	if (authzlen > 0 && (authzlen != strlen(user) ||
	    memcmp(authz, user, authzlen) != 0))
		return SERVER_LOGIN_AUTHZ;
	known = store_account_find(st, user, &acct) == 0;
	if (store_local_password(st, &pw) != 0)
		return SERVER_LOGIN_EUNAVAIL;
	same = secret_equal(pass, passlen, pw, strlen(pw));
	store_secret_free(&pw);
	return verdict(known, same, acct, acct_r);
}

/* 1 if hex (32 digits, either case) is the hex of md; wipes md. */
static int
digest_equal(const char *hex, unsigned char md[DIGEST_MD5_LEN])
{
	char want[DIGEST_MD5_HEX_LEN], got[DIGEST_MD5_HEX_LEN];
	int same;

	digest_hex(md, DIGEST_MD5_LEN, want);
	hex_lower(hex, got, 32);
	same = store_mem_equal(got, want, 32);
	store_wipe(want, sizeof(want));
	store_wipe(md, DIGEST_MD5_LEN);
	return same;
}

int
server_login_cram(struct store *st, const char *challenge, const char *resp,
    size_t resplen, char **user_r, int64_t *acct_r)
{
	unsigned char mac[DIGEST_MD5_LEN];
	/* The digest is the last 32 characters: a user name (an account)
	 * may hold spaces, so the separator is the last space. */
	const char *sp = resplen > 33 ? resp + resplen - 33 : NULL;
	int64_t acct = -1;
	char *pw = NULL;
	int known, rc;

	if (sp == NULL || *sp != ' ')
		return SERVER_LOGIN_MALFORMED;
	*user_r = xstrndup(resp, (size_t)(sp - resp));
	known = store_account_find(st, *user_r, &acct) == 0;
	if (store_local_password(st, &pw) != 0)
		return SERVER_LOGIN_EUNAVAIL;
	rc = digest_hmac_md5(pw, strlen(pw), challenge, strlen(challenge),
	    mac);
	store_secret_free(&pw);
	if (rc < 0)
		return SERVER_LOGIN_ENOMD5;
	return verdict(known, digest_equal(sp + 1, mac), acct, acct_r);
}

int
server_login_apop(struct store *st, const char *timestamp, const char *user,
    const char *digest, int64_t *acct_r)
{
	unsigned char md[DIGEST_MD5_LEN];
	struct digest_md5 *d;
	int64_t acct = -1;
	char *pw = NULL;
	int known, rc;

	if (strlen(digest) != 32)
		return SERVER_LOGIN_MALFORMED;
	known = store_account_find(st, user, &acct) == 0;
	if (store_local_password(st, &pw) != 0)
		return SERVER_LOGIN_EUNAVAIL;
	d = digest_md5_new();
	digest_md5_update(d, timestamp, strlen(timestamp));
	digest_md5_update(d, pw, strlen(pw));
	rc = digest_md5_final(&d, md);
	store_secret_free(&pw);
	if (rc < 0)
		return SERVER_LOGIN_ENOMD5;
	return verdict(known, digest_equal(digest, md), acct, acct_r);
}

/* ---- the throttle -------------------------------------------------------- */

int
server_login_failed(struct server_shared *sh, unsigned *conn_failures,
    int *delay_ms_r)
{
	int64_t now = now_ms();
	unsigned n, shift;

	pthread_mutex_lock(&sh->lock);
	if (now - sh->last_failure_ms > FAILURE_MEMORY_MS)
		sh->auth_failures = 0;
	n = ++sh->auth_failures;
	sh->last_failure_ms = now;
	pthread_mutex_unlock(&sh->lock);
	if (++*conn_failures > n)
		n = *conn_failures;
	shift = n - 1 > MAX_DOUBLINGS ? MAX_DOUBLINGS : n - 1;
	*delay_ms_r = sh->auth_delay_ms << shift;
	return *conn_failures >= SERVER_LOGIN_MAX_FAILURES;
}

void
server_login_wait(int ms, int cancel_fd)
{
	struct pollfd pfd;

	if (ms <= 0)
		return;
	pfd.fd = cancel_fd;
	pfd.events = POLLIN;
	pfd.revents = 0;
	(void)poll(&pfd, cancel_fd >= 0 ? 1 : 0, ms);
}

void
server_login_succeeded(struct server_shared *sh)
{
	pthread_mutex_lock(&sh->lock);
	sh->auth_failures = 0;
	pthread_mutex_unlock(&sh->lock);
}

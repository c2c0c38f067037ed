/*
 * server_int: what the parts of server/ share, private to it: server.c,
 * shared.c, login.c and the two protocols' sessions (server/imap/,
 * server/pop3/).
 *
 * struct server_shared is what an epoch (server.c) gives every session of
 * both protocols: the parent store handle and its lock, whether the
 * sessions are being ended by a lock, the TLS context, session numbers
 * and the failed-login throttle. Each protocol's own settings (timeouts,
 * debug, IMAP's list cache, POP3's delete mode) live in its own struct
 * (imapd_config, pop3d_config), which points here. server.c fills one of
 * each per epoch; a test fills them by hand around a socketpair.
 *
 * The login module (login.c) is the one place that checks a login for
 * either protocol: the user name (an account) and the store's local
 * password, compared in constant time whatever exists; APOP and
 * CRAM-MD5, which hash the password with a challenge (lib/digest.h); the
 * growing delay after a failure, counted here for both protocols
 * together, so a guesser gains nothing by switching from IMAP to POP3;
 * and the cap of failed attempts per connection. The protocols keep only
 * their wire: reading the arguments, the replies and the logging.
 */
#ifndef MAILVAULT_SERVER_SERVER_INT_H
#define MAILVAULT_SERVER_SERVER_INT_H

#include <pthread.h>
#include <stddef.h>
#include <stdint.h>

struct store;
struct tls_ctx;

#define SERVER_AUTH_DELAY_MS	500	/* the first failed login's delay */
#define SERVER_LOGIN_MAX_FAILURES 3	/* failed logins per connection */

struct server_shared {
	pthread_mutex_t	 lock;		/* guards the fields said "under
					 * lock", and IMAP's list cache */
	struct store	*st;		/* under lock: the epoch's parent
					 * handle, only used to open each
					 * session's own; NULL while locked */
	int		 locking;	/* under lock: the sessions are ended
					 * by a lock, not a stop */
	struct tls_ctx	*tls;		/* NULL: no STARTTLS/STLS, no
					 * IMAPS/POP3S; fixed for the epoch's
					 * life, read without the lock */
	unsigned	 next_id;	/* under lock: the last session
					 * number given (both protocols) */
	int		 auth_delay_ms;	/* the first failure's delay */
	unsigned	 auth_failures;	/* under lock: recent failed logins,
					 * both protocols */
	int64_t		 last_failure_ms; /* under lock */
};

/* ---- shared.c ------------------------------------------------------------ */

/*
 * Fill *sh for a new epoch: its lock, no store, no TLS, session numbers
 * after first_id, the failed-login delay from MAILVAULT_AUTH_DELAY_MS
 * (default SERVER_AUTH_DELAY_MS). The caller sets st and tls.
 */
void	server_shared_init(struct server_shared *sh, unsigned first_id);
/* Destroy the lock. st and tls belong to whoever set them. */
void	server_shared_destroy(struct server_shared *sh);
/* The number of a new session. */
unsigned server_shared_session_id(struct server_shared *sh);
/* 1 when the sessions are being ended by a lock (for their last words). */
int	server_shared_locking(struct server_shared *sh);
/*
 * A session's own store handle, opened from the parent under the lock
 * (store_open_shared()) unless *st_r is open already: 0 and *st_r; 1
 * while mailvault is locked (no parent, *st_r untouched, err says so);
 * -1 and a sentence in err when it does not open (the parent's error
 * text, read under the same lock).
 */
int	server_shared_open_store(struct server_shared *sh, struct store **st_r,
	    char *err, size_t errlen);
/* An integer from the environment (tests), or def when unset or > max. */
int	server_env_int(const char *name, int def, int max);

/* ---- cert.c -------------------------------------------------------------- */

/* A TLS context from the certificate and key files beside the store at
 * store_path, for a locked server; NULL and a sentence in err when they
 * are missing or do not load. */
struct tls_ctx *server_tls_from_files(const char *store_path, char *err,
	    size_t errlen);

/* ---- login.c ------------------------------------------------------------- */

/* What a check found. Only SERVER_LOGIN_OK logs in. */
enum server_login_result {
	SERVER_LOGIN_OK = 0,
	SERVER_LOGIN_NOUSER,		/* no such account */
	SERVER_LOGIN_WRONG,		/* wrong password or digest */
	SERVER_LOGIN_AUTHZ,		/* asked to act for another user */
	SERVER_LOGIN_MALFORMED,		/* not "user digest" (CRAM-MD5), a
					 * digest not 32 digits long */
	SERVER_LOGIN_EUNAVAIL,		/* the password could not be read:
					 * store_errmsg() says why */
	SERVER_LOGIN_ENOMD5,		/* OpenSSL refused MD5 (FIPS) */
};

/* A result in a few words for the log ("wrong password"); static. */
const char *server_login_why(int result);

/*
 * Check user and a password of passlen bytes against the store's local
 * password. The account is looked up and the whole password compared
 * whatever the other finds, so the time says neither whether the account
 * exists nor how much matched. authz (authzlen bytes, SASL PLAIN's
 * authorization identity) may be empty or name user; acting for another
 * user is not offered. SERVER_LOGIN_OK and *acct_r, or another result
 * (EUNAVAIL: store_errmsg(st) says why).
 */
int	server_login_password(struct store *st, const char *authz,
	    size_t authzlen, const char *user, const void *pass,
	    size_t passlen, int64_t *acct_r);
/*
 * CRAM-MD5 (RFC 2195): resp (resplen bytes) is "user hexdigest", the
 * digest HMAC-MD5 of challenge under the password (either case of hex).
 * As server_login_password(); *user_r is the user named (the caller
 * frees it) unless the result is SERVER_LOGIN_MALFORMED.
 */
int	server_login_cram(struct store *st, const char *challenge,
	    const char *resp, size_t resplen, char **user_r, int64_t *acct_r);
/*
 * APOP (RFC 1939 7): digest (32 hex digits, either case) is MD5 of the
 * greeting's timestamp followed by the password. As
 * server_login_password().
 */
int	server_login_apop(struct store *st, const char *timestamp,
	    const char *user, const char *digest, int64_t *acct_r);

/*
 * A failed login on a connection that had *conn_failures before: count
 * it there and in sh (both protocols), and set *delay_ms_r to how long
 * the answer must wait: sh->auth_delay_ms, doubled for each earlier
 * failure in the last minute (server-wide or on this connection, the
 * larger count), at most 16 times. Returns 1 when this was the
 * connection's last try (SERVER_LOGIN_MAX_FAILURES): the answer says so
 * and the connection is closed; else 0.
 */
int	server_login_failed(struct server_shared *sh, unsigned *conn_failures,
	    int *delay_ms_r);
/* Sleep ms, cut short when cancel_fd (-1: none) becomes readable. */
void	server_login_wait(int ms, int cancel_fd);
/* A login succeeded: the server-wide count starts again. */
void	server_login_succeeded(struct server_shared *sh);

#endif

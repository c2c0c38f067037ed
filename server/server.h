/*
 * server: the loopback mail server, as the CLI sees it.
 *
 * server_start() binds the configured loopback listeners (IMAP with
 * STARTTLS, IMAPS) and serves each connection on its own thread with its
 * own store handle (store_open_shared() of the handle given here). The
 * TLS certificate and key are read from the store's settings "tls-cert"
 * and "tls-key" (PEM; server_cert_ensure() makes them first); when
 * they are absent the server still runs, without STARTTLS and IMAPS.
 *
 * The server logs to stderr, one line per connection, login and error,
 * never a password. server_stop() says "* BYE" to every session, waits a
 * bounded time for them to end and frees everything.
 *
 * Locked and unlocked. Started with a NULL store the server is LOCKED:
 * it listens on every configured port, but every IMAP login (LOGIN,
 * AUTHENTICATE) gets NO [UNAVAILABLE] and every POP3 one (USER, PASS,
 * APOP, AUTH) -ERR [SYS/TEMP], both saying to run "mailvault unlock",
 * which mail clients show. TLS works while locked from the certificate
 * and key kept beside the store (cert.c; cfg->store_path says where), so
 * STARTTLS and STLS are offered and IMAPS and POP3S handshake as usual;
 * only a store that has never been unlocked since those files came has
 * no TLS while locked: STARTTLS and STLS are not offered then, and a
 * connection to the IMAPS or POP3S port is closed at once (and logged).
 * server_unlock() gives it a store: logins work,
 * also on connections made while it was locked. server_lock() ends every
 * session (IMAP "* BYE", POP3 closed), drops every store handle the
 * server holds (their keys are wiped) and the TLS context, and is locked
 * again.
 *
 * Inside, sessions belong to an "epoch": the server's handles, TLS
 * context and a cancel pipe that every session of the epoch watches.
 * Unlocking starts a new epoch (with TLS) and hands a store handle to the
 * locked one still serving; locking ends every epoch at once and starts a
 * locked one. An epoch is freed when its last session has returned.
 *
 * Environment (for tests): MAILVAULT_IMAP_TIMEOUT (seconds without a
 * command before a session is dropped, default 1800),
 * MAILVAULT_AUTH_DELAY_MS (the first failed login's delay, default 500),
 * MAILVAULT_IMAP_DEBUG=1 (log every command name).
 */
#ifndef MAILVAULT_SERVER_SERVER_H
#define MAILVAULT_SERVER_SERVER_H

#include <stddef.h>
#include <stdint.h>

struct store;
struct server;

#define SERVER_IMAP_PORT	1143
#define SERVER_IMAPS_PORT	1993
#define SERVER_POP3_PORT	1110
#define SERVER_POP3S_PORT	1995
#define SERVER_PORT_ANY		(-1)	/* let the kernel choose (tests) */

struct server_config {
	const char	*listen_addr;	/* NULL: "127.0.0.1"; must be loopback */
	const char	*store_path;	/* the store's file, for TLS while
					 * locked; NULL: no TLS while locked */
	int		 imap_port;	/* 0: off; SERVER_PORT_ANY: ephemeral */
	int		 imaps_port;	/* 0: off */
	int		 pop3_port;	/* 0: off */
	int		 pop3s_port;	/* 0: off */
	int		 pop3_delete;	/* -1: the pop3-delete setting,
					 * 0: hide, 1: expunge */
};

/*
 * Start serving st, or locked when st is NULL. st is only used during the
 * call (the server makes its own handles from it). 0 and *srv_r, or -1
 * and a sentence in err (a non-loopback address, a port in use, a
 * certificate that does not load).
 */
int	server_start(struct store *st, const struct server_config *cfg,
	    struct server **srv_r, char *err, size_t errlen);

/*
 * Unlock: serve st from now on (used during the call only, like
 * server_start's). 0, or -1 and a sentence in err (the store's TLS
 * certificate does not load, a handle cannot be made); the server then
 * stays locked. Unlocking an unlocked server is an error too.
 */
int	server_unlock(struct server *srv, struct store *st, char *err,
	    size_t errlen);

/*
 * Lock: end every session and drop every handle, waiting up to wait_ms
 * (negative: for ever) for the sessions to return. 0 when all have
 * ended, else how many still run (their own handles are closed when they
 * return). Locking a locked server ends its sessions too.
 */
int	server_lock(struct server *srv, int wait_ms);

/* 1 while the server is locked. */
int	server_is_locked(struct server *srv);

/*
 * The bound ports (useful with SERVER_PORT_ANY), 0 when that listener is
 * off; and a one-line description of the listeners for the log.
 */
int	server_imap_port(const struct server *srv);
int	server_imaps_port(const struct server *srv);
int	server_pop3_port(const struct server *srv);
int	server_pop3s_port(const struct server *srv);
void	server_describe(const struct server *srv, char *out, size_t outlen);

/* Stop: BYE to every session, wait for them, free; NULL is fine. */
void	server_stop(struct server **srv);

/*
 * cert.c: make the server's self-signed certificate if the store has
 * none (key and certificate sealed in the store), and make sure the
 * copies beside the store that TLS while locked needs are current
 * ("<store>.cert.pem", "<store>.key.pem", 0600). cert_r, if not NULL,
 * gets the PEM (the caller frees it); fp, if not NULL, the SHA-256
 * fingerprint "AB:CD:..." (fplen >= 96). 0, or -1 and a sentence in err.
 */
int	server_cert_ensure(struct store *st, char **cert_r, char *fp,
	    size_t fplen, char *err, size_t errlen);
/* As server_cert_ensure(), with a new certificate and key in place of
 * the old ones (clients that trusted the old one must trust this one). */
int	server_cert_renew(struct store *st, char **cert_r, char *fp,
	    size_t fplen, char *err, size_t errlen);
/* The certificate file beside the store at store_path, which a client's
 * settings may name (a new string). */
char	*server_cert_path(const char *store_path);
/* Read that file without the store: 0, *cert_r (if not NULL; the caller
 * frees) and the fingerprint into fp (if not NULL), or -1 when it is
 * missing or does not parse. */
int	server_cert_read_file(const char *store_path, char **cert_r,
	    char *fp, size_t fplen);

/*
 * imap/search_text.c: IMAP SEARCH without a session, for the CLI. query
 * is what a client writes after "UID SEARCH" ("FROM bob UNSEEN",
 * "SUBJECT \"two words\" SINCE 1-Jan-2026"), evaluated over mailbox mbox
 * of account acct exactly as the IMAP server evaluates it for a session
 * that selected the mailbox (sequence numbers count its messages in UID
 * order; none is \Recent). 0 and the matching UIDs, ascending, in *uids_r
 * (the caller frees; NULL when none match), or -1 and a sentence in err
 * (the query's syntax, or the store's error).
 */
int	server_search_uids(struct store *st, int64_t acct, int64_t mbox,
	    const char *query, uint32_t **uids_r, size_t *n_r, char *err,
	    size_t errlen);

#endif

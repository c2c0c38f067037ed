/*
 * server: the loopback mail server, as the CLI sees it.
 *
 * server_start() binds the configured loopback listeners (IMAP with
 * STARTTLS, IMAPS) and serves each connection on its own thread with its
 * own store handle (store_open_shared() of the handle given here). The
 * TLS certificate and key are read from the store's settings "tls-cert"
 * and "tls-key" (PEM; the caller makes them first, see cli/cert.c); when
 * they are absent the server still runs, without STARTTLS and IMAPS.
 *
 * The server logs to stderr, one line per connection, login and error,
 * never a password. server_stop() says "* BYE" to every session, waits a
 * bounded time for them to end and frees everything.
 *
 * Environment (for tests): MAILVAULT_IMAP_TIMEOUT (seconds without a
 * command before a session is dropped, default 1800),
 * MAILVAULT_AUTH_DELAY_MS (the first failed login's delay, default 500),
 * MAILVAULT_IMAP_DEBUG=1 (log every command name).
 */
#ifndef MAILVAULT_SERVER_SERVER_H
#define MAILVAULT_SERVER_SERVER_H

#include <stddef.h>

struct store;
struct server;

#define SERVER_IMAP_PORT	1143
#define SERVER_IMAPS_PORT	1993
#define SERVER_POP3_PORT	1110
#define SERVER_POP3S_PORT	1995
#define SERVER_PORT_ANY		(-1)	/* let the kernel choose (tests) */

struct server_config {
	const char	*listen_addr;	/* NULL: "127.0.0.1"; must be loopback */
	int		 imap_port;	/* 0: off; SERVER_PORT_ANY: ephemeral */
	int		 imaps_port;	/* 0: off */
	int		 pop3_port;	/* 0: off */
	int		 pop3s_port;	/* 0: off */
	int		 pop3_delete;	/* -1: the pop3-delete setting,
					 * 0: hide, 1: expunge */
};

/*
 * Start serving st (which must stay open until server_stop()). 0 and
 * *srv_r, or -1 and a sentence in err (a non-loopback address, a port in
 * use, a certificate that does not load).
 */
int	server_start(struct store *st, const struct server_config *cfg,
	    struct server **srv_r, char *err, size_t errlen);

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

#endif

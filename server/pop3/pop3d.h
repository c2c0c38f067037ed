/*
 * pop3d: what server/server.c needs from the POP3 sessions (private to
 * server/).
 *
 * server.c fills one struct pop3d_config per epoch (pop3d_config_init(),
 * then its own delete mode): POP3's own settings beside a pointer to the
 * epoch's struct server_shared (the parent store handle and its lock,
 * the TLS context, session numbers and the login throttle it shares with
 * IMAP, server_int.h). For each connection accepted on a POP3 or POP3S
 * listener it calls pop3d_session_run() on the connection's thread. The
 * session runs top to bottom (RFC 1939's AUTHORIZATION, TRANSACTION and
 * UPDATE states) until the client quits, the connection drops, it is
 * idle for too long or the server stops; it opens its own store handle
 * and closes it and the socket before it returns.
 *
 * A session's maildrop is the INBOX of the account named at login, as a
 * snapshot taken then. Only one session per maildrop runs at a time in
 * the process; a second login gets -ERR [IN-USE].
 *
 * Environment (read by pop3d_config_init(), for tests):
 * MAILVAULT_POP3_TIMEOUT (seconds without a command before a session is
 * dropped, default 600, RFC 1939's ten minutes), MAILVAULT_POP3_DEBUG=1
 * (log every command name, never its arguments).
 */
#ifndef MAILVAULT_SERVER_POP3_POP3D_H
#define MAILVAULT_SERVER_POP3_POP3D_H

#include <sys/socket.h>

struct server_shared;

#define POP3D_PORT		1110	/* plain text, STLS offered */
#define POP3D_PORT_TLS		1995	/* implicit TLS */
#define POP3D_TIMEOUT_MS	(10 * 60 * 1000) /* RFC 1939: >= 10 min */

/* What DELE does at QUIT. */
enum pop3d_delete {
	POP3D_DELETE_SETTING = -1,	/* the store's setting, read at each
					 * QUIT (`mailvault config set
					 * pop3-delete expunge`, stored as
					 * "config.pop3-delete"); else hide */
	POP3D_DELETE_HIDE = 0,		/* keep the message for IMAP, hide
					 * it from POP3 (store_pop3_hide()) */
	POP3D_DELETE_EXPUNGE = 1,	/* a real expunge (synced upstream) */
};

struct pop3d_config {
	struct server_shared *sh;	/* the epoch's, shared with IMAP */
	int		 delete_mode;	/* enum pop3d_delete */
	int		 timeout_ms;	/* idle timeout */
	int		 debug;		/* log command names */
};

/*
 * Defaults (and the environment variables above) into *cfg, serving the
 * epoch's sh: delete_mode POP3D_DELETE_SETTING.
 */
void	pop3d_config_init(struct pop3d_config *cfg, struct server_shared *sh);

/*
 * Serve one connection: fd is a connected socket, owned by the session
 * from now on (closed before returning). implicit_tls: POP3S, the TLS
 * handshake comes first. shutdown_fd becomes readable when the server
 * stops (-1: never); the session then says -ERR and ends without
 * carrying out deletions. peer may be NULL (it is only logged). cfg must
 * stay valid until the call returns.
 */
void	pop3d_session_run(const struct pop3d_config *cfg, int fd,
	    int implicit_tls, int shutdown_fd, const struct sockaddr *peer);

#endif

/*
 * pop3d_int: what the files of server/pop3/ share (private to it).
 *
 * session.c runs the connection: reading bounded lines, the command table
 * and its states, replies, logging. auth.c reads the login commands
 * (USER/PASS, APOP, AUTH PLAIN), has server/login.c check them and slow
 * down failures (together with IMAP's), and keeps the process-wide
 * registry of maildrops in use. maildrop.c takes the INBOX snapshot,
 * answers the TRANSACTION commands, streams messages with byte-stuffing
 * and carries out the deletions at QUIT.
 */
#ifndef MAILVAULT_SERVER_POP3_POP3D_INT_H
#define MAILVAULT_SERVER_POP3_POP3D_INT_H

#include <stdint.h>

#include "lib/net.h"
#include "lib/pop3_cmd.h"
#include "server/pop3/pop3d.h"
#include "server/server_int.h"

#define POP3D_TLS_HANDSHAKE_MS	30000
#define POP3D_TIMESTAMP_MAX	160	/* the APOP greeting timestamp */

enum pop3d_state {
	POP3D_S_AUTHZ = 1 << 0,		/* AUTHORIZATION */
	POP3D_S_TRANS = 1 << 1,		/* TRANSACTION */
};

/* One message of the maildrop snapshot. */
struct pop3d_msg {
	uint32_t	 uid;
	uint64_t	 size;		/* octets in wire form, as sent */
	int64_t		 content;
	unsigned char	 deleted;	/* DELE'd in this session */
	unsigned char	 retrieved;	/* RETR'd: \Seen at QUIT */
};

struct pop3d_session {
	const struct pop3d_config *cfg;
	struct store	*st;		/* own handle, closed at the end */
	struct tls_stream *io;
	int		 shutdown_fd;
	unsigned	 id;
	char		 peer[NET_ADDRSTRLEN];
	enum pop3d_state state;
	int		 done;		/* end the session after this reply */
	int		 broken;	/* a write failed: end silently */
	char		 timestamp[POP3D_TIMESTAMP_MAX];	/* APOP */
	char		*user;		/* USER's name, before PASS */
	unsigned	 auth_failures;
	/* After login. */
	char		*login;		/* account name */
	int64_t		 acct;
	int		 registered;	/* holds the maildrop registry slot */
	int64_t		 mbox;
	uint32_t	 uidvalidity;
	struct pop3d_msg *msgs;		/* the snapshot, owned */
	size_t		 nmsgs;
	size_t		 nlive;		/* not DELE'd */
	uint64_t	 live_bytes;
	char		*rbuf;		/* message streaming buffer, owned */
	/* The current command line (NUL-terminated by the parser). */
	char		 line[POP3_CMD_LINE_MAX + 1];
	size_t		 linelen;
};

/* Results of pop3d_read_line(). */
#define POP3D_LINE_OK		1	/* s->line holds a line */
#define POP3D_LINE_END		0	/* the session must end */
#define POP3D_LINE_TOO_LONG	(-1)	/* skipped; answer -ERR */

/* ---- session.c ------------------------------------------------------ */

/* Buffered output; errors mark the session broken (and are ignored
 * after that). reply() adds CRLF. */
void	pop3d_write(struct pop3d_session *s, const void *p, size_t n);
void	pop3d_reply(struct pop3d_session *s, const char *fmt, ...)
	    __attribute__((format(printf, 2, 3)));
void	pop3d_flush(struct pop3d_session *s);
/* Read the next line into s->line (flushing output before waiting). */
int	pop3d_read_line(struct pop3d_session *s);
void	pop3d_log(struct pop3d_session *s, const char *fmt, ...)
	    __attribute__((format(printf, 2, 3)));

/* ---- auth.c ---------------------------------------------------------- */

/* Make the APOP timestamp for the greeting into s->timestamp. */
void	pop3d_auth_timestamp(struct pop3d_session *s);
int	pop3d_cmd_user(struct pop3d_session *s, struct pop3_cmd *cmd);
int	pop3d_cmd_pass(struct pop3d_session *s, struct pop3_cmd *cmd);
int	pop3d_cmd_apop(struct pop3d_session *s, struct pop3_cmd *cmd);
int	pop3d_cmd_auth(struct pop3d_session *s, struct pop3_cmd *cmd);
/* Leave the maildrop registry if the session holds a slot. */
void	pop3d_auth_release(struct pop3d_session *s);

/* ---- maildrop.c ------------------------------------------------------ */

/*
 * Take the snapshot of INBOX of s->acct. 0, or -1 with the -ERR reply
 * already sent.
 */
int	pop3d_maildrop_open(struct pop3d_session *s);
void	pop3d_maildrop_close(struct pop3d_session *s);
int	pop3d_cmd_stat(struct pop3d_session *s, struct pop3_cmd *cmd);
int	pop3d_cmd_list(struct pop3d_session *s, struct pop3_cmd *cmd);
int	pop3d_cmd_uidl(struct pop3d_session *s, struct pop3_cmd *cmd);
int	pop3d_cmd_retr(struct pop3d_session *s, struct pop3_cmd *cmd);
int	pop3d_cmd_top(struct pop3d_session *s, struct pop3_cmd *cmd);
int	pop3d_cmd_dele(struct pop3d_session *s, struct pop3_cmd *cmd);
int	pop3d_cmd_rset(struct pop3d_session *s, struct pop3_cmd *cmd);
/* QUIT in TRANSACTION: the UPDATE state. */
int	pop3d_maildrop_update(struct pop3d_session *s);

#endif

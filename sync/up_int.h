/*
 * up_int: what the IMAP and POP3 drivers share, private to them: the
 * connection to an upstream server, in sync/up_imap_conn.c.
 *
 * A struct up_conn is one TCP connection, plain or TLS, with the account's
 * rules applied in one place so neither driver can get them wrong: TLS
 * by default, certificates verified against the system's CAs, a CA file
 * or a pinned fingerprint; STARTTLS handled by the driver but the TLS
 * handshake and its checks here; plain text only when the account says
 * tls none and the host is loopback (every address it resolves to, and
 * the peer actually reached). Every failure becomes a struct sync_error
 * of account scope whose sentence names the server and, for certificate
 * problems, the fingerprint that was seen, so a person can pin it.
 *
 * Reads wait at most the account's timeout and stop when its cancel
 * descriptor becomes readable. Output is buffered by the TLS stream and
 * leaves at up_conn_flush() (or when the buffer fills), so pipelined
 * commands go out in few packets.
 */
#ifndef MAILVAULT_SYNC_UP_INT_H
#define MAILVAULT_SYNC_UP_INT_H

#include <stddef.h>

#include "lib/imap_resp.h"
#include "sync/driver.h"

struct tls_ctx;
struct tls_stream;

struct up_conn {
	const struct sync_account_cfg *cfg;
	const char	*proto;		/* "IMAP" or "POP3", for messages */
	struct tls_ctx	*ctx;
	struct tls_stream *s;		/* NULL when closed */
	unsigned	 port;
	int		 timeout_ms;
	char		 where[300];	/* "host:port", for messages */
};

/*
 * Connect to cfg's server: port cfg->port, or plain_port / tls_port by
 * the TLS mode; with SYNC_TLS_IMPLICIT the handshake is done here. 0, or
 * -1 and *err (account scope). c is zeroed first; cfg is borrowed.
 */
int	up_conn_open(struct up_conn *c, const struct sync_account_cfg *cfg,
	    const char *proto, unsigned plain_port, unsigned tls_port,
	    struct sync_error *err);

/* After the server agreed to STARTTLS / STLS: the verified handshake. */
int	up_conn_starttls(struct up_conn *c, struct sync_error *err);

/*
 * Wait for input and return the buffered unread bytes (*len_r > 0), or
 * NULL and *err: closed by the server, timeout, cancelled, I/O. what
 * says what the driver was doing, for the sentence ("fetching INBOX").
 * wake_fd (or -1) ends the wait with *woken_r = 1 and NULL without an
 * error (IDLE); woken_r may be NULL when wake_fd is -1.
 */
const char *up_conn_read(struct up_conn *c, size_t *len_r, int wake_fd,
	    int *woken_r, const char *what, struct sync_error *err);
/*
 * Wait at most timeout_ms for input (negative: forever) without treating
 * a timeout or a wake-up as an error: bytes added (> 0), 0 at the end of
 * the stream, or a TLS_E* code; the connection is left as it is. For
 * IDLE, which waits for long and must be interruptible.
 */
long	up_conn_wait(struct up_conn *c, int timeout_ms, int wake_fd);
/* Drop the first n bytes up_conn_read() returned. */
void	up_conn_consume(struct up_conn *c, size_t n);

/* Buffered output; 0, or -1 and *err (the connection is then broken). */
int	up_conn_write(struct up_conn *c, const void *p, size_t n,
	    struct sync_error *err);
int	up_conn_printf(struct up_conn *c, struct sync_error *err,
	    const char *fmt, ...) __attribute__((format(printf, 3, 4)));
int	up_conn_flush(struct up_conn *c, struct sync_error *err);

/* 1 when the connection runs TLS. */
int	up_conn_is_tls(const struct up_conn *c);
/* Close (a no-op when closed). The context is kept for a reconnect. */
void	up_conn_close(struct up_conn *c);
/* Close and free the context too. */
void	up_conn_free(struct up_conn *c);

/* Log through cfg->log when set. */
void	up_log(const struct sync_account_cfg *cfg, int level, const char *fmt,
	    ...) __attribute__((format(printf, 3, 4)));

/*
 * Run cfg->oauth_token_command with /bin/sh and return the first line of
 * its output (the caller wipes and frees it), or NULL and *err (account
 * scope, SYNC_EK_AUTH).
 */
char	*up_oauth_token(const struct sync_account_cfg *cfg,
	    struct sync_error *err);

/* Wipe a string's bytes and free it; NULL is fine; clears the pointer. */
void	up_secret_free(char **s);

/* ---- the IMAP driver (sync/up_imap.c, sync/up_imap_ops.c) ---------- */

struct buf;
struct imap_resp;
struct imap_resp_parser;

/* Capabilities as the IMAP driver tracks them (up_imap.rcaps). */
enum {
	IC_STARTTLS = 1 << 0,
	IC_LOGINDISABLED = 1 << 1,
	IC_AUTH_PLAIN = 1 << 2,
	IC_AUTH_XOAUTH2 = 1 << 3,
	IC_AUTH_OAUTHBEARER = 1 << 4,
	IC_SASL_IR = 1 << 5,
	IC_LITERAL_PLUS = 1 << 6,
	IC_LITERAL_MINUS = 1 << 7,
	IC_UIDPLUS = 1 << 8,
	IC_CONDSTORE = 1 << 9,
	IC_QRESYNC = 1 << 10,
	IC_ENABLE = 1 << 11,
	IC_MOVE = 1 << 12,
	IC_IDLE = 1 << 13,
	IC_SPECIAL_USE = 1 << 14,
	IC_ESEARCH = 1 << 15,
	IC_LIST_EXTENDED = 1 << 16,
	IC_IMAP4REV1 = 1 << 17,
	IC_LIST_STATUS = 1 << 18,
	IC_NAMESPACE = 1 << 19,
	IC_UNSELECT = 1 << 20,
};

/* Longest personal namespace prefix taken from NAMESPACE. */
#define UP_NSPREFIX_MAX	256

struct up_imap {
	struct sync_driver base;	/* first: the engine sees this */
	const struct sync_account_cfg *cfg;
	struct up_conn	 conn;
	struct imap_resp_parser *rp;
	unsigned	 tagn;		/* the last tag sent */
	unsigned	 rcaps;		/* IC_* */
	int		 qresync_on;	/* ENABLE QRESYNC accepted */
	char		 delim;		/* the server's; '\0' for flat */
	/* The personal namespace's prefix as the server spells it ("INBOX."
	 * on Cyrus; "" mostly): local names are relative to it, as in
	 * mbsync, so a local top-level folder goes where the server lets a
	 * person make folders. */
	char		 nsprefix[UP_NSPREFIX_MAX];
	char		*selected;	/* the selected folder (local name) */
	int		 keywords_ok;	/* of the selected folder */
	uint64_t	 hms;		/* its HIGHESTMODSEQ, 0 for none */
	const char	*doing;		/* "fetching from INBOX", for errors */
	char		 doingbuf[300];
	char		 bye[200];	/* the text of an untagged BYE */
	char		 sasl_status[64]; /* an OAuth error's "status" */
};

/* A tagged completion, copied out of the parser. */
struct imap_done {
	enum imap_resp_status status;
	int		 code;		/* enum imap_resp_code */
	uint64_t	 code_num;
	char		*code_set;	/* owned; "" when none */
	char		*code_set2;
	char		 code_name[40];
	char		 text[300];
};

/* Handler of untagged responses while a command runs: 0 go on, -1
 * stop (the handler filled *err). */
typedef int (*up_imap_fn)(struct up_imap *d, const struct imap_resp *ev,
    void *arg, struct sync_error *err);

/* What the driver is doing, for error sentences: "selecting INBOX". */
void	up_imap_doing(struct up_imap *d, const char *fmt, ...)
	    __attribute__((format(printf, 2, 3)));
/* Queue "tN <command>\r\n" (not flushed): its tag number, or 0 and *err. */
unsigned up_imap_send(struct up_imap *d, struct sync_error *err,
	    const char *fmt, ...) __attribute__((format(printf, 3, 4)));
/*
 * Read responses up to the tagged completion of tag, handing untagged
 * ones to fn (NULL: ignore them). 0 and *done (its strings owned: free
 * with up_imap_done_clear), or -1 and *err. With cont_r non-NULL a
 * continuation request ends the wait too: 0 and *cont_r = 1.
 */
int	up_imap_wait(struct up_imap *d, unsigned tag, up_imap_fn fn,
	    void *arg, struct imap_done *done, int *cont_r,
	    struct sync_error *err);
void	up_imap_done_clear(struct imap_done *done);
/* A tagged NO or BAD as an error of scope for what the driver was
 * doing; the kind from its response code. Always -1. */
int	up_imap_done_err(struct up_imap *d, const struct imap_done *done,
	    enum sync_scope scope, struct sync_error *err);
/* Drop the connection after a failure; the driver stays reusable. */
void	up_imap_drop(struct up_imap *d);
/* The server's (modified UTF-7, its delimiter, inside the personal
 * namespace) name of a local folder, quoted for a command, appended to
 * out. 0, or -1 and *err (BADNAME). */
int	up_imap_name_out(struct up_imap *d, const char *local,
	    struct buf *out, struct sync_error *err);
/* The local name of a server folder, or NULL when none fits (a '/' in a
 * component, outside the personal namespace). */
char	*up_imap_name_in(struct up_imap *d, const char *remote);
/* A quoted string for a command; -1 if s holds CR, LF or NUL. */
int	up_imap_quote(struct buf *out, const char *s);
/* STORE_F_* bits and keywords to "(\Seen kw)"; and back. */
void	up_imap_flags_out(struct buf *out, uint32_t flags,
	    const char *const *kw, size_t nkw);
uint32_t up_imap_flags_in(const char *const *items, size_t n,
	    const char **kw, size_t *nkw_r);

/* The operations in sync/up_imap_ops.c. */
int	up_imap_list_folders(struct sync_driver *d,
	    struct sync_folder **list_r, size_t *n_r, struct sync_error *err);
int	up_imap_select(struct sync_driver *d, const char *folder,
	    struct sync_folder_status *st_r, struct sync_error *err);
int	up_imap_fetch(struct sync_driver *d, const struct sync_fetch_req *req,
	    const struct sync_fetch_cb *cb, struct sync_error *err);
int	up_imap_list_uids(struct sync_driver *d, uint32_t **uids_r,
	    size_t *n_r, struct sync_error *err);
int	up_imap_search_msgid(struct sync_driver *d, const char *msgid,
	    uint32_t **uids_r, size_t *n_r, struct sync_error *err);
int	up_imap_store_flags(struct sync_driver *d, const uint32_t *uids,
	    size_t n, const struct sync_flag_change *ch,
	    struct sync_error *err);
int	up_imap_expunge(struct sync_driver *d, const uint32_t *uids, size_t n,
	    struct sync_error *err);
int	up_imap_copy(struct sync_driver *d, const uint32_t *uids, size_t n,
	    const char *dest, int move, uint32_t *newuids,
	    uint32_t *dest_uidvalidity_r, struct sync_error *err);
int	up_imap_append(struct sync_driver *d, const char *folder,
	    const struct sync_append_src *src, uint32_t *uid_r,
	    uint32_t *uidvalidity_r, struct sync_error *err);
int	up_imap_create_folder(struct sync_driver *d, const char *name,
	    struct sync_error *err);
int	up_imap_rename_folder(struct sync_driver *d, const char *from,
	    const char *to, struct sync_error *err);
int	up_imap_delete_folder(struct sync_driver *d, const char *name,
	    struct sync_error *err);
int	up_imap_idle(struct sync_driver *d, int timeout_ms, int cancel_fd,
	    struct sync_error *err);

#endif

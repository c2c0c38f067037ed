/*
 * imapd_int: the IMAP session's insides, shared by the files of
 * server/imap/ and by nothing else.
 *
 * A session is one connection on one thread: session.c reads input into
 * the lexer and buffers output, commands.c reads the tag and command name
 * and calls one handler from its table, and the handlers (cmd_*.c) read
 * their own arguments through the session's token source, do their work
 * on the session's store handle and write untagged responses. A handler
 * does not write its tagged reply: it returns IMAPD_OK / IMAPD_NO /
 * IMAPD_BAD with the response code and text in the command context, and
 * the dispatcher first reports what changed in the selected mailbox
 * (view.c), then writes the tagged line, so every command ends the same
 * way.
 *
 * The view (view.c) is the selected mailbox as this session has told the
 * client about it: messages in sequence order (a struct store_msg each),
 * \Recent marks, and changes made by others that are still to be
 * reported (new messages, flag changes, expunges, which RFC 3501 7.4.1
 * holds back during FETCH, STORE and SEARCH).
 */
#ifndef MAILVAULT_SERVER_IMAP_IMAPD_INT_H
#define MAILVAULT_SERVER_IMAP_IMAPD_INT_H

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include "lib/buf.h"
#include "lib/imap_lex.h"
#include "lib/net.h"
#include "server/imap/imapd.h"
#include "server/imap/imapd_io.h"
#include "server/server_int.h"
#include "store/store.h"

struct tls_stream;
struct imapd_view;

/* Session states, as bits so a command row can allow several. */
enum {
	IMAPD_S_NOAUTH = 1 << 0,
	IMAPD_S_AUTH = 1 << 1,
	IMAPD_S_SELECTED = 1 << 2,
	IMAPD_S_LOGOUT = 1 << 3,
};
#define IMAPD_S_ANY	(IMAPD_S_NOAUTH | IMAPD_S_AUTH | IMAPD_S_SELECTED)
#define IMAPD_S_AUTHED	(IMAPD_S_AUTH | IMAPD_S_SELECTED)

/* Command row flags. */
enum {
	IMAPD_CMD_UID = 1 << 0,		/* may follow "UID" */
	IMAPD_CMD_SECRET = 1 << 1,	/* arguments never logged */
	IMAPD_CMD_NOEXPUNGE = 1 << 2,	/* no EXPUNGE while answering,
					 * unless it came as UID ... */
	IMAPD_CMD_NOUPDATES = 1 << 3,	/* no untagged updates at all */
};

/* What a handler returns. */
enum {
	IMAPD_OK = 0,		/* tagged OK with c->code / c->text */
	IMAPD_NO,		/* tagged NO */
	IMAPD_BAD,		/* tagged BAD (or the lexer's error); the
				 * dispatcher skips the rest of the line */
	IMAPD_DONE,		/* the handler wrote the tagged line */
	IMAPD_CLOSE,		/* end the session now */
};

#define IMAPD_TAG_MAX	128
#define IMAPD_CODE_MAX	1024
#define IMAPD_TEXT_MAX	512
#define IMAPD_STRING_MAX (64 * 1024)	/* an astring argument */

struct imapd_session;
struct imapd_cmdctx;

struct imapd_command {
	const char	*name;
	int		(*fn)(struct imapd_session *, struct imapd_cmdctx *);
	unsigned	 states;	/* IMAPD_S_* bits */
	unsigned	 flags;		/* IMAPD_CMD_* bits */
};

/* One command being executed. */
struct imapd_cmdctx {
	char		 tag[IMAPD_TAG_MAX + 1];
	const struct imapd_command *cmd;
	int		 uid;		/* came as "UID <cmd>" */
	char		 code[IMAPD_CODE_MAX];	/* response code, no brackets */
	char		 text[IMAPD_TEXT_MAX];	/* human text */
};

struct imapd_session {
	struct imapd_config *cfg;	/* the epoch's (server.c) */
	struct store	*st;		/* this session's own handle */
	struct tls_stream *io;
	struct imap_lex	*lx;
	struct imapd_toksrc src;	/* reads through lx and io */
	struct imapd_out out;		/* writes into io */
	unsigned	 id;
	char		 peer[NET_ADDRSTRLEN];
	int		 state;		/* IMAPD_S_* */
	int		 implicit_tls;
	int		 shutdown_fd;	/* readable once the server stops */
	int		 dead;		/* the connection is gone */
	int		 bye;		/* a BYE was sent */
	int		 lit_sync;	/* the last LITERAL_START was {n} */
	int64_t		 acct;		/* logged-in account */
	char		*user;
	unsigned	 auth_failures;	/* in this session */
	int		 condstore;	/* CONDSTORE enabled */
	int		 qresync;	/* QRESYNC enabled */
	struct imapd_view *view;	/* NULL unless selected */
	char		**kwname;	/* keyword id -> name cache */
	size_t		 nkwname;
};

/* ---- session.c: input, output, arguments -------------------------------- */

/* Write response bytes; errors mark the session dead. 0 or -1. */
int	imapd_write(struct imapd_session *s, const void *p, size_t n);
int	imapd_puts(struct imapd_session *s, const char *str);
int	imapd_printf(struct imapd_session *s, const char *fmt, ...)
	    __attribute__((format(printf, 2, 3)));
/* Send what is buffered. 0 or -1. */
int	imapd_flush(struct imapd_session *s);
/* "* BYE text" and flush; remembers that a BYE went out. */
void	imapd_bye(struct imapd_session *s, const char *text);
/* One log line, prefixed with the session number. */
void	imapd_log(struct imapd_session *s, const char *fmt, ...)
	    __attribute__((format(printf, 2, 3)));

/*
 * The next token of the command line (imap_lex_next() / _astring()),
 * reading the socket as needed. 1, or -1 on a lexer error (see
 * imap_lex_errcode) or a lost connection (s->dead).
 */
int	imapd_tok(struct imapd_session *s, struct imap_tok *tok);
int	imapd_tok_astring(struct imapd_session *s, struct imap_tok *tok);
/* A whole line (a SASL response), without its CRLF; the caller frees
 * it. 0, or -1 on a lexer error (too long) or a lost connection. */
int	imapd_read_line(struct imapd_session *s, char **line_r);
/* After LITERAL_START: take it whole (<= max), sending "+" if needed. */
int	imapd_collect(struct imapd_session *s, size_t max);
/* Send the "+" continuation for a synchronizing literal (flushes). */
int	imapd_continue(struct imapd_session *s, const char *text);
/* 1 if input is waiting (in the lexer or in the stream). */
int	imapd_input_pending(struct imapd_session *s);
/*
 * Wait for input for at most timeout_ms, also waking for wake_fd. 1: the
 * lexer was fed; 0: timed out; NET_EWAKE; -1: the session must end (a
 * BYE was sent if one was due).
 */
int	imapd_wait_input(struct imapd_session *s, int timeout_ms, int wake_fd);

/*
 * Argument readers. Each wants at least one SP before its argument and
 * returns 0, or IMAPD_BAD with c->text set (or a lexer error pending),
 * or IMAPD_NO with c->code/c->text. Strings come back NUL-terminated and
 * owned by the caller.
 */
int	imapd_arg_astring(struct imapd_session *s, struct imapd_cmdctx *c,
	    char **str_r, size_t *len_r);
/* An astring holding a mailbox name: mUTF-7 decoded to UTF-8. */
int	imapd_arg_mailbox(struct imapd_session *s, struct imapd_cmdctx *c,
	    char **name_r);
/* An atom (copied into buf). */
int	imapd_arg_atom(struct imapd_session *s, struct imapd_cmdctx *c,
	    char *buf, size_t bufsize);
/* The end of the line. */
int	imapd_arg_end(struct imapd_session *s, struct imapd_cmdctx *c);
/* A string token (QUOTED, LITERAL via collect, or ATOM if atom_ok) that
 * was already read into tok: copy it out. */
int	imapd_tok_string(struct imapd_session *s, struct imapd_cmdctx *c,
	    struct imap_tok *tok, int atom_ok, char **str_r, size_t *len_r);

/* Set the tagged reply; each returns its IMAPD_* value. */
int	imapd_ok(struct imapd_cmdctx *c, const char *code, const char *fmt,
	    ...) __attribute__((format(printf, 3, 4)));
int	imapd_no(struct imapd_cmdctx *c, const char *code, const char *fmt,
	    ...) __attribute__((format(printf, 3, 4)));
int	imapd_bad(struct imapd_cmdctx *c, const char *fmt, ...)
	    __attribute__((format(printf, 2, 3)));
/* NO for a store error: the RFC 5530 code that fits, store_errmsg. */
int	imapd_no_store(struct imapd_session *s, struct imapd_cmdctx *c,
	    int rc);

/* ---- commands.c: the table and the dispatcher --------------------------- */

/* Read and run one command. 0 to go on, -1 to end the session. */
int	imapd_dispatch(struct imapd_session *s);

/* ---- resp.c: formatting -------------------------------------------------- */

/* The capability list for the session's state (no "* CAPABILITY"). */
void	imapd_capabilities(struct imapd_session *s, struct buf *out);
/* The response code for a store error (RFC 5530). */
const char *imapd_store_code(int rc);
/* Append a mailbox name (UTF-8) as a mUTF-7 astring; 0 or -1. */
int	imapd_add_mailbox(struct buf *out, const char *name);
/* Append s as an astring: atom if it can be, quoted, else a literal. */
int	imapd_add_astring(struct buf *out, const char *s, size_t len);
/* Append a quoted string or literal (never an atom). */
int	imapd_add_string(struct buf *out, const char *s, size_t len);
/* Append the flags of a message, space separated, no parens. */
int	imapd_add_flags(struct imapd_session *s, struct buf *out,
	    uint32_t flags, const uint32_t *kw, uint32_t nkw, int recent);
/* A keyword's name, from the session's cache; NULL if unknown. */
const char *imapd_keyword_name(struct imapd_session *s, uint32_t id);
/* Parse a flag atom: 1 system flag (*bit_r), 0 keyword, -1 not allowed. */
int	imapd_parse_flag(const char *atom, uint32_t *bit_r);

/* ---- view.c: the selected mailbox ---------------------------------------- */

enum {
	IMAPD_V_RECENT = 1 << 0,	/* \Recent for this session */
	IMAPD_V_GONE = 1 << 1,		/* expunged, not reported yet */
	IMAPD_V_FLAGS = 1 << 2,		/* flags changed, not reported */
};

struct imapd_msglist;

struct imapd_view {
	int64_t		 mbox;
	char		*name;		/* UTF-8 */
	int		 readonly;
	uint32_t	 uidvalidity;
	uint32_t	 uidnext;
	uint64_t	 modseq;	/* changes up to here are known */
	struct store_msg *msgs;		/* seq = index + 1 */
	struct imapd_msglist *base;	/* the list made at open, maybe
					 * shared (view.c): msgs is it until
					 * the first change; its keyword ids
					 * are pointed to, so it stays */
	uint32_t	**kwown;	/* NULL, or per message its own copy
					 * of keyword ids (or NULL) */
	unsigned char	*mark;		/* IMAPD_V_* per message */
	size_t		 n;
	size_t		 cap;
	size_t		 ngone;
	size_t		 nflags;	/* messages marked IMAPD_V_FLAGS */
	uint32_t	 nrecent;
	uint32_t	 told_exists;	/* last EXISTS sent */
	uint32_t	 told_recent;	/* last RECENT sent */
	uint32_t	*kw;		/* keyword ids in FLAGS, ascending */
	size_t		 nkw;
	int		 kw_changed;	/* a new keyword: send FLAGS again */
	int		 dirty;		/* sync even without a change notice */
};

/*
 * Open the view of mailbox mb (SELECT, or EXAMINE when readonly): one
 * message list, \Recent claimed (not by EXAMINE). 0 or a store code.
 */
int	imapd_view_open(struct imapd_session *s, const struct store_mailbox *mb,
	    int readonly, struct imapd_view **v_r);
void	imapd_view_free(struct imapd_view **v);
/*
 * Catch up with the store: new messages, flag changes, expunges are
 * applied to the view and marked for reporting. 0, a store code, or
 * STORE_ENOENT when the mailbox is gone.
 */
int	imapd_view_sync(struct imapd_session *s);
/*
 * Sync, then write what the client has not been told: EXPUNGE (or
 * VANISHED) when allow_expunge, FLAGS for new keywords, EXISTS, RECENT,
 * FETCH FLAGS. -1 if the session must end (mailbox deleted: BYE sent).
 */
int	imapd_view_report(struct imapd_session *s, int allow_expunge);
/*
 * Write "* seq FETCH (UID u MODSEQ (m) FLAGS (...))" for message i: the
 * UID with IMAPD_FF_UID or under QRESYNC, MODSEQ under CONDSTORE, FLAGS
 * unless IMAPD_FF_NOFLAGS. Clears the message's IMAPD_V_FLAGS mark.
 */
enum {
	IMAPD_FF_UID = 1 << 0,
	IMAPD_FF_NOFLAGS = 1 << 1,
	IMAPD_FF_FLAGS_FIRST = 1 << 2,	/* FLAGS before MODSEQ */
};
int	imapd_view_fetch_flags(struct imapd_session *s, size_t i, unsigned how);
/* The index of uid in the view, or -1. */
long	imapd_view_find(const struct imapd_view *v, uint32_t uid);
/* "* FLAGS (...)" and "* OK [PERMANENTFLAGS (...)]". */
int	imapd_view_write_flags(struct imapd_session *s);
/* The first UID that is \Recent for this session, 0 if none. */
uint32_t imapd_view_first_recent(const struct imapd_view *v);
/*
 * Resolve a sequence set or UID set (atom text) against the view into
 * ascending indexes (the caller frees *idx_r). Sequence numbers past
 * the end are an error (-1 and err); unknown UIDs are skipped.
 */
int	imapd_view_resolve(struct imapd_view *v, const char *set, int uid,
	    size_t **idx_r, size_t *n_r, char *err, size_t errlen);
/* CONDSTORE was just enabled: tell HIGHESTMODSEQ if a mailbox is open. */
int	imapd_enable_condstore(struct imapd_session *s);

/* ---- handlers ------------------------------------------------------------- */

/* cmd_any.c */
int	imapd_cmd_capability(struct imapd_session *, struct imapd_cmdctx *);
int	imapd_cmd_noop(struct imapd_session *, struct imapd_cmdctx *);
int	imapd_cmd_logout(struct imapd_session *, struct imapd_cmdctx *);
int	imapd_cmd_id(struct imapd_session *, struct imapd_cmdctx *);
/* cmd_noauth.c */
int	imapd_cmd_starttls(struct imapd_session *, struct imapd_cmdctx *);
int	imapd_cmd_login(struct imapd_session *, struct imapd_cmdctx *);
int	imapd_cmd_authenticate(struct imapd_session *, struct imapd_cmdctx *);
/* cmd_auth.c */
int	imapd_cmd_select(struct imapd_session *, struct imapd_cmdctx *);
int	imapd_cmd_examine(struct imapd_session *, struct imapd_cmdctx *);
int	imapd_cmd_create(struct imapd_session *, struct imapd_cmdctx *);
int	imapd_cmd_delete(struct imapd_session *, struct imapd_cmdctx *);
int	imapd_cmd_rename(struct imapd_session *, struct imapd_cmdctx *);
int	imapd_cmd_subscribe(struct imapd_session *, struct imapd_cmdctx *);
int	imapd_cmd_unsubscribe(struct imapd_session *, struct imapd_cmdctx *);
int	imapd_cmd_list(struct imapd_session *, struct imapd_cmdctx *);
int	imapd_cmd_lsub(struct imapd_session *, struct imapd_cmdctx *);
int	imapd_cmd_status(struct imapd_session *, struct imapd_cmdctx *);
int	imapd_cmd_namespace(struct imapd_session *, struct imapd_cmdctx *);
int	imapd_cmd_enable(struct imapd_session *, struct imapd_cmdctx *);
/* cmd_append.c */
int	imapd_cmd_append(struct imapd_session *, struct imapd_cmdctx *);
/* cmd_selected.c */
int	imapd_cmd_check(struct imapd_session *, struct imapd_cmdctx *);
int	imapd_cmd_close(struct imapd_session *, struct imapd_cmdctx *);
int	imapd_cmd_unselect(struct imapd_session *, struct imapd_cmdctx *);
int	imapd_cmd_expunge(struct imapd_session *, struct imapd_cmdctx *);
int	imapd_cmd_store(struct imapd_session *, struct imapd_cmdctx *);
int	imapd_cmd_copy(struct imapd_session *, struct imapd_cmdctx *);
int	imapd_cmd_move(struct imapd_session *, struct imapd_cmdctx *);
int	imapd_cmd_fetch(struct imapd_session *, struct imapd_cmdctx *);
int	imapd_cmd_search(struct imapd_session *, struct imapd_cmdctx *);
/* cmd_idle.c */
int	imapd_cmd_idle(struct imapd_session *, struct imapd_cmdctx *);

/* auth.c */
/*
 * Check a password login (server_login_password(); authz: PLAIN's
 * authorization identity, or NULL) and on success log the session in.
 * On failure log it and wait the growing delay first; s->auth_failures
 * counts it. 0 logged in, -1 refused.
 */
int	imapd_auth_check(struct imapd_session *s, const char *authz,
	    const char *user, const char *pass, size_t passlen);
/* CRAM-MD5: check "user digest" against challenge. Same results. */
int	imapd_auth_cram(struct imapd_session *s, const char *challenge,
	    const char *resp, size_t resplen);
/* view.c: leave the selected state (no tagged reply). */
void	imapd_unselect(struct imapd_session *s);

#endif

/*
 * driver: the upstream interface of the sync engine, private to sync/.
 *
 * The engine (sync/engine*.c) never speaks a protocol. It talks to one
 * remote account through a struct sync_driver: a table of blocking
 * operations, each with the contract written here, implemented by the IMAP
 * driver (sync/up_imap.c), the POP3 driver (sync/up_pop3.c) and a scripted
 * fake for unit tests (sync/fake.c). Like isync's driver.h, but with
 * threads instead of callbacks: a call returns when the server has
 * answered, and an account's sync runs top to bottom on its own thread.
 *
 * Conventions for every operation:
 *
 *  - Returns 0 on success, -1 on failure with *err filled (see struct
 *    sync_error: the blast radius, the retry policy, a kind and a sentence
 *    a person can act on). err is never NULL. Operations that can report
 *    "nothing more" say so in their comment.
 *  - Folder names are UTF-8 full paths with '/' as the hierarchy delimiter,
 *    the same form store/ uses; "INBOX" is always spelled "INBOX". The
 *    driver translates to and from the server's delimiter and modified
 *    UTF-7 (lib/utf7.h). A local name that cannot be expressed upstream
 *    (it contains the server's delimiter inside a component, say '.' when
 *    the server's delimiter is '.') fails with SYNC_EK_BADNAME, folder
 *    scope, retry never. A remote name that cannot be expressed locally
 *    (a '/' inside a component) is left out of list_folders() and logged.
 *  - Flags are STORE_F_* bits (store/store.h); \Recent is never reported.
 *    Keywords are names, as the server spells them.
 *  - Pointers handed to a callback are borrowed and valid only until the
 *    callback returns. Pointers returned through *_r are owned by the
 *    caller, who frees them as the operation says.
 *  - After an error of account scope the connection is gone: the only
 *    calls allowed are connect() (to start over) and free(). After an
 *    error of message or folder scope the connection is still usable and
 *    the selected folder is unchanged.
 *  - A callback returns 0 to go on or -1 to stop. The driver then stops
 *    at once (reading and discarding the rest of what the server sends
 *    for that command, or dropping the connection if that is cheaper) and
 *    returns -1 with kind SYNC_EK_STOPPED; the engine knows its own
 *    reason.
 *  - Whatever can be pipelined is: a call for many UIDs or many messages
 *    must not cost one round trip per message. The engine relies on this
 *    for speed (an initial sync of 20,000 messages, a no-change resync in
 *    a few round trips per folder).
 *
 * One vtable serves both protocols: an IMAP driver sets the IMAP
 * operations and leaves the pop3_* ones NULL; a POP3 driver sets connect,
 * disconnect, free and the pop3_* ones and leaves the rest NULL.
 */
#ifndef MAILVAULT_SYNC_DRIVER_H
#define MAILVAULT_SYNC_DRIVER_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#define SYNC_ERRMSG_MAX		512

/* ---- Errors ------------------------------------------------------------- */

/* How much a failure spoils: the engine decides from this class alone. */
enum sync_scope {
	SYNC_SCOPE_MESSAGE,	/* this message: skip it, go on */
	SYNC_SCOPE_FOLDER,	/* this folder: leave it for now, go on */
	SYNC_SCOPE_ACCOUNT,	/* the connection or the account: stop */
};

enum sync_retry {
	SYNC_RETRY_NOW,		/* a transient hiccup: try again at once */
	SYNC_RETRY_LATER,	/* try on the next run / after backoff */
	SYNC_RETRY_NEVER,	/* it will fail the same way until someone
				 * changes something (config, the message) */
};

/* What went wrong, for the CLI's words and for idempotent replay. */
enum sync_errkind {
	SYNC_EK_OTHER,
	SYNC_EK_HOST,		/* host name not found */
	SYNC_EK_CONNECT,	/* connection refused or unreachable */
	SYNC_EK_NET,		/* connection lost or reset mid-way */
	SYNC_EK_TIMEOUT,	/* the server did not answer in time */
	SYNC_EK_TLS,		/* handshake, certificate, pin, no STARTTLS */
	SYNC_EK_AUTH,		/* login refused, or no usable mechanism */
	SYNC_EK_PROTOCOL,	/* the server said something we cannot parse,
				 * or answered BAD */
	SYNC_EK_NONEXISTENT,	/* folder or message is not there */
	SYNC_EK_EXISTS,		/* folder already exists */
	SYNC_EK_BADNAME,	/* a folder name that cannot be translated */
	SYNC_EK_NOPERM,		/* read-only folder, permission denied */
	SYNC_EK_TOOBIG,		/* message too large for the server */
	SYNC_EK_QUOTA,		/* over quota */
	SYNC_EK_UNSUPPORTED,	/* the server lacks what this call needs */
	SYNC_EK_CANCELLED,	/* the cancel descriptor became readable */
	SYNC_EK_STOPPED,	/* a callback returned -1 */
	SYNC_EK_LOCAL,		/* the engine's side: store failure, etc. */
};

struct sync_error {
	enum sync_scope	 scope;
	enum sync_retry	 retry;
	enum sync_errkind kind;
	/* A sentence: "authentication refused by imap.example.org: [AUTH…]
	 * Invalid credentials", "the certificate of imap.example.org is for
	 * mail.example.com", "connection to imap.example.org:993 lost while
	 * fetching INBOX". Never contains a password or token. */
	char		 msg[SYNC_ERRMSG_MAX];
};

/* Fill *err and return -1 (sync/driver.c). */
int	sync_error_set(struct sync_error *err, enum sync_scope scope,
	    enum sync_retry retry, enum sync_errkind kind, const char *fmt, ...)
	    __attribute__((format(printf, 5, 6)));
/* A word for a kind, for logs: "auth", "tls", ... Static. */
const char *sync_errkind_name(enum sync_errkind kind);

/* ---- Account configuration ---------------------------------------------- */

enum sync_proto { SYNC_PROTO_IMAP, SYNC_PROTO_POP3 };

enum sync_tls {
	SYNC_TLS_IMPLICIT,	/* IMAPS 993 / POP3S 995: the default */
	SYNC_TLS_STARTTLS,	/* STARTTLS / STLS, which must be offered and
				 * must succeed: no plaintext fallback */
	SYNC_TLS_NONE,		/* plain text; the driver refuses unless the
				 * host resolves to loopback only */
};

enum { SYNC_LOG_DEBUG, SYNC_LOG_INFO, SYNC_LOG_WARN, SYNC_LOG_ERROR };

/*
 * What a driver needs to reach an account. Borrowed: the caller keeps it
 * and every string in it alive and unchanged until the driver is freed.
 */
struct sync_account_cfg {
	const char	*name;		/* the local account name, for logs */
	enum sync_proto	 proto;
	const char	*host;
	unsigned	 port;		/* 0: the default for proto and tls */
	enum sync_tls	 tls;
	const char	*user;
	const char	*password;	/* NUL-terminated; NULL with oauth */
	const char	*ca_file;	/* NULL: the system's CAs */
	const char	*pin_sha256;	/* NULL, or "AB:CD:…" */
	/* IMAP: a shell command whose stdout's first line is an OAuth2
	 * access token (XOAUTH2 / OAUTHBEARER); NULL: password login. */
	const char	*oauth_token_command;
	int		 timeout_ms;	/* per network wait; 0: 60 s */
	int		 cancel_fd;	/* -1, or readable = stop every wait
					 * with SYNC_EK_CANCELLED */
	/* Log sink for what a person may want to read later (capabilities,
	 * "server has no UIDL, using header hashes"). NULL: no logging.
	 * Never given secrets. */
	void		(*log)(void *arg, int level, const char *msg);
	void		*log_arg;
};

/* ---- Capabilities ------------------------------------------------------- */

/* Filled in struct sync_driver.caps by connect(). */
enum {
	SYNC_CAP_UIDPLUS = 1 << 0,	/* APPENDUID/COPYUID, UID EXPUNGE */
	SYNC_CAP_CONDSTORE = 1 << 1,	/* MODSEQ, CHANGEDSINCE */
	SYNC_CAP_QRESYNC = 1 << 2,	/* enabled: VANISHED on UID FETCH */
	SYNC_CAP_MOVE = 1 << 3,
	SYNC_CAP_IDLE = 1 << 4,
	SYNC_CAP_SPECIAL_USE = 1 << 5,
	SYNC_CAP_ESEARCH = 1 << 6,
	SYNC_CAP_LIST_STATUS = 1 << 7,	/* statuses come with the LIST */
	SYNC_CAP_POP3_UIDL = 1 << 8,	/* real UIDLs (else header hashes) */
	SYNC_CAP_POP3_TOP = 1 << 9,
};

/* ---- Folders ------------------------------------------------------------ */

/* Folder attributes from LIST. */
enum {
	SYNC_FA_NOSELECT = 1 << 0,	/* \Noselect or \NonExistent */
	SYNC_FA_NOINFERIORS = 1 << 1,
	SYNC_FA_HASCHILDREN = 1 << 2,
	SYNC_FA_HASNOCHILDREN = 1 << 3,
	SYNC_FA_SUBSCRIBED = 1 << 4,	/* if the driver knows it */
};

struct sync_folder {
	char		*name;		/* UTF-8, '/'-delimited */
	unsigned	 special_use;	/* STORE_SU_* bits */
	unsigned	 attrs;		/* SYNC_FA_* bits */
	/* With SYNC_CAP_LIST_STATUS (LIST-STATUS, RFC 5819: no extra round
	 * trip), what STATUS says of the folder; status_ok = 0 when the
	 * server did not say (a \Noselect folder, no LIST-STATUS).
	 * highestmodseq is 0 without CONDSTORE or for a NOMODSEQ folder.
	 * The engine leaves a folder unselected when these numbers are the
	 * ones it last synced and nothing changed locally. */
	int		 status_ok;
	uint32_t	 uidvalidity, uidnext, messages;
	uint64_t	 highestmodseq;
};

/* Free a list from list_folders(); accepts NULL, clears *list. */
void	sync_folder_list_free(struct sync_folder **list, size_t n);

/* What SELECT says about a folder. */
struct sync_folder_status {
	uint32_t	 uidvalidity;
	uint32_t	 uidnext;	/* 0 if the server did not say */
	uint32_t	 exists;	/* number of messages */
	/* 0 when the folder has no MODSEQs (NOMODSEQ) or the server no
	 * CONDSTORE; then changedsince must not be used in this folder. */
	uint64_t	 highestmodseq;
	int		 keywords_ok;	/* PERMANENTFLAGS has \* */
	int		 readonly;	/* [READ-ONLY] */
};

/* ---- Fetching ----------------------------------------------------------- */

/* What to fetch (struct sync_fetch_req.what). UID is always fetched. */
enum {
	SYNC_FETCH_FLAGS = 1 << 0,	/* flags and keywords */
	SYNC_FETCH_DATE = 1 << 1,	/* INTERNALDATE */
	SYNC_FETCH_SIZE = 1 << 2,	/* RFC822.SIZE */
	SYNC_FETCH_MSGID = 1 << 3,	/* the Message-ID header field */
	SYNC_FETCH_BODY = 1 << 4,	/* BODY.PEEK[], streamed */
	SYNC_FETCH_MODSEQ = 1 << 5,	/* MODSEQ (CONDSTORE only) */
};

/* An inclusive UID range; hi = UINT32_MAX means '*'. */
struct sync_uidrange {
	uint32_t	 lo, hi;
};

struct sync_fetch_req {
	/* The UIDs, as ascending, non-overlapping ranges. The driver
	 * reports only UIDs inside them: "lo:*" with lo above the highest
	 * UID reports nothing (not the last message, as IMAP would). */
	const struct sync_uidrange *ranges;
	size_t		 nranges;
	unsigned	 what;		/* SYNC_FETCH_* */
	/* Non-zero: only messages whose MODSEQ is above it (CHANGEDSINCE);
	 * needs SYNC_CAP_CONDSTORE and a folder with highestmodseq != 0. */
	uint64_t	 changedsince;
	/* With changedsince and SYNC_CAP_QRESYNC: also report the UIDs in
	 * ranges expunged since then (VANISHED (EARLIER)) via vanished(). */
	int		 vanished;
};

/* One message's metadata. Fields not asked for are zero / NULL. */
struct sync_msg_info {
	uint32_t	 uid;
	uint32_t	 flags;		/* STORE_F_* */
	const char *const *keywords;	/* borrowed */
	size_t		 nkeywords;
	int64_t		 internaldate;	/* seconds since the epoch, UTC */
	int32_t		 tzoff;		/* minutes east of UTC */
	uint64_t	 size;		/* octets, as the server counts */
	uint64_t	 modseq;
	const char	*message_id;	/* "<…>", unfolded, NULL if none */
};

/*
 * Per-message callbacks of fetch(). For each message, in ascending UID
 * order: msg() once, with every field asked for already filled; then,
 * only if SYNC_FETCH_BODY was asked, body() zero or more times with the
 * message's bytes exactly as the server sends them (the CRLF wire form),
 * in pieces of any size, and end() once. A 100 MB message never sits in
 * memory: the driver passes literal bytes on as they arrive. (If a server
 * sends BODY[] before the other items, the driver must still call msg()
 * first, e.g. by fetching the metadata in a pipelined command of its
 * own.) If the fetch fails between msg() and end(), end() is not called:
 * the engine drops the half-received message itself.
 *
 * vanished() is called, possibly several times, with UIDs reported
 * expunged (only with req->vanished); it may come before or after the
 * messages. Any callback may be NULL when not needed.
 */
struct sync_fetch_cb {
	void		*arg;
	int		(*msg)(void *arg, const struct sync_msg_info *mi);
	int		(*body)(void *arg, const void *data, size_t n);
	int		(*end)(void *arg);
	int		(*vanished)(void *arg, const uint32_t *uids, size_t n);
};

/* ---- Storing flags, appending ------------------------------------------- */

enum sync_flag_op { SYNC_FLAGS_ADD, SYNC_FLAGS_REMOVE, SYNC_FLAGS_SET };

struct sync_flag_change {
	enum sync_flag_op op;
	uint32_t	 flags;		/* STORE_F_* */
	const char *const *keywords;
	size_t		 nkeywords;
};

/*
 * The bytes of a message to append, pulled by the driver: read() fills
 * up to n bytes and returns how many (0 at the end, exactly after size
 * bytes) or -1 to stop. IMAP cannot abort a literal half sent, so the
 * driver then drops the connection and fails with SYNC_EK_STOPPED,
 * account scope, retry now. Fewer or more than size bytes is a bug in
 * the engine (assert).
 */
struct sync_append_src {
	uint64_t	 size;		/* octets, CRLF wire form */
	uint32_t	 flags;
	const char *const *keywords;
	size_t		 nkeywords;
	int64_t		 internaldate;	/* 0: let the server choose */
	int32_t		 tzoff;
	void		*arg;
	ssize_t		(*read)(void *arg, void *buf, size_t n);
};

/* ---- POP3 --------------------------------------------------------------- */

struct sync_pop3_msg {
	uint32_t	 msgno;		/* this session's message number */
	uint64_t	 size;		/* from LIST, 0 if unknown */
	/* The UIDL, or without UIDL a stand-in the driver makes from a hash
	 * of the message's header ("hdr:" + hex; logged once per session),
	 * stable from one session to the next. At most 70 + 5 bytes. */
	char		*uidl;
};

void	sync_pop3_list_free(struct sync_pop3_msg **list, size_t n);

/* ---- The driver --------------------------------------------------------- */

struct sync_driver;

struct sync_driver_ops {
	/*
	 * Connect, set up TLS as cfg says (verified: CA chain and host name,
	 * or the pin; STARTTLS not offered is SYNC_EK_TLS, never a plain
	 * fallback), read capabilities, log in (IMAP: AUTHENTICATE PLAIN or
	 * LOGIN per CAPABILITY, LOGINDISABLED respected, XOAUTH2/OAUTHBEARER
	 * with oauth_token_command; POP3: APOP if the greeting has a
	 * timestamp, SASL PLAIN per CAPA, else USER/PASS), then fill
	 * d->caps. IMAP also ENABLEs QRESYNC (and so CONDSTORE) when offered.
	 * Errors are account scope: SYNC_EK_HOST / CONNECT / TIMEOUT (retry
	 * later), SYNC_EK_TLS and SYNC_EK_AUTH (retry never: the person must
	 * act; a TLS certificate error names the fingerprint seen).
	 */
	int	(*connect)(struct sync_driver *d, struct sync_error *err);

	/* Log out politely (LOGOUT / QUIT: a POP3 server applies DELE only
	 * now) and close. Never fails; a no-op when not connected. */
	void	(*disconnect)(struct sync_driver *d);

	/* Disconnect if needed, wipe the password copies, free; accepts
	 * NULL and clears *d. */
	void	(*free)(struct sync_driver **d);

	/* ---- IMAP ---- */

	/*
	 * Every folder (LIST "" "*", with SPECIAL-USE attributes when
	 * offered, and the subscription state when cheap), INBOX included,
	 * in any order; with LIST-STATUS also each folder's status in the
	 * same command. *list_r is freed with sync_folder_list_free().
	 */
	int	(*list_folders)(struct sync_driver *d,
		    struct sync_folder **list_r, size_t *n_r,
		    struct sync_error *err);

	/*
	 * Select folder read-write (with CONDSTORE when offered) and report
	 * its state in *st_r. The folder stays selected until the next
	 * select or a folder operation on it. SYNC_EK_NONEXISTENT (folder
	 * scope, retry never) if it is not there.
	 */
	int	(*select)(struct sync_driver *d, const char *folder,
		    struct sync_folder_status *st_r, struct sync_error *err);

	/*
	 * UID FETCH in the selected folder, pipelined (the driver may split
	 * ranges into several commands, all sent before the answers are
	 * read). Callbacks as struct sync_fetch_cb says. A message whose
	 * bytes cannot be fetched (the server answers NO for it, it vanished
	 * meanwhile) is skipped silently: the engine notices by its absence.
	 */
	int	(*fetch)(struct sync_driver *d, const struct sync_fetch_req *req,
		    const struct sync_fetch_cb *cb, struct sync_error *err);

	/*
	 * Every UID in the selected folder, ascending (UID SEARCH ALL, or
	 * ESEARCH). *uids_r is freed by the caller with free(). Used to
	 * notice expunges without QRESYNC.
	 */
	int	(*list_uids)(struct sync_driver *d, uint32_t **uids_r,
		    size_t *n_r, struct sync_error *err);

	/*
	 * UIDs in the selected folder whose Message-ID header field is msgid
	 * (UID SEARCH HEADER Message-ID), ascending; after an APPEND that
	 * gave no UID (no UIDPLUS) the engine finds its copy with it, so the
	 * next pull need not download the message to bind it. *uids_r is
	 * freed by the caller.
	 */
	int	(*search_msgid)(struct sync_driver *d, const char *msgid,
		    uint32_t **uids_r, size_t *n_r, struct sync_error *err);

	/*
	 * Change flags of uids[0..n) in the selected folder (UID STORE
	 * …FLAGS.SILENT, pipelined in chunks). UIDs no longer there are
	 * ignored. Keywords the folder cannot keep (keywords_ok == 0) are
	 * dropped silently.
	 */
	int	(*store_flags)(struct sync_driver *d, const uint32_t *uids,
		    size_t n, const struct sync_flag_change *ch,
		    struct sync_error *err);

	/*
	 * Remove uids[0..n) from the selected folder: set \Deleted on them,
	 * then UID EXPUNGE (UIDPLUS) or, lacking it, EXPUNGE (which also
	 * removes other messages someone marked \Deleted; acceptable, as in
	 * mbsync). UIDs no longer there are fine.
	 */
	int	(*expunge)(struct sync_driver *d, const uint32_t *uids, size_t n,
		    struct sync_error *err);

	/*
	 * Copy, or with move set move, uids[0..n) from the selected folder
	 * to folder dest (MOVE if offered, else COPY, then \Deleted + UID
	 * EXPUNGE / EXPUNGE). newuids (n entries, caller-allocated) gets
	 * each message's UID in dest from COPYUID, 0 where unknown (no
	 * UIDPLUS, UID not there); *dest_uidvalidity_r the UIDVALIDITY that
	 * COPYUID names (0 if none). SYNC_EK_NONEXISTENT if dest is not
	 * there (folder scope).
	 */
	int	(*copy)(struct sync_driver *d, const uint32_t *uids, size_t n,
		    const char *dest, int move, uint32_t *newuids,
		    uint32_t *dest_uidvalidity_r, struct sync_error *err);

	/*
	 * APPEND one message to folder (need not be selected), its bytes
	 * streamed from src. *uid_r and *uidvalidity_r get APPENDUID's
	 * numbers, 0 without UIDPLUS. SYNC_EK_TOOBIG / QUOTA / NONEXISTENT
	 * as the server says.
	 */
	int	(*append)(struct sync_driver *d, const char *folder,
		    const struct sync_append_src *src, uint32_t *uid_r,
		    uint32_t *uidvalidity_r, struct sync_error *err);

	/*
	 * Folder management. create: SYNC_EK_EXISTS if it is there (the
	 * engine treats that as done). rename: SYNC_EK_NONEXISTENT if from
	 * is gone, SYNC_EK_EXISTS if to is taken. delete: SYNC_EK_NONEXISTENT
	 * if it is gone already. Renaming or deleting the selected folder
	 * unselects it. All folder scope.
	 */
	int	(*create_folder)(struct sync_driver *d, const char *name,
		    struct sync_error *err);
	int	(*rename_folder)(struct sync_driver *d, const char *from,
		    const char *to, struct sync_error *err);
	int	(*delete_folder)(struct sync_driver *d, const char *name,
		    struct sync_error *err);

	/*
	 * IDLE on the selected folder (or NOOP polling without IDLE, every
	 * 30 s) until the server reports a change (EXISTS, EXPUNGE, FETCH,
	 * VANISHED), timeout_ms passes (negative: forever; the driver
	 * re-issues IDLE every 29 minutes by itself), or cancel_fd becomes
	 * readable. 1: something changed, 0: timed out, -1: error
	 * (SYNC_EK_CANCELLED for the cancel descriptor, connection still
	 * usable). The folder must be selected again before other calls.
	 */
	int	(*idle)(struct sync_driver *d, int timeout_ms, int cancel_fd,
		    struct sync_error *err);

	/* ---- POP3 ---- */

	/*
	 * The maildrop: UIDL (and LIST for sizes), in message-number order.
	 * Free *list_r with sync_pop3_list_free().
	 */
	int	(*pop3_list)(struct sync_driver *d,
		    struct sync_pop3_msg **list_r, size_t *n_r,
		    struct sync_error *err);

	/*
	 * RETR msgno, streamed through cb: msg() (uid = msgno, size from
	 * LIST if known, everything else zero), body() with the message's
	 * bytes dot-unstuffed in CRLF wire form, end().
	 */
	int	(*pop3_retr)(struct sync_driver *d, uint32_t msgno,
		    const struct sync_fetch_cb *cb, struct sync_error *err);

	/* DELE msgno: takes effect only at a clean disconnect (QUIT). */
	int	(*pop3_dele)(struct sync_driver *d, uint32_t msgno,
		    struct sync_error *err);
};

/*
 * A driver. Each driver allocates its own larger struct with this one as
 * its first member, and casts back in its operations.
 */
struct sync_driver {
	const struct sync_driver_ops *ops;
	enum sync_proto	 proto;
	unsigned	 caps;		/* SYNC_CAP_*, valid after connect() */
};

/*
 * Factories (sync/up_imap.c, sync/up_pop3.c). Nothing happens on the
 * network until connect(). Never NULL. cfg is borrowed (see above).
 */
struct sync_driver *sync_driver_imap(const struct sync_account_cfg *cfg);
struct sync_driver *sync_driver_pop3(const struct sync_account_cfg *cfg);

/* ---- The engine, with a given driver (unit tests) ---------------------- */

struct store;
struct sync_opts;
struct sync_stats;

/*
 * sync_account() with driver d instead of one made from the account's
 * settings (sync/engine.c). d stays the caller's; it is connected (and
 * disconnected at the end) by the engine. Returns enum sync_outcome.
 */
int	sync_account_with(struct store *st, int64_t acct, struct sync_driver *d,
	    const struct sync_opts *o, struct sync_stats *stats_r, char *err,
	    size_t errlen);

/* ---- The scripted fake upstream (sync/fake.c) ------------------------- */

/*
 * An in-memory IMAP (and POP3) server for unit tests. Tests build its
 * folders and messages, change them "from another client" between runs,
 * and inject failures: the fake counts steps (each driver call, and each
 * message of a fetch twice: at its start and at its end) and can fail
 * step N as a lost connection, before or after the step took effect, to
 * check that the engine resumes from a crash at every step. The POP3 view
 * is the INBOX: UIDL "u<uidvalidity>.<uid>", DELE applied at disconnect.
 */
struct sync_fake;

struct sync_fake *sync_fake_new(unsigned caps);
void	sync_fake_free(struct sync_fake **f);
/* A new driver on f (free with its ops->free; f must outlive it). */
struct sync_driver *sync_fake_driver(struct sync_fake *f,
	    enum sync_proto proto);
void	sync_fake_set_caps(struct sync_fake *f, unsigned caps);

/* Folders: 0, or -1 (exists / not there). INBOX exists from the start. */
int	sync_fake_folder_add(struct sync_fake *f, const char *name,
	    unsigned special_use);
int	sync_fake_folder_rename(struct sync_fake *f, const char *from,
	    const char *to);
int	sync_fake_folder_delete(struct sync_fake *f, const char *name);
int	sync_fake_folder_exists(struct sync_fake *f, const char *name);
/* Give the folder a new UIDVALIDITY and renumber its messages from 1,
 * as a server does when a folder is recreated. */
int	sync_fake_folder_reset(struct sync_fake *f, const char *name);
/* Give a folder this UIDVALIDITY (Cyrus gives folders made in the same
 * second the same one). */
int	sync_fake_folder_set_uidvalidity(struct sync_fake *f, const char *name,
	    uint32_t uidvalidity);
/* Answer every CREATE of name with an error of kind instead (NOPERM: a
 * refusal; EXISTS: a server that claims it is there and is wrong). */
int	sync_fake_create_refuse(struct sync_fake *f, const char *name,
	    enum sync_errkind kind);
/* Turn MODSEQs off for a folder (NOMODSEQ). */
int	sync_fake_folder_nomodseq(struct sync_fake *f, const char *name);
/* Refuse to give message uid's bytes the next times times a fetch asks
 * for them (negative: always; 0: give them again), as a server that
 * answers NO for one message: the fetch skips it and goes on. */
int	sync_fake_msg_refuse(struct sync_fake *f, const char *folder,
	    uint32_t uid, int times);

/* Messages. kw: keywords separated by spaces, or NULL. add returns the new
 * UID, 0 if the folder is not there. */
uint32_t sync_fake_msg_add(struct sync_fake *f, const char *folder,
	    const void *data, size_t len, uint32_t flags, const char *kw,
	    int64_t internaldate);
int	sync_fake_msg_set_flags(struct sync_fake *f, const char *folder,
	    uint32_t uid, uint32_t flags, const char *kw);
int	sync_fake_msg_expunge(struct sync_fake *f, const char *folder,
	    uint32_t uid);
/* Inspect: the number of messages; the i-th (0-based, by UID) message's
 * UID, flags, keywords (space-separated, sorted; static until the next
 * call) and bytes (borrowed). -1 / NULL if out of range. */
size_t	sync_fake_msg_count(struct sync_fake *f, const char *folder);
int	sync_fake_msg_at(struct sync_fake *f, const char *folder, size_t i,
	    uint32_t *uid_r, uint32_t *flags_r, const char **kw_r,
	    const void **data_r, size_t *len_r);

/* Fail step n (1-based, counted from now; 0: never) as a lost
 * connection; with after set, the step's effect happens first. */
void	sync_fake_fail_at(struct sync_fake *f, long n, int after);
/* Steps counted since the last sync_fake_fail_at() (or creation). */
long	sync_fake_steps(struct sync_fake *f);
/* How many times an operation ran ("append", "copy", "fetch", ...). */
unsigned sync_fake_calls(struct sync_fake *f, const char *op);

/* ---- Between the engine's own files (sync/engine*.c) -------------------- */

/*
 * One run over one account. The engine's files share it; drivers never
 * see it.
 */
struct sync_run {
	struct store	*st;		/* the run's own handle */
	int64_t		 acct;
	const char	*acct_name;
	struct sync_driver *d;
	const struct sync_opts *o;
	struct sync_stats *stats;
	struct sync_error err;		/* the error that stopped the run */
	struct sync_progress_state {
		uint64_t msgs_done, msgs_total;
		uint64_t bytes_done, bytes_total;
		const char *folder;
		int64_t	 last_ms;
	} prog;
	char		**skip;		/* folders not to sync */
	size_t		 nskip;
	struct store_sync_folder *pairs; /* the account's pairs, this run */
	size_t		 npairs;
	struct sync_folder *remote;	/* the remote folders, as listed */
	size_t		 nremote;
};

/* Runs that ask again for a message the server refused to give, before
 * the engine gives up on it (and says so once). */
#define SYNC_REFUSED_TRIES	5

/* Report progress (throttled unless force). */
void	sync_run_progress(struct sync_run *r, int force);
/* Log a line through the caller's log callback. */
void	sync_run_log(struct sync_run *r, int level, const char *fmt, ...)
	    __attribute__((format(printf, 3, 4)));
/* Record a store failure as the run's error (account scope); returns -1. */
int	sync_run_store_err(struct sync_run *r, const char *doing);
/* 1 if the cancel descriptor is readable. */
int	sync_run_cancelled(struct sync_run *r);
/* Sync one paired folder both ways (sync/engine_folder.c). 0, or -1 with
 * r->err set; folder-scope errors are for the caller to log and skip. */
int	sync_folder_run(struct sync_run *r, struct store_sync_folder *p);
/*
 * Do the messages say that remote folder name is pair p's folder renamed
 * (sync/engine_folder.c)? Some of p's known messages are looked up there
 * by UID (a RENAME keeps UIDs) and compared by size, internal date and
 * Message-ID. 1: some are there and none differs; 0: no evidence (p
 * knows no message, none is there, another UIDVALIDITY); -1: a known UID
 * holds another message; -2: account-scope failure (r->err). The
 * selected folder changes.
 */
int	sync_folder_same(struct sync_run *r, const struct store_sync_folder *p,
	    const char *name);
/* Fetch from a POP3 maildrop (sync/engine_pop3.c). 0 or -1. */
int	sync_pop3_run(struct sync_run *r);

#endif

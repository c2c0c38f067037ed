/*
 * store: the encrypted mail store, the only code that opens SQLite or holds
 * key material.
 *
 * One SQLite file in WAL mode holds accounts, mailboxes, messages, flags and
 * content. Everything that says anything about a person's mail (content,
 * cached MIME structure, mailbox and keyword names, settings, credentials)
 * is sealed with XChaCha20-Poly1305 under keys derived from a master key;
 * the master key is wrapped by a key derived from the passphrase with
 * Argon2id. What stays plain is what must be compared or ordered without
 * decrypting: ids, UIDs, UIDVALIDITY, flag bits, sizes, dates, MODSEQs.
 *
 * A struct store is one SQLite connection and is used by one thread at a
 * time; other threads get their own handle with store_open_shared(). Every
 * function that takes a handle returns 0 on success or a negative STORE_E*
 * code, and leaves a sentence a person can act on in store_errmsg().
 *
 * Writes happen in short BEGIN IMMEDIATE transactions. A function that
 * changes the store commits on its own unless the caller opened a
 * transaction with store_txn_begin(), in which case everything up to
 * store_txn_commit() is one atomic unit (an import batch; a sync batch with
 * its remote identities and sync position).
 */
#ifndef MAILVAULT_STORE_STORE_H
#define MAILVAULT_STORE_STORE_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "lib/mime.h"

enum {
	STORE_OK = 0,
	STORE_ERR = -1,		/* I/O, SQLite or another failure */
	STORE_ENOENT = -2,	/* no such account, mailbox or message */
	STORE_EEXIST = -3,	/* it exists already */
	STORE_EBADPASS = -4,	/* wrong passphrase */
	STORE_ECORRUPT = -5,	/* a sealed value does not open, bad schema */
	STORE_EBUSY = -6,	/* locked by another writer for too long */
	STORE_EINVAL = -7,	/* a bad name or argument */
	STORE_ENOSPC = -8,	/* the disk is full */
	STORE_ELOCKED = -9,	/* the store is not unlocked */
	STORE_EMODIFIED = -10,	/* UNCHANGEDSINCE did not hold */
};

/* How expensive the passphrase KDF is. MODERATE is the default. */
enum store_kdf {
	STORE_KDF_MODERATE,
	STORE_KDF_INTERACTIVE,
	STORE_KDF_MIN,		/* tests and demos only */
};

/* System flags as bits. \Recent is a session property, not stored. */
enum {
	STORE_F_SEEN = 1 << 0,
	STORE_F_ANSWERED = 1 << 1,
	STORE_F_FLAGGED = 1 << 2,
	STORE_F_DELETED = 1 << 3,
	STORE_F_DRAFT = 1 << 4,
};

/* SPECIAL-USE attributes (RFC 6154) as bits. */
enum {
	STORE_SU_ALL = 1 << 0,
	STORE_SU_ARCHIVE = 1 << 1,
	STORE_SU_DRAFTS = 1 << 2,
	STORE_SU_FLAGGED = 1 << 3,
	STORE_SU_JUNK = 1 << 4,
	STORE_SU_SENT = 1 << 5,
	STORE_SU_TRASH = 1 << 6,
};

#define STORE_ERRMSG_MAX	512
#define STORE_NAME_MAX		1024	/* bytes in a mailbox or account name */
#define STORE_KEYWORD_MAX	256	/* bytes in a keyword */
#define STORE_CHUNK_SIZE	65536	/* plaintext bytes per content chunk */

struct store;

/* ---- Opening, keys, transactions ---------------------------------- */

/*
 * Create a new store at path (its folder is made 0700, the file 0600),
 * with a fresh master key wrapped under passphrase. Fails with
 * STORE_EEXIST if a store is there already. Also generates the local
 * password. On failure err says why.
 */
int	store_create(const char *path, const char *pass, size_t passlen,
	    enum store_kdf kdf, char *err, size_t errlen);

/*
 * Open and unlock the store at path. STORE_ENOENT if there is none,
 * STORE_EBADPASS for a wrong passphrase; err says what to do. On success
 * *st_r is a handle the caller closes with store_close().
 */
int	store_open(const char *path, const char *pass, size_t passlen,
	    struct store **st_r, char *err, size_t errlen);

/*
 * A second handle on the same unlocked store, with its own SQLite
 * connection, for another thread. The key material is copied.
 */
int	store_open_shared(struct store *st, struct store **st_r);

/* Close a handle, wiping its keys; accepts NULL and clears *st. */
void	store_close(struct store **st);

/* The last error on this handle, a sentence; never NULL. */
const char *store_errmsg(const struct store *st);

/* The path the handle was opened with. */
const char *store_path(const struct store *st);

/*
 * Rewrap the master key under a new passphrase (kdf chosen anew). Nothing
 * else is rewritten.
 */
int	store_change_passphrase(struct store *st, const char *newpass,
	    size_t newlen, enum store_kdf kdf);

/* One atomic unit of several changes; see the file comment. No nesting. */
int	store_txn_begin(struct store *st);
int	store_txn_commit(struct store *st);
void	store_txn_rollback(struct store *st);

/*
 * A read snapshot: every read between begin and end sees one state of the
 * store under one lock, which makes a FETCH or a SEARCH over many
 * messages several times faster than a lock per read. Snapshots nest and
 * may stand inside a transaction (they then share it). A change made on
 * the handle while one is open ends the snapshot: later reads see the new
 * state. Keep them short: an open snapshot holds back WAL checkpoints.
 */
int	store_snapshot_begin(struct store *st);
void	store_snapshot_end(struct store *st);

/* Disable core dumps for this process (key material lives in memory). */
void	store_harden_process(void);

/*
 * Integrity check: SQLite's integrity_check, then open every sealed value
 * (names, settings, MIME caches, every content chunk) and check that chunk
 * sequences are complete. progress, if not NULL, is called now and then
 * with the number of values checked. 0 if all is well; STORE_ECORRUPT with
 * the first problem in store_errmsg() and a count of problems in *bad_r.
 */
int	store_check(struct store *st, uint64_t *bad_r,
	    void (*progress)(void *arg, uint64_t done), void *arg);

/* ---- Settings (sealed key/value) ---------------------------------- */

/*
 * Store-wide settings: the local password, the TLS key and certificate,
 * configuration. Values are sealed. get: 0 and a NUL-terminated copy the
 * caller frees (with store_secret_free() if it is a secret), or
 * STORE_ENOENT. Lengths are returned in *len_r when not NULL.
 */
int	store_config_get(struct store *st, const char *key, char **val_r,
	    size_t *len_r);
int	store_config_set(struct store *st, const char *key, const void *val,
	    size_t len);
int	store_config_unset(struct store *st, const char *key);
/* Keys present, in order; the caller frees with store_strv_free(). */
int	store_config_keys(struct store *st, char ***keys_r, size_t *n_r);

/* The local password for IMAP and POP3 logins; free with
 * store_secret_free(). */
int	store_local_password(struct store *st, char **pw_r);
void	store_secret_free(char **s);
/*
 * For secrets outside the store (the server's logins): wipe n bytes so
 * the compiler cannot drop it (sodium_memzero); and 1 if a and b hold
 * the same n bytes, 0 if not, in time that depends on n only
 * (sodium_memcmp), so a guesser learns nothing from how long it took.
 */
void	store_wipe(void *p, size_t n);
int	store_mem_equal(const void *a, const void *b, size_t n);
void	store_strv_free(char ***v, size_t n);

/* ---- Accounts ------------------------------------------------------ */

struct store_account {
	int64_t	 id;
	char	*name;
};

int	store_account_create(struct store *st, const char *name, int64_t *id_r);
/* Look up by name (exact match); STORE_ENOENT if absent. */
int	store_account_find(struct store *st, const char *name, int64_t *id_r);
/* Give account id the name name; its mail and settings stay. 0,
 * STORE_EEXIST (the name is taken), STORE_ENOENT (no such account). */
int	store_account_rename(struct store *st, int64_t id, const char *name);
/* Remove an account with all its mailboxes, messages and settings. */
int	store_account_delete(struct store *st, int64_t id);
/* All accounts, sorted by name; free with store_account_list_free(). */
int	store_account_list(struct store *st, struct store_account **list_r,
	    size_t *n_r);
void	store_account_list_free(struct store_account **list, size_t n);
/* Per-account sealed settings (upstream host, credentials, policies). */
int	store_account_get(struct store *st, int64_t acct, const char *key,
	    char **val_r, size_t *len_r);
int	store_account_set(struct store *st, int64_t acct, const char *key,
	    const void *val, size_t len);
/* Remove a per-account setting: 0, or STORE_ENOENT if it was not set. */
int	store_account_unset(struct store *st, int64_t acct, const char *key);
/* An account's setting keys, in order; free with store_strv_free(). */
int	store_account_keys(struct store *st, int64_t acct, char ***keys_r,
	    size_t *n_r);

/* ---- Mailboxes ----------------------------------------------------- */

/*
 * Names are full paths with '/' as the hierarchy delimiter, UTF-8, with no
 * empty component. "INBOX" is matched case-insensitively and always
 * stored as "INBOX"; every account has one (made with the account).
 */
struct store_mailbox {
	int64_t	 id;
	char	*name;
	uint32_t uidvalidity;
	uint32_t uidnext;
	uint64_t highestmodseq;
	unsigned special_use;	/* STORE_SU_* bits */
	int	 subscribed;
	/* Counts, filled by store_mailbox_list() when asked and by
	 * store_mailbox_status(). */
	uint32_t messages, unseen, recent;
	uint64_t bytes;
};

/* Create a mailbox; missing parents are created too. STORE_EEXIST if it
 * is there already. */
int	store_mailbox_create(struct store *st, int64_t acct, const char *name,
	    unsigned special_use, int64_t *id_r);
/* Find by name; on success *mb_r is filled and its name must be freed
 * with store_mailbox_clear(). */
int	store_mailbox_find(struct store *st, int64_t acct, const char *name,
	    struct store_mailbox *mb_r);
/* Refresh a mailbox's numbers and counts by id. */
int	store_mailbox_status(struct store *st, int64_t mbox,
	    struct store_mailbox *mb_r);
void	store_mailbox_clear(struct store_mailbox *mb);
/*
 * Rename a mailbox and all its children. Renaming INBOX is not done here:
 * RFC 3501 says it moves INBOX's messages to a new mailbox, which the
 * caller does with store_mailbox_create() and store_msg_move().
 */
int	store_mailbox_rename(struct store *st, int64_t acct, const char *from,
	    const char *to);
/* Delete a mailbox and its messages (not its children); INBOX cannot be
 * deleted. */
int	store_mailbox_delete(struct store *st, int64_t mbox);
int	store_mailbox_subscribe(struct store *st, int64_t mbox, int on);
int	store_mailbox_set_special_use(struct store *st, int64_t mbox,
	    unsigned special_use);
/* All mailboxes of an account sorted by name; with_counts fills the
 * counts. Free with store_mailbox_list_free(). */
int	store_mailbox_list(struct store *st, int64_t acct, int with_counts,
	    struct store_mailbox **list_r, size_t *n_r);
void	store_mailbox_list_free(struct store_mailbox **list, size_t n);

/*
 * \Recent: the first session to see a message gets it as recent. Returns
 * in *first_r the lowest UID that is recent for the calling session and
 * moves the mailbox's mark past the current UIDNEXT.
 */
int	store_mailbox_claim_recent(struct store *st, int64_t mbox,
	    uint32_t *first_r);
/* Without claiming (EXAMINE): the lowest UID no session has yet seen as
 * recent; the messages from it up are recent for everybody. */
int	store_mailbox_recent_mark(struct store *st, int64_t mbox,
	    uint32_t *mark_r);

/* ---- Keywords ------------------------------------------------------ */

/* Keyword ids are per account. find: STORE_ENOENT if unknown, unless
 * create is set. */
int	store_keyword_id(struct store *st, int64_t acct, const char *name,
	    int create, uint32_t *id_r);
/* The name of a keyword id; the caller frees it. */
int	store_keyword_name(struct store *st, int64_t acct, uint32_t id,
	    char **name_r);

/* ---- Messages ------------------------------------------------------ */

#define STORE_MAX_KEYWORDS	64	/* per message */

/*
 * A message as listed. Small on purpose: an IMAP session keeps one per
 * message of the selected mailbox, and mailboxes have 100,000 of them.
 */
struct store_msg {
	uint32_t uid;
	uint32_t flags;		/* STORE_F_* */
	uint64_t modseq;
	int64_t	 internaldate;	/* seconds since the epoch, UTC */
	uint64_t size;		/* octets in wire (CRLF) form */
	int64_t	 content;	/* content id: equal ids, equal bytes */
	int32_t	 tzoff;		/* the internal date's zone, minutes east */
	uint32_t nkw;
	/* Keyword ids, ascending, borrowed: from store_msg_list() they live
	 * in the list's allocation and go with it; from store_msg_get()
	 * until the next call on the handle. */
	const uint32_t *kw;
};

/*
 * Messages of a mailbox in UID order, those with modseq > since (0: all).
 * One allocation holds the array and the keyword ids it points to: the
 * caller frees *msgs_r with free().
 */
int	store_msg_list(struct store *st, int64_t mbox, uint64_t since,
	    struct store_msg **msgs_r, size_t *n_r);
/* One message by UID; STORE_ENOENT if there is none. */
int	store_msg_get(struct store *st, int64_t mbox, uint32_t uid,
	    struct store_msg *msg_r);
/*
 * Expunged UIDs with a removal MODSEQ above since, ascending (QRESYNC
 * VANISHED); the caller frees *uids_r.
 */
int	store_msg_vanished(struct store *st, int64_t mbox, uint64_t since,
	    uint32_t **uids_r, size_t *n_r);

/*
 * Append, streamed: begin, write the message's bytes in any pieces, then
 * commit. Memory does not grow with the message: content is hashed,
 * chunked, compressed and sealed as it arrives, and MIME is parsed on the
 * way. Bytes are stored exactly as written (give the CRLF wire form).
 */
struct store_append;

struct store_append_opts {
	uint32_t flags;
	const char *const *keywords;	/* names; created if new */
	size_t	 nkeywords;
	int64_t	 internaldate;		/* 0: now */
	int32_t	 tzoff;
	int	 skip_duplicate;	/* same content already in this
					 * mailbox: store nothing, commit
					 * returns STORE_EEXIST with its UID */
};

int	store_append_begin(struct store *st, int64_t mbox,
	    const struct store_append_opts *opts, struct store_append **ap_r);
int	store_append_write(struct store_append *ap, const void *data, size_t n);
/* Finish: *uid_r is the new (or, for a skipped duplicate, the existing)
 * UID. The handle is freed whatever the result. */
int	store_append_commit(struct store_append **ap, uint32_t *uid_r);
void	store_append_abort(struct store_append **ap);
/* Append a whole message held in memory. */
int	store_append_mem(struct store *st, int64_t mbox,
	    const struct store_append_opts *opts, const void *data, size_t n,
	    uint32_t *uid_r);

/* The keyed content hash (32 bytes) of a message's bytes, for callers
 * that match messages by content (import idempotence, sync re-matching). */
int	store_content_hash(struct store *st, int64_t content,
	    unsigned char hash[32]);

enum store_flag_op { STORE_FLAGS_SET, STORE_FLAGS_ADD, STORE_FLAGS_REMOVE };

/*
 * Change the flags and keywords of the messages uids[0..n) (UIDs not in
 * the mailbox are ignored). Each message that really changes gets a new
 * MODSEQ. With unchangedsince non-zero (CONDSTORE), a message whose MODSEQ
 * is above it is left alone and its UID is put into *failed_r (the caller
 * frees it) with the count in *nfailed_r. changed_r, if not NULL, gets the
 * UIDs that changed (caller frees), nchanged_r their count.
 */
struct store_flag_change {
	enum store_flag_op op;
	uint32_t flags;
	const char *const *keywords;
	size_t	 nkeywords;
	uint64_t unchangedsince;
};

int	store_msg_set_flags(struct store *st, int64_t mbox,
	    const uint32_t *uids, size_t n, const struct store_flag_change *ch,
	    uint32_t **changed_r, size_t *nchanged_r,
	    uint32_t **failed_r, size_t *nfailed_r);

/*
 * Copy or move the messages uids[0..n) to another mailbox (possibly of
 * another account), content shared, not duplicated. The new UIDs are put
 * in order into newuids (n entries, caller-allocated; 0 for a UID that was
 * not there). A move expunges the source messages.
 */
int	store_msg_copy(struct store *st, int64_t from, const uint32_t *uids,
	    size_t n, int64_t to, uint32_t *newuids);
int	store_msg_move(struct store *st, int64_t from, const uint32_t *uids,
	    size_t n, int64_t to, uint32_t *newuids);

/*
 * Expunge: remove the messages (leaving tombstones with the MODSEQ of
 * their removal); content no longer referenced is deleted.
 */
int	store_msg_expunge(struct store *st, int64_t mbox, const uint32_t *uids,
	    size_t n);

/*
 * POP3's "hide" deletion: the messages uids[0..n) of mbox stay for IMAP
 * but are left out of later POP3 maildrops. This is no flag: IMAP never
 * shows it, no MODSEQ changes, no session is woken, and a copy or a move
 * of the message does not carry it (the copy is a new message). It goes
 * with the message when that is expunged. hidden: the hidden UIDs of
 * mbox, ascending, in *uids_r (the caller frees; NULL when none). Both
 * join the caller's store_txn_begin() transaction.
 */
int	store_pop3_hide(struct store *st, int64_t mbox, const uint32_t *uids,
	    size_t n);
int	store_pop3_hidden(struct store *st, int64_t mbox, uint32_t **uids_r,
	    size_t *n_r);

/* ---- Content ------------------------------------------------------- */

/*
 * Read a message's bytes. open positions at offset 0; read returns the
 * number of bytes read (0 at the end) or a negative code; seek moves to an
 * absolute offset. Memory is one chunk whatever the message's size.
 */
struct store_reader;

int	store_reader_open(struct store *st, int64_t content,
	    struct store_reader **rd_r);
ssize_t	store_reader_read(struct store_reader *rd, void *buf, size_t n);
int	store_reader_seek(struct store_reader *rd, uint64_t off);
uint64_t store_reader_size(const struct store_reader *rd);
void	store_reader_close(struct store_reader **rd);

/*
 * The MIME part tree cached at ingest; the caller frees it with
 * mime_part_free(). store_content_envelope() gives only the root part
 * (header, fields, envelope; no children) where the cache has it, much
 * cheaper for header searches and ENVELOPE; without a cache it parses
 * the whole message as store_content_mime() does.
 */
int	store_content_mime(struct store *st, int64_t content,
	    struct mime_part **root_r);
int	store_content_envelope(struct store *st, int64_t content,
	    struct mime_part **root_r);

/*
 * A content's summary (lib/msg_summary.h: its ENVELOPE as FETCH writes
 * it, the texts SEARCH FROM/TO/CC/BCC/SUBJECT match, the raw Date),
 * made at ingest and kept packed 128 to a block, so reading it costs a
 * fraction of store_content_envelope(). Returns 0 with *sum_r pointing
 * into a block cache on the handle: valid until the next
 * store_content_summary() call or write on this handle, never to be
 * freed. 1: this content has no summary (stored before summaries
 * existed, or too large for one): use store_content_envelope().
 * STORE_ENOENT: the content is gone (its messages were expunged). Calls
 * inside one store_snapshot_begin() share the work of checking which
 * contents still exist: call it inside a snapshot when reading many.
 */
struct msg_summary;
int	store_content_summary(struct store *st, int64_t content,
	    struct msg_summary *sum_r);

/* ---- Change feed --------------------------------------------------- */

/*
 * Wait until mailbox mbox has a HIGHESTMODSEQ above since, or its message
 * count or UIDNEXT differ from what status says, or timeout_ms passes
 * (negative: forever). Wakes at once for commits by any handle in this
 * process; changes by another process are seen through PRAGMA
 * data_version, polled every 500 ms. 1: changed, 0: timed out, <0: error.
 */
int	store_wait_change(struct store *st, int64_t mbox, uint64_t since,
	    int timeout_ms);

/*
 * For poll()-based sessions: a descriptor that becomes readable when a
 * handle of this process commits a change. store_change_ack() drains it.
 * The descriptor belongs to the handle. store_changed_elsewhere() returns
 * 1 when another process committed since the last call (data_version).
 */
int	store_change_fd(struct store *st);
void	store_change_ack(struct store *st);
int	store_changed_elsewhere(struct store *st);

/* ---- Sync ---------------------------------------------------------- */

/*
 * What the sync engine (sync/) last agreed with each upstream server; see
 * the Sync section of schema.sql. Nothing here is called by the rest of
 * store/: local changes are found by comparing mailboxes with these rows.
 * Every call joins the caller's store_txn_begin() transaction if there is
 * one (a pulled message, its identity and the folder's position commit
 * together), and writes that touch only these rows wake no session.
 */

/* A remote folder paired with a local mailbox. */
struct store_sync_folder {
	int64_t	 id;
	int64_t	 mailbox;	/* 0 once the local mailbox is deleted */
	char	*name;		/* the remote name as last synced */
	uint32_t uidvalidity;	/* 0 before the first select */
	uint32_t uidnext;	/* remote UIDs below it are pulled */
	uint64_t highestmodseq;	/* remote flag changes up to it applied */
	uint64_t local_modseq;	/* local changes up to it pushed */
};

/* An account's pairs, by id; free with store_sync_folder_list_free(). */
int	store_sync_folder_list(struct store *st, int64_t acct,
	    struct store_sync_folder **list_r, size_t *n_r);
void	store_sync_folder_list_free(struct store_sync_folder **list, size_t n);
/* Pair remote folder name with local mailbox mbox (0: none yet), numbers
 * zero. *id_r (may be NULL) gets the row id. */
int	store_sync_folder_add(struct store *st, int64_t acct, int64_t mbox,
	    const char *name, int64_t *id_r);
int	store_sync_folder_set_name(struct store *st, int64_t id,
	    const char *name);
/* Save mailbox and the four numbers of f (by f->id; f->name ignored). */
int	store_sync_folder_set_state(struct store *st,
	    const struct store_sync_folder *f);
/* Forget a pair and the identities of its messages. */
int	store_sync_folder_delete(struct store *st, int64_t id);
/* A mailbox's HIGHESTMODSEQ alone (store_mailbox_status() also counts
 * its messages, which a sync with nothing to do cannot afford). */
int	store_sync_mailbox_modseq(struct store *st, int64_t mbox,
	    uint64_t *modseq_r);

enum {
	STORE_SYNC_BOUND = 0,	/* ruid is the message's remote UID */
	STORE_SYNC_APPENDING,	/* APPEND about to be sent; ruid unknown */
	STORE_SYNC_APPENDED,	/* APPEND done, the server gave no UID */
};

/* A local message's remote identity and its last synced flags. */
struct store_sync_msg {
	int64_t	 mailbox;	/* local mailbox and UID: the key */
	uint32_t uid;
	int64_t	 folder;	/* struct store_sync_folder id */
	uint32_t ruidvalidity;
	uint32_t ruid;		/* 0 unless state is STORE_SYNC_BOUND */
	int	 state;		/* STORE_SYNC_* */
	uint32_t flags;		/* base of the three-way merge */
	int64_t	 content;	/* local content id (move detection) */
	uint32_t nkw;
	uint32_t kw[STORE_MAX_KEYWORDS];	/* keyword ids, ascending */
};

/* By local message, or by remote UID: 0, or STORE_ENOENT (no error text
 * set: absence is a normal answer). */
int	store_sync_msg_get(struct store *st, int64_t mbox, uint32_t uid,
	    struct store_sync_msg *m_r);
int	store_sync_msg_find_remote(struct store *st, int64_t folder,
	    uint32_t uidvalidity, uint32_t ruid, struct store_sync_msg *m_r);
/* Insert or replace the identity of (m->mailbox, m->uid). */
int	store_sync_msg_put(struct store *st, const struct store_sync_msg *m);
int	store_sync_msg_delete(struct store *st, int64_t mbox, uint32_t uid);
/* Bound remote UIDs of a folder under uidvalidity, ascending; the caller
 * frees *ruids_r. count: just how many. */
int	store_sync_msg_ruids(struct store *st, int64_t folder,
	    uint32_t uidvalidity, uint32_t **ruids_r, size_t *n_r);
int	store_sync_msg_count(struct store *st, int64_t folder,
	    uint32_t uidvalidity, size_t *n_r);
/* The highest bound remote UID of a folder under uidvalidity, 0 if none
 * (our own APPENDs and MOVEs lie above the UIDNEXT last pulled up to). */
int	store_sync_msg_max_ruid(struct store *st, int64_t folder,
	    uint32_t uidvalidity, uint32_t *ruid_r);
/* Identities of a folder that are not settled: APPENDs in flight, and
 * rows of another UIDVALIDITY (awaiting re-matching). Caller frees. */
int	store_sync_msg_unsettled(struct store *st, int64_t folder,
	    uint32_t uidvalidity, struct store_sync_msg **v_r, size_t *n_r);
/* Identities of a folder under uidvalidity whose remote UID is not known
 * yet (APPENDING, APPENDED), by an index seek. Caller frees. */
int	store_sync_msg_inflight(struct store *st, int64_t folder,
	    uint32_t uidvalidity, struct store_sync_msg **v_r, size_t *n_r);
/* Identities of an account's messages with this content (whether or not
 * the local message still exists). Caller frees. */
int	store_sync_msg_by_content(struct store *st, int64_t acct,
	    int64_t content, struct store_sync_msg **v_r, size_t *n_r);
/* The lowest UID in mbox with this content that has no settled identity
 * under uidvalidity (none, in flight, or stale): what a pulled message
 * with the same bytes should be bound to. STORE_ENOENT if none. */
int	store_sync_msg_unbound(struct store *st, int64_t mbox, int64_t content,
	    uint32_t uidvalidity, uint32_t *uid_r);
/* Forget the bound identities of a folder under another UIDVALIDITY
 * (those a re-match after a reset did not claim). */
int	store_sync_msg_drop_stale(struct store *st, int64_t folder,
	    uint32_t uidvalidity);

/* POP3 UIDLs fetched, kept as keyed hashes. get: 0 and the time of the
 * fetch, or STORE_ENOENT. prune: forget every UIDL of the account that is
 * not among present[0..n). */
int	store_sync_pop3_get(struct store *st, int64_t acct, const char *uidl,
	    int64_t *fetched_r);
int	store_sync_pop3_put(struct store *st, int64_t acct, const char *uidl,
	    int64_t fetched);
int	store_sync_pop3_prune(struct store *st, int64_t acct,
	    const char *const *present, size_t n);

/*
 * Remote messages the server would not give (a UID FETCH that brought no
 * body for them), counted so later runs ask again a bounded number of
 * times. note: one more try of (folder, uidvalidity, ruid); *tries_r (may
 * be NULL) gets the count with it. pending: the remote UIDs of folder
 * under uidvalidity tried fewer than max times, ascending; the caller
 * frees *ruids_r. forget: that one message (fetched at last, or gone), or
 * with ruid 0 every row of folder under another UIDVALIDITY.
 */
int	store_sync_refused_note(struct store *st, int64_t folder,
	    uint32_t uidvalidity, uint32_t ruid, unsigned *tries_r);
int	store_sync_refused_pending(struct store *st, int64_t folder,
	    uint32_t uidvalidity, unsigned max, uint32_t **ruids_r,
	    size_t *n_r);
int	store_sync_refused_forget(struct store *st, int64_t folder,
	    uint32_t uidvalidity, uint32_t ruid);

#endif

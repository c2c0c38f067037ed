/*
 * sync: the upstream sync engine, as cli/ sees it.
 *
 * An account of the store may have an upstream: an IMAP or POP3 server
 * whose settings (and password) are sealed in the store as account
 * settings under the SYNC_KEY_* names below. sync_account() mirrors it
 * once: for IMAP, every remote folder is paired with a local mailbox of
 * the same name ('/'-delimited); new messages are pulled, flag changes and
 * expunges go both ways (a three-way merge against the last synced flags
 * settles conflicts), and folder creates, renames and deletes made on
 * either side are followed. For POP3, new messages are fetched by UIDL
 * into INBOX and the keep / delete policy is applied.
 *
 * The engine is state-based (like isync): it compares the store with what
 * it last agreed with the server (store.h, "Sync"), so whatever a client
 * did offline is pushed on the next run without being recorded as it
 * happened, and a process killed at any instant resumes without a
 * duplicate or a loss: a message, its remote identity and the sync
 * position are committed in one transaction.
 *
 * One call runs on the calling thread with blocking I/O on the store
 * handle it is given; a daemon gives each account's thread a handle of
 * its own (store_open_shared) and runs sync_account_watch() on it.
 */
#ifndef MAILVAULT_SYNC_SYNC_H
#define MAILVAULT_SYNC_SYNC_H

#include <stddef.h>
#include <stdint.h>

struct store;

/* Account setting names (store_account_get/set). Values are text. */
#define SYNC_KEY_PROTO		"upstream"	/* "imap" or "pop3" */
#define SYNC_KEY_HOST		"host"
#define SYNC_KEY_PORT		"port"		/* decimal; absent: default */
#define SYNC_KEY_USER		"user"
#define SYNC_KEY_PASSWORD	"password"	/* secret, never shown */
#define SYNC_KEY_TLS		"tls"		/* implicit|starttls|none */
#define SYNC_KEY_PIN		"pin-sha256"
#define SYNC_KEY_CA_FILE	"ca-file"
#define SYNC_KEY_OAUTH_CMD	"oauth-token-command"
#define SYNC_KEY_KEEP		"keep"		/* POP3: yes (default) | no */
#define SYNC_KEY_DELETE_DAYS	"delete-after-days" /* POP3: N (0: never) */
#define SYNC_KEY_SKIP		"skip-folders"	/* comma-separated names */
#define SYNC_KEY_POLL		"poll-interval"	/* seconds, default 300 */
#define SYNC_KEY_LAST_SYNC	"last-sync"	/* written by the engine */
#define SYNC_KEY_LAST_ERROR	"last-error"	/* "" after a good run */

#define SYNC_ERRMSG_LEN		512

/*
 * Check a value for a setting that `account set` may change: 0, or -1
 * with a sentence in err ("delete-after-days needs a number of days").
 * Keys the person may not set (password, upstream, last-*) are refused.
 */
int	sync_setting_check(const char *key, const char *value, char *err,
	    size_t errlen);
/* 1 if key names a secret that must never be printed. */
int	sync_setting_is_secret(const char *key);

/* What a run did, for the summary. */
struct sync_stats {
	uint64_t folders;		/* folders synced */
	uint64_t pulled;		/* messages fetched */
	uint64_t pulled_bytes;
	uint64_t matched;		/* bound to a local copy, not fetched */
	uint64_t flags_in, flags_out;	/* messages whose flags changed */
	uint64_t expunged_in, expunged_out;
	uint64_t appended, moved;	/* local messages sent upstream */
	uint64_t folders_in, folders_out; /* folder creates/renames/deletes */
	uint64_t deleted_pop3;		/* POP3 DELEs */
	uint64_t errors;		/* message/folder errors skipped */
	uint64_t refused;		/* messages the server would not give
					 * (also in errors); asked again on
					 * the next runs, a few times */
	uint64_t unselected;		/* folders found unchanged by their
					 * status alone, not selected */
	uint64_t renamed_in;		/* remote renames followed here
					 * without downloading (also in
					 * folders_in) */
};

/* Progress, reported now and then (at most a few times per second for
 * big work, and at every folder change). */
struct sync_progress {
	const char *account;
	const char *folder;		/* NULL between folders */
	uint64_t msgs_done, msgs_total;	/* messages to pull, this run */
	uint64_t bytes_done, bytes_total; /* 0 total: unknown */
};

enum { SYNC_LOG_LVL_DEBUG, SYNC_LOG_LVL_INFO, SYNC_LOG_LVL_WARN,
	SYNC_LOG_LVL_ERROR };

struct sync_opts {
	void	(*progress)(void *arg, const struct sync_progress *p);
	/* A line for the log: folders skipped, messages that failed. */
	void	(*log)(void *arg, int level, const char *msg);
	void	*arg;
	int	 cancel_fd;	/* -1, or readable: stop soon, cleanly */
	int	 timeout_ms;	/* network waits; 0: 60 s */
	/* sync_account_watch(): the poll interval in seconds for an account
	 * that sets none, asked before every wait so a daemon's setting
	 * takes effect live; NULL or <= 0: 300 s. */
	int	(*poll_default)(void *arg);
};

/* How a failed run failed, so the daemon can back off or give up. */
enum sync_outcome {
	SYNC_OK = 0,
	SYNC_FAIL_RETRY,	/* network, timeout: try again later */
	SYNC_FAIL_CONFIG,	/* TLS, authentication, settings: a person
				 * must act; retrying will not help */
};

/*
 * Sync account acct once. stats_r (may be NULL) gets the counts, also on
 * failure. Returns SYNC_OK, or a SYNC_FAIL_* with the reason in words in
 * err ("imap.example.org: authentication refused: …", "host not found:
 * imap.example.org"). Message and folder errors do not fail the run: they
 * are logged, counted in stats->errors and retried next time. The result
 * and the time are saved in the account's last-sync / last-error
 * settings. An account without an upstream is SYNC_FAIL_CONFIG.
 */
enum sync_outcome sync_account(struct store *st, int64_t acct,
	    const struct sync_opts *o, struct sync_stats *stats_r, char *err,
	    size_t errlen);

/*
 * The daemon's loop for one account: sync, then wait for news, again,
 * until o->cancel_fd becomes readable (it must be given). Waiting is IDLE
 * on the INBOX over a connection of its own where the server offers it,
 * else the poll interval (SYNC_KEY_POLL, default 300 s); a failed run is
 * retried after an exponential backoff with jitter, from 30 s to 30 min.
 * A SYNC_FAIL_CONFIG failure (bad password, certificate) waits the
 * longest backoff too: someone must act, but the daemon keeps trying.
 * Each run's result goes to the log callback and the account's
 * last-sync / last-error settings. Returns when cancelled.
 */
void	sync_account_watch(struct store *st, int64_t acct,
	    const struct sync_opts *o);

/*
 * What `account add` tries before it saves an account (sync/check.c):
 * the settings as they would be saved. Borrowed for the call.
 */
struct sync_check {
	const char	*proto;		/* "imap" or "pop3" */
	const char	*host;
	unsigned	 port;		/* 0: the default for proto and tls */
	const char	*tls;		/* implicit|starttls|none; NULL:
					 * implicit */
	const char	*user;
	const char	*password;	/* NULL with oauth_token_command */
	const char	*ca_file;	/* NULL: the system's CAs */
	const char	*pin_sha256;	/* NULL: no pin */
	const char	*oauth_token_command;	/* NULL: password login */
	int		 timeout_ms;	/* per network wait; 0: 30 s */
};

/* Which step of the check failed. */
enum sync_check_result {
	SYNC_CHECK_OK = 0,
	SYNC_CHECK_HOST,	/* the host name does not resolve */
	SYNC_CHECK_CONNECT,	/* refused, unreachable, or no answer */
	SYNC_CHECK_TLS,		/* handshake or certificate; the sentence
				 * has the server's SHA-256 fingerprint
				 * when it sent a certificate */
	SYNC_CHECK_AUTH,	/* the login was refused */
	SYNC_CHECK_OTHER,	/* not an IMAP/POP3 server, a protocol
				 * error */
};

/*
 * Connect to the upstream c describes, TLS and all, log in and log out,
 * as a mail client's account setup does; the store is not touched.
 * SYNC_CHECK_OK, or the step that failed with the server's or the
 * network's words in err ("authentication refused by h:993 for me:
 * [AUTHENTICATIONFAILED] ...").
 */
enum sync_check_result sync_account_check(const struct sync_check *c,
	    char *err, size_t errlen);

/* 1 if the account has an upstream configured, else 0. */
int	sync_account_has_upstream(struct store *st, int64_t acct);

#endif

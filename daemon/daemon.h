/*
 * daemon: mailvault's long-running service, as the command line sees it.
 *
 * The service serves the store over IMAP and POP3 (server/), syncs every
 * account with an upstream in the background (sync/), answers the CLI on
 * a control socket, and logs. It runs in the foreground (`mailvault
 * serve`: daemon_open(), daemon_run(), daemon_close()) or detached
 * (`mailvault daemon start`: daemon_start() forks a process that does
 * the same with its own log file). It may start LOCKED, without the
 * passphrase: it listens, refuses every login, syncs nothing, and waits
 * for daemon_unlock(), which the control socket's UNLOCK calls.
 *
 * Also here, because both the service and the CLI use them: the settings
 * of `mailvault config` (names, defaults, the rule each value must
 * follow, and the plain "<store>.ports" file a locked start reads), the
 * control socket's path and protocol words, and the status in words or
 * JSON.
 *
 * Errors are a return code and a sentence in the caller's buffer; the
 * running service itself logs to stderr (which is the log file, or the
 * journal, when detached).
 */
#ifndef MAILVAULT_DAEMON_DAEMON_H
#define MAILVAULT_DAEMON_DAEMON_H

#include <stddef.h>
#include <stdint.h>

struct buf;
struct store;
struct daemon;

/* ---- settings (`mailvault config`) ---- */

/*
 * A setting that is not per account, kept sealed in the store as
 * "config.NAME". live: a running daemon takes a new value at RELOAD;
 * otherwise (ports, the listen address) only when it starts again.
 */
struct daemon_setting {
	const char	*name;
	const char	*def;		/* the value when unset */
	int		 live;
	const char	*help;		/* one line for `config list` */
};

/* The i-th setting (0, 1, ...), NULL past the last. */
const struct daemon_setting *daemon_setting_at(size_t i);
/* The setting called name, or NULL when there is none. */
const struct daemon_setting *daemon_setting_find(const char *name);
/* 0 if value suits s (one of the above); else -1 and a sentence in err
 * that says why. */
int	daemon_setting_check(const struct daemon_setting *s,
	    const char *value, char *err, size_t errlen);
/*
 * The setting's value in the store, or its default when unset. 0 and a
 * string the caller frees, or -1 for an unknown name or a store error
 * (store_errmsg(st)).
 */
int	daemon_setting_get(struct store *st, const char *name, char **val_r);
/* Check value, then save it. 0, or -1 and a sentence in err. */
int	daemon_setting_set(struct store *st, const struct daemon_setting *s,
	    const char *value, char *err, size_t errlen);
/*
 * Write the ports file "<store>.ports" from the store's settings: plain
 * text (no secret in it), so that a daemon started locked, which cannot
 * read the sealed settings, listens where `config` says. 0, or -1.
 */
int	daemon_ports_save(struct store *st);

/* ---- the control socket ---- */

/*
 * The socket of the daemon serving the store whose absolute path is
 * store: $XDG_RUNTIME_DIR/mailvault/ctl-HASH, else
 * /tmp/mailvault-UID/ctl-HASH, HASH 16 hex digits of a hash of the path,
 * so each store has its own daemon and socket. The caller frees it. This
 * is the one place that says where it is.
 */
char	*daemon_ctl_path(const char *store);

/*
 * The protocol: the client sends one command line (at most
 * DAEMON_CTL_LINE_MAX bytes with its LF; UNLOCK is followed by a second
 * line, the passphrase, at most DAEMON_PASS_MAX bytes), the daemon
 * answers with data lines that start with DAEMON_CTL_DATA, then one line
 * that starts with DAEMON_CTL_OK or DAEMON_CTL_ERR (at most
 * DAEMON_CTL_REPLY_MAX bytes in all), and closes.
 */
#define DAEMON_CTL_LINE_MAX	256
#define DAEMON_PASS_MAX		4096
#define DAEMON_CTL_REPLY_MAX	(4u << 20)	/* a whole answer */
#define DAEMON_CTL_STATUS	"STATUS"	/* the status as text */
#define DAEMON_CTL_STATUS_JSON	"STATUS JSON"	/* ... as one JSON line */
#define DAEMON_CTL_STATE	"STATE"		/* OK locked | OK unlocked */
#define DAEMON_CTL_SYNC		"SYNC"		/* [SP ACCOUNT]; progress */
#define DAEMON_CTL_UNLOCK	"UNLOCK"	/* LF and the passphrase */
#define DAEMON_CTL_LOCK		"LOCK"
#define DAEMON_CTL_RELOAD	"RELOAD"	/* OK and what is in force */
#define DAEMON_CTL_STORE	"STORE"		/* OK /the/store/path */
#define DAEMON_CTL_ACCOUNTS	"ACCOUNTS"	/* [SP ACCOUNT]: follow them */
#define DAEMON_CTL_PORTS	"PORTS"		/* OK IMAP IMAPS POP3 POP3S ADDR */
#define DAEMON_CTL_STOP		"STOP"
/*
 * SYNC's progress, a data line of numbers for the client to draw a bar
 * from: "* progress MSGS_DONE MSGS_TOTAL BYTES_DONE BYTES_TOTAL
 * ACCOUNT<TAB>FOLDER" (decimal; a total is 0 while unknown; names hold
 * no control characters, so the tab ends the account). The run's last
 * numbers come just before its sentence, "NAME: done: ..." or "NAME:
 * FAILED: why".
 */
#define DAEMON_CTL_PROGRESS	"progress"
#define DAEMON_CTL_DATA		"* "
#define DAEMON_CTL_OK		"OK"
#define DAEMON_CTL_ERR		"ERR "
#define DAEMON_CTL_LOCKED	"OK locked"
#define DAEMON_CTL_UNLOCKED	"OK unlocked"

/* ---- the status ---- */

/*
 * The status when no daemon runs: "not running", then, when st is not
 * NULL, each account's upstream, last sync and folders; text lines or
 * one JSON line, appended to out. 0, or -1 on a store error
 * (store_errmsg(st)).
 */
int	daemon_status_offline(struct store *st, int json, struct buf *out);

/* ---- the service in this process ---- */

struct daemon_opts {
	const char	*store_path;
	int		 imap_port;	/* -1: the setting; 0: off */
	int		 imaps_port;	/* -1: the setting; 0: off */
	int		 pop3_port;	/* -1: the setting; 0: off */
	int		 pop3s_port;	/* -1: the setting; 0: off */
	int		 pop3_delete;	/* -1: the setting; 0 hide; 1 expunge */
	const char	*listen;	/* NULL: the listen setting */
	int		 no_sync;	/* serve only */
	int		 log_stderr;	/* daemon_start(): log to its stderr */
	/*
	 * NULL: start locked. Else called once, after the store is found
	 * and before it is opened: the passphrase into pass (at most size
	 * bytes) and its length into *len_r; 0, or -1 after saying why.
	 */
	int		(*passphrase)(const void *arg, char *pass,
			    size_t size, size_t *len_r);
	const void	*passphrase_arg;
};

/* Every field to "not given" (-1, NULL, 0), the store to path. */
void	daemon_opts_init(struct daemon_opts *o, const char *path);

/*
 * Start the service: open the store (unless locked), make the TLS
 * certificate if there is none, listen, start the background sync and
 * the control socket (a warning, not an error, if another process holds
 * it). SIGINT, SIGTERM and SIGHUP are blocked from here on, for
 * daemon_run(). 0 and *d_r, or -1 and a sentence in err (empty when the
 * passphrase callback already said why).
 */
int	daemon_open(const struct daemon_opts *o, struct daemon **d_r,
	    char *err, size_t errlen);
/* Log what is served and wait for SIGINT or SIGTERM (SIGHUP reopens the
 * log file of a detached daemon); then return 0. */
int	daemon_run(struct daemon *d);
/* Stop: the control socket, BYE to every session, the sync threads;
 * close the store. NULL is fine; *d is cleared. */
void	daemon_close(struct daemon **d);

/*
 * Operations on an open service, from any thread, one at a time (the
 * control socket calls them). They log what they did.
 */
/* 1 while locked, else 0. */
int	daemon_locked(struct daemon *d);
/* 0 unlocked, 1 already unlocked, DAEMON_EBADPASS (wrong passphrase) or
 * -1, with a sentence in err. pass is used during the call only. */
#define DAEMON_EBADPASS	(-3)
int	daemon_unlock(struct daemon *d, const char *pass, size_t len,
	    char *err, size_t errlen);
/* End every session, stop syncing, wipe the keys: 0, or 1 when it was
 * locked already. */
int	daemon_lock(struct daemon *d);
/* Read the live settings again (poll-interval, log-level, pop3-delete);
 * a sentence of what is in force, or why nothing was read, into msg. */
void	daemon_reload(struct daemon *d, char *msg, size_t msglen);
/* The status as text lines or one JSON line, appended to out: 0, or -1
 * and a sentence in err. */
int	daemon_status(struct daemon *d, int json, struct buf *out, char *err,
	    size_t errlen);
/*
 * Sync the account named account (NULL: every one with an upstream) now,
 * and wait for the run to end, passing progress lines, then "NAME: done
 * ..." or "NAME: FAILED: why" per account, to line(). Stops waiting when
 * cancel_fd (-1: none) becomes readable. 0 when every run went well, else
 * -1 and a sentence in err.
 */
int	daemon_sync(struct daemon *d, const char *account, int cancel_fd,
	    void (*line)(void *arg, const char *text), void *arg, char *err,
	    size_t errlen);
/*
 * The accounts changed in the store (added, removed, renamed, settings):
 * start, stop or rename their background sync to match; changed (NULL:
 * none) names one whose connection settings changed, which syncs again
 * at once. A sentence of what is synced now (or why nothing is: locked,
 * --no-sync) into msg; 0, or -1 when the store cannot be read.
 */
int	daemon_accounts(struct daemon *d, const char *changed, char *msg,
	    size_t msglen);
/* The ports bound (IMAP, IMAPS, POP3, POP3S; 0: off) and the address
 * listened on, for mail clients' settings. */
void	daemon_ports(struct daemon *d, int ports_r[4], char *addr,
	    size_t addrlen);
/* Make daemon_run() return, as SIGTERM does. */
void	daemon_shutdown(struct daemon *d);

/* ---- the service in the background ---- */

/*
 * `daemon start`: take the store's lock "<store>.daemon.lock" (one
 * daemon per store), ask o->passphrase, then detach a process that runs
 * the service until SIGTERM, logging to the log file (or to stderr under
 * systemd or with o->log_stderr), and wait until it serves. What the
 * daemon says before it serves is copied to our stderr. 0, *pid_r, the
 * listeners in words in *serving_r and the log file's path in *log_r
 * (the caller frees both), or -1 and a sentence in err (empty when the
 * passphrase callback already said why).
 */
int	daemon_start(const struct daemon_opts *o, long *pid_r,
	    char **serving_r, char **log_r, char *err, size_t errlen);
/*
 * Is a daemon running on the store at path? 1 (*pid_r 0 while it starts;
 * *since_r in seconds since the epoch), 0, or -1 and a sentence in err.
 * abs_r, if not NULL, gets the store's absolute path (the caller frees
 * it) when the result is not -1.
 */
int	daemon_probe(const char *path, long *pid_r, int64_t *since_r,
	    char **abs_r, char *err, size_t errlen);
/* `daemon stop`: SIGTERM to the store's daemon, and wait until it has
 * let go of the lock. 0 and *pid_r, or -1 and a sentence in err. */
int	daemon_stop(const char *path, long *pid_r, char *err, size_t errlen);

#endif

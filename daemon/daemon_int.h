/*
 * daemon_int: what the files of daemon/ offer each other, and nothing
 * outside. They stand in layers, and each calls only those below it:
 *
 *	detach.c	`daemon start|stop`, lock and pid files, readiness
 *	service.c	the service: open, run, close, its operations
 *	control.c	the control socket's server
 *	scheduler.c	the background sync
 *	status.c	the status in words or JSON
 *	settings.c	`config` keys, the ports file
 *	log.c		the log file, its thread, the level
 *
 * control.c and scheduler.c never call each other; status.c, settings.c
 * and log.c call nothing in daemon/. Where a lower file must reach up (the control socket asking the service
 * to unlock), it goes through function pointers it was given
 * (struct daemon_ctl_hooks), never a call by name.
 */
#ifndef MAILVAULT_DAEMON_DAEMON_INT_H
#define MAILVAULT_DAEMON_DAEMON_INT_H

#include <stddef.h>
#include <stdint.h>

#include "daemon/daemon.h"

/* ---- log.c ---- */

/*
 * The log level set by `config set log-level` (error, warn, info, debug;
 * info at first), live. wanted: 1 if a line of that level is logged.
 * set_level: 0, or -1 for an unknown name.
 */
enum { DAEMON_LOG_ERROR, DAEMON_LOG_WARN, DAEMON_LOG_INFO, DAEMON_LOG_DEBUG };
int	daemon_log_wanted(int level);
int	daemon_log_set_level(const char *name);

/*
 * The log file of a detached daemon: start opens path for appending and
 * starts the logger thread, which writes each line written to the pipe
 * it returns (the write end: make it stdout and stderr) behind a UTC
 * timestamp; -1 if it cannot. reopen: open the file again (SIGHUP, for
 * logrotate); nothing without a log file. stop: write what is left, end
 * the thread, and make stdout and stderr the file itself, for what is
 * said at exit (a sanitizer's report).
 */
int	daemon_log_start(const char *path);
void	daemon_log_reopen(void);
void	daemon_log_stop(void);

/* ---- settings.c ---- */

/*
 * Read the ports file of the store at store_path: ports[] (IMAP, IMAPS,
 * POP3, POP3S) and *listen_r (the caller frees). 0, or -1 when there is
 * none (then nothing is written: use the defaults).
 */
int	daemon_ports_read(const char *store_path, int ports[4],
	    char **listen_r);

/* ---- status.c ---- */

/* One account's background sync, as the status shows it. */
struct daemon_plan {
	int64_t	 acct;
	int64_t	 next;		/* next sync, epoch seconds; 0: not known */
	int	 running;	/* a run is going on */
};

/* The serving process, as the status shows it. */
struct daemon_snapshot {
	const char	*state;		/* "running", "serving (foreground)" */
	long		 pid;
	int64_t		 since;		/* seconds since the epoch */
	int		 ports[4];	/* IMAP, IMAPS, POP3, POP3S; 0: off */
	const char	*listening;	/* the listeners in words, or NULL */
	const char	*store;		/* the store's path, or NULL */
	int		 locked;
	const struct daemon_plan *plans; /* accounts a sync thread serves */
	size_t		 nplans;
};

/*
 * The status as text lines or one JSON line, appended to out: the
 * daemon's part (s NULL: "not running"), then, when st is not NULL, each
 * account's upstream, last sync and folders. 0, or -1 on a store error
 * (store_errmsg(st)).
 */
int	daemon_status_render(struct store *st, const struct daemon_snapshot *s,
	    int json, struct buf *out);

/* ---- scheduler.c ---- */

/*
 * The background sync: a thread per account with an upstream, each on
 * its own store handle. start: 0, or -1 and a sentence in err; poll_s is
 * the daemon's poll-interval (for accounts without their own); an
 * account whose thread cannot start is logged and left out. stop: cancel,
 * wait for every thread, free; NULL is fine.
 */
struct daemon_sched;
int	daemon_sched_start(struct store *st, int poll_s,
	    struct daemon_sched **s_r, char *err, size_t errlen);
void	daemon_sched_stop(struct daemon_sched **s);
/*
 * Follow the store's accounts (ACCOUNTS): start a thread for each account
 * with an upstream that has none, stop the threads of accounts removed or
 * without an upstream now, follow renames and poll-intervals; changed
 * (NULL: none) names an account whose connection settings changed, whose
 * thread stops what it does and syncs again at once. 0 and a sentence of
 * what is synced into msg, or -1 and why into msg.
 */
int	daemon_sched_accounts(struct daemon_sched *s, struct store *st,
	    const char *changed, char *msg, size_t msglen);
/* A new poll-interval (RELOAD). NULL is fine. */
void	daemon_sched_set_poll(struct daemon_sched *s, int poll_s);
/* What each thread plans, for the status: *plans_r (the caller frees;
 * NULL when none) and *n_r. s may be NULL (none). */
void	daemon_sched_plans(struct daemon_sched *s, struct daemon_plan **plans_r,
	    size_t *n_r);
/*
 * Sync the account named name (NULL: every one) now: its thread is woken
 * (a run already going on counts) and this waits for the run to end,
 * passing progress lines and then "NAME: done ..." or "NAME: FAILED: why"
 * to line(). Stops waiting when cancel_fd (-1: none) becomes readable.
 * 0, -1 if one failed, or DAEMON_SCHED_NOACCT (no thread syncs that name).
 */
#define DAEMON_SCHED_NOACCT	(-2)
int	daemon_sched_sync_now(struct daemon_sched *s, const char *name,
	    int cancel_fd, void (*line)(void *arg, const char *text),
	    void *arg);
/*
 * Without background sync (serve --no-sync): sync one account on st, on
 * the calling thread, then pass "NAME: done ..." or "NAME: FAILED: why"
 * to line(). 0 if it went well, else -1.
 */
int	daemon_sync_here(struct store *st, int64_t acct, const char *name,
	    int cancel_fd, void (*line)(void *arg, const char *text),
	    void *arg);

/* ---- control.c ---- */

/*
 * What the control socket asks of the service: each protocol command
 * calls one of these, on the socket's thread, with arg.
 */
struct daemon_ctl_hooks {
	struct daemon	*arg;
	int	(*locked)(struct daemon *d);
	int	(*status)(struct daemon *d, int json, struct buf *out,
		    char *err, size_t errlen);
	int	(*sync)(struct daemon *d, const char *account, int cancel_fd,
		    void (*line)(void *arg, const char *text), void *arg,
		    char *err, size_t errlen);
	int	(*unlock)(struct daemon *d, const char *pass, size_t len,
		    char *err, size_t errlen);
	int	(*lock)(struct daemon *d);
	void	(*reload)(struct daemon *d, char *msg, size_t msglen);
	int	(*accounts)(struct daemon *d, const char *changed, char *msg,
		    size_t msglen);
	void	(*ports)(struct daemon *d, int ports_r[4], char *addr,
		    size_t addrlen);
	void	(*shutdown)(struct daemon *d);
};

/*
 * Bind the control socket (its folder made private first) and start the
 * thread that answers it, one connection at a time. store is the
 * served store's absolute path (STORE). 0 and *c_r, or -1 and a sentence
 * in err (another process listens there already, ...). stop: end the
 * thread (a SYNC waiting is cancelled), remove the socket; NULL is fine.
 */
struct daemon_ctl;
int	daemon_ctl_start(const char *store, const struct daemon_ctl_hooks *h,
	    struct daemon_ctl **c_r, char *err, size_t errlen);
void	daemon_ctl_stop(struct daemon_ctl **c);

/* ---- service.c, for detach.c ---- */

/*
 * daemon_open() for a detached daemon started at since (epoch seconds),
 * with the passphrase at hand (pass NULL: locked; used during the call
 * only): the control socket is required, and the status says "running".
 */
int	daemon_open_detached(const struct daemon_opts *o, const char *pass,
	    size_t len, int64_t since, struct daemon **d_r, char *err,
	    size_t errlen);
/* The listeners in words, as the log says them. Valid until close. */
const char *daemon_listening(struct daemon *d);

#endif

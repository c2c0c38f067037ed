/*
 * cli: the mailvault command. main.c parses the global options and
 * dispatches to one cmd_* function per subcommand; each subcommand parses
 * its own options, does its work through store/ (and later server/ and
 * sync/), prints what a person needs, and returns an exit status.
 *
 * Errors are printed here, never in the modules below: a sentence that
 * says what went wrong and what to do, on stderr, and a non-zero exit.
 */
#ifndef MAILVAULT_CLI_CLI_H
#define MAILVAULT_CLI_CLI_H

#include <stddef.h>
#include <stdint.h>

struct store;

/* Options every subcommand understands, parsed before the subcommand. */
struct cli_opts {
	const char *store_path;		/* --store or MAILVAULT_STORE */
	const char *pass_file;		/* --passphrase-file */
	int	 pass_fd;		/* --passphrase-fd, -1 if not given */
	int	 json;			/* --json */
	int	 quiet;			/* --quiet */
};

enum { CLI_OK = 0, CLI_FAIL = 1, CLI_USAGE = 2,
	CLI_NOT_RUNNING = 3 };	/* `daemon status`: no daemon (as LSB says) */

/* Print "mailvault: <message>" on stderr. Returns CLI_FAIL. */
int	cli_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* Print a usage error with a pointer to --help. Returns CLI_USAGE. */
int	cli_usage(const char *cmd, const char *fmt, ...)
	    __attribute__((format(printf, 2, 3)));

/* The store path: --store, MAILVAULT_STORE, or the XDG default. The
 * result is owned by the caller. */
char	*cli_store_path(const struct cli_opts *o);

/*
 * Read the passphrase: from --passphrase-fd, --passphrase-file (or
 * MAILVAULT_PASSPHRASE_FILE), else a prompt without echo on the terminal
 * (twice when confirm is set). 0 and *pass_r (free with
 * cli_passphrase_free()), or -1 after printing why.
 */
int	cli_read_passphrase(const struct cli_opts *o, const char *prompt,
	    int confirm, char **pass_r, size_t *len_r);
void	cli_passphrase_free(char **pass, size_t len);
/* 1 when a passphrase can be had: an fd or file is named, or there is a
 * terminal to ask on. A daemon without one starts locked. */
int	cli_passphrase_available(const struct cli_opts *o);

/* Open and unlock the store named by o, printing any error. */
int	cli_open_store(const struct cli_opts *o, struct store **st_r);

/*
 * Progress for long work: a bar redrawn in place on a terminal, a plain
 * line every few seconds otherwise, nothing with --quiet.
 */
struct cli_progress;

struct cli_progress *cli_progress_new(const struct cli_opts *o,
	    const char *what, uint64_t total_bytes);
void	cli_progress_update(struct cli_progress *p, uint64_t done_bytes,
	    uint64_t items);
/* The same with totals that grow as work is found (a sync learns its
 * folders one by one) and a label for the part worked on now. */
void	cli_progress_set(struct cli_progress *p, const char *label,
	    uint64_t done_bytes, uint64_t total_bytes, uint64_t items,
	    uint64_t items_total);
/* Print the final line and free; accepts NULL and clears *p. */
void	cli_progress_done(struct cli_progress **p, const char *summary);
/* Erase a bar showing on the terminal (before an error or warning line);
 * the next update draws it again. */
void	cli_progress_clear(void);

/* Option parsing shared by subcommands: "--name VALUE" and "--name=VALUE".
 * Returns 1 and sets *val_r (advancing *i) when argv[*i] is that option. */
int	cli_opt_value(int argc, char **argv, int *i, const char *name,
	    const char **val_r);
/* 1 when argv[i] asks for help. */
int	cli_is_help(const char *arg);

/* Write s as a JSON string literal on stdout. */
void	cli_json_string(const char *s);

struct store_mailbox;
/* Find "ACCOUNT[/MAILBOX]" (INBOX when no mailbox is named), printing an
 * error that says how to list what exists. mb_r is cleared by the caller
 * with store_mailbox_clear(). */
int	cli_find_mailbox(struct store *st, const char *path, int64_t *acct_r,
	    struct store_mailbox *mb_r);

/*
 * syncd.c: the background sync of `serve`: a thread per account with an
 * upstream, each on its own store handle. start: 0, or -1 after printing
 * why; poll_s is the daemon's poll-interval (accounts without their own).
 * stop: cancel, wait for every thread, free; NULL is fine.
 */
struct cli_syncd;
int	cli_syncd_start(struct store *st, int poll_s, struct cli_syncd **d_r);
void	cli_syncd_stop(struct cli_syncd **d);
/* A new poll-interval (`config set`, reaching the running daemon). */
void	cli_syncd_set_poll(struct cli_syncd *d, int poll_s);
/* The account's next planned sync (epoch seconds, 0: not known, e.g.
 * while it runs) and whether a run goes on: 0, or -1 when no thread
 * syncs it. */
int	cli_syncd_state(struct cli_syncd *d, int64_t acct, int64_t *next_r,
	    int *running_r);
#define CLI_SYNCD_NOACCT	(-2)
/*
 * Sync the account named name (NULL: every one) now: its thread is woken
 * (a run already going on counts) and this waits for the run to end,
 * passing progress lines and then "NAME: done" or "NAME: FAILED: why" to
 * line(). Stops waiting when cancel_fd (-1: none) becomes readable.
 * 0, -1 if one failed, or CLI_SYNCD_NOACCT (no thread syncs that name).
 */
int	cli_syncd_sync_now(struct cli_syncd *d, const char *name,
	    int cancel_fd, void (*line)(void *arg, const char *text),
	    void *arg);

/* One function per subcommand: argv[0] is the subcommand's name. */
int	cli_cmd_init(const struct cli_opts *o, int argc, char **argv);
int	cli_cmd_passwd(const struct cli_opts *o, int argc, char **argv);
int	cli_cmd_import(const struct cli_opts *o, int argc, char **argv);
int	cli_cmd_export(const struct cli_opts *o, int argc, char **argv);
int	cli_cmd_ls(const struct cli_opts *o, int argc, char **argv);
int	cli_cmd_show(const struct cli_opts *o, int argc, char **argv);
int	cli_cmd_check(const struct cli_opts *o, int argc, char **argv);
int	cli_cmd_credentials(const struct cli_opts *o, int argc, char **argv);
int	cli_cmd_config(const struct cli_opts *o, int argc, char **argv);

/*
 * A setting of 'mailvault config' (imap-port, listen, poll-interval, ...):
 * its value in the store, or its default when unset. 0 and a string the
 * caller frees, or -1 for an unknown name or a store error.
 */
int	cli_config_value(struct store *st, const char *name, char **val_r);
int	cli_cmd_serve(const struct cli_opts *o, int argc, char **argv);
int	cli_cmd_account(const struct cli_opts *o, int argc, char **argv);
int	cli_cmd_sync(const struct cli_opts *o, int argc, char **argv);
int	cli_cmd_daemon(const struct cli_opts *o, int argc, char **argv);
int	cli_cmd_status(const struct cli_opts *o, int argc, char **argv);
int	cli_cmd_unlock(const struct cli_opts *o, int argc, char **argv);
int	cli_cmd_lock(const struct cli_opts *o, int argc, char **argv);

/*
 * cmd_config.c: the ports file "<store>.ports", plain text beside the
 * store (no secret in it), so that a daemon started locked, which cannot
 * read the sealed settings, listens where `mailvault config` says.
 * save: write it from the store's settings (0, or -1; quietly). read:
 * ports[] (IMAP, IMAPS, POP3, POP3S) and *listen_r (the caller frees)
 * from it; 0, or -1 when there is none (use the defaults).
 */
int	cli_config_save_ports(struct store *st);
int	cli_config_read_ports(const char *store_path, int ports[4],
	    char **listen_r);

/*
 * Logging in the daemon (daemon.c): the level set by `config set
 * log-level` (error, warn, info, debug; info by default), live.
 */
enum { CLI_LOG_ERROR, CLI_LOG_WARN, CLI_LOG_INFO, CLI_LOG_DEBUG };
int	cli_log_wanted(int level);
/* 0, or -1 for an unknown name. */
int	cli_log_set_level(const char *name);

/*
 * daemon.c: `mailvault daemon`. In the daemon process, cmd_serve calls
 * ready once it serves (the waiting `daemon start` returns; stderr moves
 * to the log, each line stamped with the time, or stays on the daemon's
 * stderr under systemd or with --log-stderr), reopen_log on SIGHUP and
 * exit before it returns; outside the daemon they do nothing.
 */
int	cli_daemon_active(void);
int64_t	cli_daemon_since(void);
void	cli_daemon_ready(const char *desc);
void	cli_daemon_reopen_log(void);
void	cli_daemon_exit(void);

/* What `mailvault status` says about the serving process. */
struct cli_status_daemon {
	const char *state;	/* "running", "serving (foreground)", ... */
	long	 pid;
	int64_t	 since;		/* seconds since the epoch */
	int	 ports[4];	/* IMAP, IMAPS, POP3, POP3S; 0: off */
	const char *listening;	/* the listeners in words, or NULL */
	const char *store;	/* the store's path, or NULL */
	int	 locked;	/* started or gone locked */
	struct cli_syncd *syncd; /* for the next sync times, or NULL */
};

struct buf;
/*
 * cmd_status.c: the status as text lines or one JSON line, appended to
 * out: the daemon's part (d NULL: "not running"), then, when st is not
 * NULL, each account's upstream, last sync and folders. 0, or -1 on a
 * store error (store_errmsg(st)).
 */
int	cli_status_render(struct store *st, const struct cli_status_daemon *d,
	    int json, struct buf *out);

/*
 * ctl.c: the control socket ($XDG_RUNTIME_DIR/mailvault/ctl, else
 * /tmp/mailvault-UID/ctl). start: bind and run the listening thread;
 * store_path names the store served, st is the serving process's handle
 * (NULL while locked; borrowed: the control thread is its only user
 * while it runs) and syncd its background sync (or NULL); 0, or -1 with a
 * sentence in err. The hooks are called on the control thread for
 * UNLOCK, LOCK and RELOAD; they report the new handle and sync set with
 * cli_ctl_unlocked() from there. serving: the state and ports to report
 * from now on. stop: end the thread, remove the socket; NULL is fine.
 */
struct cli_ctl;
struct cli_ctl_hooks {
	void	*arg;
	/* 0, or -1 with a sentence in err (CLI_CTL_BADPASS: wrong one). */
	int	(*unlock)(void *arg, const char *pass, size_t len, char *err,
		    size_t errlen);
	/* 0, or -1 with a sentence in err. */
	int	(*lock)(void *arg, char *err, size_t errlen);
	/* Re-read the live settings; a sentence of what is in force. */
	void	(*reload)(void *arg, char *msg, size_t msglen);
};
#define CLI_CTL_BADPASS	(-3)
char	*cli_ctl_dir(void);
char	*cli_ctl_path(void);
int	cli_ctl_start(const char *store_path, struct store *st,
	    struct cli_syncd *syncd, const struct cli_ctl_hooks *hooks,
	    struct cli_ctl **c_r, char *err, size_t errlen);
void	cli_ctl_unlocked(struct cli_ctl *c, struct store *st,
	    struct cli_syncd *syncd);
void	cli_ctl_serving(struct cli_ctl *c, const struct cli_status_daemon *info,
	    const char *desc);
void	cli_ctl_stop(struct cli_ctl **c);

#define CLI_CTL_DOWN	(-2)	/* no daemon listens */
/*
 * Send one command line (and, if data is not NULL, a second line of len
 * bytes: a passphrase, wiped by the caller) to the daemon and read its
 * whole answer ("* " data lines, then "OK ..." or "ERR ..."), waiting at
 * most timeout_secs per read (0: for ever). With stream set, data lines
 * are printed on stdout as they come and *reply_r holds only the rest.
 * 0 and *reply_r (the caller frees), CLI_CTL_DOWN, or -1.
 */
int	cli_ctl_request(const char *cmd, int timeout_secs, char **reply_r);
int	cli_ctl_request_data(const char *cmd, const char *data, size_t len,
	    int timeout_secs, int stream, char **reply_r);
/* Print an answer's data lines on stdout and its ERR line as an error;
 * 0 if it ended in OK, else -1. */
int	cli_ctl_print_reply(const char *reply);
/* Does the daemon on the control socket serve the store o names? 1, 0
 * (another store), or CLI_CTL_DOWN. */
int	cli_ctl_same_store(const struct cli_opts *o);
/*
 * `mailvault sync [ACCOUNT...]` through a running daemon (argv[0] is
 * "sync"): the exit status, or -1 when no daemon runs on the store o
 * names (then sync here).
 */
int	cli_ctl_sync(const struct cli_opts *o, int argc, char **argv);

/*
 * cert.c: make the server's self-signed certificate if the store has
 * none (key and certificate sealed in the store). cert_r, if not NULL,
 * gets the PEM (the caller frees it); fp, if not NULL, the SHA-256
 * fingerprint "AB:CD:..." (fplen >= 96). 0, or -1 after printing why.
 */
int	cli_cert_ensure(struct store *st, char **cert_r, char *fp,
	    size_t fplen);

#endif

/*
 * cli: the mailvault command. main.c parses the global options and
 * dispatches to one cmd_* function per subcommand; each subcommand parses
 * its own options, does its work through store/, sync/ or the service in
 * daemon/ (in this process, or a running daemon over its control
 * socket), prints what a person needs, and returns an exit status.
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

/*
 * Errors. Each is a sentence: "mailvault: <message>" on stderr, or with
 * --json (cli_set_json_errors(), called by main) one JSON line on stdout,
 * {"error": "<message>"} ({"error": ..., "hint": ...} for a usage
 * error), with the same exit status.
 */
void	cli_set_json_errors(int on);
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
/* n bytes in words a person reads at a glance: "912 B", "12.5 MB". */
void	cli_human_bytes(uint64_t n, char *out, size_t len);

/* Option parsing shared by subcommands: "--name VALUE" and "--name=VALUE".
 * Returns 1 and sets *val_r (advancing *i) when argv[*i] is that option. */
int	cli_opt_value(int argc, char **argv, int *i, const char *name,
	    const char **val_r);
/* 1 when argv[i] asks for help. */
int	cli_is_help(const char *arg);

/* A time for people: "2026-12-07 18:50 CET (3 minutes ago)", in the
 * local zone, measured against now (both seconds since the epoch). */
void	cli_when(int64_t t, int64_t now, char *out, size_t len);

/* A header field of a message (the root part of its MIME tree) decoded
 * to UTF-8 (RFC 2047); "" when absent or root is NULL. The caller frees
 * it. Not yet fit for a terminal: see cli_printable(). */
struct mime_part;
char	*cli_header_text(const struct mime_part *root, const char *field);
/*
 * Make text from a message safe to print, in place: control characters
 * (C0, DEL, and C1 such as CSI) and bytes that are not UTF-8 cannot
 * reach the terminal, so a message cannot move the cursor, change the
 * title or worse. C0 controls become spaces, the others '?'; with lines
 * set, line feeds and tabs stay.
 */
void	cli_printable(char *s, int lines);

/* Write s as a JSON string literal on stdout. */
void	cli_json_string(const char *s);

/* Split "ACCOUNT[/MAILBOX]" at the first '/': *mbox_r is NULL without a
 * mailbox part. The caller frees both. */
void	cli_split_path(const char *path, char **acct_r, char **mbox_r);
struct store_mailbox;
/* Find "ACCOUNT[/MAILBOX]" (INBOX when no mailbox is named), printing an
 * error that says how to list what exists. mb_r is cleared by the caller
 * with store_mailbox_clear(). */
int	cli_find_mailbox(struct store *st, const char *path, int64_t *acct_r,
	    struct store_mailbox *mb_r);

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
int	cli_cmd_serve(const struct cli_opts *o, int argc, char **argv);
int	cli_cmd_account(const struct cli_opts *o, int argc, char **argv);
int	cli_cmd_sync(const struct cli_opts *o, int argc, char **argv);
int	cli_cmd_daemon(const struct cli_opts *o, int argc, char **argv);
int	cli_cmd_status(const struct cli_opts *o, int argc, char **argv);
int	cli_cmd_unlock(const struct cli_opts *o, int argc, char **argv);
int	cli_cmd_lock(const struct cli_opts *o, int argc, char **argv);
int	cli_cmd_mailbox(const struct cli_opts *o, int argc, char **argv);
/*
 * cmd_complete.c: the hidden `complete` helper of the bash completion.
 * command_at(i, &usage) gives the i-th command's name (NULL past the
 * last) and its usage text, from main.c's table (a callback: the table
 * is main.c's, which the test binaries do not link).
 */
int	cli_cmd_complete(const struct cli_opts *o, int argc, char **argv,
	    const char *(*command_at)(size_t i, const char **usage_r));
/* cmd_msg.c: mv, cp, rm, flag. */
int	cli_cmd_mv(const struct cli_opts *o, int argc, char **argv);
int	cli_cmd_cp(const struct cli_opts *o, int argc, char **argv);
int	cli_cmd_rm(const struct cli_opts *o, int argc, char **argv);
int	cli_cmd_flag(const struct cli_opts *o, int argc, char **argv);

/*
 * cmd_serve.c: the options of `serve`, which `daemon start` takes too
 * (cmd names the command in usage messages): ports, --listen,
 * --pop3-delete, --no-sync, --locked, --log-stderr. d is filled for the
 * store at path (borrowed, as are the strings of argv), with a
 * passphrase callback unless the service starts locked (--locked, or no
 * passphrase given and no terminal to ask on). 0, or -1 after a usage
 * message.
 */
struct daemon_opts;
int	cli_serve_options(const struct cli_opts *o, const char *cmd, int argc,
	    char **argv, const char *path, struct daemon_opts *d);

/*
 * ctl_client.c: the CLI's side of the running daemon's control socket
 * (daemon/daemon.h says the protocol).
 */
#define CLI_CTL_DOWN	(-2)	/* no daemon listens */
/*
 * Send one command line (and, if data is not NULL, a second line of len
 * bytes: a passphrase, wiped by the caller) to the daemon of the store o
 * names and read its
 * whole answer ("* " data lines, then "OK ..." or "ERR ..."), waiting at
 * most timeout_secs per read (0: for ever). With stream set, data lines
 * are printed on stdout as they come and *reply_r holds only the rest.
 * 0 and *reply_r (the caller frees), CLI_CTL_DOWN, or -1.
 */
int	cli_ctl_request(const struct cli_opts *o, const char *cmd,
	    int timeout_secs, char **reply_r);
int	cli_ctl_request_data(const struct cli_opts *o, const char *cmd,
	    const char *data, size_t len, int timeout_secs, int stream,
	    char **reply_r);
/* The same without a data line, each data line (its "* " and LF taken
 * off) handed to line(arg, text) as it comes. */
int	cli_ctl_request_lines(const struct cli_opts *o, const char *cmd,
	    int timeout_secs, void (*line)(void *arg, const char *text),
	    void *arg,
	    char **reply_r);
/* Print an answer's data lines on stdout and its ERR line as an error;
 * 0 if it ended in OK, else -1. */
int	cli_ctl_print_reply(const char *reply);
/* Does the daemon on the control socket serve the store o names? 1, 0
 * (another store), or CLI_CTL_DOWN. */
int	cli_ctl_same_store(const struct cli_opts *o);

#endif

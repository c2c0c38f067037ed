/*
 * main: the mailvault command's entry point. It reads the options every
 * subcommand shares (--store, --passphrase-file, --passphrase-fd, --json,
 * --quiet), then hands the rest of argv to the subcommand's function from
 * the table below, which also holds each subcommand's help text.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"
#include "lib/util.h"
#include "store/store.h"

/* The version, from debian/changelog's first line (the Makefile). */
#ifndef MAILVAULT_VERSION
#define MAILVAULT_VERSION	"unknown"
#endif

struct cli_cmd {
	const char *name;
	int	(*fn)(const struct cli_opts *, int, char **);
	const char *summary;
	const char *usage;
};

static const struct cli_cmd commands[] = {
	{ "init", cli_cmd_init, "create the encrypted store",
	  "mailvault init [--kdf moderate|interactive|min]\n"
	  "\n"
	  "Create a new store (asks the passphrase twice). --kdf min picks the\n"
	  "cheapest Argon2id parameters libsodium allows: for tests and demos\n"
	  "only, never for real mail.\n" },
	{ "passwd", cli_cmd_passwd, "change the passphrase",
	  "mailvault passwd [--new-passphrase-file FILE] [--kdf LEVEL]\n"
	  "\n"
	  "Change the store's passphrase. Only the wrapped master key is\n"
	  "rewritten; the old passphrase comes as usual, the new one from a\n"
	  "prompt (twice) or --new-passphrase-file.\n" },
	{ "import", cli_cmd_import, "import an mbox file or a Maildir",
	  "mailvault import ACCOUNT PATH [--mailbox NAME]\n"
	  "                 [--format mboxrd|mboxo|maildir|eml]\n"
	  "\n"
	  "Import the messages of an mbox file, a Maildir (Maildir++ folders\n"
	  "included), one message file or a folder of them (*.eml and MH-style\n"
	  "numbered files) into ACCOUNT, creating the account if needed. They\n"
	  "go to --mailbox if given; else an mbox file goes to the mailbox\n"
	  "named after the file (Archive.mbox to Archive; inbox, mbox and\n"
	  "INBOX.mbox to INBOX), a Maildir's folders to their names, message\n"
	  "files to INBOX. The summary says how many went where. The format is\n"
	  "guessed (a file beginning with \"From \" is an mbox; *.eml or a\n"
	  "header line first is one message); --format says it. A message\n"
	  "already in the target mailbox is skipped, so an interrupted import\n"
	  "can simply be run again. Line ends become CRLF, the wire form.\n" },
	{ "export", cli_cmd_export, "export to mbox files or a Maildir",
	  "mailvault export ACCOUNT PATH [--format mbox|maildir] [--mailbox NAME]\n"
	  "\n"
	  "mbox (the default): one mboxrd file per mailbox under the folder\n"
	  "PATH, or the single file PATH with --mailbox. maildir: a Maildir++\n"
	  "tree at PATH with the flags in the file names.\n" },
	{ "ls", cli_cmd_ls, "list accounts, mailboxes or messages",
	  "mailvault ls [ACCOUNT[/MAILBOX]]\n"
	  "\n"
	  "Without an argument: the accounts. With ACCOUNT: its mailboxes with\n"
	  "message counts. With ACCOUNT/MAILBOX: its messages (UID, flags, date\n"
	  "in local time, size in bytes, from, subject), under a header line\n"
	  "and with a legend of the flag letters: S seen, A answered,\n"
	  "F flagged, D deleted, d draft. On a terminal a line is cut at its\n"
	  "edge; --json gives everything.\n" },
	{ "show", cli_cmd_show, "print one message",
	  "mailvault show ACCOUNT/MAILBOX UID [--raw]\n"
	  "\n"
	  "Show a message for reading: From, To, Cc, Date and Subject decoded,\n"
	  "its text (the plain text part, or the HTML part reduced to text;\n"
	  "transfer encoding undone, converted to UTF-8), then its attachments\n"
	  "with their names, types and sizes. --raw writes the message's bytes\n"
	  "exactly as stored instead, for a file or another program. --json\n"
	  "gives the reading form as JSON.\n" },
	{ "mailbox", cli_cmd_mailbox, "create, rename or delete a mailbox",
	  "mailvault mailbox create ACCOUNT/NAME\n"
	  "mailvault mailbox rename ACCOUNT/NAME ACCOUNT/NEWNAME\n"
	  "mailvault mailbox delete ACCOUNT/NAME [--yes]\n"
	  "\n"
	  "Manage an account's mailboxes as a mail client does ('/' separates\n"
	  "levels: work/Projects/2026). create makes missing parents too;\n"
	  "rename takes the children along; delete removes the mailbox and\n"
	  "its messages but not its children, and asks for --yes when it\n"
	  "holds messages. INBOX is neither renamed nor deleted. Clients see\n"
	  "the change at once and the next sync repeats it upstream.\n" },
	{ "mv", cli_cmd_mv, "move messages to another mailbox",
	  "mailvault mv ACCOUNT/MAILBOX UIDS|--search QUERY ACCOUNT/MAILBOX\n"
	  "             [--dry-run]\n"
	  "\n"
	  "Move messages, as a mail client's MOVE does: they get new UIDs in\n"
	  "the destination (printed), which may be in another account. UIDS\n"
	  "is a set as IMAP writes it (42, 42:45, 1,3,7:*; '*' is the highest\n"
	  "UID; 'mailvault ls' shows them); --search QUERY picks them with\n"
	  "IMAP SEARCH ('FROM bob', 'UNSEEN SINCE 1-Jan-2026', 'SUBJECT\n"
	  "\"two words\"'), as the server evaluates it. --dry-run only says\n"
	  "which messages it would move. Clients see it at once; the next\n"
	  "sync moves them upstream too.\n" },
	{ "cp", cli_cmd_cp, "copy messages to another mailbox",
	  "mailvault cp ACCOUNT/MAILBOX UIDS|--search QUERY ACCOUNT/MAILBOX\n"
	  "             [--dry-run]\n"
	  "\n"
	  "Copy messages, as a mail client's COPY does (the store keeps one\n"
	  "copy of the bytes). UIDS, --search and --dry-run as for 'mv'.\n" },
	{ "rm", cli_cmd_rm, "delete messages",
	  "mailvault rm ACCOUNT/MAILBOX UIDS|--search QUERY [--dry-run]\n"
	  "\n"
	  "Delete messages as a mail client does: flag them \\Deleted and\n"
	  "expunge just them. The next sync deletes them upstream too.\n"
	  "UIDS, --search and --dry-run as for 'mv'.\n" },
	{ "flag", cli_cmd_flag, "set or clear flags and keywords",
	  "mailvault flag ACCOUNT/MAILBOX UIDS|--search QUERY +FLAG|-FLAG...\n"
	  "               [--dry-run]\n"
	  "\n"
	  "Set (+) or clear (-) flags: Seen, Answered, Flagged, Deleted, Draft\n"
	  "(any case, the backslash optional), or any other word as a keyword\n"
	  "($Label1, Important). Example: mailvault flag work/INBOX 42 +Seen\n"
	  "-Flagged. UIDS, --search and --dry-run as for 'mv'.\n" },
	{ "check", cli_cmd_check, "check the store's integrity",
	  "mailvault check\n"
	  "\n"
	  "Run SQLite's integrity check and open every sealed value.\n" },
	{ "serve", cli_cmd_serve, "serve over IMAP and POP3 (foreground)",
	  "mailvault serve [--imap-port N] [--imaps-port N] [--pop3-port N]\n"
	  "                [--pop3s-port N] [--pop3-delete hide|expunge]\n"
	  "                [--listen ADDR] [--no-sync] [--locked]\n"
	  "\n"
	  "Serve the store to mail clients on loopback: IMAP with STARTTLS on\n"
	  "127.0.0.1:1143, IMAPS on 1993, POP3 with STLS on 1110 and POP3S on\n"
	  "1995 unless told otherwise (port 0 turns a listener off; ADDR must\n"
	  "be a loopback address; defaults come from 'mailvault config').\n"
	  "Accounts with an upstream are synced in the background: at start,\n"
	  "on new mail (IDLE) or every poll interval; --no-sync turns that off.\n"
	  "Runs until Ctrl-C or SIGTERM. 'mailvault credentials' shows the\n"
	  "login and the certificate's fingerprint.\n"
	  "With --locked, or with no passphrase given and no terminal to ask\n"
	  "one on, it starts locked: it listens (ports from the options or\n"
	  "STORE.ports, written from 'mailvault config'), refuses every login\n"
	  "saying to run 'mailvault unlock', and syncs nothing until then.\n" },
	{ "daemon", cli_cmd_daemon, "run serve in the background",
	  "mailvault daemon start [SERVE OPTIONS] [--log-stderr] | stop |\n"
	  "                 status [--json]\n"
	  "\n"
	  "start: read the passphrase (prompt, --passphrase-file,\n"
	  "--passphrase-fd or $MAILVAULT_PASSPHRASE_FILE), then run what\n"
	  "'mailvault serve' runs, detached, with the same options. Without a\n"
	  "passphrase and a terminal to ask it on, or with --locked, it starts\n"
	  "locked ('mailvault unlock'). It returns once the daemon serves, or\n"
	  "prints why it could not. One daemon per store, each with its own\n"
	  "control socket, so two stores' daemons run side by side. The log is\n"
	  "$XDG_STATE_HOME/mailvault/mailvault.log, lines stamped with the UTC\n"
	  "time (SIGHUP reopens it); under systemd or with --log-stderr the\n"
	  "daemon logs to its stderr unstamped. The pid is in mailvault.pid.\n"
	  "stop: end it cleanly (clients get BYE, sync batches finish).\n"
	  "status: running or not, locked or not, its pid and since when;\n"
	  "exits 3 when it does not run.\n" },
	{ "unlock", cli_cmd_unlock, "give the running daemon its passphrase",
	  "mailvault unlock\n"
	  "\n"
	  "Unlock a daemon that started locked: the passphrase (a prompt,\n"
	  "--passphrase-fd, --passphrase-file or $MAILVAULT_PASSPHRASE_FILE)\n"
	  "goes over the control socket, never the command line. Then the\n"
	  "daemon takes logins and syncs. A wrong passphrase leaves it locked.\n" },
	{ "lock", cli_cmd_lock, "take the key back from the running daemon",
	  "mailvault lock\n"
	  "\n"
	  "Lock the running daemon: syncing stops (a batch in flight finishes\n"
	  "or rolls back), every IMAP and POP3 session ends, the keys are\n"
	  "wiped from its memory. It keeps listening and refuses logins until\n"
	  "'mailvault unlock'.\n" },
	{ "status", cli_cmd_status, "what the daemon and the store are doing",
	  "mailvault status [--json]\n"
	  "\n"
	  "Ask the running daemon (or 'serve') over its control socket:\n"
	  "state, pid, since when, listening ports, and per account the\n"
	  "upstream, the last sync and its error, messages and unread per\n"
	  "folder, bytes stored. Without a daemon it says so, and with a\n"
	  "passphrase file or descriptor shows the store's part.\n" },
	{ "config", cli_cmd_config, "show or change settings",
	  "mailvault config list | get KEY | set KEY VALUE\n"
	  "\n"
	  "Settings that are not per account, kept in the store: imap-port,\n"
	  "imaps-port, pop3-port, pop3s-port (0 turns a listener off), listen\n"
	  "(a loopback address), poll-interval (seconds), log-level\n"
	  "(error|warn|info|debug), pop3-delete (hide|expunge). Values are\n"
	  "checked before they are saved. A running daemon takes poll-interval,\n"
	  "log-level and pop3-delete at once; ports and listen need a restart.\n" },
	{ "account", cli_cmd_account, "add, change, rename, remove accounts",
	  "mailvault account add NAME --imap HOST[:PORT] | --pop3 HOST[:PORT]\n"
	  "                      --user LOGIN [--tls implicit|starttls|none]\n"
	  "                      [--pin-sha256 FP] [--ca-file FILE]\n"
	  "                      [--password-file FILE | --password-fd N]\n"
	  "                      [--oauth-token-command CMD] [--no-check]\n"
	  "mailvault account set NAME password [--password-file FILE |\n"
	  "                      --password-fd N]\n"
	  "mailvault account set NAME KEY VALUE\n"
	  "mailvault account rename OLD NEW\n"
	  "mailvault account list | show NAME | remove NAME --yes\n"
	  "\n"
	  "An account mirrors one IMAP or POP3 server. add tries the connection\n"
	  "and the login before it saves, and says which step failed (host,\n"
	  "connection, TLS certificate with its fingerprint, login); --no-check\n"
	  "saves without trying. TLS is always verified (system CAs, --ca-file,\n"
	  "or a pinned SHA-256 fingerprint); --tls none is allowed only to a\n"
	  "server on this machine. The password comes from a prompt,\n"
	  "--password-file or --password-fd, never from the command line, and\n"
	  "is kept sealed in the store. Keys for 'set': password (as above),\n"
	  "host, port, user, tls, pin-sha256 (or pin), ca-file,\n"
	  "oauth-token-command, keep (POP3: yes or no), delete-after-days\n"
	  "(POP3), skip-folders (comma-separated), poll-interval (seconds); an\n"
	  "empty VALUE removes the setting. rename keeps the account's mail.\n"
	  "A running daemon follows every change at once.\n" },
	{ "sync", cli_cmd_sync, "sync accounts with their servers now",
	  "mailvault sync [ACCOUNT...]\n"
	  "\n"
	  "Sync each named account (or every account with a server) once:\n"
	  "new mail in, flag changes and deletions both ways, folders created,\n"
	  "renamed and deleted on either side followed, what was done offline\n"
	  "sent up. Exits non-zero if an account failed, saying why.\n" },
	{ "credentials", cli_cmd_credentials, "show the local login",
	  "mailvault credentials [--json] [--cert] [--renew-cert]\n"
	  "                      [--for thunderbird|neomutt|mbsync|fetchmail\n"
	  "                      [--account NAME]]\n"
	  "\n"
	  "Show what a mail client needs: the host and ports (the running\n"
	  "daemon's, else the settings), the user names (one per account), the\n"
	  "store's local password, the SHA-256 fingerprint of the server's\n"
	  "certificate and its file beside the store. --cert prints the\n"
	  "certificate in PEM, for clients that trust a file. --for prints\n"
	  "ready-made settings for that client (every account, or --account's).\n"
	  "--renew-cert makes a new certificate, which clients must then trust\n"
	  "(one that names 127.0.0.1 as a DNS name, for an older store).\n" },
};

static void
usage(FILE *f)
{
	size_t i;

	fprintf(f,
	    "usage: mailvault [--store PATH] [--passphrase-file FILE | "
	    "--passphrase-fd N]\n"
	    "                 [--json] [--quiet] COMMAND [ARGS]\n"
	    "       mailvault --version\n\n"
	    "Commands:\n");
	for (i = 0; i < ARRAY_SIZE(commands); i++)
		fprintf(f, "  %-12s %s\n", commands[i].name, commands[i].summary);
	fprintf(f,
	    "\nThe store is $MAILVAULT_STORE, or "
	    "$XDG_DATA_HOME/mailvault/store.db.\n"
	    "The passphrase is never taken from the command line: it comes from\n"
	    "a prompt, --passphrase-fd, --passphrase-file or "
	    "$MAILVAULT_PASSPHRASE_FILE.\n"
	    "'mailvault COMMAND --help' describes a command.\n");
}

/* The i-th command and its usage text, for the completion helper. */
static const char *
command_at(size_t i, const char **usage_r)
{
	if (i >= ARRAY_SIZE(commands))
		return NULL;
	if (usage_r != NULL)
		*usage_r = commands[i].usage;
	return commands[i].name;
}

static const struct cli_cmd *
find_command(const char *name)
{
	size_t i;

	for (i = 0; i < ARRAY_SIZE(commands); i++)
		if (strcmp(commands[i].name, name) == 0)
			return &commands[i];
	return NULL;
}

/*
 * Take the shared options out of argv, wherever they stand, so that
 * "mailvault --store X ls" and "mailvault ls --store X" both work. The
 * remaining words are left in argv[1..*argc_r). Returns 0, or -1 after a
 * usage message.
 */
static int
parse_global(int *argc_r, char **argv, struct cli_opts *o)
{
	int i, out = 1, argc = *argc_r;
	const char *v;
	uint64_t n;

	for (i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--") == 0) {
			while (i < argc)
				argv[out++] = argv[i++];
			break;
		}
		if (cli_opt_value(argc, argv, &i, "--store", &v))
			o->store_path = v;
		else if (cli_opt_value(argc, argv, &i, "--passphrase-file", &v))
			o->pass_file = v;
		else if (cli_opt_value(argc, argv, &i, "--passphrase-fd", &v)) {
			if (parse_u64(v, 1 << 20, &n) < 0) {
				cli_usage(NULL, "--passphrase-fd needs a "
				    "descriptor number, not '%s'", v);
				return -1;
			}
			o->pass_fd = (int)n;
		} else if (strcmp(argv[i], "--json") == 0)
			o->json = 1;
		else if (strcmp(argv[i], "--quiet") == 0 ||
		    strcmp(argv[i], "-q") == 0)
			o->quiet = 1;
		else
			argv[out++] = argv[i];
	}
	argv[out] = NULL;
	*argc_r = out;
	return 0;
}

int
main(int argc, char **argv)
{
	struct cli_opts o = { .pass_fd = -1 };
	const struct cli_cmd *cmd;
	int j;

	store_harden_process();
	o.store_path = getenv("MAILVAULT_STORE");
	o.pass_file = getenv("MAILVAULT_PASSPHRASE_FILE");
	if (parse_global(&argc, argv, &o) < 0)
		return CLI_USAGE;
	cli_set_json_errors(o.json);
	if (argc < 2) {
		usage(stderr);
		return CLI_USAGE;
	}
	if (cli_is_help(argv[1]) || strcmp(argv[1], "help") == 0) {
		usage(stdout);
		return CLI_OK;
	}
	if (strcmp(argv[1], "--version") == 0) {
		printf("mailvault %s\n", MAILVAULT_VERSION);
		return CLI_OK;
	}
	/* Not in the table: it is for the bash completion, not for people. */
	if (strcmp(argv[1], "complete") == 0)
		return cli_cmd_complete(&o, argc - 1, argv + 1, command_at);
	if ((cmd = find_command(argv[1])) == NULL)
		return cli_usage(NULL, "unknown command '%s'", argv[1]);
	for (j = 2; j < argc; j++) {
		if (cli_is_help(argv[j])) {
			fputs("usage: ", stdout);
			fputs(cmd->usage, stdout);
			return CLI_OK;
		}
	}
	return cmd->fn(&o, argc - 1, argv + 1);
}

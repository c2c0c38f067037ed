/*
 * cmd_complete: `mailvault complete WHAT [ARG]`, the hidden helper the
 * bash completion (cli/completion.bash) asks for words, one per line:
 *
 *	complete commands		the commands
 *	complete subcommands CMD	"create rename delete" for mailbox, ...
 *	complete options CMD		CMD's options and the global ones
 *	complete accounts		the accounts
 *	complete mailboxes ACCOUNT	ACCOUNT/NAME for each of its mailboxes
 *
 * Commands, subcommands and options are read from the command table's
 * usage texts (main.c), so completion never knows of an option the help
 * does not show, nor misses one it does. Accounts and mailboxes are in
 * the encrypted store: they are listed only when a passphrase is at hand
 * without asking (--passphrase-fd, --passphrase-file or
 * $MAILVAULT_PASSPHRASE_FILE). Completion must never stop at a prompt,
 * so otherwise it prints nothing for them; and it never prints an error:
 * a word that cannot be completed simply gets no candidates.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"
#include "lib/util.h"
#include "store/store.h"

static const char *const global_opts[] = { "--store", "--passphrase-file",
	"--passphrase-fd", "--json", "--quiet", "--help", "--version" };

/* Print w[0..n) unless it was printed already: seen is the words so
 * far, each between line feeds ("\nfoo\nbar\n"). */
static void
once(char **seen, const char *w, size_t n)
{
	char *key, *grown;

	if (n == 0)
		return;
	key = xasprintf("\n%.*s\n", (int)n, w);
	if (strstr(*seen, key) == NULL) {
		printf("%.*s\n", (int)n, w);
		grown = xasprintf("%s%.*s\n", *seen, (int)n, w);
		free(*seen);
		*seen = grown;
	}
	free(key);
}

/* Every "--option" in the usage text, then the global ones. */
static void
options(const char *usage)
{
	char *seen = xstrdup("\n");
	const char *p = usage;
	size_t n, i;

	while ((p = strstr(p, "--")) != NULL) {
		for (n = 2; (p[n] >= 'a' && p[n] <= 'z') ||
		    (p[n] >= '0' && p[n] <= '9') || p[n] == '-'; n++)
			;
		if (n > 2 && (p == usage || strchr(" [|(\n", p[-1]) != NULL))
			once(&seen, p, n);
		p += n;
	}
	for (i = 0; i < ARRAY_SIZE(global_opts); i++)
		once(&seen, global_opts[i], strlen(global_opts[i]));
	free(seen);
}

/*
 * The subcommands in a usage text's synopsis (up to its first empty
 * line): the first word after "mailvault CMD " and after each '|', when
 * it is a lowercase word ("account list | show NAME | remove NAME").
 */
static void
subcommands(const char *cmd, const char *usage)
{
	const char *end = strstr(usage, "\n\n"), *p = usage, *w;
	char *seen = xstrdup("\n"), *lead = xasprintf("mailvault %s ", cmd);
	size_t n;

	if (end == NULL)
		end = usage + strlen(usage);
	while (p < end) {
		if (strncmp(p, lead, strlen(lead)) == 0)
			w = p + strlen(lead);
		else if (*p == '|')
			w = p + 1;
		else {
			p++;
			continue;
		}
		while (w < end && (*w == ' ' || *w == '\n'))
			w++;
		for (n = 0; w + n < end && w[n] >= 'a' && w[n] <= 'z'; n++)
			;
		if (n > 0 && (w[n] == ' ' || w[n] == '\n' || w[n] == '\0'))
			once(&seen, w, n);
		p = w > p ? w : p + 1;
	}
	free(lead);
	free(seen);
}

/* The store, if its passphrase comes without asking; else NULL, quietly. */
static struct store *
open_quietly(const struct cli_opts *o)
{
	struct cli_opts q = *o;
	struct store *st = NULL;

	if (o->pass_fd < 0 && (o->pass_file == NULL || o->pass_file[0] ==
	    '\0'))
		return NULL;
	q.json = 0;
	/* Errors (no store, a wrong passphrase) would land in the middle
	 * of the user's command line: not a word of them. */
	if (freopen("/dev/null", "w", stderr) == NULL ||
	    cli_open_store(&q, &st) != 0)
		return NULL;
	return st;
}

static void
accounts(const struct cli_opts *o, const char *want)
{
	struct store *st = open_quietly(o);
	struct store_account *a;
	struct store_mailbox *mb;
	size_t n, i, j, nmb;

	if (st == NULL || store_account_list(st, &a, &n) != 0) {
		store_close(&st);
		return;
	}
	for (i = 0; i < n; i++) {
		if (want == NULL) {
			printf("%s\n", a[i].name);
			continue;
		}
		if (strcmp(a[i].name, want) != 0 ||
		    store_mailbox_list(st, a[i].id, 0, &mb, &nmb) != 0)
			continue;
		for (j = 0; j < nmb; j++)
			printf("%s/%s\n", a[i].name, mb[j].name);
		store_mailbox_list_free(&mb, nmb);
	}
	store_account_list_free(&a, n);
	store_close(&st);
}

int
cli_cmd_complete(const struct cli_opts *o, int argc, char **argv,
    const char *(*command_at)(size_t i, const char **usage_r))
{
	const char *what = argc > 1 ? argv[1] : "", *arg = argc > 2 ?
	    argv[2] : NULL, *usage;
	size_t i;

	if (strcmp(what, "commands") == 0) {
		for (i = 0; command_at(i, NULL) != NULL; i++)
			printf("%s\n", command_at(i, NULL));
	} else if (strcmp(what, "options") == 0 || strcmp(what,
	    "subcommands") == 0) {
		usage = NULL;
		for (i = 0; arg != NULL && command_at(i, &usage) != NULL;
		    i++)
			if (strcmp(command_at(i, &usage), arg) == 0)
				break;
		if (arg == NULL || command_at(i, &usage) == NULL)
			usage = "";
		if (what[0] == 'o')
			options(usage);
		else
			subcommands(arg != NULL ? arg : "", usage);
	} else if (strcmp(what, "accounts") == 0)
		accounts(o, NULL);
	else if (strcmp(what, "mailboxes") == 0 && arg != NULL)
		accounts(o, arg);
	return CLI_OK;
}

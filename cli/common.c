/*
 * common: what every subcommand shares: error and usage messages, option
 * values, finding the store, JSON strings.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"
#include "lib/util.h"
#include "store/store.h"

int
cli_error(const char *fmt, ...)
{
	va_list ap;

	cli_progress_clear();
	fputs("mailvault: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	return CLI_FAIL;
}

int
cli_usage(const char *cmd, const char *fmt, ...)
{
	va_list ap;

	fputs("mailvault: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	if (cmd != NULL)
		fprintf(stderr, "\nSee 'mailvault %s --help'.\n", cmd);
	else
		fputs("\nSee 'mailvault --help'.\n", stderr);
	return CLI_USAGE;
}

int
cli_opt_value(int argc, char **argv, int *i, const char *name,
    const char **val_r)
{
	size_t n = strlen(name);
	const char *a = argv[*i];

	if (strncmp(a, name, n) != 0)
		return 0;
	if (a[n] == '=') {
		*val_r = a + n + 1;
		return 1;
	}
	if (a[n] != '\0')
		return 0;
	if (*i + 1 >= argc) {
		/* A missing value reads as an empty one, which every
		 * caller rejects with its own message. */
		*val_r = "";
		return 1;
	}
	*val_r = argv[++*i];
	return 1;
}

int
cli_is_help(const char *arg)
{
	return strcmp(arg, "--help") == 0 || strcmp(arg, "-h") == 0;
}

char *
cli_store_path(const struct cli_opts *o)
{
	const char *xdg, *home;

	if (o->store_path != NULL && o->store_path[0] != '\0')
		return xstrdup(o->store_path);
	xdg = getenv("XDG_DATA_HOME");
	if (xdg != NULL && xdg[0] == '/')
		return xasprintf("%s/mailvault/store.db", xdg);
	home = getenv("HOME");
	if (home == NULL || home[0] == '\0')
		home = ".";
	return xasprintf("%s/.local/share/mailvault/store.db", home);
}

void
cli_json_string(const char *s)
{
	putchar('"');
	for (; *s != '\0'; s++) {
		unsigned char c = (unsigned char)*s;

		if (c == '"' || c == '\\')
			printf("\\%c", c);
		else if (c < 0x20)
			printf("\\u%04x", c);
		else
			putchar(c);
	}
	putchar('"');
}

void
cli_split_path(const char *path, char **acct_r, char **mbox_r)
{
	const char *slash = strchr(path, '/');

	if (slash == NULL) {
		*acct_r = xstrdup(path);
		*mbox_r = NULL;
		return;
	}
	*acct_r = xstrndup(path, (size_t)(slash - path));
	*mbox_r = slash[1] != '\0' ? xstrdup(slash + 1) : NULL;
}

int
cli_find_mailbox(struct store *st, const char *path, int64_t *acct_r,
    struct store_mailbox *mb_r)
{
	char *acct, *mbox;
	int rc;

	cli_split_path(path, &acct, &mbox);
	if (store_account_find(st, acct, acct_r) < 0) {
		cli_error("there is no account '%s': 'mailvault ls' lists "
		    "them", acct);
		rc = -1;
	} else if ((rc = store_mailbox_find(st, *acct_r,
	    mbox != NULL ? mbox : "INBOX", mb_r)) < 0)
		cli_error("account '%s' has no mailbox '%s': 'mailvault ls "
		    "%s' lists them", acct, mbox != NULL ? mbox : "INBOX",
		    acct);
	free(acct);
	free(mbox);
	return rc < 0 ? -1 : 0;
}

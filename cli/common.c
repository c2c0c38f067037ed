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
